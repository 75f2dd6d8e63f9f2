#include "runtime/control.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ttyaudit {

Status SendControl(int sock, std::string_view text, int fd) {
  if (Status st = SendMessage(sock, text, fd); !st)
    return Error{"recorder control socket: " + st.message()};
  return {};
}

Result<ControlMessage> ReceiveControl(int sock, int timeout_ms) {
  struct pollfd p = {sock, POLLIN, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) break;
    if (r == 0) return Error{"recorder control socket: no answer in " + std::to_string(timeout_ms) + " ms"};
    if (errno != EINTR) return SysError("poll", "recorder control socket", errno);
  }
  auto got = ReceiveMessage(sock, MSG_DONTWAIT);
  if (!got.ok()) return Error{"recorder control socket: " + got.message()};
  return got;
}

}  // namespace ttyaudit
