#include "track/ebpf/ebpf_source.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "base/ids.h"
#include "track/ebpf/exec_events.h"
#include "track/ebpf/exec_events.skel.h"

namespace ttyaudit {
namespace {

constexpr size_t kMaxArgs = 64;
// Without events, the reader still looks at the kernel's drop counters this often.
constexpr int kIdleMs = 100;

// libbpf's own messages: the first warning says why loading failed.
thread_local std::string* libbpf_message = nullptr;
int LibbpfPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_DEBUG || libbpf_message == nullptr || !libbpf_message->empty()) return 0;
  char buf[512];
  vsnprintf(buf, sizeof buf, fmt, args);
  *libbpf_message = buf;
  while (!libbpf_message->empty() && libbpf_message->back() == '\n') libbpf_message->pop_back();
  return 0;
}

struct SkeletonDeleter {
  void operator()(ttyaudit_exec* s) const { ttyaudit_exec__destroy(s); }
};
struct RingDeleter {
  void operator()(ring_buffer* r) const { ring_buffer__free(r); }
};
struct LinkDeleter {
  void operator()(bpf_link* l) const { bpf_link__destroy(l); }
};

// The record's cwd into `s`: the path the kernel walked, else (cut, or not resolved there) what
// /proc says if the process is still there, else the part the kernel read, flagged.
void SetCwd(ProcSnapshot& s, const ttya_event& r, std::string_view names, pid_t tgid) {
  const bool truncated = (r.flags & TTYA_CWD_TRUNCATED) != 0;
  const bool unresolved = (r.flags & TTYA_CWD_UNRESOLVED) != 0;
  if (!truncated && !unresolved) {
    s.cwd = CwdFromKernelNames(names);
    return;
  }
  char buf[4096];
  ssize_t n = readlink(("/proc/" + std::to_string(tgid) + "/cwd").c_str(), buf, sizeof buf);
  if (n > 0) {
    s.cwd.assign(buf, static_cast<size_t>(n));
    return;
  }
  s.cwd = CwdFromKernelNames(names);
  if (!s.cwd.empty()) s.cwd.erase(0, 1);  // relative: its start is unknown
  s.cwd_truncated = truncated;
  s.cwd_unresolved = unresolved;
}

class EbpfSource : public ProcEventSource {
 public:
  std::string name() const override { return "ebpf"; }
  std::string reads() const override { return "ebpf"; }
  int Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) override;
  bool Read(ProcEventSink& sink) override;
  void Retrack(uint64_t version, const std::vector<pid_t>& pids) override;
  uint64_t events_read() const override { return read_.load(std::memory_order_relaxed); }

  Status Load(size_t ring_bytes, bool uid_syscalls);

 private:
  static int OnRecord(void* ctx, void* data, size_t size);
  void Deliver(const ttya_event& r, std::string_view cwd, const char* argv, size_t argv_len);
  // The process's ids changed since its last record: the uid event the proc connector sends.
  void NoteIds(pid_t tgid, const ttya_event& r, int64_t time_ns);
  void SyncMap(const ProcEventSink& sink);

  std::unique_ptr<ttyaudit_exec, SkeletonDeleter> skel_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;
  // The sys_exit program, attached only while something is tracked: once attached, every
  // syscall of the node takes the kernel's slower exit path.
  std::unique_ptr<bpf_link, LinkDeleter> sys_exit_;
  bool has_sys_exit_ = false;
  ProcEventSink* sink_ = nullptr;     // during Read
  std::unordered_set<pid_t> in_map_;  // what this reader put in the tracked map
  std::unordered_map<pid_t, std::pair<uint32_t, uint32_t>> ids_;  // tgid -> (uid, euid)
  uint64_t synced_version_ = ~0ULL;
  uint64_t dropped_seen_ = 0;
  std::atomic<uint64_t> read_ = 0;
};

Status EbpfSource::Load(size_t ring_bytes, bool uid_syscalls) {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return SysError("access", "/sys/kernel/btf/vmlinux (ebpf: the kernel's BTF)", errno);
  std::string why;
  libbpf_message = &why;
  libbpf_set_print(LibbpfPrint);
  skel_.reset(ttyaudit_exec__open());
  int err = errno;
  // The rename tracepoint only sharpens uid changes: a kernel without it still loads the rest.
  if (skel_ && libbpf_find_vmlinux_btf_id("task_rename", BPF_TRACE_RAW_TP) < 0)
    bpf_program__set_autoload(skel_->progs.on_rename, false);
  // Without the sys_exit tracepoint (a kernel without syscall tracepoints) uid changes still
  // show at the process's next fork, exec or exit.
  if (skel_) {
    has_sys_exit_ = uid_syscalls && libbpf_find_vmlinux_btf_id("sys_exit", BPF_TRACE_RAW_TP) >= 0;
    if (has_sys_exit_)
      bpf_program__set_autoattach(skel_->progs.on_sys_exit, false);
    else
      bpf_program__set_autoload(skel_->progs.on_sys_exit, false);
  }
  if (skel_ && ring_bytes != 0 &&
      bpf_map__set_max_entries(skel_->maps.events, static_cast<uint32_t>(ring_bytes)) != 0) {
    err = errno;
    skel_.reset();
  }
  if (skel_ && ttyaudit_exec__load(skel_.get()) != 0) {
    err = errno;
    skel_.reset();
  }
  if (skel_ && ttyaudit_exec__attach(skel_.get()) != 0) {
    err = errno;
    skel_.reset();
  }
  libbpf_message = nullptr;
  if (!skel_)
    return Error{"ebpf: load: " + std::string(strerror(err)) +
                 (why.empty() ? "" : " (" + why + ")")};
  ring_.reset(ring_buffer__new(bpf_map__fd(skel_->maps.events), OnRecord, this, nullptr));
  if (!ring_) return SysError("ring_buffer__new", "ebpf events", errno);
  return {};
}

int EbpfSource::Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) {
  if (sink.TrackedVersion() != synced_version_) SyncMap(sink);
  fds.push_back({ring_buffer__epoll_fd(ring_.get()), POLLIN, 0});
  return kIdleMs;
}

bool EbpfSource::Read(ProcEventSink& sink) {
  sink_ = &sink;
  int n = ring_buffer__consume(ring_.get());
  sink_ = nullptr;
  if (n < 0 && n != -EINTR) return true;  // a callback's error: nothing to do but go on
  const uint64_t dropped = skel_->bss->dropped + skel_->bss->untracked_children;
  if (dropped != dropped_seen_) {
    const uint64_t lost = dropped - dropped_seen_;
    dropped_seen_ = dropped;
    std::vector<ResyncProc> procs;
    std::unordered_set<pid_t> alive;
    for (const auto& [pid, ppid] : ScanProcesses()) {
      procs.push_back({pid, ppid, false, {}});
      alive.insert(pid);
    }
    std::erase_if(ids_, [&](const auto& kv) { return !alive.count(kv.first); });
    sink.OnLost(lost, MonotonicNanos(), procs);
    SyncMap(sink);
  }
  return true;
}

int EbpfSource::OnRecord(void* ctx, void* data, size_t size) {
  auto* self = static_cast<EbpfSource*>(ctx);
  ttya_event r;
  if (size < sizeof r || self->sink_ == nullptr) return 0;
  memcpy(&r, data, sizeof r);
  const char* rest = static_cast<const char*>(data) + sizeof r;
  size_t left = size - sizeof r;
  std::string_view cwd;
  size_t argv_len = 0;
  const char* argv = nullptr;
  if (r.kind == TTYA_EV_FORK || r.kind == TTYA_EV_EXEC) {
    cwd = std::string_view(rest, std::min<size_t>(r.cwd_len, left));
    rest += cwd.size();
    left -= cwd.size();
  }
  if (r.kind == TTYA_EV_EXEC) {
    argv_len = std::min<size_t>(r.argv_len, left);
    argv = rest;
  }
  self->read_.fetch_add(1, std::memory_order_relaxed);
  self->Deliver(r, cwd, argv, argv_len);
  return 0;
}

void EbpfSource::NoteIds(pid_t tgid, const ttya_event& r, int64_t time_ns) {
  auto [it, added] = ids_.try_emplace(tgid, r.uid, r.euid);
  if (added || (it->second.first == r.uid && it->second.second == r.euid)) return;
  it->second = {r.uid, r.euid};
  ProcEvent u;
  u.kind = ProcEvent::kUid;
  u.time_ns = time_ns;
  u.pid = u.tgid = tgid;
  u.ruid = r.uid;
  u.euid = r.euid;
  sink_->OnEvent(u, nullptr);
}

void EbpfSource::Deliver(const ttya_event& r, std::string_view cwd, const char* argv,
                         size_t argv_len) {
  ProcEvent e;
  e.time_ns = static_cast<int64_t>(r.time_ns);
  e.pid = r.pid;
  e.tgid = r.tgid;
  switch (r.kind) {
    case TTYA_EV_FORK: {
      e.kind = ProcEvent::kFork;
      e.parent_tgid = r.parent_tgid;
      NoteIds(r.parent_tgid, r, e.time_ns);  // the child has its parent's ids
      ids_[r.tgid] = {r.uid, r.euid};
      ProcSnapshot s;  // a fork's snapshot is its cwd, inherited or changed since
      SetCwd(s, r, cwd, r.tgid);
      sink_->OnEvent(e, s.cwd.empty() ? nullptr : &s);
      break;
    }
    case TTYA_EV_EXEC: {
      e.kind = ProcEvent::kExec;
      NoteIds(r.tgid, r, e.time_ns);
      ProcSnapshot s;
      size_t start = 0;
      for (size_t i = 0; i < argv_len && s.argv.size() < kMaxArgs; ++i) {
        if (argv[i] != '\0') continue;
        s.argv.emplace_back(argv + start, i - start);
        start = i + 1;
      }
      if (start < argv_len && s.argv.size() < kMaxArgs) {
        s.argv.emplace_back(argv + start, argv_len - start);  // cut at TTYA_ARGV_BYTES
        start = argv_len;
      }
      s.read_at_exec = true;
      s.argv_truncated = (r.flags & TTYA_ARGV_TRUNCATED) != 0 || start < argv_len;
      s.uid = r.uid;
      s.euid = r.euid;
      s.gid = r.gid;
      s.egid = r.egid;
      s.exe_setuid = (r.flags & TTYA_EXE_SETUID) != 0;
      s.exe_setgid = (r.flags & TTYA_EXE_SETGID) != 0;
      s.exe_owner = r.exe_uid;
      s.exe_group = r.exe_gid;
      s.exe_inode = r.exe_ino;
      s.cgroup_id = r.cgroup_id;
      SetCwd(s, r, cwd, r.tgid);
      sink_->OnEvent(e, &s);
      break;
    }
    case TTYA_EV_IDS:
      NoteIds(r.tgid, r, e.time_ns);
      return;
    case TTYA_EV_EXIT:
      e.kind = ProcEvent::kExit;
      e.exit_code = r.exit_code;
      NoteIds(r.tgid, r, e.time_ns);
      ids_.erase(r.tgid);
      in_map_.erase(r.tgid);  // the kernel removed it: a reused pid must be added again
      sink_->OnEvent(e, nullptr);
      break;
    default:
      return;
  }
  // A new child must be in the map: the kernel added it already; note it so that it is
  // removed once untracked.
  if (sink_->TrackedVersion() != synced_version_) SyncMap(*sink_);
}

void EbpfSource::Retrack(uint64_t version, const std::vector<pid_t>& pids) {
  synced_version_ = version;
  const int fd = bpf_map__fd(skel_->maps.tracked);
  std::unordered_set<pid_t> want(pids.begin(), pids.end());
  for (pid_t pid : pids) {
    if (in_map_.count(pid)) continue;
    ttya_ids unknown = {~0u, ~0u};  // no process has uid -1: the first change is reported
    int32_t key = pid;
    if (bpf_map_update_elem(fd, &key, &unknown, BPF_NOEXIST) == 0 || errno == EEXIST)
      in_map_.insert(pid);
  }
  for (auto it = in_map_.begin(); it != in_map_.end();) {
    if (want.count(*it)) {
      ++it;
      continue;
    }
    int32_t key = *it;
    bpf_map_delete_elem(fd, &key);  // ENOENT: it exited and the kernel removed it
    it = in_map_.erase(it);
  }
  if (has_sys_exit_ && pids.empty()) {
    sys_exit_.reset();
  } else if (has_sys_exit_ && !sys_exit_) {
    sys_exit_.reset(bpf_program__attach(skel_->progs.on_sys_exit));
    if (!sys_exit_) has_sys_exit_ = false;  // as without the tracepoint: not retried
  }
}

void EbpfSource::SyncMap(const ProcEventSink& sink) {
  const uint64_t version = sink.TrackedVersion();
  Retrack(version, sink.TrackedPids());
}

}  // namespace

std::string CwdFromKernelNames(std::string_view names) {
  std::vector<std::string_view> parts;
  while (!names.empty()) {
    size_t nul = names.find('\0');
    std::string_view part = names.substr(0, nul);
    if (!part.empty()) parts.push_back(part);
    names = nul == std::string_view::npos ? std::string_view() : names.substr(nul + 1);
  }
  if (parts.empty()) return "/";
  std::string out;
  for (size_t i = parts.size(); i-- > 0;) {
    out += '/';
    out += parts[i];
  }
  return out;
}

Result<std::unique_ptr<ProcEventSource>> OpenEbpfSource(size_t ring_bytes, bool uid_syscalls) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  if (ring_bytes != 0 &&
      (ring_bytes < page || ring_bytes > (1u << 30) || (ring_bytes & (ring_bytes - 1)) != 0))
    return Error{"ebpf: ring buffer of " + std::to_string(ring_bytes) +
                 " bytes: want a power of two from one page to 1 GiB"};
  auto s = std::make_unique<EbpfSource>();
  if (Status st = s->Load(ring_bytes, uid_syscalls); !st) return Error{st.message()};
  return std::unique_ptr<ProcEventSource>(std::move(s));
}

}  // namespace ttyaudit
