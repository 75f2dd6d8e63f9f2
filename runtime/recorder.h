// The recorder of one terminal exec: a detached process that sits between the shim's console
// and runc's pty. It talks to the wrapper that started it over a control socket
// (runtime/control.h): "ready" once the session file exists, then "handed" once the shim has
// its console, or "fail:<why>" at either step.
#pragma once

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "record/session_meta.h"
#include "runtime/exec_context.h"

namespace ttyaudit {

/// Starts the recorder for `meta` and waits (up to `timeout_ms`) for its "ready". Returns the
/// wrapper's end of the control socket, or why recording cannot start.
Result<UniqueFd> StartRecorder(const ExecContext& ctx, const SessionMeta& meta,
                               const std::string& term, int timeout_ms);

/// The recorder's side of a session (StartRecorder runs it in a detached process): creates the
/// session file and says "ready"; after "go", hands an outer pty to the shim's console socket,
/// proxies and records until the exec ends, then seals the session with the exit status the
/// kernel reports for the exec. `wrapper_pid` is the process that will fork runc (the process
/// tracker follows it from before "ready"). Returns the recorder process's exit code.
int RecorderMain(int control, const ExecContext& ctx, SessionMeta meta, const std::string& term,
                 pid_t wrapper_pid);

}  // namespace ttyaudit
