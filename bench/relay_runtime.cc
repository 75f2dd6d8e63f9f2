// The floor of the runtime benchmark (bench/runtime.sh): a runc wrapper that puts a second pty
// between a terminal exec and the shim, as ttyaudit-runtime does, and copies bytes through it
// doing nothing else: no record, no metadata, no resize, no tracking.
//
//   ttyaudit_bench_relay_runtime RUNC [runc args...]
//
// Every call is an exec of RUNC with the same arguments, except one that names --console-socket:
// then the wrapper listens on a socket of its own, runs RUNC with that socket in its place,
// receives the container's pty master from RUNC, makes a second pty, sends its master to the
// shim's socket, and leaves a detached process copying between the two until the container's
// side hangs up. It exits with RUNC's status.
//
// Built by bench/runtime.sh with g++ (not CMake): it is a measuring tool, not part of ttyaudit.
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "relay_runtime: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && errno == EAGAIN) {
      pollfd p1{fd, POLLOUT, 0};
      poll(&p1, 1, -1);
      continue;
    }
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

sockaddr_un Addr(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.size() >= sizeof a.sun_path) {
    errno = ENAMETOOLONG;
    Die("socket path");
  }
  std::memcpy(a.sun_path, path.c_str(), path.size() + 1);
  return a;
}

int ReceiveFd(int conn) {
  char data[256];
  iovec iov{data, sizeof data};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) Die("recvmsg");
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) Die("no fd received");
  int fd;
  std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
  return fd;
}

void SendFd(const std::string& path, int fd) {
  int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a = Addr(path);
  if (connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0) Die("connect console socket");
  char name[] = "/dev/ptmx";
  iovec iov{name, sizeof name - 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  if (sendmsg(s, &msg, 0) < 0) Die("sendmsg");
  close(s);
}

// Copies both ways between the container's master and the slave of the shim's pty until the
// container's side hangs up.
void Relay(int inner, int outer_slave) {
  static char buf[65536];
  for (;;) {
    pollfd fds[2] = {{inner, POLLIN, 0}, {outer_slave, POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[0].revents) {
      ssize_t n = read(inner, buf, sizeof buf);
      if (n <= 0) return;
      WriteAll(outer_slave, buf, static_cast<size_t>(n));
    }
    if (fds[1].revents) {
      ssize_t n = read(outer_slave, buf, sizeof buf);
      if (n <= 0) return;
      WriteAll(inner, buf, static_cast<size_t>(n));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s RUNC [runc args...]\n", argv[0]);
    return 2;
  }
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string shim_socket;
  size_t at = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--console-socket" && i + 1 < args.size()) {
      shim_socket = args[i + 1];
      at = i + 1;
      break;
    }
  }
  if (shim_socket.empty()) {
    execv(argv[1], argv + 1);
    Die("exec runc");
  }

  char dir[] = "/tmp/relay-rt.XXXXXX";
  if (!mkdtemp(dir)) Die("mkdtemp");
  std::string mine = std::string(dir) + "/sock";
  int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un a = Addr(mine);
  if (bind(ls, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || listen(ls, 1) < 0) Die("bind");
  args[at] = mine;

  pid_t runc = fork();
  if (runc < 0) Die("fork");
  if (runc == 0) {
    std::vector<char*> v;
    for (auto& s : args) v.push_back(s.data());
    v.push_back(nullptr);
    execv(v[0], v.data());
    _exit(127);
  }
  pollfd p{ls, POLLIN, 0};
  int status = 0;
  if (poll(&p, 1, 30000) <= 0) {  // runc failed before it sent a master
    waitpid(runc, &status, 0);
    unlink(mine.c_str());
    rmdir(dir);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
  }
  int conn = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
  int inner = ReceiveFd(conn);
  close(conn);
  close(ls);
  unlink(mine.c_str());
  rmdir(dir);

  int outer = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (outer < 0 || grantpt(outer) < 0 || unlockpt(outer) < 0) Die("posix_openpt");
  int outer_slave = open(ptsname(outer), O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (outer_slave < 0) Die("open slave");
  termios t;
  tcgetattr(outer_slave, &t);
  cfmakeraw(&t);
  tcsetattr(outer_slave, TCSANOW, &t);
  winsize ws{};
  if (ioctl(inner, TIOCGWINSZ, &ws) == 0) ioctl(outer, TIOCSWINSZ, &ws);

  // The copier outlives this call, as ttyaudit-runtime's recorder does: runc exec --detach
  // returns once the process runs.
  pid_t relay = fork();
  if (relay < 0) Die("fork");
  if (relay == 0) {
    if (fork() != 0) _exit(0);
    setsid();
    int null = open("/dev/null", O_RDWR);
    for (int fd = 0; fd < 3; ++fd) dup2(null, fd);
    close(outer);
    Relay(inner, outer_slave);
    _exit(0);
  }
  waitpid(relay, nullptr, 0);
  close(inner);
  close(outer_slave);
  SendFd(shim_socket, outer);
  close(outer);
  waitpid(runc, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
