#include "runtime/detach.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace ttyaudit {
namespace {

[[noreturn]] void RunGrandchild(int control, const std::function<int(int)>& body) {
  ::setsid();
  int null = ::open("/dev/null", O_RDWR);
  if (null >= 0) {
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
  }
  // The control socket becomes fd 3; nothing else the shim or runc gave us stays open.
  if (control != 3) {
    ::dup3(control, 3, O_CLOEXEC);
  }
  ::close_range(4, ~0U, 0);
  ::_exit(body(3));
}

}  // namespace

Result<UniqueFd> ForkDetached(const std::function<int(int control_fd)>& body) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
    return SysError("socketpair", "recorder control", errno);
  UniqueFd mine(sv[0]), theirs(sv[1]);
  pid_t child = ::fork();
  if (child < 0) return SysError("fork", "recorder", errno);
  if (child == 0) {
    mine.reset();
    pid_t grandchild = ::fork();
    if (grandchild != 0) ::_exit(grandchild < 0 ? 1 : 0);
    RunGrandchild(theirs.get(), body);
  }
  theirs.reset();
  int st = 0;
  while (::waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) return Error{"fork recorder: the second fork failed"};
  return mine;
}

}  // namespace ttyaudit
