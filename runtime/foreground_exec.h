// `runc exec -t` in the foreground, with no console socket: how CRI-O runs an interactive exec
// (under a host pty it made), and how an operator runs runc by hand. runc proxies its own
// stdio terminal to the container's pty, so recording it means putting a pty of ours in
// between, as `ttyaudit rec` does: runc runs as our child on a new pty (its controlling
// terminal, so runc sees resizes), and the recorder proxies the caller's terminal to it.
#pragma once

#include "runtime/exec_context.h"
#include "runtime/exec_meta.h"

namespace ttyaudit {

/// True for an exec that this path records: `exec` without --console-socket and without
/// --detach whose process wants a terminal, with stdin a terminal.
bool IsForegroundTerminalExec(const ExecContext& ctx, const ProcessSpec& proc);

/// Records it; returns runc's exit code (the process's). When recording cannot start, the
/// policy decides (fail-open: runc runs unrecorded; fail-closed: refused).
int RunForegroundTerminalExec(const ExecContext& ctx, const ProcessSpec& proc);

}  // namespace ttyaudit
