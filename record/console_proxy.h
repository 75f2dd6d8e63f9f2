// The recorder's loop: passes bytes between the user's side and the session's pty master,
// untouched and at once, and records them.
#pragma once

#include <sys/types.h>

#include <functional>

#include "base/result.h"
#include "record/spool_writer.h"

namespace ttyaudit {

/// The proxy never closes these: when the session must hang up (the user's side went away, or
/// a stop signal in the runtime case) it returns, and the caller hangs up by closing `inner`.
struct ProxyEnds {
  int user_in = -1;      // read: what the user types (stdin, or the outer pty slave)
  int user_out = -1;     // write: what the user sees (stdout, or the outer pty slave)
  int inner = -1;        // the session's pty master: its output is read, input written to it
  int size_source = -1;  // a terminal whose size is copied to `inner` on SIGWINCH, or -1
};

struct ProxyOptions {
  /// Our own child running the session (ttyaudit rec): reaped on SIGCHLD, and the loop ends
  /// once it has exited and its output is drained. -1 when another process reaps it (the
  /// runtime case): the loop ends when the inner pty hangs up.
  pid_t child = -1;
  /// When `user_in` reaches EOF and is not a terminal: type the inner terminal's EOF
  /// character (like script(1) with input from a pipe) instead of hanging up.
  bool send_veof_on_user_eof = true;
  /// An extra fd polled for reading (e.g. the process tracker's command_fd), or -1; when it is
  /// readable `on_event` runs on the proxy's thread (it may add markers to the record).
  int event_fd = -1;
  std::function<void()> on_event;
};

struct ProxyOutcome {
  bool child_reaped = false;
  int wait_status = 0;       // from waitpid when child_reaped
  int stop_signal = 0;       // SIGTERM/SIGHUP/... that made the proxy stop, or 0
  bool user_hangup = false;  // the user's side went away first
};

/// Signals the proxy handles through a signalfd; block them (BlockProxySignals) before
/// starting children, and unblock them in a child before exec (UnblockProxySignals).
void BlockProxySignals();
void UnblockProxySignals();

/// Runs until the session ends. Output is forwarded as soon as it is read; memory stays
/// bounded (fixed buffers, back-pressure instead of queueing).
Result<ProxyOutcome> RunConsoleProxy(const ProxyEnds& ends, const ProxyOptions& opts,
                                     SessionWriter& rec);

}  // namespace ttyaudit
