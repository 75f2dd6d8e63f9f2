// A recorder's way to the node's tracker hub (tracker/): connect to
// $RUN_DIR/tracker.sock, starting the hub first when none runs, and subscribe.
#pragma once

#include <sys/types.h>

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

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
/// returns the connection once the hub has acknowledged: every fork `pid` makes from now on
/// reaches the hub with its parent already tracked. Errors say why ("tracker hub: ...").
Result<UniqueFd> SubscribeToTrackerHub(const TrackerHubOptions& opts, pid_t pid);

/// Connects to a running hub without starting one (diagnostics).
Result<UniqueFd> ConnectTrackerHub(const std::string& run_dir);

/// Starts `exe --run-dir DIR [--idle-exit-s N]` detached; returns once the intermediate
/// process has exited (the hub itself may still be starting).
Status SpawnTrackerHub(const TrackerHubOptions& opts);

}  // namespace ttyaudit
