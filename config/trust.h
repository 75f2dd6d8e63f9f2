// What the node side trusts: config files and its own directories. A config names the runc that
// runs as root for every container operation, so, as sudo and sshd require, it must be owned by
// root (or the user reading it) and writable by no one else, and so must every directory above
// it (a sticky directory such as /tmp excepted). The spool, archive and run dirs hold what must
// not be forged or deleted: they are made 0700 and refused when looser or someone else's.
#pragma once

#include <string>

#include "base/result.h"

namespace ttyaudit {

/// Refuses, with the reason, a config file at `path` that someone other than root or the
/// effective user owns or can write, or that sits in such a directory.
Status CheckConfigTrusted(const std::string& path);

/// Makes `dir` (and missing parents) with mode 0700 if it is missing; then refuses it, with the
/// reason, when it is not a directory, not owned by the effective user, or open to group or
/// others. `what` names it in the error ("spool_dir").
Status EnsurePrivateDir(const std::string& dir, const std::string& what);

}  // namespace ttyaudit
