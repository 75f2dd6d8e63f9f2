// `runc exec` without a terminal (`kubectl exec pod -- cmd`): passed through untouched, with a
// metadata-only record.
//
// Design: runc gets the same argv, environment and fds (the exec's stdio are the wrapper's
// own, which the shim reads). Before runc runs, a detached note-taker subscribes to process
// exit events (ExitWatcher) and creates the session file (source "runtime", terminal false, no
// events), so that even an exec that is over at once is seen.
//  - `--detach` (what containerd's shim does): the wrapper runs runc as its child (killed with
//    the wrapper, PR_SET_PDEATHSIG), waits, reads the --pid-file while it is sure to exist (the
//    shim removes it once a short exec is over), tells the note-taker runc's status and the
//    exec's pid, and exits with runc's code. The note-taker seals the record with the exec
//    process's exit status (a pidfd bounds the wait should the event be lost).
//  - foreground (`runc exec` by hand, CRI-O): the wrapper execs runc (same pid, signals reach
//    runc as before), and runc's own exit status is the process's.
// A failed runc leaves no record. Recording such execs' stdio is a later step.
#pragma once

#include "runtime/exec_context.h"

namespace ttyaudit {

/// Starts the note-taker (per the policy when it cannot start), then runs runc. Returns
/// runc's exit code, or the code of a refusal.
int RunPlainExec(const ExecContext& ctx);

}  // namespace ttyaudit
