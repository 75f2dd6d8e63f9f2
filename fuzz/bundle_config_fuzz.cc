// An OCI bundle's config.json (oci/oci_bundle.h): the container's creator writes it, with its
// annotations, mounts and root. ttyaudit reads it for every exec and rewrites it at `create`.
#include "fuzz/fuzz_input.h"
#include "oci/oci_bundle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ttyaudit;
  std::string_view text = fuzz::Text(data, size);
  const bool parses = ParseBundleConfig(text).ok();
  HookOptions opts;
  opts.env = {"TTYAUDIT_CONFIG=/etc/ttyaudit/config.json"};
  auto once = AddHooksToConfig(text, "/usr/bin/ttyaudit-hook", opts);
  if (!once) return 0;
  // What AddHooks writes from a config that reads must read back (it adds hooks only; a
  // config whose mounts or root are malformed stays so), and adding the hooks again changes
  // nothing.
  if (parses) fuzz::Check(ParseBundleConfig(*once).ok(), "a config with the hooks added parses");
  auto twice = AddHooksToConfig(*once, "/usr/bin/ttyaudit-hook", opts);
  fuzz::Check(twice.ok(), "hooks can be added to a config with the hooks added");
  fuzz::Check(*twice == *once, "adding the hooks twice is adding them once");
  return 0;
}
