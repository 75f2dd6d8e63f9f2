#include "runtime/console_socket.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "record/pty.h"

namespace ttyaudit {
namespace {

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path) return Error{"console socket path too long: " + path};
  std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  return addr;
}

}  // namespace

Result<ConsoleListener> ConsoleListener::Create(const std::string& base_dir) {
  if (::mkdir(base_dir.c_str(), 0700) < 0 && errno != EEXIST)
    return SysError("mkdir", base_dir, errno);
  std::string templ = base_dir + "/console-XXXXXX";
  if (!::mkdtemp(templ.data())) return SysError("mkdtemp", templ, errno);
  ConsoleListener l;
  l.dir_ = templ;
  l.path_ = templ + "/sock";
  auto addr = UnixAddress(l.path_);
  if (!addr) return addr.error();
  l.sock_.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!l.sock_) return SysError("socket", l.path_, errno);
  if (::bind(l.sock_.get(), reinterpret_cast<sockaddr*>(&addr.value()), sizeof(sockaddr_un)) < 0)
    return SysError("bind", l.path_, errno);
  if (::listen(l.sock_.get(), 1) < 0) return SysError("listen", l.path_, errno);
  return l;
}

ConsoleListener::~ConsoleListener() { Remove(); }

void ConsoleListener::Remove() {
  if (!path_.empty()) ::unlink(path_.c_str());
  if (!dir_.empty()) ::rmdir(dir_.c_str());
  path_.clear();
  dir_.clear();
}

Result<UniqueFd> ConsoleListener::AcceptMaster(int timeout_ms) {
  struct pollfd p = {sock_.get(), POLLIN, 0};
  int r;
  do r = ::poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0) return Error{"console socket `" + path_ + "`: runc did not connect"};
  if (r < 0) return SysError("poll", path_, errno);
  UniqueFd conn(::accept4(sock_.get(), nullptr, nullptr, SOCK_CLOEXEC));
  if (!conn) return SysError("accept", path_, errno);
  ::unlink(path_.c_str());
  p = {conn.get(), POLLIN, 0};
  do r = ::poll(&p, 1, timeout_ms);
  while (r < 0 && errno == EINTR);
  if (r == 0) return Error{"console socket `" + path_ + "`: no pty master received"};
  return ReceiveFd(conn.get());
}

Status SendMasterTo(const std::string& path, int master) {
  auto addr = UnixAddress(path);
  if (!addr) return addr.error();
  UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!sock) return SysError("socket", path, errno);
  int r;
  do r = ::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr.value()), sizeof(sockaddr_un));
  while (r < 0 && errno == EINTR);
  if (r < 0) return SysError("connect", path, errno);
  return SendFd(sock.get(), master, "/dev/ptmx");
}

}  // namespace ttyaudit
