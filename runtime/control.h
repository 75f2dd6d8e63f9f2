// The runtime wrapper and its recorder talk over a SOCK_SEQPACKET socketpair: short text
// messages, one of which carries the inner pty master.
#pragma once

#include <string>
#include <string_view>

#include "record/pty.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

using ControlMessage = SocketMessage;

/// Sends `text` (at most 4 KiB), with `fd` attached when it is >= 0.
Status SendControl(int sock, std::string_view text, int fd = -1);

/// Waits up to `timeout_ms` (-1: no limit) for one message. A timeout is an error.
Result<ControlMessage> ReceiveControl(int sock, int timeout_ms);

}  // namespace ttyaudit
