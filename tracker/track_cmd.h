// `ttyaudit-tracker track`: runs a command under the process tracker and prints what a recorder's
// tracker would put in the manifest. A diagnostic (is the proc connector usable here?), and
// the driver of bench/tracking.sh and tests/integration/tracking_*.sh.
#pragma once

#include <string>
#include <vector>

namespace ttyaudit {

struct TrackArgs {
  std::vector<std::string> command;
  /// After the command ends, narrow the session to the pid in this file (`runc exec
  /// --pid-file F`), as the recorder does with the exec's pid.
  std::string reroot_pid_file;
  /// Print {"via","source","events_read","lost_events","max_lag_ms","cpu_s","wall_s"} to stderr
  /// at the end.
  bool stats = false;
  /// Track in-process instead of through the node's tracker hub (the old design, to compare).
  bool local = false;
  /// Milliseconds to wait at the end for the processes still running to exit.
  int grace_ms = 2000;
};

/// Runs it; returns the command's exit status as a shell would (128+N for a signal), or 125
/// when tracking cannot start.
int RunTrack(const TrackArgs& args);

/// Parses `track [--pid-file F] [--stats] [--local] [--grace-ms N] -- CMD...` (argv after "track").
bool ParseTrackArgs(const std::vector<std::string>& argv, TrackArgs& out, std::string& error);

}  // namespace ttyaudit
