// A recorder's way to the node's tracker hub (tracker/): connect to
// $RUN_DIR/tracker.sock, starting the hub first when none runs, and subscribe.
#pragma once

#include <sys/types.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

struct TrackerHubOptions {
  /// The run directory (DefaultRunDir()): the socket, lock and pid files live there.
  std::string run_dir;
  /// The hub's program; empty: ttyaudit-tracker next to /proc/self/exe.
  std::string exe;
  /// Passed to a hub started here: it exits after this long without subscribers. 0: the
  /// hub's default, or $TTYAUDIT_TRACKER_IDLE_S when set.
  int idle_exit_s = 0;
  /// How long to wait for a hub to listen and acknowledge.
  int timeout_ms = 3000;
};

/// Connects to the hub (starting it on demand: double fork, setsid, fds 0-2 on /dev/null, one
/// instance by flock on tracker.lock), subscribes `pid` and what it starts from then on, and
/// returns the connection once the hub has acknowledged. Root only (the hub refuses others): every
/// fork `pid` makes from now on reaches the hub with its parent already tracked. Errors say why
/// ("tracker hub: ..."). `hub_source`, when given, is set to what the hub reads the kernel's
/// events with ("proc_connector", "ebpf").
Result<UniqueFd> SubscribeToTrackerHub(const TrackerHubOptions& opts, pid_t pid,
                                       std::string* hub_source = nullptr);

/// Connects to a running hub without starting one; on failure errno is connect's.
Result<UniqueFd> ConnectTrackerHub(const std::string& run_dir);

/// Starts `exe --run-dir DIR --ready-fd 3 [--idle-exit-s N]` detached and returns the read end
/// of its ready pipe: one byte once the hub listens, EOF when it exited first.
Result<UniqueFd> SpawnTrackerHub(const TrackerHubOptions& opts);

}  // namespace ttyaudit
