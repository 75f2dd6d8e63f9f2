// A container's /etc/passwd (track/process_json.h: ParsePasswd): the image's author writes it,
// and the user names in it end up in the manifest and in search's table.
#include "fuzz/fuzz_input.h"
#include "track/process_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  UserNames names = ParsePasswd(fuzz::Text(data, size));
  for (const auto& [uid, name] : names)
    fuzz::Check(name.find('\n') == std::string::npos, "a user name is one line's field");
  return 0;
}
