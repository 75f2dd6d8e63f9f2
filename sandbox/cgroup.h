// A cgroup of its own for a recorder, with memory and pids limits, so that one noisy session
// cannot starve the node or the other sessions.
//
// Where systemd runs (/run/systemd/system exists) the process asks it over D-Bus for a
// transient scope, `ttyaudit-<name>.scope` in ttyaudit.slice, with MemoryMax and TasksMax:
// systemd owns the cgroup tree there and would move a process out of a directory it did not
// make. libsystemd is opened with dlopen only then, so that the lean binaries still load only
// libc everywhere else. Otherwise the process makes a directory under a ttyaudit-owned parent
// in cgroupfs, `ttyaudit/<name>`, sets the limits and moves itself in: on the cgroup v2 tree
// when it has the memory and pids controllers, else in the v1 memory and pids hierarchies.
//
// Empty directories of sessions that ended are removed by the next recorder that makes one (a
// cgroup cannot be removed while its last process still runs in it).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

struct CgroupLimits {
  uint64_t memory_max = 256ULL << 20;  // bytes
  uint64_t pids_max = 64;              // processes and threads
};

/// Where the process was placed: "systemd scope ttyaudit-X.scope" or "cgroupfs /sys/fs/...".
struct CgroupPlacement {
  std::string how;                // "systemd" or "cgroupfs"
  std::vector<std::string> dirs;  // the cgroupfs directories that hold the limits
};

/// Moves the calling process into a cgroup of its own named after `name` (a session id:
/// letters, digits, '-' and '_' only) with `limits`. The cgroup root is `cgroup_root` (tests
/// only; "" means /sys/fs/cgroup). An error says why, and leaves the process where it was.
Result<CgroupPlacement> JoinOwnCgroup(const std::string& name, const CgroupLimits& limits,
                                      const std::string& cgroup_root = "");

/// The systemd path alone (JoinOwnCgroup takes it where systemd runs): asks systemd for the
/// scope on its private socket (root) or the system bus, or at `bus_address` (a private socket,
/// "unix:path=...") when given.
Result<CgroupPlacement> JoinSystemdScope(const std::string& name, const CgroupLimits& limits,
                                         const std::string& bus_address = "");

/// The cgroupfs path alone, under `cgroup_root` ("" means /sys/fs/cgroup).
Result<CgroupPlacement> JoinCgroupfs(const std::string& name, const CgroupLimits& limits,
                                     const std::string& cgroup_root = "");

}  // namespace ttyaudit
