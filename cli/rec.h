// `ttyaudit rec`: records a local command on a new pty, like script(1).
#pragma once

#include <string>
#include <vector>

#include "config/config.h"

namespace ttyaudit {

struct RecOptions {
  std::string out_dir;               // empty: the config's spool_dir
  std::vector<std::string> command;  // empty: $SHELL, else /bin/sh
  bool quiet = false;
};

/// Runs the command under the recorder and returns the exit status to exit with: the
/// command's own, 128+N if a signal ended it, 1 if recording could not start under
/// fail_closed, 127 if the command could not be run.
int RunRec(const RecOptions& opts, const Config& cfg);

/// Replaces this process with the lean recorder (`ttyaudit-rec` beside this executable),
/// handing it the settings resolved from `cfg`. Returns only if that is not possible, with
/// the reason; the caller then records in-process with RunRec.
std::string ExecLeanRecorder(const RecOptions& opts, const Config& cfg);

}  // namespace ttyaudit
