// What the runtime wrapper knows about one runc call, passed to every step explicitly.
#pragma once

#include <string>

#include "common/config.h"
#include "common/log.h"
#include "shim/runc_args.h"

namespace ttyaudit {

struct ExecContext {
  const Config& config;
  const Logger& log;
  const RuncArgs& args;
  std::string runc;  // the real runc
  // Where the wrapper makes its own console sockets.
  std::string run_dir = "/run/ttyaudit";
};

}  // namespace ttyaudit
