// `runc create`: ttyaudit-hook is added to the bundle's config.json before runc reads it, so
// that the container's metadata is on the node when its execs are recorded and its open
// sessions are sealed when it stops. Fail-open: a bundle that cannot be changed is logged and
// the container starts without the hook.
#pragma once

#include <string>

#include "runtime/exec_context.h"

namespace ttyaudit {

/// Adds ttyaudit-hook (the binary beside this one, when there is one) to the bundle of a
/// `create`. The hook gets TTYAUDIT_CONFIG and TTYAUDIT_RUN_DIR when they are set (runc gives
/// hooks no environment).
void PrepareCreate(const ExecContext& ctx);

/// The path of ttyaudit-hook installed beside `self_exe`, or empty when there is none.
std::string HookBinaryBeside(const std::string& self_exe);

}  // namespace ttyaudit
