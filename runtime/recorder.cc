#include "runtime/recorder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <memory>
#include <mutex>
#include <optional>

#include "base/files.h"
#include "base/ids.h"
#include "oci/container_meta.h"
#include "record/console_proxy.h"
#include "record/pty.h"
#include "record/spool_writer.h"
#include "runtime/console_socket.h"
#include "runtime/control.h"
#include "runtime/detach.h"
#include "runtime/exit_hold.h"
#include "runtime/exit_watch.h"
#include "sandbox/cgroup.h"
#include "sandbox/profiles.h"
#include "track/proc_tracker.h"

namespace ttyaudit {
namespace {

constexpr int kMaxExitHoldMs = 1000;
constexpr int kExitStatusMs = 5000;
constexpr int kTrackerGraceMs = 200;

struct GuardedFd {
  std::mutex mu;
  UniqueFd fd;
};

// Removes a session file that never became a session (runc failed, or the handover did).
void Discard(std::unique_ptr<SessionWriter>& w) {
  if (!w) return;
  std::string path = w->path();
  w.reset();
  ::unlink(path.c_str());
  ::unlink(ManifestPathFor(path).c_str());
}

bool GetSize(int fd, winsize& ws) {
  return ::ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0;
}

// Makes the outer pty ready to hand over: the inner size, the slave our controlling terminal
// (so that the shim's resizes reach us as SIGWINCH), and raw (the inner pty does the line
// discipline the process sees; the outer one must pass bytes untouched).
Status PrepareOuter(PtyPair& outer, int inner) {
  winsize ws{};
  if (GetSize(inner, ws)) ::ioctl(outer.slave.get(), TIOCSWINSZ, &ws);
  if (::ioctl(outer.slave.get(), TIOCSCTTY, 0) < 0)
    return SysError("ioctl TIOCSCTTY", outer.slave_name, errno);
  termios t{};
  if (::tcgetattr(outer.slave.get(), &t) < 0) return SysError("tcgetattr", outer.slave_name, errno);
  MakeRaw(t);
  if (::tcsetattr(outer.slave.get(), TCSANOW, &t) < 0)
    return SysError("tcsetattr", outer.slave_name, errno);
  return {};
}

// Moves what the exec has already written from the inner pty to the outer one (recording it),
// without blocking: returns what was read but did not fit, to write once the shim reads.
std::string ForwardEarlyOutput(int inner, int outer, SessionWriter& w) {
  int in_fl = ::fcntl(inner, F_GETFL);
  int out_fl = ::fcntl(outer, F_GETFL);
  ::fcntl(inner, F_SETFL, in_fl | O_NONBLOCK);
  ::fcntl(outer, F_SETFL, out_fl | O_NONBLOCK);
  std::string left;
  char buf[16384];
  for (int i = 0; i < 64 && left.empty(); ++i) {
    ssize_t n = ::read(inner, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // nothing yet (EAGAIN), or the slave is closed and drained (EIO)
    std::string_view data(buf, static_cast<size_t>(n));
    w.Output(data);
    while (!data.empty()) {
      ssize_t k = ::write(outer, data.data(), data.size());
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) break;
      data.remove_prefix(static_cast<size_t>(k));
    }
    left.assign(data);
  }
  ::fcntl(inner, F_SETFL, in_fl);
  ::fcntl(outer, F_SETFL, out_fl);
  return left;
}

// The recorder's state from phase to phase.
struct Recording {
  Recording(const ExecContext& c, std::string w) : ctx(c), what(std::move(w)) {}

  const ExecContext& ctx;
  std::string what;  // "session <id>", for the log
  std::unique_ptr<SessionWriter> writer;
  std::unique_ptr<ProcTracker> tracker;  // null: processes not tracked
  std::unique_ptr<ExitWatcher> watcher;  // without a tracker: the exit status
  pid_t exec_pid = 0;                    // 0: unknown
  UniqueFd inner;                        // runc's pty master
  std::shared_ptr<GuardedFd> drain;      // the exit hold's copy of `inner`
  std::unique_ptr<ExitHold> hold;
};

// Creates the session file; on failure tells the wrapper why.
bool OpenSession(int control, Recording& r, SessionMeta meta, const std::string& term) {
  SessionWriterOptions opts;
  opts.record_input = r.ctx.config.record_input;
  opts.fsync_interval_s = r.ctx.config.fsync_interval_s;
  opts.spool_max_bytes = r.ctx.config.spool_max_bytes;
  opts.term = term;
  opts.command = JoinArgv(meta.argv);
  // The fsync thread starts here, before the recorder drops its privileges: it drops its own
  // at once (it needs none).
  if (SandboxWanted(r.ctx.config.sandbox.enabled))
    opts.sync_thread_setup = [] { return DropThreadPrivileges("ttyaudit-runtime fsync thread"); };
  auto created = SessionWriter::Create(r.ctx.config.spool_dir, std::move(meta), opts);
  if (!created) {
    (void)control::Send(control, control::EncodeFail(created.message()));
    return false;
  }
  r.writer = std::move(created.value());
  if (const std::string& why = r.writer->sync_thread_problem(); !why.empty())
    r.ctx.log.Error(r.what + ": the fsync thread keeps its privileges: " + why);
  return true;
}

// What ran in the session (commands, hidden processes): subscribed to the node's tracker hub
// before runc runs (the wrapper, which forks runc, is tracked from then on), rooted at runc,
// then narrowed to the exec's process. Fail-open: the screen is still recorded without it.
// Opening it may start the hub, which must not inherit the recorder's reduced privileges.
void OpenTracker(Recording& r, pid_t wrapper_pid) {
  ProcTrackerOptions topts;
  topts.session_start_mono_ns = MonotonicNanos() - static_cast<int64_t>(r.writer->Now() * 1e9);
  topts.hub_run_dir = r.ctx.run_dir;
  topts.spawner_pid = wrapper_pid;
  auto t = ProcTracker::Open(topts);
  if (t.ok()) {
    r.tracker = std::move(t.value());
    if (std::string why = r.tracker->problem(); !why.empty())
      r.ctx.log.Error(r.what + ": process tracking: " + why);
    return;
  }
  r.ctx.log.Warning(r.what + ": processes not tracked: " + t.message());
}

// Without the tracker, a plain exit watcher gives the exit status in case the exit hold cannot
// attach.
void OpenExitWatcher(Recording& r) {
  if (r.tracker) return;
  if (auto w = ExitWatcher::Open(); w.ok())
    r.watcher = std::move(w.value());
  else
    r.ctx.log.Warning(r.what + ": exit status may be unknown: " + w.message());
}

// Least privilege, first step (sandbox/sandbox.h): its own cgroup with the configured limits,
// then no_new_privs and only the capabilities a recorder uses. Before the threads that follow
// (the tracker's, the exit hold's, the exit watcher's), which inherit both; the spool writer's
// fsync thread, started with the session file, has dropped all of its own (OpenSession). A
// failure is logged and the session recorded anyway: recording comes first.
void DropRecorderPrivileges(Recording& r, const std::string& session_id) {
  if (!SandboxWanted(r.ctx.config.sandbox.enabled)) {
    r.ctx.log.Warning(r.what + ": sandbox off (config sandbox.enabled or TTYAUDIT_SANDBOX)");
    return;
  }
  CgroupLimits limits;
  limits.memory_max = r.ctx.config.sandbox.recorder_memory_max;
  limits.pids_max = r.ctx.config.sandbox.recorder_pids_max;
  if (auto cg = JoinOwnCgroup(session_id, limits); !cg)
    r.ctx.log.Error(r.what + ": no cgroup of its own: " + cg.message());
  if (Status st = DropPrivileges(RuntimeRecorderProfile()); !st)
    r.ctx.log.Error(r.what + ": runs with all its privileges: " + st.message());
}

// Least privilege, second step: once the shim has its console, only the syscalls a recorder
// makes (sandbox/profiles.h); any other kills it, and the session reads as interrupted.
void LoadRecorderFilter(Recording& r) {
  if (!SandboxWanted(r.ctx.config.sandbox.enabled)) return;
  // The first log line opens the journal (libsystemd, its socket) while that is still allowed.
  r.ctx.log.Info(r.what + ": recording under seccomp");
  if (Status st = LoadSyscallFilter(RuntimeRecorderProfile()); !st)
    r.ctx.log.Error(r.what + ": no seccomp filter: " + st.message());
}

// Waits for the wrapper's news of runc: its pid (the tracker roots there), then "go" with runc's
// pty master. False when runc failed (abort), or the wrapper went away or said anything else.
bool AwaitGo(int control, Recording& r) {
  auto msg = control::Receive(control, -1);
  if (msg && msg->type == control::Type::kRunc) {
    if (r.tracker && msg->pid > 0) {
      if (auto st = r.tracker->Start(msg->pid); !st) {
        r.ctx.log.Warning(r.what + ": processes not tracked: " + st.message());
        r.tracker.reset();
      }
    }
    msg = control::Receive(control, -1);
  }
  if (!msg || msg->type != control::Type::kGo) return false;
  r.exec_pid = msg->pid;
  r.inner = std::move(msg->fd);
  return true;
}

// Follows the exec's process (its exit status; the tracker narrowed to it).
void FollowExec(Recording& r) {
  if (r.watcher && r.exec_pid > 0) r.watcher->Watch(r.exec_pid);
  if (r.tracker && r.exec_pid > 0) r.tracker->Reroot(r.exec_pid);
}

// Holds the exec at its exit until its last output is on the outer pty (see exit_hold.h). The
// hold looks at the inner pty through its own copy, closed with ours at the end (every copy of
// the master must close for the process to get SIGHUP when the session is hung up).
void StartExitHold(Recording& r) {
  r.drain = std::make_shared<GuardedFd>();
  r.drain->fd.reset(::fcntl(r.inner.get(), F_DUPFD_CLOEXEC, 3));
  if (r.exec_pid <= 0) return;
  auto drained = [drain = r.drain] {
    std::lock_guard<std::mutex> lock(drain->mu);
    if (!drain->fd) return true;
    struct pollfd p = {drain->fd.get(), POLLIN, 0};
    return ::poll(&p, 1, 0) == 0 || !(p.revents & POLLIN);
  };
  if (auto h = ExitHold::Start(r.exec_pid, drained, kMaxExitHoldMs); h.ok())
    r.hold = std::move(h.value());
  else
    r.ctx.log.Warning(r.what + ": the last output may be lost at exit: " + h.message());
}

// Gives the shim its console: an outer pty, raw and sized as runc's, whose master goes to the
// shim's console socket. Then "handed" and `control` is closed. Returns the outer slave, which
// the session is proxied to; on failure, tells the wrapper why (it then hands runc's own master
// over, or refuses the exec).
Result<UniqueFd> HandOver(int control, Recording& r) {
  auto fail = [&](const std::string& why) {
    (void)control::Send(control, control::EncodeFail(why));
    return Error{why};
  };
  auto outer = OpenPty();
  if (!outer) return fail(outer.message());
  if (auto st = PrepareOuter(outer.value(), r.inner.get()); !st) return fail(st.message());
  // A short command may have written everything and exited already (too early for the exit
  // hold), and the shim drains only what is in its pty when it reaps: put what is there on
  // the outer pty before the shim gets it.
  std::string early_left = ForwardEarlyOutput(r.inner.get(), outer->slave.get(), *r.writer);
  if (auto st = SendMasterTo(r.ctx.args.exec.console_socket, outer->master.get()); !st)
    return fail(st.message());
  // Only the shim holds the outer master now: when it closes it, the slave hangs up.
  outer->master.reset();
  (void)control::Send(control, control::EncodeHanded());
  ::close(control);
  if (!early_left.empty()) (void)WriteAll(outer->slave.get(), early_left, outer->slave_name);
  return std::move(outer->slave);
}

// Each command typed into the session becomes an "m" marker: a player's timeline.
void MarkCommands(Recording& r) {
  if (!r.tracker) return;
  for (const auto& c : r.tracker->TakeCommands()) r.writer->Marker(JoinArgv(c.argv));
}

// Proxies and records between the outer pty (`outer_slave`) and runc's until the session ends.
void ProxySession(Recording& r, int outer_slave) {
  winsize ws{};
  if (GetSize(outer_slave, ws)) {
    r.writer->meta().width = ws.ws_col;
    r.writer->meta().height = ws.ws_row;
  }
  ProxyEnds ends;
  ends.user_in = outer_slave;
  ends.user_out = outer_slave;
  ends.inner = r.inner.get();
  ends.size_source = outer_slave;
  ProxyOptions popts;
  popts.child = -1;
  if (r.tracker) {
    popts.event_fd = r.tracker->command_fd();
    popts.on_event = [&r] { MarkCommands(r); };
  }
  auto outcome = RunConsoleProxy(ends, popts, *r.writer);
  if (!outcome) r.ctx.log.Error(r.what + ": " + outcome.message());
  if (r.hold) r.hold->StopWaitingForDrain();
}

// Hangs up both sides as the end of a plain exec would (the process gets SIGHUP if it still
// runs, and the shim sees the console end), then seals the session with the exit status.
void Seal(Recording& r, UniqueFd outer_slave) {
  r.inner.reset();
  {
    std::lock_guard<std::mutex> lock(r.drain->mu);
    r.drain->fd.reset();
  }
  outer_slave.reset();
  std::optional<int> status;
  if (r.hold) status = r.hold->WaitExit(kExitStatusMs);
  if (!status && r.watcher && r.exec_pid > 0)
    status = r.watcher->WaitExit(r.exec_pid, kExitStatusMs);
  r.hold.reset();
  if (r.tracker) {
    const std::string why_before = r.tracker->problem();
    r.tracker->Stop(status ? kTrackerGraceMs : kExitStatusMs);
    if (std::string why = r.tracker->problem(); why != why_before)
      r.ctx.log.Error(r.what + ": process tracking: " + why);
    int ws = 0;
    if (!status && r.tracker->RootExited(&ws)) status = ws;
    MarkCommands(r);  // those seen after the proxy's last look
    r.writer->SetManifestExtra(r.tracker->ManifestMembers());
  }
  if (auto st = r.writer->FinishWithWaitStatus(status); !st)
    r.ctx.log.Error(r.what + ": seal: " + st.message());
}

}  // namespace

int RecorderMain(int control, const ExecContext& ctx, SessionMeta meta, const std::string& term,
                 pid_t wrapper_pid) {
  BlockProxySignals();
  meta.recorder_pid = ::getpid();
  Recording r{ctx, "session " + meta.id};
  const std::string container_id = meta.container_id, session_id = meta.id;
  if (!OpenSession(control, r, std::move(meta), term)) return 1;
  OpenTracker(r, wrapper_pid);
  DropRecorderPrivileges(r, session_id);
  OpenExitWatcher(r);
  if (!control::Send(control, control::EncodeReady())) {
    Discard(r.writer);
    return 1;
  }
  if (!AwaitGo(control, r)) {
    Discard(r.writer);
    return 0;
  }
  FollowExec(r);
  // Listed for the container, so that its poststop hook can end this session (SIGTERM) if
  // the container goes away while something outside it holds the pty.
  SessionRegistration registration(ctx.run_dir, container_id, session_id, ::getpid());
  if (!registration.ok())
    ctx.log.Warning(r.what + ": not sealed at container stop: " + registration.status().message());
  StartExitHold(r);
  auto outer_slave = HandOver(control, r);
  if (!outer_slave) {
    Discard(r.writer);
    return 1;
  }
  LoadRecorderFilter(r);
  ProxySession(r, outer_slave->get());
  Seal(r, std::move(outer_slave.value()));
  return 0;
}

Result<UniqueFd> StartRecorder(const ExecContext& ctx, const SessionMeta& meta,
                               const std::string& term, int timeout_ms) {
  const pid_t wrapper = ::getpid();  // it forks runc: the tracker hub follows it from the start
  auto control = ForkDetached([&](int fd) { return RecorderMain(fd, ctx, meta, term, wrapper); });
  if (!control) return control.error();
  auto reply = control::Receive(control->get(), timeout_ms);
  if (!reply) return Error{"recorder: " + reply.message()};
  switch (reply->type) {
    case control::Type::kReady:
      return std::move(control.value());
    case control::Type::kClosed:
      return Error{"recorder exited before it was ready"};
    case control::Type::kFail:
      return Error{reply->why};
    default:
      return Error{std::string("recorder: unexpected answer `") + control::TypeName(reply->type) +
                   "`"};
  }
}

}  // namespace ttyaudit
