// ttyaudit-runtime-full: stands in for runc. Every subcommand but `exec` (and, with the OCI hook,
// `create`) is an execv of the real runc with the same argv, environment and fds. The front,
// ttyaudit-runtime (runtime/front.h), already execs runc itself for those, and this for the rest.
#pragma once

#include <string>
#include <vector>

namespace ttyaudit {

/// Runs the runtime for `argv`; returns the exit code when it does not exec runc.
int RuntimeMain(const std::vector<std::string>& argv);

}  // namespace ttyaudit
