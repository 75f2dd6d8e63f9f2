#include "track/proc_tracker.h"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <unordered_set>

#include "base/files.h"
#include "base/ids.h"
#include "track/proc_events.h"
#include "track/tracker_client.h"
#include "track/tracker_wire.h"

namespace ttyaudit {
namespace {

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
    return !pids.count(e.pid) || e.IsSetupOf(root.pid, root.exec_mono_ns);
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
    esc.exec_unread = s.exe_owner < 0;
    uid_pending_exec_.erase(e);
  }
  if (first_exec_of_root) {
    // The runtime switched to the exec's user just before exec'ing it: setup, not an
    // escalation. Reroot applies the same rule to the events it saw before the root was known;
    // this covers those still queued then.
    size_t before = escalations_.size();
    std::erase_if(escalations_, [&](const Escalation& esc) { return esc.IsSetupOf(pid, t); });
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
    // A scan cannot know a process that started after it (a hub's resync applied late).
    if (ppid_of.count(it->first) || records_[it->second].start_mono_ns > now_mono_ns) {
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
  if (e.exec_unread) w.Key("exec_unread").Bool(true);  // the program was gone before it was read
  w.Key("time").Double(Offset(e.time_mono_ns, start));
  w.Key("before").BeginObject().Key("uid").Int(e.uid_before).Key("euid").Int(e.euid_before);
  WriteName(w, "user", e.uid_before, names);
  WriteName(w, "euser", e.euid_before, names);
  w.EndObject();
  w.Key("after").BeginObject().Key("uid").Int(e.uid_after).Key("euid").Int(e.euid_after);
  WriteName(w, "user", e.uid_after, names);
  WriteName(w, "euser", e.euid_after, names);
  w.EndObject();
  w.Key("to_root").Bool(e.ToRoot());
  w.EndObject();
}

std::string ProcessManifestMembers(const std::vector<ProcessRecord>& records,
                                   const std::vector<Escalation>& escalations, int64_t start,
                                   uint64_t lost_events, const UserNames* names,
                                   const TrackingInfo* info) {
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
  if (info && !info->via.empty()) w.Key("via").String(info->via);
  w.Key("lost_events").Uint(lost_events);
  if (info && !info->problem.empty()) w.Key("problem").String(info->problem);
  w.EndObject();
  w.EndObject();
  std::string s = w.Take();
  return s.substr(1, s.size() - 2);  // members only: strip the braces
}

// ---- ProcTracker ----

namespace {

void ApplyProcEvent(ProcessTable& t, const ProcEvent& e) {
  switch (e.kind) {
    case ProcEvent::kFork:
      t.OnFork(e.parent_tgid, e.pid, e.tgid, e.time_ns);
      break;
    case ProcEvent::kExec:
      t.OnExec(e.tgid, e.time_ns);
      break;
    case ProcEvent::kUid:
      t.OnUid(e.tgid, e.ruid, e.euid, e.time_ns);
      break;
    case ProcEvent::kExit:
      t.OnExit(e.pid, e.tgid, e.exit_code, e.time_ns);
      break;
    case ProcEvent::kNone:
      break;
  }
}

}  // namespace

Result<std::unique_ptr<ProcTracker>> ProcTracker::Open(const ProcTrackerOptions& opts) {
  std::unique_ptr<ProcTracker> t(new ProcTracker());
  t->opts_ = opts;
  ProcTracker* self = t.get();
  t->table_ = ProcessTable([self](pid_t pid) { return self->ReadSnapshot(pid); });
  t->command_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  t->stop_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!t->command_fd_ || !t->stop_fd_) return SysError("eventfd", "proc tracker", errno);
  if (!opts.hub_run_dir.empty()) {
    TrackerHubOptions h;
    h.run_dir = opts.hub_run_dir;
    h.exe = opts.hub_exe;
    auto hub = SubscribeToTrackerHub(h, opts.spawner_pid > 0 ? opts.spawner_pid : getpid());
    if (hub) {
      t->hub_ = std::move(hub.value());
      t->via_ = "hub";
      return t;
    }
    t->problem_ = hub.message() + "; tracking in-process instead";
  }
  auto all = OpenProcSocket(opts.rcvbuf_bytes);
  if (!all) {
    if (t->problem_.empty()) return all.error();
    return Error{all.message() + " (and " + t->problem_ + ")"};
  }
  t->sock_ = std::move(all.value());
  auto wake = OpenProcSocket(64 << 10);  // only wake-ups: overflowing it loses nothing
  if (!wake) return wake.error();
  t->wake_ = std::move(wake.value());
  t->via_ = "local";
  return t;
}

ProcTracker::~ProcTracker() { Stop(0); }

ProcSnapshot ProcTracker::ReadSnapshot(pid_t pid) {
  // Called by the table with mu_ held: what the hub read at the event, else /proc now.
  if (auto it = given_.find(pid); it != given_.end()) return it->second;
  return opts_.reader(pid);
}

void ProcTracker::TellHub(pid_t pid) {
  if (!hub_) return;
  std::string m = tracker_wire::EncodeReroot(pid);
  // A failure shows as the connection's end on the reading thread, which falls back.
  (void)send(hub_.get(), m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

Status ProcTracker::Start(pid_t root_pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Error{"proc tracker: already started"};
  table_.AddRoot(root_pid, MonotonicNanos());
  TellHub(root_pid);  // the hub drops the spawner and whatever else it started
  if (wake_) UpdateFilter();
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
  TellHub(pid);
  if (wake_) {
    filter_version_ = ~0ULL;  // shrink the filter to the new tree
    UpdateFilter();
  }
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
  if (hub_) {
    if (!HubLoop()) return;  // stopped
    if (!FallBackToLocal()) return;
  }
  LocalLoop();
}

bool ProcTracker::HubLoop() {
  for (;;) {
    pollfd fds[2] = {{stop_fd_.get(), POLLIN, 0}, {hub_.get(), POLLIN, 0}};
    int n = poll(fds, 2, -1);
    if (n < 0 && errno != EINTR) return true;
    if (fds[0].revents) return false;
    if (fds[1].revents && !ReadHub()) return true;
  }
}

bool ProcTracker::ReadHub() {
  std::string& buf = hub_buf_;
  buf.resize(tracker_wire::kMaxPacket);
  for (;;) {
    ssize_t k = recv(hub_.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) break;
    if (k <= 0) {
      std::lock_guard<std::mutex> lock(mu_);
      hub_end_ = k == 0 ? "closed" : std::string("recv: ") + strerror(errno);
      return false;
    }
    auto m = tracker_wire::Decode(std::string_view(buf.data(), static_cast<size_t>(k)));
    std::lock_guard<std::mutex> lock(mu_);
    if (!m) {
      hub_end_ = m.message();
      return false;
    }
    const int64_t now = MonotonicNanos();
    switch (m->type) {
      case tracker_wire::Type::kEvents:
        for (tracker_wire::WireEvent& w : m->events) {
          if (w.has_snapshot) given_[w.event.tgid] = std::move(w.snapshot);
          ApplyProcEvent(table_, w.event);
          given_.clear();
          max_lag_ns_ = std::max(max_lag_ns_, now - w.event.time_ns);
        }
        read_ += m->events.size();
        break;
      case tracker_wire::Type::kResync: {
        std::vector<std::pair<pid_t, pid_t>> procs;
        for (tracker_wire::ResyncProc& p : m->procs) {
          procs.emplace_back(p.pid, p.ppid);
          if (p.has_snapshot) given_[p.pid] = std::move(p.snapshot);
        }
        lost_ += m->lost;
        table_.Resync(procs, m->time_ns);
        given_.clear();
        break;
      }
      case tracker_wire::Type::kClosing:
        hub_end_ = "the hub dropped this session: " + m->text;
        break;
      default:
        break;
    }
  }
  PublishCommands();
  return true;
}

bool ProcTracker::FallBackToLocal() {
  auto all = OpenProcSocket(opts_.rcvbuf_bytes);
  auto wake = all ? OpenProcSocket(64 << 10) : Result<UniqueFd>(Error{""});
  {
    std::lock_guard<std::mutex> lock(mu_);
    const double at = static_cast<double>(MonotonicNanos() - opts_.session_start_mono_ns) / 1e9;
    char when[32];
    snprintf(when, sizeof when, "%.3f", at);
    problem_ = "tracker hub connection lost at " + std::string(when) + " s (" + hub_end_ +
               "): processes that started and ended before in-process tracking took over are "
               "missing";
    ++lost_;  // an unknown number of events
    hub_.reset();
    if (!all || !wake) {
      problem_ += "; in-process tracking failed too: " + (all ? wake.message() : all.message());
      via_ = "hub, then none";
      return false;
    }
    sock_ = std::move(all.value());
    wake_ = std::move(wake.value());
    via_ = "hub, then local";
    filter_version_ = ~0ULL;
    UpdateFilter();
  }
  Rescan();  // what started while nobody listened
  return true;
}

void ProcTracker::LocalLoop() {
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
  bool overrun = false;
  std::vector<ProcEvent> events;
  events.reserve(64);
  for (;;) {
    events.clear();
    int n = ReadProcEvents(sock_.get(), events, overrun);
    const int64_t now = MonotonicNanos();
    std::lock_guard<std::mutex> lock(mu_);
    for (const ProcEvent& e : events) {
      if (table_.Tracks(e.subject())) last_hit_ns_ = now;
      ApplyProcEvent(table_, e);
      // The wake-up socket must know a new child at once: its exec may follow in microseconds.
      if (table_.live_version() != filter_version_) UpdateFilter();
    }
    if (!events.empty())  // the oldest of the batch waited longest
      max_lag_ns_ = std::max(max_lag_ns_, now - events.front().time_ns);
    read_ += static_cast<uint64_t>(n);
    if (n < 64) break;
  }
  if (overrun) {  // the kernel dropped events: find what we missed in /proc
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++lost_;
    }
    Rescan();
  }
  std::lock_guard<std::mutex> lock(mu_);
  PublishCommands();
}

// Called with mu_ held.
void ProcTracker::PublishCommands() {
  std::vector<CommandEvent> cmds = table_.TakeCommands();
  if (cmds.empty()) return;
  pending_commands_.insert(pending_commands_.end(), std::make_move_iterator(cmds.begin()),
                           std::make_move_iterator(cmds.end()));
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(command_fd_.get(), &one, sizeof one);
}

void ProcTracker::Rescan() {
  std::vector<std::pair<pid_t, pid_t>> procs = ScanProcesses();
  std::lock_guard<std::mutex> lock(mu_);
  table_.Resync(procs, MonotonicNanos());
}

// Called with mu_ held.
void ProcTracker::UpdateFilter() {
  std::vector<pid_t> pids = table_.LivePids();
  filter_version_ = table_.live_version();
  filter_size_ = pids.size();
  ++filter_updates_;
  if (!SetProcFilter(wake_.get(), &pids).ok()) {
    (void)SetProcFilter(wake_.get(), nullptr);  // correct, only costlier
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
  // What arrived between the last poll and the stop.
  if (hub_)
    (void)ReadHub();
  else if (sock_)
    Drain();
  std::lock_guard<std::mutex> lock(mu_);
  hub_.reset();  // the hub forgets the session
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

std::string ProcTracker::via() const {
  std::lock_guard<std::mutex> lock(mu_);
  return via_;
}

std::string ProcTracker::problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

std::string ProcTracker::ManifestMembers() const {
  std::lock_guard<std::mutex> lock(mu_);
  TrackingInfo info{via_, problem_};
  return ProcessManifestMembers(table_.records(), table_.escalations(), opts_.session_start_mono_ns,
                                lost_, &names_, &info);
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
