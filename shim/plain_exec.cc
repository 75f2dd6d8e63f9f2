#include "shim/plain_exec.h"

#include <poll.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>

#include "common/spool_writer.h"
#include "shim/control.h"
#include "shim/detach.h"
#include "shim/exec_meta.h"
#include "shim/exit_watch.h"
#include "shim/terminal_exec.h"

namespace ttyaudit {
namespace {

constexpr int kReadyMs = 5000;
// How long an exit event may trail the process's end (it is read on the watcher's thread).
constexpr int kExitEventGraceMs = 1000;

pid_t ReadPid(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

std::string ExitState(int status, int& code, int& sig) {
  code = -1;
  sig = 0;
  if (WIFSIGNALED(status)) {
    sig = WTERMSIG(status);
    return "signaled";
  }
  code = WEXITSTATUS(status);
  return "exited";
}

int PidFd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The exit status of `pid` (a watched pid): the exit watcher's, waiting on a pidfd rather than
// on the event alone; nothing when the event was lost.
std::optional<int> AwaitExit(ExitWatcher& w, pid_t pid) {
  if (auto st = w.WaitExit(pid, 0)) return st;
  UniqueFd fd(PidFd(pid));
  if (fd) {
    struct pollfd p = {fd.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
  }
  return w.WaitExit(pid, kExitEventGraceMs);
}

int NoteTaker(int control, const ExecContext& ctx, SessionMeta meta, pid_t runc_pid) {
  auto watcher = ExitWatcher::Open();
  if (!watcher) {
    (void)SendControl(control, "fail:" + watcher.message());
    return 1;
  }
  watcher.value()->Watch(runc_pid);
  meta.recorder_pid = ::getpid();
  SessionWriterOptions opts;
  opts.record_input = false;
  opts.fsync_interval_s = ctx.config.fsync_interval_s;
  for (const auto& a : meta.argv) opts.command += (opts.command.empty() ? "" : " ") + a;
  auto writer = SessionWriter::Create(ctx.config.spool_dir, meta, opts);
  if (!writer) {
    (void)SendControl(control, "fail:" + writer.message());
    return 1;
  }
  // runc writes the pid file (a rename) before it exits, and the shim may remove it as soon
  // as a short exec has ended, which on a busy node can be before we run again: read it when
  // it appears, not when runc has exited.
  const std::string& pid_file = ctx.args.exec.pid_file;
  UniqueFd ino;
  if (ctx.args.exec.detach && !pid_file.empty()) {
    ino.reset(::inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
    std::string dir = pid_file.substr(0, pid_file.rfind('/') + 1);
    if (ino && ::inotify_add_watch(ino.get(), dir.empty() ? "." : dir.c_str(),
                                   IN_MOVED_TO | IN_CLOSE_WRITE) < 0)
      ino.reset();
  }
  // runc is the wrapper's pid once it execs: a pidfd says when it is gone even if its exit
  // event is lost (a socket overrun on a busy host), so that nothing here waits for good.
  UniqueFd runc_fd(PidFd(runc_pid));
  if (!runc_fd) {
    (void)SendControl(control, "fail:" + SysError("pidfd_open", std::to_string(runc_pid), errno).message);
    return 1;
  }
  (void)SendControl(control, "ready");
  ::close(control);

  pid_t exec_pid = 0;
  for (;;) {
    if (ctx.args.exec.detach && exec_pid == 0) exec_pid = ReadPid(pid_file);
    struct pollfd p[2] = {{runc_fd.get(), POLLIN, 0}, {ino.get(), POLLIN, 0}};
    int n = ::poll(p, ino && exec_pid == 0 ? 2 : 1, -1);
    if (n < 0 && errno != EINTR) break;
    if (p[0].revents) break;  // runc has exited
    char buf[4096];
    while (ino && ::read(ino.get(), buf, sizeof buf) > 0) {
    }
  }
  if (ctx.args.exec.detach && exec_pid == 0) exec_pid = ReadPid(pid_file);
  std::optional<int> runc_status = watcher.value()->WaitExit(runc_pid, kExitEventGraceMs);
  bool runc_ok = runc_status ? WIFEXITED(*runc_status) && WEXITSTATUS(*runc_status) == 0
                             : exec_pid > 0;  // event lost: a pid file means it started
  if (!runc_ok) {
    std::string path = writer.value()->path();
    writer.value().reset();
    ::unlink(path.c_str());
    return 0;
  }
  int code = 0, sig = 0;
  std::optional<int> status = runc_status;
  if (ctx.args.exec.detach) {
    status.reset();
    if (exec_pid > 0) {
      watcher.value()->Watch(exec_pid);
      status = AwaitExit(*watcher.value(), exec_pid);
    } else {
      ctx.log.Warning("session " + meta.id + ": no exec pid in `" + pid_file +
                      "`: exit status unknown");
    }
  }
  std::string state = status ? ExitState(*status, code, sig) : "exited";
  if (!status) code = -1;
  if (auto st = writer.value()->Finish(state, code, sig); !st)
    ctx.log.Error("session " + meta.id + ": seal: " + st.message());
  return 0;
}

}  // namespace

int RunPlainExec(const ExecContext& ctx) {
  ProcessSpec proc;
  if (!ctx.args.exec.process_file.empty()) {
    auto p = ReadProcessSpec(ctx.args.exec.process_file);
    if (!p) {
      ctx.log.Error("non-terminal exec in " + ctx.args.exec.container_id +
                    ": not noted: " + p.message());
      return PassThrough(ctx);
    }
    proc = std::move(p.value());
  }
  SessionMeta meta = BuildExecMeta(ctx.args, proc, ctx.runc, ctx.config.node_name);
  meta.terminal = false;
  pid_t self = ::getpid();
  auto control = ForkDetached([&](int fd) { return NoteTaker(fd, ctx, meta, self); });
  std::string why;
  if (!control) {
    why = control.message();
  } else {
    auto reply = ReceiveControl(control->get(), kReadyMs);
    if (!reply) why = reply.message();
    else if (reply->eof) why = "note-taker exited before it was ready";
    else if (reply->text != "ready") why = reply->text.substr(reply->text.rfind("fail:", 0) == 0 ? 5 : 0);
  }
  if (!why.empty()) {
    if (ctx.config.FailClosedFor(meta.k8s_namespace))
      return RefuseExec(ctx, "ttyaudit: exec refused: it cannot be recorded and policy is "
                             "fail_closed: " + why);
    ctx.log.Error("non-terminal exec in " + ctx.args.exec.container_id +
                  " proceeds UNRECORDED (fail-open): " + why);
  }
  return PassThrough(ctx);
}

}  // namespace ttyaudit
