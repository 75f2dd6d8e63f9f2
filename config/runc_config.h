// The config as ttyaudit-runtime's front reads it: the two keys a runc call that is only passed
// on needs (`runc`, `log_file`), and the `fail_closed` policy (for when ttyaudit-runtime-full
// cannot run). A small strict JSON reader stands in for simdjson so
// that such a call loads nothing but libc; every other key is checked by LoadConfig
// (config/config.h) in the binaries that use it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "config/config_file.h"
#include "config/fail_policy.h"

namespace ttyaudit {

struct RuncConfig {
  std::string runc;  // the real runc; empty means search PATH (config/config.h: Config::runc)
  std::string log_file = "/var/log/ttyaudit.log";
  // `fail_closed` as ParseConfig reads it; a value that ParseConfig rejects closes every
  // namespace (a broken install must not open what the operator closed).
  FailPolicy fail_policy;
};

/// Reads `runc`, `log_file` and `fail_closed` from config JSON text, as ParseConfig would read
/// them (the last of repeated keys wins). Errors name `origin` and what is wrong: text that is
/// not one JSON object ("<origin>: not valid JSON at byte N"), or a `runc`/`log_file` that is not
/// a string ("<origin>: runc: want a string"). Other keys are not checked, nor is `fail_closed`:
/// any value but true, false or a list of non-empty strings closes every namespace.
Result<RuncConfig> ParseRuncConfig(std::string_view json, const std::string& origin);

/// ParseRuncConfig of a config file as read (config/config_file.h); the defaults when there is
/// none.
Result<RuncConfig> RuncConfigFromText(const ConfigText& config);

/// RuncConfigFromText(ReadConfigText()): a missing default file gives the defaults; a missing
/// file that TTYAUDIT_CONFIG names, or one that cannot be read, is an error.
Result<RuncConfig> LoadRuncConfig();

}  // namespace ttyaudit
