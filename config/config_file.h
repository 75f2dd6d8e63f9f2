// Where the config file is and how it is read: the one rule every reader of it (LoadConfig,
// LoadRuncConfig, the runtime that parses one reading both ways) follows. libc only.
#pragma once

#include <string>

#include "base/result.h"

namespace ttyaudit {

/// The config file every binary reads: $TTYAUDIT_CONFIG, else /etc/ttyaudit/config.json.
std::string ConfigPath();

/// The config file's text as read once, for each parser to read in its own way.
struct ConfigText {
  std::string path;    // ConfigPath(), for messages
  bool found = false;  // false: the default file does not exist, so the defaults apply
  std::string text;    // the file's bytes, when found
};

/// Reads the config at `path` (at most 4 MiB). A missing file is not an error when it is the
/// default one (`named` false): `found` is false and the defaults apply. A missing file that
/// the user named (`named`: TTYAUDIT_CONFIG), or any file that cannot be read, is an error,
/// since it may say what the defaults do not ("config: open `/etc/x.json`: No such file or
/// directory").
Result<ConfigText> ReadConfigFile(const std::string& path, bool named);

/// ReadConfigFile of ConfigPath(), named when TTYAUDIT_CONFIG is set.
Result<ConfigText> ReadConfigText();

}  // namespace ttyaudit
