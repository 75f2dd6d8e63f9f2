#include "runtime/plain_exec.h"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <optional>

#include "record/spool_writer.h"
#include "runtime/control.h"
#include "runtime/detach.h"
#include "runtime/exec_meta.h"
#include "runtime/exit_watch.h"
#include "runtime/subprocess.h"
#include "runtime/terminal_exec.h"

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

int PidFd(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// The exit status of a watched `pid`: the watcher's, waiting on a pidfd rather than on the
// event alone (which a socket overrun on a busy host can lose); nothing when it was lost.
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

void Discard(std::unique_ptr<SessionWriter>& w) {
  std::string path = w->path();
  w.reset();
  ::unlink(path.c_str());
}

int NoteTaker(int control, const ExecContext& ctx, SessionMeta meta, pid_t wrapper_pid) {
  auto opened = ExitWatcher::Open();
  if (!opened) {
    (void)control::Send(control, control::EncodeFail(opened.message()));
    return 1;
  }
  ExitWatcher& watcher = *opened.value();
  meta.recorder_pid = ::getpid();
  SessionWriterOptions opts;
  opts.record_input = false;
  opts.fsync_interval_s = ctx.config.fsync_interval_s;
  for (const auto& a : meta.argv) opts.command += (opts.command.empty() ? "" : " ") + a;
  auto created = SessionWriter::Create(ctx.config.spool_dir, meta, opts);
  if (!created) {
    (void)control::Send(control, control::EncodeFail(created.message()));
    return 1;
  }
  std::unique_ptr<SessionWriter> writer = std::move(created.value());

  if (ctx.args.exec.detach) {
    (void)control::Send(control, control::EncodeReady());
    // "ran" once runc is done.
    auto ran = control::Receive(control, -1);
    if (!ran.ok() || ran->type != control::Type::kRan) {
      Discard(writer);
      return 0;
    }
    int runc_status = ran->wait_status;
    pid_t exec_pid = ran->pid;
    if (!WIFEXITED(runc_status) || WEXITSTATUS(runc_status) != 0) {
      Discard(writer);
      return 0;
    }
    std::optional<int> status;
    if (exec_pid > 0) {
      watcher.Watch(exec_pid);
      status = AwaitExit(watcher, exec_pid);
    }
    if (auto st = writer->FinishWithWaitStatus(status); !st)
      ctx.log.Error("session " + writer->meta().id + ": seal: " + st.message());
    return 0;
  }

  // Foreground: the wrapper becomes runc, whose exit status is the process's.
  watcher.Watch(wrapper_pid);
  UniqueFd runc_fd(PidFd(wrapper_pid));
  (void)control::Send(control, control::EncodeReady());
  ::close(control);
  if (runc_fd) {
    struct pollfd p = {runc_fd.get(), POLLIN, 0};
    while (::poll(&p, 1, -1) < 0 && errno == EINTR) {
    }
  }
  std::optional<int> status = watcher.WaitExit(wrapper_pid, runc_fd ? kExitEventGraceMs : -1);
  if (auto st = writer->FinishWithWaitStatus(status); !st)
    ctx.log.Error("session " + writer->meta().id + ": seal: " + st.message());
  return 0;
}

// Runs runc as our child, killed if we die, and returns its raw wait status.
Result<int> RunRuncChild(const ExecContext& ctx) {
  auto cargv = CArgv(ctx.args.argv);
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return SysError("fork", ctx.runc, errno);
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(137);
    ::execv(ctx.runc.c_str(), cargv.data());
    _exit(127);
  }
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return SysError("waitpid", ctx.runc, errno);
  }
  return st;
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
  SessionMeta meta = BuildExecMeta(ctx.args, proc, ctx.runc, ctx.config.node_name, ctx.run_dir);
  meta.terminal = false;
  pid_t self = ::getpid();
  auto control = ForkDetached([&](int fd) { return NoteTaker(fd, ctx, meta, self); });
  std::string why;
  if (!control) {
    why = control.message();
  } else {
    auto reply = control::Receive(control->get(), kReadyMs);
    if (!reply)
      why = reply.message();
    else if (reply->type == control::Type::kClosed)
      why = "note-taker exited before it was ready";
    else if (reply->type == control::Type::kFail)
      why = reply->why;
    else if (reply->type != control::Type::kReady)
      why = std::string("note-taker: unexpected answer `") + control::TypeName(reply->type) + "`";
  }
  if (!why.empty()) return Unrecorded(ctx, meta.k8s_namespace, why, "non-terminal exec in");
  if (!ctx.args.exec.detach) return PassThrough(ctx);

  auto status = RunRuncChild(ctx);
  if (!status) {
    (void)control::Send(control->get(), control::EncodeAbort());
    ctx.log.Error("non-terminal exec in " + ctx.args.exec.container_id + ": " + status.message());
    return PassThrough(ctx);
  }
  pid_t exec_pid = ReadPid(ctx.args.exec.pid_file);
  (void)control::Send(control->get(), control::EncodeRan(status.value(), exec_pid));
  int st = status.value();
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

}  // namespace ttyaudit
