// ttyaudit-hook: what the OCI hook does at each stage, separate from main() so tests call it.
#pragma once

#include <string>
#include <string_view>

#include "base/result.h"
#include "config/fail_policy.h"
#include "oci/container_meta.h"

namespace ttyaudit {

struct HookContext {
  std::string run_dir;     // where container metadata and session lists live
  FailPolicy fail_policy;  // the config's fail_closed: when a failure fails the container
};

struct HookOutcome {
  Status status;            // what went wrong, for the log
  bool block = false;       // exit non-zero: only when fail_closed applies to this container
  int sessions_sealed = 0;  // poststop
  std::string container_id;
};

/// Runs one stage with the OCI state JSON the runtime wrote to stdin.
/// createRuntime (also prestart, createContainer, poststart): saves the container metadata.
/// poststop: signals the container's open sessions to seal, then removes the metadata.
/// Unknown stages are an error. Never throws; `block` is set only when fail-closed.
HookOutcome RunHookStage(std::string_view stage, std::string_view state_json,
                         const HookContext& ctx);

}  // namespace ttyaudit
