// runc's --log file (runtime/runc_log.h: LastRuncLogError): runc writes it, with messages that
// quote the container's own errors.
#include "fuzz/fuzz_input.h"
#include "runtime/runc_log.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  std::string_view text = fuzz::Text(data, size);
  std::string msg = LastRuncLogError(text);
  fuzz::Check(msg.size() <= text.size(), "the message is no longer than the log");
  return 0;
}
