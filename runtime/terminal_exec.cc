#include "runtime/terminal_exec.h"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

#include "runtime/console_socket.h"
#include "runtime/control.h"
#include "runtime/exec_meta.h"
#include "runtime/recorder.h"
#include "runtime/runc_log.h"
#include "runtime/subprocess.h"

namespace ttyaudit {
namespace {

constexpr int kRecorderReadyMs = 5000;
constexpr int kHandoverMs = 5000;
constexpr int kConsoleMs = 5000;

std::string EnvValue(const std::vector<std::string>& env, std::string_view name) {
  for (const auto& e : env)
    if (e.size() > name.size() && e.compare(0, name.size(), name) == 0 && e[name.size()] == '=')
      return e.substr(name.size() + 1);
  return "";
}

pid_t ReadPidFile(const std::string& path) {
  if (path.empty()) return 0;
  std::ifstream in(path);
  long pid = 0;
  in >> pid;
  return pid > 0 ? static_cast<pid_t>(pid) : 0;
}

// Gives the recorder runc's pty master (`inner`) and waits for it to hand its own to the shim.
// An error says why it did not.
Status HandOverThroughRecorder(int control, pid_t exec_pid, int inner) {
  if (auto st = control::Send(control, control::EncodeGo(exec_pid), inner); !st) return st;
  auto reply = control::Receive(control, kHandoverMs);
  if (!reply) return reply.error();
  switch (reply->type) {
    case control::Type::kHanded:
      return {};
    case control::Type::kFail:
      return Error{reply->why};
    case control::Type::kClosed:
      return Error{"recorder exited before the handover"};
    default:
      return Error{std::string("recorder: unexpected answer `") + control::TypeName(reply->type) +
                   "`"};
  }
}

}  // namespace

int Unrecorded(const ExecContext& ctx, NamespaceScope ns, const std::string& why,
               const std::string& what) {
  if (FailClosed(ctx.config.fail_policy, ns)) return RefuseExec(ctx, FailClosedRefusal(why));
  ctx.log.Error(what + " " + ctx.args.exec.container_id +
                " proceeds UNRECORDED (fail-open): " + why);
  return PassThrough(ctx);
}

int RefuseExec(const ExecContext& ctx, const std::string& why) {
  ReportFailure(ctx.log, ctx.args, why);
  return 1;
}

int PassThrough(const ExecContext& ctx) {
  Error e = ExecPath(ctx.runc, ctx.args.argv);
  ReportFailure(ctx.log, ctx.args, "ttyaudit-runtime: run the real runc: " + e.message);
  return 1;
}

int RunTerminalExec(const ExecContext& ctx) {
  const RuncExecArgs& ex = ctx.args.exec;
  ProcessSpec proc;
  if (!ex.process_file.empty()) {
    auto p = ReadProcessSpec(ex.process_file);
    if (!p) return Unrecorded(ctx, kNoNamespace, p.message());
    proc = std::move(p.value());
  }
  SessionMeta meta = BuildExecMeta(ctx.args, proc, ctx.runc, ctx.config.node_name, ctx.run_dir);
  std::string term = EnvValue(proc.env.empty() ? ex.env : proc.env, "TERM");
  auto control = StartRecorder(ctx, meta, term, kRecorderReadyMs);
  if (!control) return Unrecorded(ctx, meta.k8s_namespace, control.message());
  auto listener = ConsoleListener::Create(ctx.run_dir);
  if (!listener) {
    (void)control::Send(control->get(), control::EncodeAbort());
    return Unrecorded(ctx, meta.k8s_namespace, listener.message());
  }

  auto pid = Spawn(ctx.runc, WithConsoleSocket(ctx.args, listener->path()));
  if (!pid) {
    (void)control::Send(control->get(), control::EncodeAbort());
    return Unrecorded(ctx, meta.k8s_namespace, pid.message());
  }
  (void)control::Send(control->get(), control::EncodeRunc(pid.value()));
  auto code = WaitExitCode(pid.value());
  if (!code || code.value() != 0) {
    // runc said why in its --log; the shim shows that, as without ttyaudit.
    (void)control::Send(control->get(), control::EncodeAbort());
    return code ? code.value() : 1;
  }
  pid_t exec_pid = ReadPidFile(ex.pid_file);
  auto inner = listener->AcceptMaster(kConsoleMs);
  listener->Remove();
  if (!inner) {
    (void)control::Send(control->get(), control::EncodeAbort());
    if (exec_pid > 0) ::kill(exec_pid, SIGKILL);
    return RefuseExec(ctx, "ttyaudit: runc exec gave no console: " + inner.message());
  }
  Status handed = HandOverThroughRecorder(control->get(), exec_pid, inner->get());
  if (handed) return 0;
  if (FailClosed(ctx.config.fail_policy, meta.k8s_namespace)) {
    if (exec_pid > 0) ::kill(exec_pid, SIGKILL);
    return RefuseExec(ctx, FailClosedRefusal(handed.message()));
  }
  ctx.log.Error("exec in container " + ex.container_id +
                " proceeds UNRECORDED (fail-open): " + handed.message());
  // Fail-open after runc ran: give the shim runc's own master, unrecorded.
  if (auto st = SendMasterTo(ex.console_socket, inner->get()); !st) {
    if (exec_pid > 0) ::kill(exec_pid, SIGKILL);
    return RefuseExec(ctx, "ttyaudit: hand the console to the shim: " + st.message());
  }
  return 0;
}

}  // namespace ttyaudit
