// An asciicast file (record/cast_reader.h): its events hold the container's output byte for
// byte, and a recording may come from a bucket that others write. Also the header's ttyaudit
// object (record/session_meta_read.h: SessionMetaFromHeader).
#include <unistd.h>

#include "fuzz/fuzz_input.h"
#include "record/cast_reader.h"
#include "record/session_meta_read.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  FILE* f = fuzz::Stream(data, size);
  if (f == nullptr) return 0;
  auto reader = CastReader::FromFile(f, "fuzz.cast");
  if (!reader) return 0;
  (void)SessionMetaFromHeader(reader->header());
  CastEvent ev;
  uint64_t events = 0;
  while (true) {
    auto got = reader->Next(ev);
    fuzz::Check(got.ok(), "reading from memory never fails");
    if (!*got) break;
    ++events;
    fuzz::Check(ev.data.size() <= size, "an event is no larger than the file");
  }
  fuzz::Check(events + reader->bad_lines() <= size, "every event or bad line takes a byte");
  return 0;
}
