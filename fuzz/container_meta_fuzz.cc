// The container metadata file a hook leaves in the run dir (oci/container_meta.h:
// ParseContainerMeta), whose strings come from the container's annotations.
#include "fuzz/fuzz_input.h"
#include "oci/container_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto m = ParseContainerMeta(fuzz::Text(data, size));
  if (!m) return 0;
  SessionMeta s;
  ApplyContainerMeta(*m, s);
  return 0;
}
