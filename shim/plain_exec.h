// `runc exec` without a terminal (`kubectl exec pod -- cmd`): passed through untouched, with a
// metadata-only record.
//
// Design: runc must run as if ttyaudit were not there (same pid, argv, environment, fds: the
// exec's stdio are the wrapper's own fds, and the shim waits for them), so the wrapper execs
// runc itself. Before that it starts a detached note-taker that subscribes to process exit
// events (ExitWatcher) and creates the session file (source "runtime", terminal false, no
// events). The note-taker then waits for runc's exit (the wrapper's pid, now runc): if runc
// failed, the exec never ran and the file is removed; otherwise it waits for the exec process
// (the --pid-file's pid; runc's own exit when runc ran in the foreground) and seals the record
// with its exit status. Recording the stdio of such execs is a later step.
#pragma once

#include "shim/exec_context.h"

namespace ttyaudit {

/// Starts the note-taker (per the policy when it cannot start), then execs runc. Returns only
/// when runc cannot be run or the exec is refused, with the exit code to use.
int RunPlainExec(const ExecContext& ctx);

}  // namespace ttyaudit
