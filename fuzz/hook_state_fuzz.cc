// The OCI state a runtime gives a hook on stdin (oci/oci_bundle.h: ParseHookState), with the
// container's annotations, and what the hook makes of it (oci/container_meta.h).
#include "fuzz/fuzz_input.h"
#include "oci/container_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto state = ParseHookState(fuzz::Text(data, size));
  if (!state) return 0;
  ContainerMeta m = ContainerMetaFromState(*state);
  // The hook saves this for the recorders of later execs: it must read back as it was.
  auto back = ParseContainerMeta(ContainerMetaToJson(m));
  fuzz::Check(back.ok(), "saved container metadata parses");
  fuzz::Check(back->id == m.id && back->pod == m.pod && back->image == m.image &&
                  back->annotations == m.annotations && back->pid == m.pid,
              "saved container metadata reads back unchanged");
  return 0;
}
