// ttyaudit-runtime's front: the binary containerd and Docker run for every runc call.
//
// Most calls (state, kill, delete, ps, events, start, features...) only pass through to the
// real runc, so the front is built to load nothing but libc (static libstdc++, unused code
// dropped) and reads from the config only `runc` and `log_file` (config/runc_config.h). It
// parses runc's command line with the one parser the full runtime uses (runtime/runc_args.h) and
// either execs the real runc in place, with the same argv, environment and fds, or execs
// ttyaudit-runtime-full, installed beside it, for the calls that need ttyaudit's machinery.
#pragma once

#include <string>
#include <vector>

#include "runtime/runc_args.h"

namespace ttyaudit {

/// True for the runc calls the full runtime handles: every `exec` (recorded or noted, per
/// runtime/runtime.h) and `create` (the OCI hook). Everything else is a pass-through.
bool NeedsFullRuntime(const RuncArgs& args);

/// ttyaudit-runtime-full in the directory of `self_exe` (the front's own path).
std::string FullRuntimeBeside(const std::string& self_exe);

/// Runs the front for `argv`: execs the real runc or the full runtime, so it returns only on
/// failure, with the exit code after the failure has been reported (runc's --log, stderr, our
/// log; never stdout). When the full runtime cannot be run (missing, not executable), the call
/// is passed to runc unrecorded and logged as such, unless it is an exec and the config's
/// `fail_closed` is set (for any namespace: the front cannot tell which): then it is refused.
int RunFront(const std::vector<std::string>& argv);

}  // namespace ttyaudit
