// Finding the real runc that ttyaudit-runtime stands in for.
#pragma once

#include <string>

#include "common/result.h"

namespace ttyaudit {

/// The real runc: `configured` when not empty, else the first `runc` on `path_env` that is not
/// `self` (compared by device and inode, so links and copies under another name are caught),
/// then /usr/bin/runc, /usr/sbin/runc. An error when the choice is `self` (a loop) or when no
/// executable runc exists; the message says which path and why.
Result<std::string> FindRealRunc(const std::string& configured, const std::string& path_env,
                                 const std::string& self);

}  // namespace ttyaudit
