// The config file (config/config.h: ParseConfig), and the runtime front's own reader of it
// (config/runc_config.h: ParseRuncConfig), which must agree with it: the front decides, from
// its reading alone, which runc runs and whether an exec that cannot be recorded is refused.
#include "config/config.h"
#include "fuzz/fuzz_input.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  std::string_view text = fuzz::Text(data, size);
  auto full = ParseConfig(text, "config");
  auto front = ParseRuncConfig(text, "config");
  if (!full) return 0;
  fuzz::Check(front.ok(), "the front reads every config that ParseConfig accepts");
  fuzz::Check(front->runc == full->runc, "both readers find the same runc");
  fuzz::Check(front->log_file == full->log_file, "both readers find the same log file");
  fuzz::Check(front->fail_policy == full->fail_policy, "both readers read the same fail policy");
  return 0;
}
