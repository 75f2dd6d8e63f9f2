#include "config/config_file.h"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "base/files.h"
#include "config/trust.h"

namespace ttyaudit {
namespace {

constexpr const char* kDefaultConfigPath = "/etc/ttyaudit/config.json";

const char* NamedConfigPath() {
  const char* env = std::getenv("TTYAUDIT_CONFIG");
  return env && *env ? env : nullptr;
}

}  // namespace

std::string ConfigPath() {
  const char* named = NamedConfigPath();
  return named ? named : kDefaultConfigPath;
}

Result<ConfigText> ReadConfigFile(const std::string& path, bool named) {
  ConfigText config;
  config.path = path;
  // A config names the runc run as root: one that someone else could have written is refused.
  if (::access(path.c_str(), F_OK) == 0)
    if (Status st = CheckConfigTrusted(path); !st) return Error{"config: " + st.message()};
  auto text = ReadSmallFile(path);
  if (text) {
    config.found = true;
    config.text = std::move(text.value());
    return config;
  }
  if (!named && ::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return config;
  return Error{"config: " + text.message()};
}

Result<ConfigText> ReadConfigText() {
  return ReadConfigFile(ConfigPath(), NamedConfigPath() != nullptr);
}

}  // namespace ttyaudit
