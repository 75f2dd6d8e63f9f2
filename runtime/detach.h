// Starting a helper that outlives the runtime wrapper: the recorder of a terminal exec, or the
// note-taker of a non-terminal one.
#pragma once

#include <sys/types.h>

#include <functional>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

/// Runs `body(control_fd)` in a double-forked grandchild: a new session (setsid, so that it
/// can take a controlling terminal), fds 0-2 on /dev/null (the shim waits for EOF on the
/// runtime's stdout and stderr), every other inherited fd closed, not a subreaper. It ends
/// with _exit(body's return). The caller gets its end of a SOCK_SEQPACKET control socketpair;
/// the grandchild is reparented to the nearest subreaper (containerd's shim), which reaps it.
Result<UniqueFd> ForkDetached(const std::function<int(int control_fd)>& body);

}  // namespace ttyaudit
