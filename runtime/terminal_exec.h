// `runc exec --console-socket S ...` through the recorder.
#pragma once

#include <string>

#include "config/fail_policy.h"
#include "runtime/exec_context.h"

namespace ttyaudit {

/// Runs a terminal exec recorded: the recorder takes runc's pty master on its own console
/// socket and hands an outer master to S. Returns the wrapper's exit code (runc's), after the
/// handover. If recording cannot start, the policy decides: fail-open runs runc unrecorded
/// (this call then does not return: it execs runc), fail-closed refuses with a message in
/// runc's --log (which the client is shown) and on stderr.
int RunTerminalExec(const ExecContext& ctx);

/// Refuses an exec: the reason goes to runc's --log as an error line, to stderr and to our
/// log. Returns the exit code to use (1).
int RefuseExec(const ExecContext& ctx, const std::string& why);

/// Replaces this process with the real runc, argv unchanged; on failure reports and returns 1.
int PassThrough(const ExecContext& ctx);

/// Recording could not start (`why`): fail closed (RefuseExec) if the policy says so for
/// namespace `ns` (config/fail_policy.h), else log it loudly, naming the exec as
/// "`what` CONTAINER", and PassThrough.
int Unrecorded(const ExecContext& ctx, NamespaceScope ns, const std::string& why,
               const std::string& what = "exec in container");

}  // namespace ttyaudit
