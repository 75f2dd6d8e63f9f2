#include "runtime/foreground_exec.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "record/console_proxy.h"
#include "record/pty.h"
#include "record/spool_writer.h"
#include "runtime/subprocess.h"
#include "runtime/terminal_exec.h"

namespace ttyaudit {
namespace {

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return "";
}

[[noreturn]] void ExecRuncOn(const ExecContext& ctx, int slave) {
  UnblockProxySignals();
  ::setsid();
  ::ioctl(slave, TIOCSCTTY, 0);
  for (int fd = 0; fd < 3; ++fd) ::dup2(slave, fd);
  if (slave > 2) ::close(slave);
  auto cargv = CArgv(ctx.args.argv);
  ::execv(ctx.runc.c_str(), cargv.data());
  _exit(127);
}

}  // namespace

bool IsForegroundTerminalExec(const ExecContext& ctx, const ProcessSpec& proc) {
  const RuncExecArgs& ex = ctx.args.exec;
  if (ctx.args.command != "exec" || !ex.console_socket.empty() || ex.detach) return false;
  bool terminal = ex.process_file.empty() ? ex.tty : proc.terminal;
  return terminal && ::isatty(0);
}

int RunForegroundTerminalExec(const ExecContext& ctx, const ProcessSpec& proc) {
  SessionMeta meta = BuildExecMeta(ctx.args, proc, ctx.runc, ctx.config.node_name, ctx.run_dir);
  meta.terminal = true;
  auto unrecorded = [&](const std::string& why) {
    return Unrecorded(ctx, meta.k8s_namespace, why);
  };
  winsize ws{};
  if (::ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
    meta.width = ws.ws_col;
    meta.height = ws.ws_row;
  }
  meta.recorder_pid = ::getpid();
  SessionWriterOptions opts;
  opts.record_input = ctx.config.record_input;
  opts.fsync_interval_s = ctx.config.fsync_interval_s;
  opts.term = EnvValue(proc.env.empty() ? ctx.args.exec.env : proc.env, "TERM");
  for (const auto& a : meta.argv) opts.command += (opts.command.empty() ? "" : " ") + a;
  auto writer = SessionWriter::Create(ctx.config.spool_dir, meta, opts);
  if (!writer) return unrecorded(writer.message());
  auto pty = OpenPty();
  if (!pty) {
    (void)writer.value()->Finish("interrupted", -1, 0);
    return unrecorded(pty.message());
  }
  if (ws.ws_col > 0) ::ioctl(pty->master.get(), TIOCSWINSZ, &ws);
  // runc makes its terminal raw itself; until then ours behaves as the caller's did.
  termios mode{};
  if (::tcgetattr(0, &mode) == 0) ::tcsetattr(pty->slave.get(), TCSANOW, &mode);

  BlockProxySignals();
  pid_t child = ::fork();
  if (child < 0) {
    UnblockProxySignals();
    (void)writer.value()->Finish("interrupted", -1, 0);
    return unrecorded(SysError("fork", ctx.runc, errno).message);
  }
  if (child == 0) ExecRuncOn(ctx, pty->slave.release());
  pty->slave.reset();

  RawMode raw;
  (void)raw.Enter(0);
  ProxyEnds ends{0, 1, pty->master.get(), 0};
  ProxyOptions popts;
  popts.child = child;
  auto outcome = RunConsoleProxy(ends, popts, *writer.value());
  raw.Restore();
  int status = 0;
  if (!outcome.ok() || !outcome->child_reaped) {
    if (!outcome.ok()) ctx.log.Error("session " + meta.id + ": " + outcome.message());
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
  } else {
    status = outcome->wait_status;
  }
  Status st = writer.value()->FinishWithWaitStatus(status);
  if (!st) ctx.log.Error("session " + meta.id + ": seal: " + st.message());
  return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

}  // namespace ttyaudit
