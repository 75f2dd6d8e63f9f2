// What the runtime wrapper knows about one runc call, passed to every step explicitly.
#pragma once

#include <string>

#include "base/log.h"
#include "config/config.h"
#include "runtime/runc_args.h"

namespace ttyaudit {

struct ExecContext {
  const Config& config;
  const Logger& log;
  const RuncArgs& args;
  std::string runc;  // the real runc
  // ttyaudit's run directory (DefaultRunDir(): $TTYAUDIT_RUN_DIR, else /run/ttyaudit): the
  // wrapper's console sockets, the hook's container metadata, the recorders' registrations.
  std::string run_dir;
};

}  // namespace ttyaudit
