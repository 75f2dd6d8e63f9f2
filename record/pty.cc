#include "record/pty.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ttyaudit {

Result<PtyPair> OpenPty() {
  PtyPair p;
  p.master.reset(posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.master) return SysError("open", "/dev/ptmx", errno);
  if (grantpt(p.master.get()) < 0) return SysError("grantpt", "/dev/ptmx", errno);
  if (unlockpt(p.master.get()) < 0) return SysError("unlockpt", "/dev/ptmx", errno);
  char name[128];
  if (int e = ptsname_r(p.master.get(), name, sizeof name); e != 0)
    return SysError("ptsname", "/dev/ptmx", e);
  p.slave_name = name;
  p.slave.reset(open(name, O_RDWR | O_NOCTTY | O_CLOEXEC));
  if (!p.slave) return SysError("open", name, errno);
  return p;
}

void MakeRaw(termios& t) {
  cfmakeraw(&t);
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
}

Status RawMode::Enter(int fd) {
  if (tcgetattr(fd, &saved_) < 0) return SysError("tcgetattr", "fd " + std::to_string(fd), errno);
  termios raw = saved_;
  MakeRaw(raw);
  if (tcsetattr(fd, TCSADRAIN, &raw) < 0)
    return SysError("tcsetattr", "fd " + std::to_string(fd), errno);
  fd_ = fd;
  return {};
}

void RawMode::Restore() {
  if (fd_ < 0) return;
  tcsetattr(fd_, TCSADRAIN, &saved_);
  fd_ = -1;
}

Result<winsize> CopyWindowSize(int from, int to) {
  winsize ws{};
  if (ioctl(from, TIOCGWINSZ, &ws) < 0) return SysError("ioctl TIOCGWINSZ", "", errno);
  if (ioctl(to, TIOCSWINSZ, &ws) < 0) return SysError("ioctl TIOCSWINSZ", "", errno);
  return ws;
}

bool InputIsHidden(int master) {
  termios t;
  // On a master, TCGETS reports the slave side's line discipline.
  if (tcgetattr(master, &t) < 0) return false;
  return !(t.c_lflag & ECHO) && (t.c_lflag & ICANON);
}

Status SendMessage(int sock, std::string_view text, int fd) {
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
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) >= 0) return {};
    if (errno != EINTR) return SysError("sendmsg", "unix socket", errno);
  }
}

Result<SocketMessage> ReceiveMessage(int sock, int flags) {
  char data[4096];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char ctrl[CMSG_SPACE(sizeof(int) * 4)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = ctrl;
  msg.msg_controllen = sizeof ctrl;
  ssize_t n;
  do n = recvmsg(sock, &msg, flags | MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  SocketMessage m;
  if (n < 0 && errno == ECONNRESET) n = 0;
  if (n < 0) return SysError("recvmsg", "unix socket", errno);
  m.eof = n == 0;
  m.text.assign(data, static_cast<size_t>(n));
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int fd;
      std::memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof fd);
      if (!m.fd)
        m.fd.reset(fd);
      else
        UniqueFd extra(fd);  // only one is expected; never leak the rest
    }
  }
  return m;
}

Result<UniqueFd> ReceiveFd(int sock) {
  auto m = ReceiveMessage(sock);
  if (!m.ok()) return Error{"console socket: " + m.message()};
  if (!m->fd) return Error{"console socket: message carried no file descriptor"};
  return std::move(m->fd);
}

}  // namespace ttyaudit
