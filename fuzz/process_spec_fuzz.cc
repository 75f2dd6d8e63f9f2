// runc's --process file (runtime/exec_meta.h: ParseProcessSpec): written by whoever runs
// `runc exec`, with argv, env and cwd from the exec's caller.
#include "fuzz/fuzz_input.h"
#include "record/session_meta.h"
#include "runtime/exec_meta.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  auto spec = ParseProcessSpec(fuzz::Text(data, size));
  if (!spec) return 0;
  // What a session keeps of it: the env split and redacted.
  auto env = RedactEnv(spec->env);
  fuzz::Check(env.size() == spec->env.size(), "every env entry is kept, redacted or not");
  return 0;
}
