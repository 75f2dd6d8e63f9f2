// `runc create`: the seam where ttyaudit-hook is added to the bundle's config.json before runc
// reads it (common/oci_bundle.h, from the process-tracking work). Fail-open: a bundle that
// cannot be changed is logged and the container starts without the hook.
#pragma once

#include "shim/exec_context.h"

namespace ttyaudit {

/// Adds ttyaudit-hook to the bundle of a `create`, when that support is built in.
void PrepareCreate(const ExecContext& ctx);

}  // namespace ttyaudit
