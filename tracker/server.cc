#include "tracker/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <list>
#include <vector>

#include "base/files.h"
#include "base/ids.h"
#include "track/proc_events.h"
#include "track/tracker_client.h"
#include "track/tracker_wire.h"
#include "tracker/hub.h"

namespace ttyaudit {
namespace {

// The record socket is drained on every wake-up and at least this often.
constexpr int kDrainMs = 50;

struct Conn {
  UniqueFd fd;
  pid_t peer = 0;
  HubRouter::Id id = 0;  // 0 until it subscribes
};

struct Counters {
  uint64_t events_read = 0;
  uint64_t events_routed = 0;
  uint64_t lost = 0;
  uint64_t resyncs = 0;
  uint64_t subscribed_total = 0;
  uint64_t dropped = 0;
  uint64_t refused = 0;
  int64_t max_routed_lag_ns = 0;
  int64_t max_batch_lag_ns = 0;
};

class Hub {
 public:
  Hub(const HubOptions& o, const Logger& log) : opts_(o), log_(log) {}
  int Run();

 private:
  Status Setup();
  void Accept();
  bool HandleClient(Conn& c);  // false: close it
  void DrainWake();
  void DrainRecord();
  void UpdateFilter();
  bool Flush(Conn& c);  // false: dropped
  void Close(Conn& c);
  std::string StatsJson() const;

  const HubOptions& opts_;
  const Logger& log_;
  std::string sock_path_, pid_path_;
  UniqueFd lock_, sig_, listen_, record_, wake_;
  HubRouter router_;
  std::list<Conn> conns_;
  Counters n_;
  uint64_t filter_version_ = ~0ULL;
  int64_t started_ns_ = 0;
};

Status Hub::Setup() {
  umask(077);
  if (Status st = MakeDirs(opts_.run_dir, 0700); !st) return st;
  std::string lock_path = opts_.run_dir + "/" + tracker_wire::kLockName;
  lock_.reset(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock_) return SysError("open", lock_path, errno);
  const int64_t deadline = MonotonicMillis() + opts_.lock_wait_ms;
  while (flock(lock_.get(), LOCK_EX | LOCK_NB) < 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) return SysError("flock", lock_path, errno);
    // Another hub holds it: serving (then leave at once), or on its way out (then wait).
    if (MonotonicMillis() > deadline || ConnectTrackerHub(opts_.run_dir).ok()) return Error{""};
    usleep(20000);
  }
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&sigs, s);
  sigprocmask(SIG_BLOCK, &sigs, nullptr);
  signal(SIGPIPE, SIG_IGN);
  sig_.reset(signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sig_) return SysError("signalfd", "tracker hub", errno);
  auto rec = OpenProcSocket(opts_.rcvbuf_bytes);
  if (!rec) return rec.error();
  record_ = std::move(rec.value());
  auto wake = OpenProcSocket(64 << 10);  // only wake-ups: overflowing it loses nothing
  if (!wake) return wake.error();
  wake_ = std::move(wake.value());
  UpdateFilter();

  sock_path_ = opts_.run_dir + "/" + tracker_wire::kSocketName;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (sock_path_.size() >= sizeof addr.sun_path)
    return Error{"socket path too long: " + sock_path_};
  memcpy(addr.sun_path, sock_path_.c_str(), sock_path_.size() + 1);
  listen_.reset(socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!listen_) return SysError("socket", sock_path_, errno);
  unlink(sock_path_.c_str());  // a hub that died; we hold the lock
  if (bind(listen_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return SysError("bind", sock_path_, errno);
  chmod(sock_path_.c_str(), 0600);
  if (listen(listen_.get(), 128) < 0) return SysError("listen", sock_path_, errno);

  pid_path_ = opts_.run_dir + "/" + tracker_wire::kPidName;
  const std::string pid_text = std::to_string(getpid()) + "\n";
  if (Status st = ReplaceFile(pid_path_, pid_text, Durability::kNone); !st) return st;

  if (opts_.realtime) {
    sched_param sp{};
    sp.sched_priority = 1;
    if (sched_setscheduler(0, SCHED_FIFO, &sp) != 0) setpriority(PRIO_PROCESS, 0, -10);
  }
  return {};
}

void Hub::UpdateFilter() {
  std::vector<pid_t> pids = router_.TrackedPids();
  filter_version_ = router_.tracked_version();
  if (!SetProcFilter(wake_.get(), &pids).ok()) (void)SetProcFilter(wake_.get(), nullptr);
}

void Hub::Accept() {
  for (;;) {
    UniqueFd fd(accept4(listen_.get(), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd) return;
    ucred cred{};
    socklen_t len = sizeof cred;
    if (getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0) {
      ++n_.refused;
      log_.Warning("refused a connection from pid " + std::to_string(cred.pid) + " uid " +
                   std::to_string(cred.uid) + ": only root may subscribe");
      continue;
    }
    int sndbuf = 1 << 20;
    setsockopt(fd.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    conns_.push_back(Conn{std::move(fd), cred.pid, 0});
  }
}

bool Hub::HandleClient(Conn& c) {
  std::string buf(tracker_wire::kMaxPacket, '\0');
  for (;;) {
    ssize_t k = recv(c.fd.get(), buf.data(), buf.size(), MSG_DONTWAIT);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) return true;
    if (k <= 0) return false;
    auto m = tracker_wire::Decode(std::string_view(buf.data(), static_cast<size_t>(k)));
    if (!m) {
      log_.Warning("pid " + std::to_string(c.peer) + ": " + m.message());
      return false;
    }
    std::string reply;
    switch (m->type) {
      case tracker_wire::Type::kSubscribe:
        if (c.id != 0) return false;
        if (m->version != tracker_wire::kVersion) {
          reply = tracker_wire::EncodeClosing("protocol version " + std::to_string(m->version) +
                                              " unknown (this hub speaks " +
                                              std::to_string(tracker_wire::kVersion) + ")");
          (void)send(c.fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
          return false;
        }
        // Tracked from here on: every fork the subscriber's process makes after it reads the
        // ACK is queued on the record socket after this point, so it meets a tracked parent.
        c.id = router_.Add(m->pid, MonotonicNanos());
        ++n_.subscribed_total;
        UpdateFilter();  // its forks must wake us at once
        reply = tracker_wire::EncodeAck(getpid(), MonotonicNanos());
        break;
      case tracker_wire::Type::kReroot:
        if (c.id == 0) return false;
        router_.Reroot(c.id, m->pid);
        if (router_.tracked_version() != filter_version_) UpdateFilter();
        break;
      case tracker_wire::Type::kStats:
        reply = tracker_wire::EncodeStatsReply(StatsJson());
        break;
      default:
        return false;
    }
    if (!reply.empty() &&
        send(c.fd.get(), reply.data(), reply.size(), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
      return false;
  }
}

void Hub::DrainWake() {
  // A tracked process's event: read its /proc entries now, before the record socket's backlog
  // (up to kDrainMs of the host's events) is worked through to reach the same event.
  bool overrun = false;
  std::vector<ProcEvent> events;
  while (ReadProcEvents(wake_.get(), events, overrun) > 0) {
    for (const ProcEvent& e : events) router_.Prefetch(e);
    events.clear();
    // A tracked process forked: its child's exec must wake us too, from now on.
    if (router_.tracked_version() != filter_version_) UpdateFilter();
  }
}

void Hub::DrainRecord() {
  bool overrun = false;
  std::vector<ProcEvent> events;
  events.reserve(64);
  for (;;) {
    // A tracked event that came while the backlog is worked through: read its /proc entries
    // now, not when the backlog reaches it.
    DrainWake();
    events.clear();
    int n = ReadProcEvents(record_.get(), events, overrun);
    const int64_t now = MonotonicNanos();
    bool filter_changed = false;
    for (const ProcEvent& e : events) {
      if (router_.OnEvent(e)) {
        ++n_.events_routed;
        n_.max_routed_lag_ns = std::max(n_.max_routed_lag_ns, now - e.time_ns);
      }
      // A new child's exec may follow in microseconds: the wake-up filter must know it now.
      if (router_.tracked_version() != filter_version_) {
        UpdateFilter();
        filter_changed = true;
      }
    }
    if (!events.empty())
      n_.max_batch_lag_ns = std::max(n_.max_batch_lag_ns, now - events.front().time_ns);
    n_.events_read += static_cast<uint64_t>(n);
    // After a filter change, read once more: an event the old filter kept from the wake-up
    // socket was queued here before the change, so this read finds it; one after the change
    // wakes us. Nothing of a tracked process waits for the next periodic drain.
    if (n < 64 && !filter_changed) break;
  }
  if (overrun) {
    ++n_.lost;
    ++n_.resyncs;
    log_.Warning("proc connector overrun (ENOBUFS): events lost, subscribers resynced from /proc");
    router_.Resync(ScanProcesses(), 1, MonotonicNanos());
    UpdateFilter();
  }
}

bool Hub::Flush(Conn& c) {
  if (c.id == 0) return true;
  router_.Flush(c.id);
  auto& box = router_.Outbox(c.id);
  while (!box.empty()) {
    ssize_t k =
        send(c.fd.get(), box.front().data(), box.front().size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && (errno == EAGAIN || errno == ENOBUFS)) break;
    if (k < 0) return false;  // the subscriber went away: its EOF comes next
    router_.NoteSent(c.id, box.front().size());
    box.pop_front();
  }
  if (router_.QueuedBytes(c.id) > opts_.max_queued_bytes) {
    ++n_.dropped;
    log_.Error("subscriber pid " + std::to_string(c.peer) + " does not read its events (" +
               std::to_string(router_.QueuedBytes(c.id)) +
               " bytes waiting): dropped; it "
               "falls back to tracking in-process");
    std::string bye = tracker_wire::EncodeClosing(
        "too slow: " + std::to_string(router_.QueuedBytes(c.id)) + " bytes of events waiting");
    (void)send(c.fd.get(), bye.data(), bye.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    return false;
  }
  return true;
}

void Hub::Close(Conn& c) {
  if (c.id != 0) router_.Remove(c.id);
  c.fd.reset();
}

std::string Hub::StatsJson() const {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  char buf[768];
  snprintf(
      buf, sizeof buf,
      "{\"pid\":%d,\"uptime_s\":%.3f,\"cpu_s\":%.4f,\"events_read\":%llu,"
      "\"events_routed\":%llu,\"lost_events\":%llu,\"resyncs\":%llu,"
      "\"max_routed_lag_ms\":%.3f,\"max_batch_lag_ms\":%.3f,\"subscribers\":%zu,"
      "\"tracked\":%zu,\"subscribed_total\":%llu,\"dropped_subscribers\":%llu,"
      "\"refused_connections\":%llu}",
      static_cast<int>(getpid()), static_cast<double>(MonotonicNanos() - started_ns_) / 1e9, cpu,
      static_cast<unsigned long long>(n_.events_read),
      static_cast<unsigned long long>(n_.events_routed), static_cast<unsigned long long>(n_.lost),
      static_cast<unsigned long long>(n_.resyncs), static_cast<double>(n_.max_routed_lag_ns) / 1e6,
      static_cast<double>(n_.max_batch_lag_ns) / 1e6, router_.subscriber_count(),
      router_.tracked_count(), static_cast<unsigned long long>(n_.subscribed_total),
      static_cast<unsigned long long>(n_.dropped), static_cast<unsigned long long>(n_.refused));
  return buf;
}

int Hub::Run() {
  started_ns_ = MonotonicNanos();
  if (Status st = Setup(); !st) {
    if (st.message().empty()) return 0;  // another hub holds the lock
    log_.Error("cannot start: " + st.message());
    return 1;
  }
  log_.Info("serving " + sock_path_ + " (pid " + std::to_string(getpid()) + ")");
  if (opts_.ready_fd >= 0) {
    [[maybe_unused]] ssize_t w = write(opts_.ready_fd, "1", 1);
    close(opts_.ready_fd);
  }
  int64_t last_client_ns = MonotonicNanos();
  for (;;) {
    std::vector<pollfd> fds = {
        {sig_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}, {-1, 0, 0}};
    for (const Conn& c : conns_) {
      short ev = POLLIN;
      if (c.id != 0 && !router_.Outbox(c.id).empty()) ev |= POLLOUT;
      fds.push_back({c.fd.get(), ev, 0});
    }
    int n = poll(fds.data(), fds.size(), kDrainMs);
    if (n < 0 && errno != EINTR) {
      log_.Error(std::string("poll: ") + strerror(errno));
      break;
    }
    if (fds[0].revents) {
      log_.Info("signalled: exiting");
      break;
    }
    // Client messages first: a subscription must be in place before the events that follow
    // it are routed (the ones before it are filtered by time).
    size_t i = 4;
    for (auto it = conns_.begin(); it != conns_.end(); ++i) {
      bool keep = true;
      if (n > 0 && fds[i].revents & (POLLIN | POLLHUP | POLLERR)) keep = HandleClient(*it);
      if (!keep) {
        Close(*it);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (fds[1].revents) Accept();
    DrainRecord();
    for (auto it = conns_.begin(); it != conns_.end();) {
      if (!Flush(*it)) {
        Close(*it);
        it = conns_.erase(it);
      } else {
        ++it;
      }
    }
    if (!conns_.empty()) last_client_ns = MonotonicNanos();
    if (opts_.idle_exit_s > 0 && conns_.empty() &&
        MonotonicNanos() - last_client_ns > int64_t{opts_.idle_exit_s} * 1'000'000'000) {
      Accept();  // one that connected just now keeps us
      if (conns_.empty()) {
        log_.Info("no subscriber for " + std::to_string(opts_.idle_exit_s) + " s: exiting");
        break;
      }
    }
  }
  // Gone before the lock is released: a new hub binds afresh, clients never meet a dead socket.
  unlink(sock_path_.c_str());
  unlink(pid_path_.c_str());
  return 0;
}

}  // namespace

int RunHub(const HubOptions& opts, const Logger& log) {
  Hub hub(opts, log);
  return hub.Run();
}

int PrintHubStats(const std::string& run_dir) {
  auto fd = ConnectTrackerHub(run_dir);
  if (!fd) {
    fprintf(stderr, "ttyaudit-tracker: no hub: %s\n", fd.message().c_str());
    return 1;
  }
  std::string req = tracker_wire::EncodeStatsRequest();
  if (send(fd->get(), req.data(), req.size(), MSG_NOSIGNAL) < 0) return 1;
  pollfd p{fd->get(), POLLIN, 0};
  if (poll(&p, 1, 3000) != 1) return 1;
  std::string buf(tracker_wire::kMaxPacket, '\0');
  ssize_t k = recv(fd->get(), buf.data(), buf.size(), 0);
  if (k <= 0) return 1;
  auto m = tracker_wire::Decode(std::string_view(buf.data(), static_cast<size_t>(k)));
  if (!m || m->type != tracker_wire::Type::kStatsReply) return 1;
  printf("%s\n", m->text.c_str());
  return 0;
}

}  // namespace ttyaudit
