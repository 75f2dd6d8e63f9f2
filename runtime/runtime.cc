#include "runtime/runtime.h"

#include <unistd.h>

#include "base/log.h"
#include "config/config.h"
#include "config/runc_config.h"
#include "oci/container_meta.h"
#include "runtime/create_hooks.h"
#include "runtime/exec_meta.h"
#include "runtime/find_runc.h"
#include "runtime/foreground_exec.h"
#include "runtime/plain_exec.h"
#include "runtime/runc_args.h"
#include "runtime/runc_log.h"
#include "runtime/terminal_exec.h"

namespace ttyaudit {

int RuntimeMain(const std::vector<std::string>& argv) {
  Logger log("ttyaudit-runtime", Config{}.log_file);
  RuncArgs args = ParseRuncArgs(argv);
  // The config is read once and parsed twice. The runc is chosen as the front chooses it
  // (runtime/front.h): the config's `runc` even when another key is bad, and no runc at all when
  // the config cannot be read.
  auto text = ReadConfigText();
  Result<RuncConfig> runc_config = text ? RuncConfigFromText(*text) : text.error();
  if (runc_config) log.SetLogFile(runc_config->log_file);
  auto runc = ResolveRealRunc(runc_config);
  if (!runc) {
    ReportFailure(log, args, runc.message());
    return 1;
  }
  Config config;
  std::string config_error;
  if (auto c = ConfigFromText(*text); c.ok())
    config = std::move(c.value());
  else
    config_error = c.message();
  ExecContext ctx{config, log, args, runc.value(), DefaultRunDir()};
  if (!config_error.empty()) {
    // Nothing can be recorded. An exec is refused if the config's fail_closed (read as the
    // front reads it, runtime/front.h) may cover it; anything else goes to runc as it is.
    if (args.command == "exec" && FailClosed(runc_config->fail_policy, kNamespaceUnknown))
      return RefuseExec(ctx, FailClosedRefusal(config_error));
    log.Error(config_error + " (running runc unrecorded until the config is fixed)");
    return PassThrough(ctx);
  }
  if (args.command == "exec") {
    if (args.IsTerminalExec() && args.exec.detach) return RunTerminalExec(ctx);
    if (args.exec.console_socket.empty() && !args.exec.detach && ::isatty(0)) {
      ProcessSpec proc;
      bool read_ok = true;
      if (!args.exec.process_file.empty()) {
        auto p = ReadProcessSpec(args.exec.process_file);
        if (p.ok())
          proc = std::move(p.value());
        else
          read_ok = false;
      }
      if (read_ok && IsForegroundTerminalExec(ctx, proc))
        return RunForegroundTerminalExec(ctx, proc);
    }
    // A console socket without --detach would make runc wait for the process while nobody
    // proxies its terminal: no runtime shim calls runc so; such execs get a note only.
    if (args.IsTerminalExec())
      log.Warning("exec in " + args.exec.container_id +
                  ": --console-socket without --detach: terminal not recorded");
    return RunPlainExec(ctx);
  }
  if (args.command == "create") PrepareCreate(ctx);
  return PassThrough(ctx);
}

}  // namespace ttyaudit
