#include "shim/front.h"

#include "common/log.h"
#include "common/runc_config.h"
#include "shim/find_runc.h"
#include "shim/runc_log.h"
#include "shim/subprocess.h"

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
  if (NeedsFullRuntime(args)) {
    Error e = ExecPath(FullRuntimeBeside(SelfExe()), argv);
    auto config = LoadRuncConfig();
    return Fail(args, config ? config->log_file : RuncConfig{}.log_file,
                std::string("ttyaudit-runtime: run ") + kRuntimeFullName + " (installed beside " +
                    kRuntimeFrontName + "): " + e.message);
  }
  auto config = LoadRuncConfig();
  std::string log_file = config ? config->log_file : RuncConfig{}.log_file;
  auto runc = ResolveRealRunc(config);
  if (!runc) return Fail(args, log_file, runc.message());
  Error e = ExecPath(runc.value(), argv);
  return Fail(args, log_file, "ttyaudit-runtime: run the real runc: " + e.message);
}

}  // namespace ttyaudit
