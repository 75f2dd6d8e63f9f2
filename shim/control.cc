#include "shim/control.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace ttyaudit {

Status SendControl(int sock, std::string_view text, int fd) {
  std::string data = text.empty() ? std::string(" ") : std::string(text);
  iovec iov{data.data(), data.size()};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (fd >= 0) {
    msg.msg_control = ctrl;
    msg.msg_controllen = sizeof ctrl;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof(int));
  }
  for (;;) {
    if (::sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return SysError("sendmsg", "recorder control socket", errno);
  }
}

Result<ControlMessage> ReceiveControl(int sock, int timeout_ms) {
  struct pollfd p = {sock, POLLIN, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) break;
    if (r == 0) return Error{"recorder control socket: no answer in " + std::to_string(timeout_ms) + " ms"};
    if (errno != EINTR) return SysError("poll", "recorder control socket", errno);
  }
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  ControlMessage m;
  if (n < 0 && errno == ECONNRESET) n = 0;
  if (n < 0) return SysError("recvmsg", "recorder control socket", errno);
  if (n == 0) {
    m.eof = true;
    return m;
  }
  m.text.assign(data, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!m.fd) m.fd.reset(fd);
      else UniqueFd extra(fd);  // only one is expected: never leak the rest
    }
  }
  return m;
}

}  // namespace ttyaudit
