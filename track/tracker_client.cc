#include "track/tracker_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "base/ids.h"
#include "track/tracker_wire.h"

namespace ttyaudit {
namespace {

std::string SelfDir() {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "";
  std::string exe(self, static_cast<size_t>(n));
  return exe.substr(0, exe.rfind('/') + 1);
}

// Waits for one packet up to `timeout_ms`; an empty result with ok() means EOF.
Result<std::string> ReceivePacket(int fd, int timeout_ms) {
  const int64_t deadline = MonotonicMillis() + timeout_ms;
  for (;;) {
    int left = static_cast<int>(deadline - MonotonicMillis());
    if (left < 0)
      return Error{"tracker hub: no answer within " + std::to_string(timeout_ms) + " ms"};
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("poll", "tracker hub socket", errno);
    if (n == 0) continue;
    std::string buf(tracker_wire::kMaxPacket, '\0');
    ssize_t k = recv(fd, buf.data(), buf.size(), MSG_DONTWAIT);
    if (k < 0 && (errno == EAGAIN || errno == EINTR)) continue;
    if (k < 0) return SysError("recv", "tracker hub socket", errno);
    buf.resize(static_cast<size_t>(k));
    return buf;
  }
}

enum class Attempt { kDone, kNoHub, kClosed };

// One connect + subscribe + ack; kNoHub when nothing listens, kClosed when the hub closed
// before acknowledging (it was exiting).
Attempt TrySubscribe(const std::string& run_dir, pid_t pid, int timeout_ms, UniqueFd& out,
                     std::string& why, int& connect_errno, std::string* hub_source) {
  auto conn = ConnectTrackerHub(run_dir);
  if (!conn) {
    connect_errno = errno;
    why = "tracker hub: " + conn.message();
    return Attempt::kNoHub;
  }
  std::string sub = tracker_wire::EncodeSubscribe(pid);
  if (send(conn->get(), sub.data(), sub.size(), MSG_NOSIGNAL) < 0) {
    why = std::string("tracker hub: send: ") + std::strerror(errno);
    return Attempt::kClosed;
  }
  auto reply = ReceivePacket(conn->get(), timeout_ms);
  if (!reply) {
    why = reply.message();
    return Attempt::kClosed;
  }
  if (reply->empty()) {
    why = "tracker hub: closed the connection before acknowledging";
    return Attempt::kClosed;
  }
  auto m = tracker_wire::Decode(*reply);
  if (!m) {
    why = m.message();
    return Attempt::kClosed;
  }
  if (m->type == tracker_wire::Type::kClosing) {
    why = "tracker hub: refused: " + m->text;
    return Attempt::kClosed;
  }
  if (m->type != tracker_wire::Type::kAck || m->version != tracker_wire::kVersion) {
    why = "tracker hub: speaks protocol version " + std::to_string(m->version) + ", not " +
          std::to_string(tracker_wire::kVersion);
    return Attempt::kClosed;
  }
  if (hub_source) *hub_source = m->text;
  out = std::move(conn.value());
  return Attempt::kDone;
}

}  // namespace

Result<UniqueFd> ConnectTrackerHub(const std::string& run_dir) {
  std::string path = run_dir + "/" + tracker_wire::kSocketName;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof addr.sun_path)
    return Error{"tracker hub: socket path too long: " + path};
  memcpy(addr.sun_path, path.c_str(), path.size() + 1);
  UniqueFd fd(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!fd) return SysError("socket", "tracker hub", errno);
  if (connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0) {
    const int err = errno;
    fd.reset();
    Error e = SysError("connect", path, err);
    errno = err;  // callers tell "nothing listens" from "not allowed"
    return e;
  }
  return fd;
}

Result<UniqueFd> SpawnTrackerHub(const TrackerHubOptions& opts) {
  std::string exe = opts.exe.empty() ? SelfDir() + "ttyaudit-tracker" : opts.exe;
  if (access(exe.c_str(), X_OK) != 0) return SysError("access", exe, errno);
  int idle = opts.idle_exit_s;
  if (idle <= 0)
    if (const char* e = std::getenv("TTYAUDIT_TRACKER_IDLE_S"); e && *e) idle = std::atoi(e);
  std::vector<std::string> args = {exe, "--run-dir", opts.run_dir, "--ready-fd", "3"};
  if (idle > 0) {
    args.push_back("--idle-exit-s");
    args.push_back(std::to_string(idle));
  }
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  int ready[2];
  if (pipe2(ready, O_CLOEXEC) < 0) return SysError("pipe2", "tracker hub", errno);
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  // Only async-signal-safe calls after the fork: the caller may have threads.
  pid_t child = fork();
  if (child < 0) return SysError("fork", "tracker hub", errno);
  if (child == 0) {
    setsid();
    if (fork() != 0) _exit(0);
    // The node's hub must not keep the CPU pinning of the first recorder that needed it (say,
    // a `taskset -c 1 ttyaudit rec`): every CPU the cgroup allows. Its priority is its own
    // (tracker/server.cc). A hub that systemd starts keeps the unit's CPUAffinity=.
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int c = 0; c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
    sched_setaffinity(0, sizeof all, &all);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    for (int s = 1; s < NSIG; ++s) sigaction(s, &dfl, nullptr);
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) {
      dup2(null, 0);
      dup2(null, 1);
      dup2(null, 2);
    }
    // The ready pipe is fd 3, kept across exec; a recorder's ptys and sockets must not live
    // on in the hub.
    if (ready[1] == 3)
      fcntl(3, F_SETFD, 0);
    else
      dup2(ready[1], 3);
    close_range(4, ~0U, 0);
    execv(argv[0], argv.data());
    _exit(127);
  }
  ready_write.reset();
  int st = 0;
  while (waitpid(child, &st, 0) < 0 && errno == EINTR) {
  }
  return ready_read;
}

namespace {

// True once the hub wrote that it listens; false when it exited first (EOF) or at the deadline.
bool WaitReady(int fd, int64_t deadline_ms) {
  for (;;) {
    int left = static_cast<int>(deadline_ms - MonotonicMillis());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int n = poll(&p, 1, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    char c;
    ssize_t k = read(fd, &c, 1);
    if (k < 0 && errno == EINTR) continue;
    return k == 1;
  }
}

}  // namespace

Result<UniqueFd> SubscribeToTrackerHub(const TrackerHubOptions& opts, pid_t pid,
                                       std::string* hub_source) {
  if (geteuid() != 0) return Error{"tracker hub: serves root only"};
  const int64_t deadline = MonotonicMillis() + opts.timeout_ms;
  std::string why;
  bool start_failed = false;
  for (int spawns = 0;; ++spawns) {
    UniqueFd fd;
    int err = 0;
    int left = static_cast<int>(std::max<int64_t>(deadline - MonotonicMillis(), 1));
    switch (TrySubscribe(opts.run_dir, pid, left, fd, why, err, hub_source)) {
      case Attempt::kDone:
        return fd;
      case Attempt::kNoHub:
        // Nothing listens: start one, unless the last start failed or we may not connect.
        if (start_failed || (err != ENOENT && err != ECONNREFUSED)) return Error{why};
        break;
      case Attempt::kClosed:  // a hub on its way out: the next one is started below
        break;
    }
    if (spawns >= 3 || MonotonicMillis() >= deadline) return Error{why};
    auto ready = SpawnTrackerHub(opts);
    if (!ready) return Error{"tracker hub: start: " + ready.message()};
    // EOF without a word: it failed, or another hub holds the lock (the next try finds it).
    if (!WaitReady(ready->get(), deadline)) {
      start_failed = true;
      why = "tracker hub: ttyaudit-tracker did not start (its log: " + opts.run_dir +
            "/tracker.log, or the journal)";
    }
  }
}

}  // namespace ttyaudit
