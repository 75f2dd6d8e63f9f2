// Session metadata as a manifest or an index entry holds it (record/session_meta_read.h:
// ParseSessionMeta): the recorder writes it, but the CLI reads it from a bucket that others
// may write, and most of its strings come from the container.
#include "fuzz/fuzz_input.h"
#include "record/session_meta_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto m = ParseSessionMeta(fuzz::Text(data, size));
  if (!m) return 0;
  // What the uploader writes back (the index entry) must read as it was.
  std::string json = m->ToJson();
  auto back = ParseSessionMeta(json);
  fuzz::Check(back.ok(), "written session metadata parses");
  fuzz::Check(back->ToJson() == json, "session metadata reads back unchanged");
  (void)JoinArgv(m->argv);
  (void)ShellStatus(*m);
  return 0;
}
