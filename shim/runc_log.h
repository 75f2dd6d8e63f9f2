// runc's --log file: containerd's shim shows the client the last error line of it when the
// runtime fails, so ttyaudit's own refusals are written there in runc's format.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"

namespace ttyaudit {

/// One error line as runc (logrus) writes it: `{"level":"error","msg":...,"time":...}` for
/// format "json", else logrus's text form `time="..." level=error msg="..."`.
std::string RuncLogErrorLine(std::string_view format, std::string_view msg, int64_t unix_nanos);

/// Appends an error line to runc's --log file `path` (nothing to do when `path` is empty).
Status AppendRuncLogError(const std::string& path, std::string_view format, std::string_view msg);

/// The "msg" of the last {"level":"error"} line of a json-format log text, or empty.
std::string LastRuncLogError(std::string_view log_text);

}  // namespace ttyaudit
