#include "common/proc_tracker.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "common/files.h"
#include "common/ids.h"

namespace ttyaudit {
namespace {

// Linux >= 6.6 takes an event mask with the subscription (struct proc_input); the headers of
// older distributions lack it.
struct ProcInput {
  uint32_t mcast_op;
  uint32_t event_type;
};
constexpr uint32_t kWantedEvents = proc_event::PROC_EVENT_FORK | proc_event::PROC_EVENT_EXEC |
                                   proc_event::PROC_EVENT_UID | proc_event::PROC_EVENT_EXIT;

// Reads "Uid:\truid\teuid\tsuid\tfsuid" from /proc/PID/status.
void ReadUids(pid_t pid, int64_t& uid, int64_t& euid) {
  std::string s = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/status", 2048);
  size_t at = s.find("\nUid:");
  if (at == std::string::npos) return;
  const char* p = s.c_str() + at + 5;
  char* end = nullptr;
  long r = strtol(p, &end, 10);
  if (end == p) return;
  long e = strtol(end, &end, 10);
  uid = r;
  euid = e;
}

// Field 4 of /proc/PID/stat, after the parenthesized comm (which may hold spaces).
pid_t ReadParentPid(pid_t pid) {
  std::string stat = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/stat", 512);
  size_t rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 4 >= stat.size()) return 0;
  return static_cast<pid_t>(strtol(stat.c_str() + rp + 4, nullptr, 10));
}

}  // namespace

namespace {

double Offset(int64_t t, int64_t start) {
  return t <= 0 ? 0.0 : static_cast<double>(t - start) / 1e9;
}

}  // namespace

ProcSnapshot ReadProcSnapshot(pid_t pid) {
  ProcSnapshot s;
  const std::string dir = "/proc/" + std::to_string(pid);
  // argv is capped: an audit wants the command, not a 2 MiB argument list.
  std::string cmdline = ReadSmallFileOrEmpty(dir + "/cmdline", 32 * 1024);
  size_t start = 0;
  for (size_t i = 0; i < cmdline.size(); ++i) {
    if (cmdline[i] != '\0') continue;
    s.argv.emplace_back(cmdline, start, i - start);
    start = i + 1;
  }
  if (start < cmdline.size()) s.argv.emplace_back(cmdline, start);
  if (s.argv.empty()) {  // exited (a zombie has no mm) or a kernel thread: comm survives
    std::string comm = ReadSmallFileOrEmpty(dir + "/comm", 64);
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (!comm.empty()) {
      s.argv.push_back(comm);
      s.argv_from_comm = true;
    }
  }
  char buf[4096];
  ssize_t n = readlink((dir + "/cwd").c_str(), buf, sizeof buf);
  if (n > 0) s.cwd.assign(buf, static_cast<size_t>(n));
  ReadUids(pid, s.uid, s.euid);
  struct stat st;
  if (stat((dir + "/exe").c_str(), &st) == 0) {
    s.exe_setuid = (st.st_mode & S_ISUID) != 0;
    s.exe_owner = st.st_uid;
  }
  return s;
}

// ---- ProcessTable ----

ProcessRecord* ProcessTable::Live(pid_t pid) {
  auto it = live_.find(pid);
  return it == live_.end() ? nullptr : &records_[it->second];
}

void ProcessTable::AddRecord(ProcessRecord r) {
  if (auto old = live_.find(r.pid); old != live_.end()) {
    // Its exit was lost and the pid reused: end the old one now, status unknown.
    records_[old->second].end_mono_ns = r.start_mono_ns;
    live_.erase(old);
  }
  live_[r.pid] = records_.size();
  records_.push_back(std::move(r));
  ++live_version_;
}

void ProcessTable::AddRoot(pid_t pid, int64_t now_mono_ns) {
  if (Live(pid) == nullptr) {
    ProcSnapshot s = read_(pid);
    ProcessRecord r;
    r.pid = pid;
    r.ppid = ReadParentPid(pid);
    r.argv = std::move(s.argv);
    r.argv_from_comm = s.argv_from_comm;
    r.execed = true;
    r.cwd = std::move(s.cwd);
    r.uid = s.uid;
    r.euid = s.euid;
    r.start_mono_ns = now_mono_ns;
    AddRecord(std::move(r));
  }
  root_ = pid;
}

void ProcessTable::Reroot(pid_t pid, int64_t now_mono_ns) {
  // The newest record of `pid`, running or not: the exec process may be gone already.
  int root_index = -1;
  for (size_t i = records_.size(); i-- > 0;) {
    if (records_[i].pid == pid) {
      root_index = static_cast<int>(i);
      break;
    }
  }
  if (root_index < 0) {
    AddRoot(pid, now_mono_ns);
    root_index = static_cast<int>(records_.size()) - 1;
  }
  // Records are in start order and a parent always precedes its children, so one pass finds
  // the subtree.
  std::vector<int> new_index(records_.size(), -1);
  std::vector<ProcessRecord> kept;
  for (size_t i = 0; i < records_.size(); ++i) {
    ProcessRecord& r = records_[i];
    bool in = static_cast<int>(i) == root_index ||
              (r.parent_record >= 0 && new_index[r.parent_record] >= 0);
    if (!in) continue;
    new_index[i] = static_cast<int>(kept.size());
    r.parent_record = static_cast<int>(i) == root_index ? -1 : new_index[r.parent_record];
    kept.push_back(std::move(r));
  }
  records_ = std::move(kept);
  root_ = pid;
  live_.clear();
  commands_.clear();
  std::unordered_set<pid_t> pids;
  for (size_t i = 0; i < records_.size(); ++i) {
    ProcessRecord& r = records_[i];
    pids.insert(r.pid);
    r.top_level = IsTopLevelParent(r.parent_record);
    if (r.end_mono_ns == 0) live_[r.pid] = i;
    if (r.top_level && r.execed) commands_.push_back(CommandEvent{r.exec_mono_ns, r.pid, r.argv});
  }
  const ProcessRecord& root = records_[0];
  std::erase_if(escalations_, [&](const Escalation& e) {
    const bool setup =
        e.pid == root.pid && e.time_mono_ns <= root.exec_mono_ns && e.exec_argv.empty();
    return !pids.count(e.pid) || setup;
  });
  uid_pending_exec_.clear();
}

bool ProcessTable::IsTopLevelParent(int parent_index) const {
  if (parent_index < 0) return false;
  const ProcessRecord& p = records_[parent_index];
  if (p.parent_record < 0) return p.pid == root_;
  // A subshell of the root (forked, never exec'd) runs typed commands too: `(cd x; make)`.
  const ProcessRecord& gp = records_[p.parent_record];
  return !p.execed && gp.parent_record < 0 && gp.pid == root_;
}

void ProcessTable::OnFork(pid_t parent_tgid, pid_t child_pid, pid_t child_tgid, int64_t t) {
  if (child_pid != child_tgid) return;  // a thread
  auto it = live_.find(parent_tgid);
  if (it == live_.end()) return;
  uid_pending_exec_.erase(parent_tgid);
  const ProcessRecord& parent = records_[it->second];
  ProcessRecord r;
  r.pid = child_tgid;
  r.ppid = parent_tgid;
  r.argv = parent.argv;
  r.argv_from_comm = parent.argv_from_comm;
  r.cwd = parent.cwd;
  // A builtin `cd` leaves no event: the child's own cwd is the one its commands run in.
  if (std::string cwd = read_(child_tgid).cwd; !cwd.empty()) r.cwd = std::move(cwd);
  r.uid = parent.uid;
  r.euid = parent.euid;
  r.start_mono_ns = t;
  r.parent_record = static_cast<int>(it->second);
  r.top_level = IsTopLevelParent(r.parent_record);
  AddRecord(std::move(r));
}

void ProcessTable::OnExec(pid_t pid, int64_t t) {
  ProcessRecord* r = Live(pid);
  if (r == nullptr) return;
  ProcSnapshot s = read_(pid);
  const bool first_exec_of_root = pid == root_ && !r->execed;
  r->execed = true;
  r->exec_mono_ns = t;
  r->argv = std::move(s.argv);  // empty when it was gone before we looked: unknown
  r->argv_from_comm = s.argv_from_comm;
  if (!s.cwd.empty()) r->cwd = std::move(s.cwd);
  // Ids change only through commit_creds(), which sends a UID event: /proc, read later than
  // the exec, may already show a change still queued behind it.
  if (r->uid < 0) r->uid = s.uid;
  if (r->euid < 0) r->euid = s.euid;
  if (auto e = uid_pending_exec_.find(pid); e != uid_pending_exec_.end()) {
    // The change came with this exec only if the program is setuid to the new euid; else it
    // was a setuid() just before the exec (a runtime or su switching users).
    Escalation& esc = escalations_[e->second];
    if (s.exe_setuid && esc.euid_after == s.exe_owner) esc.exec_argv = r->argv;
    uid_pending_exec_.erase(e);
  }
  if (first_exec_of_root) {
    // The runtime switched to the exec's user just before exec'ing it: setup, not an
    // escalation. Reroot applies the same rule to the events it saw before the root was known;
    // this covers those still queued then.
    size_t before = escalations_.size();
    std::erase_if(escalations_, [&](const Escalation& esc) {
      return esc.pid == pid && esc.exec_argv.empty() && esc.time_mono_ns <= t;
    });
    if (escalations_.size() != before) {
      for (auto& [p, index] : uid_pending_exec_)
        for (size_t i = escalations_.size(); i-- > 0;)
          if (escalations_[i].pid == p) {
            index = i;
            break;
          }
    }
  }
  if (r->top_level) commands_.push_back(CommandEvent{t, pid, r->argv});
}

std::vector<pid_t> ProcessTable::LivePids() const {
  std::vector<pid_t> out;
  out.reserve(live_.size());
  for (const auto& [pid, index] : live_) out.push_back(pid);
  return out;
}

void ProcessTable::OnUid(pid_t pid, uint32_t ruid, uint32_t euid, int64_t t) {
  ProcessRecord* r = Live(pid);
  if (r == nullptr) return;
  const int64_t nr = ruid, ne = euid;
  if (r->uid >= 0 && (nr != r->uid || ne != r->euid)) {
    Escalation e;
    e.pid = pid;
    e.argv = r->argv;
    e.uid_before = r->uid;
    e.euid_before = r->euid;
    e.uid_after = nr;
    e.euid_after = ne;
    e.time_mono_ns = t;
    // commit_creds() of a setuid exec reports the change just before the exec event.
    uid_pending_exec_[pid] = escalations_.size();
    escalations_.push_back(std::move(e));
  }
  r->uid = nr;
  r->euid = ne;
}

void ProcessTable::OnExit(pid_t pid, pid_t tgid, uint32_t wait_status, int64_t t) {
  if (pid != tgid) return;  // a thread
  auto it = live_.find(pid);
  if (it == live_.end()) return;
  ProcessRecord& r = records_[it->second];
  r.exited = true;
  r.wait_status = static_cast<int>(wait_status);
  r.end_mono_ns = t;
  live_.erase(it);
  uid_pending_exec_.erase(pid);
}

void ProcessTable::Resync(const std::vector<std::pair<pid_t, pid_t>>& procs, int64_t now_mono_ns) {
  std::unordered_map<pid_t, pid_t> ppid_of(procs.begin(), procs.end());
  for (auto it = live_.begin(); it != live_.end();) {
    if (ppid_of.count(it->first)) {
      ++it;
      continue;
    }
    records_[it->second].end_mono_ns = now_mono_ns;  // gone, exit status lost
    it = live_.erase(it);
  }
  // Adopt children of tracked processes until nothing changes (grandchildren come next pass).
  for (bool changed = true; changed;) {
    changed = false;
    for (const auto& [pid, ppid] : procs) {
      if (live_.count(pid) || !live_.count(ppid)) continue;
      OnFork(ppid, pid, pid, now_mono_ns);
      OnExec(pid, now_mono_ns);
      changed = true;
    }
  }
}

bool ProcessTable::RootExited(int* wait_status) const {
  for (const ProcessRecord& r : records_) {
    if (r.pid != root_ || r.parent_record >= 0 || !r.exited) continue;
    if (wait_status) *wait_status = r.wait_status;
    return true;
  }
  return false;
}

std::vector<CommandEvent> ProcessTable::TakeCommands() { return std::exchange(commands_, {}); }

// ---- JSON ----

UserNames ParsePasswd(std::string_view text) {
  UserNames out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos || c1 == 0 || c3 == c2 + 1) continue;
    int64_t uid = 0;
    bool digits = true;
    for (char ch : line.substr(c2 + 1, c3 - c2 - 1)) {
      if (ch < '0' || ch > '9')
        digits = false;
      else
        uid = uid * 10 + (ch - '0');
    }
    if (digits && uid <= 0xffffffffLL) out.emplace(uid, std::string(line.substr(0, c1)));
  }
  return out;
}

UserNames ReadUserNames(pid_t pid) {
  return ParsePasswd(ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/root/etc/passwd", 1 << 20));
}

namespace {

void WriteName(JsonWriter& w, const char* key, int64_t id, const UserNames* names) {
  if (names == nullptr) return;
  auto it = names->find(id);
  if (it != names->end()) w.Key(key).String(it->second);
}

}  // namespace

void WriteProcessRecordJson(JsonWriter& w, const ProcessRecord& r, int64_t start,
                            const UserNames* names) {
  w.BeginObject();
  w.Key("pid").Int(r.pid);
  w.Key("ppid").Int(r.ppid);
  w.Key("argv").StringArray(r.argv);
  w.Key("cwd").String(r.cwd);
  w.Key("uid").Int(r.uid);
  w.Key("euid").Int(r.euid);
  WriteName(w, "user", r.uid, names);
  WriteName(w, "euser", r.euid, names);
  w.Key("start").Double(Offset(r.start_mono_ns, start));
  w.Key("end");
  if (r.end_mono_ns)
    w.Double(Offset(r.end_mono_ns, start));
  else
    w.Null();
  const bool exited = r.exited && WIFEXITED(r.wait_status);
  const bool signaled = r.exited && WIFSIGNALED(r.wait_status);
  w.Key("exit_code").Int(exited ? WEXITSTATUS(r.wait_status) : -1);
  w.Key("signal").Int(signaled ? WTERMSIG(r.wait_status) : 0);
  if (signaled && WCOREDUMP(r.wait_status)) w.Key("core_dumped").Bool(true);
  w.Key("exec").Bool(r.execed);
  if (r.argv_from_comm) w.Key("argv_from_comm").Bool(true);
  w.Key("top_level").Bool(r.top_level);
  w.EndObject();
}

void WriteEscalationJson(JsonWriter& w, const Escalation& e, int64_t start,
                         const UserNames* names) {
  w.BeginObject();
  w.Key("pid").Int(e.pid);
  w.Key("argv").StringArray(e.argv);
  if (!e.exec_argv.empty()) w.Key("exec_argv").StringArray(e.exec_argv);
  w.Key("time").Double(Offset(e.time_mono_ns, start));
  w.Key("before").BeginObject().Key("uid").Int(e.uid_before).Key("euid").Int(e.euid_before);
  WriteName(w, "user", e.uid_before, names);
  WriteName(w, "euser", e.euid_before, names);
  w.EndObject();
  w.Key("after").BeginObject().Key("uid").Int(e.uid_after).Key("euid").Int(e.euid_after);
  WriteName(w, "user", e.uid_after, names);
  WriteName(w, "euser", e.euid_after, names);
  w.EndObject();
  w.Key("to_root").Bool((e.uid_after == 0 && e.uid_before != 0) ||
                        (e.euid_after == 0 && e.euid_before != 0));
  w.EndObject();
}

std::string ProcessManifestMembers(const std::vector<ProcessRecord>& records,
                                   const std::vector<Escalation>& escalations, int64_t start,
                                   uint64_t lost_events, const UserNames* names) {
  JsonWriter w;
  w.BeginObject();
  w.Key("commands").BeginArray();
  for (const ProcessRecord& r : records) WriteProcessRecordJson(w, r, start, names);
  w.EndArray();
  w.Key("escalations").BeginArray();
  for (const Escalation& e : escalations) WriteEscalationJson(w, e, start, names);
  w.EndArray();
  w.Key("escalated").Bool(!escalations.empty());
  w.Key("tracking").BeginObject().Key("source").String("proc_connector");
  w.Key("lost_events").Uint(lost_events).EndObject();
  w.EndObject();
  std::string s = w.Take();
  return s.substr(1, s.size() - 2);  // members only: strip the braces
}

// ---- ProcTracker ----

namespace {

// Offsets in a proc connector datagram: nlmsghdr, cn_msg, then proc_event.
constexpr uint32_t kEv = NLMSG_HDRLEN + sizeof(cn_msg);
constexpr uint32_t kWhat = kEv + offsetof(proc_event, what);
constexpr uint32_t kData = kEv + offsetof(proc_event, event_data);

// Classic BPF on each datagram. Kept: acks (NONE), process forks (child_pid == child_tgid),
// EXEC, UID and process exits (process_pid == process_tgid); threads and every other event type
// are dropped. With `pids`, only events about the tracked set pass too: forks whose parent is
// in it, and exec, uid change and exit of its members (the tgid, for a fork the parent's, is
// the second word of each of these events). Two instructions per pid; over kMaxFilterPids
// the table alone does the selection. Absolute loads are big-endian: constants go through
// htonl(); equality between two loaded fields is unaffected.
constexpr size_t kMaxFilterPids = 1500;
std::vector<sock_filter> ProcFilter(const std::vector<pid_t>* pids) {
  auto stmt = [](uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; };
  auto jeq = [](uint32_t k, uint8_t jt, uint8_t jf) {
    return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k};
  };
  auto jeq_x = [](uint8_t jt, uint8_t jf) {
    return sock_filter{BPF_JMP | BPF_JEQ | BPF_X, jt, jf, 0};
  };
  const uint32_t ld = BPF_LD | BPF_W | BPF_ABS;
  const uint32_t fork_pid = kEv + offsetof(proc_event, event_data.fork.child_pid);
  const uint32_t fork_tgid = kEv + offsetof(proc_event, event_data.fork.child_tgid);
  const uint32_t exit_pid = kEv + offsetof(proc_event, event_data.exit.process_pid);
  const uint32_t exit_tgid = kEv + offsetof(proc_event, event_data.exit.process_tgid);
  constexpr size_t kTgid = offsetof(proc_event, event_data.exec.process_tgid);
  static_assert(kTgid == offsetof(proc_event, event_data.fork.parent_tgid));
  static_assert(kTgid == offsetof(proc_event, event_data.id.process_tgid));
  static_assert(kTgid == offsetof(proc_event, event_data.exit.process_tgid));
  std::vector<sock_filter> f = {
      stmt(ld, kWhat),                                 // 0
      jeq(htonl(proc_event::PROC_EVENT_FORK), 5, 0),   // 1 -> 7
      jeq(htonl(proc_event::PROC_EVENT_EXIT), 8, 0),   // 2 -> 11
      jeq(htonl(proc_event::PROC_EVENT_EXEC), 13, 0),  // 3 -> 17
      jeq(htonl(proc_event::PROC_EVENT_UID), 12, 0),   // 4 -> 17
      jeq(htonl(proc_event::PROC_EVENT_NONE), 10, 0),  // 5 -> 16
      stmt(BPF_RET | BPF_K, 0),                        // 6 drop
      stmt(ld, fork_pid),                              // 7
      stmt(BPF_MISC | BPF_TAX, 0),                     // 8
      stmt(ld, fork_tgid),                             // 9
      jeq_x(6, 4),                                     // 10 -> 17 | 15
      stmt(ld, exit_pid),                              // 11
      stmt(BPF_MISC | BPF_TAX, 0),                     // 12
      stmt(ld, exit_tgid),                             // 13
      jeq_x(2, 0),                                     // 14 -> 17 | 15
      stmt(BPF_RET | BPF_K, 0),                        // 15 drop
      stmt(BPF_RET | BPF_K, 0xffffffff),               // 16 accept
  };
  if (pids == nullptr || pids->size() > kMaxFilterPids) {
    f.push_back(stmt(BPF_RET | BPF_K, 0xffffffff));  // 17 accept
    return f;
  }
  f.push_back(stmt(ld, kEv + kTgid));  // 17: is the (parent) tgid tracked?
  for (pid_t p : *pids) {
    f.push_back(jeq(htonl(static_cast<uint32_t>(p)), 0, 1));
    f.push_back(stmt(BPF_RET | BPF_K, 0xffffffff));
  }
  f.push_back(stmt(BPF_RET | BPF_K, 0));
  return f;
}

Status AttachFilter(int fd, const std::vector<sock_filter>& code) {
  sock_fprog prog{static_cast<unsigned short>(code.size()), const_cast<sock_filter*>(code.data())};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return SysError("setsockopt SO_ATTACH_FILTER", "proc connector", errno);
  return {};
}

bool KernelAtLeast(int major, int minor) {
  utsname u{};
  if (uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

Status Subscribe(int fd, const void* payload, size_t len) {
  char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(ProcInput))] = {};
  auto* nh = reinterpret_cast<nlmsghdr*>(buf);
  auto* cn = reinterpret_cast<cn_msg*>(NLMSG_DATA(nh));
  nh->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + len);
  nh->nlmsg_type = NLMSG_DONE;
  nh->nlmsg_pid = 0;
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = static_cast<uint16_t>(len);
  memcpy(cn->data, payload, len);
  if (send(fd, nh, nh->nlmsg_len, 0) < 0)
    return SysError("send", "proc connector subscription", errno);
  return {};
}

}  // namespace

// A subscribed proc connector socket that passes every process event (ProcFilter(nullptr)).
Result<UniqueFd> OpenProcSocket(int rcvbuf_bytes) {
  UniqueFd sock(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR));
  if (!sock) return SysError("socket", "proc connector (NETLINK_CONNECTOR)", errno);
  int fd = sock.get();
  // The idle drain interval and scheduling delays must fit: the buffer holds the backlog.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof(int)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(int));
  if (auto st = AttachFilter(fd, ProcFilter(nullptr)); !st) return Error{st.message()};
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return SysError("bind", "proc connector (needs CAP_NET_ADMIN)", errno);
  // The event mask needs Linux >= 6.6; an older kernel ignores a message of that size (and
  // the new one sends no ack for it), so choose by version. The socket filter drops the
  // unwanted types either way.
  if (KernelAtLeast(6, 6)) {
    ProcInput in{PROC_CN_MCAST_LISTEN, kWantedEvents};
    if (auto s = Subscribe(fd, &in, sizeof in); !s) return Error{s.message()};
  } else {
    uint32_t op = PROC_CN_MCAST_LISTEN;
    if (auto s = Subscribe(fd, &op, sizeof op); !s) return Error{s.message()};
  }
  return sock;
}

Result<std::unique_ptr<ProcTracker>> ProcTracker::Open(const ProcTrackerOptions& opts) {
  std::unique_ptr<ProcTracker> t(new ProcTracker());
  t->opts_ = opts;
  t->table_ = ProcessTable(opts.reader);
  auto all = OpenProcSocket(opts.rcvbuf_bytes);
  if (!all) return all.error();
  t->sock_ = std::move(all.value());
  auto wake = OpenProcSocket(64 << 10);  // only wake-ups: overflowing it loses nothing
  if (!wake) return wake.error();
  t->wake_ = std::move(wake.value());
  t->command_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  t->stop_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!t->command_fd_ || !t->stop_fd_) return SysError("eventfd", "proc tracker", errno);
  return t;
}

ProcTracker::~ProcTracker() { Stop(0); }

Status ProcTracker::Start(pid_t root_pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Error{"proc tracker: already started"};
  table_.AddRoot(root_pid, MonotonicNanos());
  UpdateFilter();
  names_ = ReadUserNames(root_pid);
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void ProcTracker::SetSessionStart(int64_t mono_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  opts_.session_start_mono_ns = mono_ns;
}

void ProcTracker::Reroot(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.Reroot(pid, MonotonicNanos());
  filter_version_ = ~0ULL;  // shrink the filter to the new tree
  UpdateFilter();
  if (UserNames n = ReadUserNames(pid); !n.empty()) names_ = std::move(n);  // the container's
  pending_commands_.clear();  // rebuilt by Reroot for the new root
  std::vector<CommandEvent> cmds = table_.TakeCommands();
  pending_commands_ = std::move(cmds);
  uint64_t one = 1;
  if (!pending_commands_.empty()) {
    [[maybe_unused]] ssize_t w = write(command_fd_.get(), &one, sizeof one);
  }
}

void ProcTracker::Loop() {
  // argv is read from /proc at the exec event, racing the process's exit: a /bin/true lives
  // about half a millisecond. At normal priority the thread loses that race 10-35% of the
  // time on a busy 2-core machine; at SCHED_FIFO 1 it wakes at once and loses almost never.
  // Its work per event is bounded and small, so the real-time class cannot starve the node
  // (and RT throttling caps it). Where RT is not allowed (a cgroup without rt_runtime), nice.
  if (opts_.realtime) {
    sched_param sp{};
    sp.sched_priority = 1;
    if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10);
  }
  for (;;) {
    bool active;
    {
      std::lock_guard<std::mutex> lock(mu_);
      active = table_.live_count() > 1 || MonotonicNanos() - last_hit_ns_ < kActiveLingerNs;
    }
    // Idle (the session's shell waits for input): wake for the tracked set's own events, and
    // read the host's backlog in batches. Active: read every event as it comes.
    pollfd fds[3] = {{stop_fd_.get(), POLLIN, 0},
                     {wake_.get(), POLLIN, 0},
                     {active ? sock_.get() : -1, POLLIN, 0}};
    int n = poll(fds, 3, active ? kActiveRecheckMs : kIdleDrainMs);
    if (n < 0 && errno != EINTR) break;
    if (fds[0].revents) break;
    if (fds[1].revents) DrainWake();
    Drain();
  }
}

void ProcTracker::DrainWake() {
  char buf[4096];
  while (recv(wake_.get(), buf, sizeof buf, MSG_DONTWAIT) > 0) ++wakeups_;
}

void ProcTracker::Drain() {
  constexpr int kBatch = 64;
  constexpr size_t kMsgSize = 256;  // one proc event datagram is 92 bytes
  static thread_local char bufs[kBatch][kMsgSize];
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  sockaddr_nl from[kBatch];
  bool resync = false;
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iovs[i] = {bufs[i], kMsgSize};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(sock_.get(), msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // the kernel dropped events: find what we missed in /proc
        std::lock_guard<std::mutex> lock(mu_);
        ++lost_;
        resync = true;
        continue;
      }
      break;  // EAGAIN: drained
    }
    const int64_t now = MonotonicNanos();
    std::lock_guard<std::mutex> lock(mu_);
    for (int i = 0; i < n; ++i) {
      if (from[i].nl_pid != 0) continue;  // only the kernel speaks for the proc connector
      if (HandleMessage(bufs[i], msgs[i].msg_len)) last_hit_ns_ = now;
      // The wake-up socket must know a new child at once: its exec may follow in microseconds.
      if (table_.live_version() != filter_version_) UpdateFilter();
    }
    if (n > 0 && msgs[0].msg_len >= kData) {  // the oldest of the batch waited longest
      uint64_t ts;
      memcpy(&ts, bufs[0] + kEv + offsetof(proc_event, timestamp_ns), sizeof ts);
      max_lag_ns_ = std::max(max_lag_ns_, now - static_cast<int64_t>(ts));
    }
    read_ += static_cast<uint64_t>(n);
    if (n < kBatch) break;
  }
  if (resync) Rescan();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<CommandEvent> cmds = table_.TakeCommands();
  if (!cmds.empty()) {
    pending_commands_.insert(pending_commands_.end(), std::make_move_iterator(cmds.begin()),
                             std::make_move_iterator(cmds.end()));
    uint64_t one = 1;
    [[maybe_unused]] ssize_t w = write(command_fd_.get(), &one, sizeof one);
  }
}

bool ProcTracker::HandleMessage(const char* data, size_t len) {
  if (len < kData) return false;
  const auto* nh = reinterpret_cast<const nlmsghdr*>(data);
  if (nh->nlmsg_type != NLMSG_DONE || nh->nlmsg_len > len) return false;
  const auto* cn = reinterpret_cast<const cn_msg*>(NLMSG_DATA(nh));
  if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) return false;
  proc_event ev;
  memset(&ev, 0, sizeof ev);
  memcpy(&ev, data + kEv, std::min(len - kEv, sizeof ev));
  const int64_t t = static_cast<int64_t>(ev.timestamp_ns);
  // The (parent's, for a fork) tgid is the second word of every event kept.
  const bool hit = table_.Tracks(ev.event_data.exec.process_tgid);
  switch (ev.what) {
    case proc_event::PROC_EVENT_FORK:
      table_.OnFork(ev.event_data.fork.parent_tgid, ev.event_data.fork.child_pid,
                    ev.event_data.fork.child_tgid, t);
      break;
    case proc_event::PROC_EVENT_EXEC:
      table_.OnExec(ev.event_data.exec.process_tgid, t);
      break;
    case proc_event::PROC_EVENT_UID:
      table_.OnUid(ev.event_data.id.process_tgid, ev.event_data.id.r.ruid, ev.event_data.id.e.euid,
                   t);
      break;
    case proc_event::PROC_EVENT_EXIT:
      table_.OnExit(ev.event_data.exit.process_pid, ev.event_data.exit.process_tgid,
                    ev.event_data.exit.exit_code, t);
      break;
    default:
      break;
  }
  return hit;
}

void ProcTracker::Rescan() {
  std::vector<std::pair<pid_t, pid_t>> procs;
  DIR* d = opendir("/proc");
  if (d == nullptr) return;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    procs.emplace_back(static_cast<pid_t>(pid), ReadParentPid(static_cast<pid_t>(pid)));
  }
  closedir(d);
  std::lock_guard<std::mutex> lock(mu_);
  table_.Resync(procs, MonotonicNanos());
}

// Called with mu_ held.
void ProcTracker::UpdateFilter() {
  std::vector<pid_t> pids = table_.LivePids();
  filter_version_ = table_.live_version();
  filter_size_ = pids.size();
  ++filter_updates_;
  if (!AttachFilter(wake_.get(), ProcFilter(&pids)).ok()) {
    (void)AttachFilter(wake_.get(), ProcFilter(nullptr));  // correct, only costlier
  }
}

std::vector<CommandEvent> ProcTracker::TakeCommands() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t v;
  [[maybe_unused]] ssize_t r = read(command_fd_.get(), &v, sizeof v);
  return std::exchange(pending_commands_, {});
}

void ProcTracker::Stop(int grace_ms, bool wait_all) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) return;
  }
  const int64_t deadline = MonotonicNanos() + int64_t{grace_ms} * 1000000;
  while (MonotonicNanos() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (table_.RootExited(nullptr) && (!wait_all || table_.AllExited())) break;
    }
    usleep(5000);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(stop_fd_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  Drain();  // what arrived between the last poll and the stop
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
}

bool ProcTracker::RootExited(int* wait_status) const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.RootExited(wait_status);
}

uint64_t ProcTracker::lost_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

uint64_t ProcTracker::events_read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return read_;
}

int64_t ProcTracker::max_lag_ns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_lag_ns_;
}

std::string ProcTracker::ManifestMembers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return ProcessManifestMembers(table_.records(), table_.escalations(), opts_.session_start_mono_ns,
                                lost_, &names_);
}

std::vector<ProcessRecord> ProcTracker::Records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.records();
}

std::vector<Escalation> ProcTracker::Escalations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.escalations();
}

}  // namespace ttyaudit
