// OpenEbpfSource in a build without clang, bpftool or libbpf (CMakeLists.txt): the hub uses
// the proc connector.
#include "track/ebpf/ebpf_source.h"

namespace ttyaudit {

Result<std::unique_ptr<ProcEventSource>> OpenEbpfSource(size_t, bool) {
  return Error{"ebpf: this ttyaudit-tracker was built without eBPF support"};
}

}  // namespace ttyaudit
