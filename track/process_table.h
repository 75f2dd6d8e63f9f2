// The session's process tree, built from process events: records, escalations and typed
// commands. Pure bookkeeping (no sockets), fed by ProcTracker from whichever event source it
// uses, and by synthetic events in tests.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "track/proc_snapshot.h"

namespace ttyaudit {

/// One process of the session. Times are CLOCK_MONOTONIC nanoseconds (0 = unknown).
struct ProcessRecord {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::vector<std::string> argv;  // after its last exec; a fork's copy of its parent's before
  bool execed = false;            // false for a fork that never exec'd (a subshell)
  bool argv_from_comm = false;    // exited before /proc/PID/cmdline could be read
  bool argv_truncated = false;    // longer than the source reads (eBPF: 4 KiB, 64 arguments)
  std::string cwd;
  bool cwd_truncated = false;   // cwd is only its last part, relative (ProcSnapshot)
  bool cwd_unresolved = false;  // cwd is only the part that could be resolved, relative
  int64_t uid = -1;             // ruid and euid at exec (or inherited at fork)
  int64_t euid = -1;
  int64_t gid = -1;  // rgid and egid at exec, where the source reads them (eBPF)
  int64_t egid = -1;
  int64_t start_mono_ns = 0;
  int64_t exec_mono_ns = 0;  // its last exec
  int64_t end_mono_ns = 0;   // 0 while running
  bool exited = false;
  bool replaced_by_exec = false;  // ended by the process's next exec (an exec chain)
  int wait_status = 0;            // raw, as waitpid would give
  bool top_level = false;         // started by the session's first process (a typed command)
  int parent_record = -1;         // index of the parent's record in the table, -1 for the root
};

/// A change of real or effective uid of a tracked process.
struct Escalation {
  pid_t pid = 0;
  std::vector<std::string> argv;       // what the process was running when its ids changed
  std::vector<std::string> exec_argv;  // set when the change was a setuid exec: the new program
  int64_t uid_before = -1, euid_before = -1;
  int64_t uid_after = -1, euid_after = -1;
  int64_t time_mono_ns = 0;
  // The exec that followed the change was gone before its program could be read, so whether
  // that program is setuid is unknown.
  bool exec_unread = false;

  /// The real or effective uid became root.
  bool ToRoot() const {
    return (uid_after == 0 && uid_before != 0) || (euid_after == 0 && euid_before != 0);
  }
  /// The runtime switching to the exec's user just before the session's first exec: setup, not
  /// an escalation. A change to root whose exec could not be read is kept: a setuid-root
  /// program that exits at once must not pass for the runtime's setup.
  bool IsSetupOf(pid_t root, int64_t root_exec_ns) const {
    return pid == root && time_mono_ns <= root_exec_ns && exec_argv.empty() &&
           !(exec_unread && ToRoot());
  }
};

/// A typed command for the recording's timeline ("m" marker events).
struct CommandEvent {
  int64_t time_mono_ns = 0;
  pid_t pid = 0;
  std::vector<std::string> argv;
};

/// The session's process tree, built from process events. Pure bookkeeping (no sockets), so
/// that it can be fed synthetic events in tests. Not thread-safe.
class ProcessTable {
 public:
  explicit ProcessTable(ProcReader reader = ReadProcSnapshot) : read_(std::move(reader)) {}

  /// Tracks `pid` and everything it starts from now on.
  void AddRoot(pid_t pid, int64_t now_mono_ns);
  /// Narrows the session to `pid` (already tracked, or added) and its descendants: records of
  /// other processes (e.g. the runtime's own helpers that started it) are dropped, and so are
  /// the uid changes `pid` went through before its exec (the runtime switching to the exec's
  /// user), but for a setuid exec itself.
  void Reroot(pid_t pid, int64_t now_mono_ns);

  void OnFork(pid_t parent_tgid, pid_t child_pid, pid_t child_tgid, int64_t t);
  /// An exec whose argv was read at the exec itself (ProcSnapshot::read_at_exec) by a process
  /// whose previous exec was seen starts a record of its own: each program of an exec chain
  /// (env, nohup, a script's `exec`) keeps its argv. Read later from /proc, the first
  /// program's argv is unknown, so the record is updated instead.
  void OnExec(pid_t pid, int64_t t);
  void OnUid(pid_t pid, uint32_t ruid, uint32_t euid, int64_t t);
  void OnExit(pid_t pid, pid_t tgid, uint32_t wait_status, int64_t t);
  /// Changes whenever a pid is added to the tracked set.
  uint64_t live_version() const { return live_version_; }
  size_t live_count() const { return live_.size(); }
  std::vector<pid_t> LivePids() const;

  /// After lost events: `procs` is every (pid, ppid) on the host at `now_mono_ns`. Adopts
  /// untracked descendants of tracked processes and ends tracked processes that are gone
  /// (not those that started after `now_mono_ns`: the scan could not see them).
  void Resync(const std::vector<std::pair<pid_t, pid_t>>& procs, int64_t now_mono_ns);

  bool Tracks(pid_t pid) const { return live_.count(pid) != 0; }
  pid_t root() const { return root_; }
  /// The root's exit: true and its raw wait status once it has exited.
  bool RootExited(int* wait_status) const;
  /// True when no tracked process is running.
  bool AllExited() const { return live_.empty(); }

  const std::vector<ProcessRecord>& records() const { return records_; }
  const std::vector<Escalation>& escalations() const { return escalations_; }
  /// Moves out the typed commands seen since the last call.
  std::vector<CommandEvent> TakeCommands();

 private:
  ProcessRecord* Live(pid_t pid);
  ProcessRecord* ChainRecord(pid_t pid, int64_t t);
  bool IsTopLevelParent(int parent_index) const;
  void AddRecord(ProcessRecord r);

  ProcReader read_;
  pid_t root_ = 0;
  std::vector<ProcessRecord> records_;      // in start order; pids may repeat (reuse)
  std::unordered_map<pid_t, size_t> live_;  // running tracked pid -> index in records_
  std::vector<Escalation> escalations_;
  std::vector<CommandEvent> commands_;
  std::unordered_map<pid_t, size_t> uid_pending_exec_;  // pid -> escalation a next exec explains
  uint64_t live_version_ = 0;
};

}  // namespace ttyaudit
