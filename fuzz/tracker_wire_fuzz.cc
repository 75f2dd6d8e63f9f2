// The tracker hub's messages (track/tracker_wire.h: Decode): any process that can reach the
// hub's socket sends them, and the hub's replies carry argv and cwd from the node's processes.
#include "fuzz/fuzz_input.h"
#include "track/tracker_wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto m = tracker_wire::Decode(fuzz::Text(data, size));
  if (!m) return 0;
  if (m->type == tracker_wire::Type::kResync) {
    // What the hub sends on must decode as it was.
    auto back = tracker_wire::Decode(tracker_wire::EncodeResync(m->lost, m->time_ns, m->procs));
    fuzz::Check(back.ok() && back->procs.size() == m->procs.size(), "a resync round-trips");
  }
  return 0;
}
