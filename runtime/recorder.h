// The recorder of one terminal exec: a detached process that sits between the shim's console
// and runc's pty.
//
// Protocol on the control socket (wrapper <-> recorder):
//   recorder: "ready"                 the session file exists; runc may run
//             "fail:<why>"            recording cannot start (the wrapper applies the policy)
//   wrapper:  "runc:<pid>"            runc started (the process tracker roots there)
//             "go:<exec pid>" + fd    runc succeeded; the fd is runc's (inner) pty master
//             "abort" or EOF          runc failed: the recorder removes its file and exits
//   recorder: "handed"                the outer master is on the shim's console socket
//             "fail:<why>"            it is not: the wrapper hands the inner master over itself
#pragma once

#include <string>

#include "base/result.h"
#include "record/session_meta.h"
#include "base/unique_fd.h"
#include "runtime/exec_context.h"

namespace ttyaudit {

/// Starts the recorder for `meta` and waits (up to `timeout_ms`) for its "ready". Returns the
/// wrapper's end of the control socket, or why recording cannot start.
Result<UniqueFd> StartRecorder(const ExecContext& ctx, const SessionMeta& meta,
                               const std::string& term, int timeout_ms);

/// The recorder's side of a session, after "go": outer pty, handover to `console_socket`,
/// proxy and record until the exec ends, then seal the session with the exit status the
/// kernel reports for `exec_pid`. `wrapper_pid` is the process that will fork runc (the
/// process tracker follows it from before "ready"). Exposed for tests; StartRecorder runs it.
int RecorderMain(int control, const ExecContext& ctx, SessionMeta meta, const std::string& term,
                 pid_t wrapper_pid);

}  // namespace ttyaudit
