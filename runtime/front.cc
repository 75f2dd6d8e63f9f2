#include "runtime/front.h"

#include "base/log.h"
#include "config/runc_config.h"
#include "runtime/find_runc.h"
#include "runtime/runc_log.h"
#include "runtime/subprocess.h"

namespace ttyaudit {
namespace {

// Reports `why` (the logger is made only here: the pass-through path needs none) and returns
// the exit code.
int Fail(const RuncArgs& args, const std::string& log_file, const std::string& why) {
  Logger log(kRuntimeFrontName, log_file);
  ReportFailure(log, args, why);
  return 1;
}

}  // namespace

bool NeedsFullRuntime(const RuncArgs& args) {
  return args.command == "exec" || args.command == "create";
}

std::string FullRuntimeBeside(const std::string& self_exe) {
  return self_exe.substr(0, self_exe.rfind('/') + 1) + kRuntimeFullName;
}

int RunFront(const std::vector<std::string>& argv) {
  RuncArgs args = ParseRuncArgs(argv);
  std::string unrecorded;  // why ttyaudit-runtime-full, which this call needs, cannot run
  if (NeedsFullRuntime(args)) {
    Error e = ExecPath(FullRuntimeBeside(SelfExe()), argv);
    unrecorded = std::string("cannot run ") + kRuntimeFullName + " (installed beside " +
                 kRuntimeFrontName + "): " + e.message;
  }
  auto config = LoadRuncConfig();
  std::string log_file = config ? config->log_file : RuncConfig{}.log_file;
  if (!unrecorded.empty()) {
    // Recording cannot start: the policy decides, as the full runtime's would (Unrecorded in
    // runtime/terminal_exec.h). A config that cannot be read says neither policy nor runc.
    if (!config) return Fail(args, log_file, "ttyaudit-runtime: " + unrecorded);
    if (args.command == "exec" && FailClosed(config->fail_policy, kNamespaceUnknown))
      return Fail(args, log_file, FailClosedRefusal(unrecorded));
    // A create only adds the hook, and without it a container still runs (fail-open, as
    // runtime/create_hooks.cc does when the hook cannot be added).
    Logger(kRuntimeFrontName, log_file)
        .Error(args.command == "exec"
                   ? "exec in container " + args.exec.container_id +
                         " proceeds UNRECORDED (fail-open): " + unrecorded
                   : "container " + args.create.container_id +
                         " starts without ttyaudit-hook (fail-open): " + unrecorded);
  }
  auto runc = ResolveRealRunc(config);
  if (!runc) return Fail(args, log_file, runc.message());
  Error e = ExecPath(runc.value(), argv);
  return Fail(args, log_file, "ttyaudit-runtime: run the real runc: " + e.message);
}

}  // namespace ttyaudit
