#include "shim/create_hooks.h"

namespace ttyaudit {

void PrepareCreate(const ExecContext& ctx) {
  // Until common/oci_bundle.h lands there is nothing to add: create passes through as is.
  (void)ctx;
}

}  // namespace ttyaudit
