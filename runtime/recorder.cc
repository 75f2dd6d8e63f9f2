#include "runtime/recorder.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>

#include "record/console_proxy.h"
#include "oci/container_meta.h"
#include "base/files.h"
#include "base/ids.h"
#include "track/proc_tracker.h"
#include "record/pty.h"
#include "record/spool_writer.h"
#include "runtime/console_socket.h"
#include "runtime/control.h"
#include "runtime/detach.h"
#include "runtime/exit_hold.h"
#include "runtime/exit_watch.h"

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

}  // namespace

int RecorderMain(int control, const ExecContext& ctx, SessionMeta meta, const std::string& term,
                 pid_t wrapper_pid) {
  const Logger& log = ctx.log;
  BlockProxySignals();
  meta.recorder_pid = ::getpid();
  SessionWriterOptions opts;
  opts.record_input = ctx.config.record_input;
  opts.fsync_interval_s = ctx.config.fsync_interval_s;
  opts.spool_max_bytes = ctx.config.spool_max_bytes;
  opts.term = term;
  opts.command = JoinArgv(meta.argv);
  auto created = SessionWriter::Create(ctx.config.spool_dir, meta, opts);
  if (!created) {
    (void)SendControl(control, "fail:" + created.message());
    return 1;
  }
  std::unique_ptr<SessionWriter> writer = std::move(created.value());

  // What ran in the session (issue: commands, hidden processes): subscribed to the node's
  // tracker hub before runc runs (the wrapper, which forks runc, is tracked from then on),
  // rooted at runc, then narrowed to the exec's process. Fail-open: the screen is still
  // recorded without it. Without the tracker, a plain exit watcher gives the exit status in
  // case the exit hold below cannot attach.
  std::unique_ptr<ProcTracker> tracker;
  std::unique_ptr<ExitWatcher> watcher;
  ProcTrackerOptions topts;
  topts.session_start_mono_ns = MonotonicNanos() - static_cast<int64_t>(writer->Now() * 1e9);
  topts.hub_run_dir = ctx.run_dir;
  topts.spawner_pid = wrapper_pid;
  if (auto t = ProcTracker::Open(topts); t.ok()) {
    tracker = std::move(t.value());
    if (std::string why = tracker->problem(); !why.empty())
      log.Error("session " + meta.id + ": process tracking: " + why);
  } else {
    log.Warning("session " + meta.id + ": processes not tracked: " + t.message());
    if (auto w = ExitWatcher::Open(); w.ok()) watcher = std::move(w.value());
    else log.Warning("session " + meta.id + ": exit status may be unknown: " + w.message());
  }
  if (!SendControl(control, "ready")) {
    Discard(writer);
    return 1;
  }

  auto go = ReceiveControl(control, -1);
  if (go.ok() && !go->eof && go->text.rfind("runc:", 0) == 0) {
    pid_t runc_pid = static_cast<pid_t>(std::atoi(go->text.c_str() + 5));
    if (tracker && runc_pid > 0) {
      if (auto st = tracker->Start(runc_pid); !st) {
        log.Warning("session " + meta.id + ": processes not tracked: " + st.message());
        tracker.reset();
      }
    }
    go = ReceiveControl(control, -1);
  }
  if (!go.ok() || go->eof || go->text.rfind("go:", 0) != 0 || !go->fd) {
    Discard(writer);
    return 0;
  }
  pid_t exec_pid = static_cast<pid_t>(std::atoi(go->text.c_str() + 3));
  if (watcher && exec_pid > 0) watcher->Watch(exec_pid);
  if (tracker && exec_pid > 0) tracker->Reroot(exec_pid);
  // Listed for the container, so that its poststop hook can end this session (SIGTERM) if
  // the container goes away while something outside it holds the pty.
  SessionRegistration registration(ctx.run_dir, meta.container_id, meta.id, ::getpid());
  if (!registration.ok())
    log.Warning("session " + meta.id + ": not sealed at container stop: " +
                registration.status().message());
  UniqueFd inner = std::move(go->fd);
  // Held at its exit until its last output is on the outer pty (see exit_hold.h). The hold
  // looks at the inner pty through its own copy, closed with ours at the end (every copy of
  // the master must close for the process to get SIGHUP when the session is hung up).
  auto drain = std::make_shared<GuardedFd>();
  drain->fd.reset(::fcntl(inner.get(), F_DUPFD_CLOEXEC, 3));
  std::unique_ptr<ExitHold> hold;
  if (exec_pid > 0) {
    auto drained = [drain] {
      std::lock_guard<std::mutex> lock(drain->mu);
      if (!drain->fd) return true;
      struct pollfd p = {drain->fd.get(), POLLIN, 0};
      return ::poll(&p, 1, 0) == 0 || !(p.revents & POLLIN);
    };
    if (auto h = ExitHold::Start(exec_pid, drained, kMaxExitHoldMs); h.ok())
      hold = std::move(h.value());
    else
      log.Warning("session " + meta.id + ": the last output may be lost at exit: " + h.message());
  }

  auto fail = [&](const std::string& why) {
    (void)SendControl(control, "fail:" + why);
    Discard(writer);
    return 1;
  };
  auto outer = OpenPty();
  if (!outer) return fail(outer.message());
  if (auto st = PrepareOuter(outer.value(), inner.get()); !st) return fail(st.message());
  // A short command may have written everything and exited already (too early for the exit
  // hold), and the shim drains only what is in its pty when it reaps: put what is there on
  // the outer pty before the shim gets it.
  std::string early_left = ForwardEarlyOutput(inner.get(), outer->slave.get(), *writer);
  if (auto st = SendMasterTo(ctx.args.exec.console_socket, outer->master.get()); !st)
    return fail(st.message());
  // Only the shim holds the outer master now: when it closes it, the slave hangs up.
  outer->master.reset();
  (void)SendControl(control, "handed");
  ::close(control);
  if (!early_left.empty()) (void)WriteAll(outer->slave.get(), early_left, outer->slave_name);

  winsize ws{};
  if (GetSize(outer->slave.get(), ws)) {
    writer->meta().width = ws.ws_col;
    writer->meta().height = ws.ws_row;
  }
  ProxyEnds ends;
  ends.user_in = outer->slave.get();
  ends.user_out = outer->slave.get();
  ends.inner = inner.get();
  ends.size_source = outer->slave.get();
  ProxyOptions popts;
  popts.child = -1;
  // Each command typed into the session becomes an "m" marker: a player's timeline.
  auto mark_commands = [&] {
    if (!tracker) return;
    for (const auto& c : tracker->TakeCommands()) writer->Marker(JoinArgv(c.argv));
  };
  if (tracker) {
    popts.event_fd = tracker->command_fd();
    popts.on_event = mark_commands;
  }
  auto outcome = RunConsoleProxy(ends, popts, *writer);
  if (!outcome) log.Error("session " + meta.id + ": " + outcome.message());
  if (hold) hold->StopWaitingForDrain();
  // Hang up both sides as the end of a plain exec would: the process gets SIGHUP if it still
  // runs, and the shim sees the console end.
  inner.reset();
  {
    std::lock_guard<std::mutex> lock(drain->mu);
    drain->fd.reset();
  }
  outer->slave.reset();
  std::optional<int> status;
  if (hold) status = hold->WaitExit(kExitStatusMs);
  if (!status && watcher && exec_pid > 0) status = watcher->WaitExit(exec_pid, kExitStatusMs);
  hold.reset();
  if (tracker) {
    const std::string why_before = tracker->problem();
    tracker->Stop(status ? kTrackerGraceMs : kExitStatusMs);
    if (std::string why = tracker->problem(); why != why_before)
      log.Error("session " + meta.id + ": process tracking: " + why);
    int ws = 0;
    if (!status && tracker->RootExited(&ws)) status = ws;
    mark_commands();  // those seen after the proxy's last look
    writer->SetManifestExtra(tracker->ManifestMembers());
  }
  if (auto st = writer->FinishWithWaitStatus(status); !st)
    log.Error("session " + writer->meta().id + ": seal: " + st.message());
  return 0;
}

Result<UniqueFd> StartRecorder(const ExecContext& ctx, const SessionMeta& meta,
                               const std::string& term, int timeout_ms) {
  const pid_t wrapper = ::getpid();  // it forks runc: the tracker hub follows it from the start
  auto control = ForkDetached([&](int fd) { return RecorderMain(fd, ctx, meta, term, wrapper); });
  if (!control) return control.error();
  auto reply = ReceiveControl(control->get(), timeout_ms);
  if (!reply) return Error{"recorder: " + reply.message()};
  if (reply->eof) return Error{"recorder exited before it was ready"};
  if (reply->text.rfind("fail:", 0) == 0) return Error{reply->text.substr(5)};
  if (reply->text != "ready") return Error{"recorder: unexpected answer `" + reply->text + "`"};
  return std::move(control.value());
}

}  // namespace ttyaudit
