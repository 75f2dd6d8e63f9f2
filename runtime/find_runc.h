// Finding the real runc that ttyaudit-runtime stands in for.
#pragma once

#include <string>
#include <vector>

#include "base/result.h"
#include "config/runc_config.h"

namespace ttyaudit {

/// The names ttyaudit-runtime is installed under, side by side: the front containerd and Docker
/// run (runtime/front.h) and the full runtime it execs for the calls that need it.
inline constexpr const char* kRuntimeFrontName = "ttyaudit-runtime";
inline constexpr const char* kRuntimeFullName = "ttyaudit-runtime-full";

/// The real runc: `configured` when not empty, else the first `runc` on `path_env` that is
/// none of `selves`, then /usr/bin/runc, /usr/sbin/runc. Files are compared by device and
/// inode, so links and copies under another name are caught. An error when the choice is one
/// of `selves` (a loop) or when no executable runc exists; the message says which path and why.
Result<std::string> FindRealRunc(const std::string& configured, const std::string& path_env,
                                 const std::vector<std::string>& selves);

/// The files that are ttyaudit-runtime for a process running `self_exe`: itself, and the front
/// and the full runtime in its directory. A real runc must be none of them.
std::vector<std::string> RuntimeBinaries(const std::string& self_exe);

/// This process's executable (/proc/self/exe resolved), or "/proc/self/exe" itself when it
/// cannot be read.
std::string SelfExe();

/// FindRealRunc for this process: the config's `runc`, $PATH, and RuntimeBinaries(SelfExe()).
/// A config that could not be read is an error, never the default runc (it may name another).
/// The error is ready to show ("ttyaudit-runtime: ...").
Result<std::string> ResolveRealRunc(const Result<RuncConfig>& config);

}  // namespace ttyaudit
