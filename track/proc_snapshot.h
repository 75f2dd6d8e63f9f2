// What a tracker knows of a process at one of its events: the leaf type that the process
// table, the event sources, the hub's wire format and the hub share.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ttyaudit {

/// What the tracker reads about a process when it sees its exec (a fork: its cwd only).
struct ProcSnapshot {
  std::vector<std::string> argv;
  bool argv_from_comm = false;
  std::string cwd;
  int64_t uid = -1, euid = -1;
  bool exe_setuid = false;  // the program file has the set-user-ID bit...
  int64_t exe_owner = -1;   // ... and this owner
  // Read only by a source that reads in the kernel at the exec (eBPF); unknown otherwise.
  bool read_at_exec = false;    // read at the exec itself, not later from /proc
  bool argv_truncated = false;  // the argument list was longer than the source reads
  // cwd is the part the kernel's walk read, relative (the process was gone before /proc could
  // complete it): the path was deeper or longer than the walk reads, or could not be resolved.
  bool cwd_truncated = false;
  bool cwd_unresolved = false;
  int64_t gid = -1, egid = -1;
  bool exe_setgid = false;  // the program file has the set-group-ID bit...
  int64_t exe_group = -1;   // ... and this group
  uint64_t exe_inode = 0;
  uint64_t cgroup_id = 0;
};

/// Reads a process's snapshot; replaceable in tests.
using ProcReader = std::function<ProcSnapshot(pid_t)>;

/// Reads /proc/PID/{cmdline,comm,cwd,status,exe}; fields it cannot read stay empty / -1.
ProcSnapshot ReadProcSnapshot(pid_t pid);

}  // namespace ttyaudit
