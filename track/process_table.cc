#include "track/process_table.h"

#include <unordered_set>

#include "track/proc_events.h"

namespace ttyaudit {

ProcessRecord* ProcessTable::Live(pid_t pid) {
  auto it = live_.find(pid);
  return it == live_.end() ? nullptr : &records_[it->second];
}

ProcessRecord* ProcessTable::ChainRecord(pid_t pid, int64_t t) {
  const size_t old = live_.at(pid);
  ProcessRecord next = records_[old];  // its parent, ids, cwd and place in the tree
  records_[old].end_mono_ns = t;
  records_[old].replaced_by_exec = true;
  next.start_mono_ns = t;
  live_[pid] = records_.size();
  records_.push_back(std::move(next));
  return &records_.back();
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
  r.cwd_truncated = parent.cwd_truncated;
  r.cwd_unresolved = parent.cwd_unresolved;
  // A builtin `cd` leaves no event: the child's own cwd is the one its commands run in.
  if (ProcSnapshot s = read_(child_tgid); !s.cwd.empty()) {
    r.cwd = std::move(s.cwd);
    r.cwd_truncated = s.cwd_truncated;
    r.cwd_unresolved = s.cwd_unresolved;
  }
  r.uid = parent.uid;
  r.euid = parent.euid;
  r.gid = parent.gid;
  r.egid = parent.egid;
  r.start_mono_ns = t;
  r.parent_record = static_cast<int>(it->second);
  r.top_level = IsTopLevelParent(r.parent_record);
  AddRecord(std::move(r));
}

void ProcessTable::OnExec(pid_t pid, int64_t t) {
  ProcessRecord* r = Live(pid);
  if (r == nullptr) return;
  ProcSnapshot s = read_(pid);
  const bool chained = s.read_at_exec && r->exec_mono_ns != 0;
  if (chained) r = ChainRecord(pid, t);
  const bool first_exec_of_root = pid == root_ && !r->execed;
  r->execed = true;
  r->exec_mono_ns = t;
  r->argv = std::move(s.argv);  // empty when it was gone before we looked: unknown
  r->argv_from_comm = s.argv_from_comm;
  r->argv_truncated = s.argv_truncated;
  if (s.gid >= 0) r->gid = s.gid;
  if (s.egid >= 0) r->egid = s.egid;
  if (!s.cwd.empty()) {
    r->cwd = std::move(s.cwd);
    r->cwd_truncated = s.cwd_truncated;
    r->cwd_unresolved = s.cwd_unresolved;
  }
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
  if (r->top_level && !chained) commands_.push_back(CommandEvent{t, pid, r->argv});
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

}  // namespace ttyaudit
