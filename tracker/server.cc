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
#include "config/trust.h"
#include "sandbox/profiles.h"
#include "track/ebpf/ebpf_source.h"
#include "track/proc_connector_source.h"
#include "track/proc_events.h"
#include "track/tracker_client.h"
#include "track/tracker_wire.h"
#include "tracker/hub.h"

namespace ttyaudit {
namespace {

struct Conn {
  UniqueFd fd;
  pid_t peer = 0;
  HubRouter::Id id = 0;  // 0 until it subscribes
};

struct Counters {
  uint64_t events_routed = 0;
  uint64_t lost = 0;
  uint64_t resyncs = 0;
  uint64_t subscribed_total = 0;
  uint64_t dropped = 0;
  uint64_t refused = 0;
  int64_t max_routed_lag_ns = 0;
  int64_t max_batch_lag_ns = 0;
};

class Hub : private ProcEventSink {
 public:
  Hub(const HubOptions& o, const Logger& log) : opts_(o), log_(log) {}
  int Run();

 private:
  Status Setup();
  void Accept();
  bool HandleClient(Conn& c);  // false: close it
  void Retrack();
  bool Flush(Conn& c);  // false: dropped
  void Close(Conn& c);
  std::string StatsJson() const;

  // ProcEventSink: the source's events are routed to the subscribers.
  void OnEvent(const ProcEvent& e, const ProcSnapshot* snapshot) override;
  void OnEarly(const ProcEvent& e) override { router_.Prefetch(e); }
  void OnLost(uint64_t lost, int64_t time_ns, std::vector<ResyncProc>& procs) override;
  uint64_t TrackedVersion() const override { return router_.tracked_version(); }
  std::vector<pid_t> TrackedPids() const override { return router_.TrackedPids(); }
  // The hub sleeps on tracked events and reads the host's in batches.
  bool WantsPromptEvents() const override { return false; }

  const HubOptions& opts_;
  const Logger& log_;
  std::string sock_path_, pid_path_;
  UniqueFd lock_, sig_, listen_;
  std::unique_ptr<ProcEventSource> source_;
  HubRouter router_;
  std::list<Conn> conns_;
  Counters n_;
  int64_t started_ns_ = 0;
};

Status Hub::Setup() {
  umask(077);
  // The hub's socket and lock live there: made 0700, refused when looser or someone else's.
  if (Status st = EnsurePrivateDir(opts_.run_dir, "run dir"); !st) return st;
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
  if (opts_.ebpf) {
    if (auto ebpf = OpenEbpfSource(opts_.ebpf_ring_bytes, opts_.ebpf_uid_syscalls); ebpf.ok())
      source_ = std::move(ebpf.value());
    else
      log_.Info(ebpf.message() + ": reading the proc connector instead");
  }
  if (!source_) {
    // The hub's own priority (below) covers its one thread.
    auto source = ProcConnectorSource::Open(opts_.rcvbuf_bytes, false);
    if (!source) return source.error();
    source_ = std::move(source.value());
  }
  Retrack();

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

void Hub::Retrack() { source_->Retrack(router_.tracked_version(), router_.TrackedPids()); }

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
        Retrack();  // its forks must wake us at once
        reply = tracker_wire::EncodeAck(getpid(), MonotonicNanos(), source_->reads());
        break;
      case tracker_wire::Type::kReroot:
        if (c.id == 0) return false;
        router_.Reroot(c.id, m->pid);
        Retrack();
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

void Hub::OnEvent(const ProcEvent& e, const ProcSnapshot* snapshot) {
  const int64_t now = MonotonicNanos();
  n_.max_batch_lag_ns = std::max(n_.max_batch_lag_ns, now - e.time_ns);
  if (!router_.OnEvent(e, snapshot)) return;
  ++n_.events_routed;
  n_.max_routed_lag_ns = std::max(n_.max_routed_lag_ns, now - e.time_ns);
}

void Hub::OnLost(uint64_t lost, int64_t time_ns, std::vector<ResyncProc>& procs) {
  n_.lost += lost;
  ++n_.resyncs;
  log_.Warning(source_->name() + " source: events lost, subscribers resynced from /proc");
  std::vector<std::pair<pid_t, pid_t>> pairs;
  pairs.reserve(procs.size());
  for (const ResyncProc& p : procs) pairs.emplace_back(p.pid, p.ppid);
  router_.Resync(pairs, lost, time_ns);
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
  if (c.id != 0) {
    router_.Remove(c.id);
    Retrack();  // a filter in the kernel forgets its processes
  }
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
      "{\"pid\":%d,\"source\":\"%s\",\"uptime_s\":%.3f,\"cpu_s\":%.4f,\"events_read\":%llu,"
      "\"events_routed\":%llu,\"lost_events\":%llu,\"resyncs\":%llu,"
      "\"max_routed_lag_ms\":%.3f,\"max_batch_lag_ms\":%.3f,\"subscribers\":%zu,"
      "\"tracked\":%zu,\"subscribed_total\":%llu,\"dropped_subscribers\":%llu,"
      "\"refused_connections\":%llu}",
      static_cast<int>(getpid()), source_ ? source_->reads().c_str() : "",
      static_cast<double>(MonotonicNanos() - started_ns_) / 1e9, cpu,
      static_cast<unsigned long long>(source_ ? source_->events_read() : 0),
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
  log_.Info("serving " + sock_path_ + " (pid " + std::to_string(getpid()) + ", reading " +
            source_->reads() + ")");
  // Its source is loaded and its socket listens: from here on, only what serving takes.
  if (opts_.sandbox) {
    if (Status st = EnterSandbox(TrackerHubProfile()); !st)
      log_.Error("runs with all its privileges: " + st.message());
  }
  if (opts_.ready_fd >= 0) {
    [[maybe_unused]] ssize_t w = write(opts_.ready_fd, "1", 1);
    close(opts_.ready_fd);
  }
  int64_t last_client_ns = MonotonicNanos();
  for (;;) {
    std::vector<pollfd> fds = {{sig_.get(), POLLIN, 0}, {listen_.get(), POLLIN, 0}};
    const int timeout = source_->Prepare(fds, *this);
    const size_t first_conn = fds.size();
    for (const Conn& c : conns_) {
      short ev = POLLIN;
      if (c.id != 0 && !router_.Outbox(c.id).empty()) ev |= POLLOUT;
      fds.push_back({c.fd.get(), ev, 0});
    }
    int n = poll(fds.data(), fds.size(), timeout);
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
    size_t i = first_conn;
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
    if (!source_->Read(*this)) {
      log_.Error(source_->name() + " source ended: " + source_->ended());
      break;
    }
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
