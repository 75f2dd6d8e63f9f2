// The config as ttyaudit-runtime's front reads it: where the file is, the two keys a runc call
// that is only passed on needs (`runc`, `log_file`), and whether any exec is `fail_closed` (for
// when ttyaudit-runtime-full cannot run). A small strict JSON reader stands in for simdjson so
// that such a call loads nothing but libc; every other key is checked by LoadConfig
// (config/config.h) in the binaries that use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ttyaudit {

/// The config file every binary reads: $TTYAUDIT_CONFIG, else /etc/ttyaudit/config.json.
std::string ConfigPath();

/// A config file larger than this is an error, for both readers.
inline constexpr size_t kMaxConfigBytes = 1 << 20;

struct RuncConfig {
  std::string runc;  // the real runc; empty means search PATH (config/config.h: Config::runc)
  std::string log_file = "/var/log/ttyaudit.log";
  // `fail_closed` is true, or lists any Kubernetes namespace, or is malformed: some exec may have
  // to be refused when it cannot be recorded. The front cannot tell an exec's namespace, so it
  // takes a list as closed for all (a broken install must not open what the operator closed).
  bool any_fail_closed = false;
};

/// Reads `runc`, `log_file` and `fail_closed` from config JSON text, as ParseConfig would read
/// them (the last of repeated keys wins). Errors name `origin` and what is wrong: text that is
/// not one JSON object ("<origin>: not valid JSON at byte N"), or a `runc`/`log_file` that is not
/// a string ("<origin>: runc: want a string"). Other keys are not checked, nor is `fail_closed`:
/// any value but false or an empty list counts as closed.
Result<RuncConfig> ParseRuncConfig(std::string_view json, const std::string& origin);

/// Reads ConfigPath() as LoadConfig does: a missing default file gives the defaults; a missing
/// file that TTYAUDIT_CONFIG names, or one that cannot be read, is an error.
Result<RuncConfig> LoadRuncConfig();

}  // namespace ttyaudit
