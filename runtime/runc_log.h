// runc's --log file: containerd's shim shows the client the last error line of it when the
// runtime fails, so ttyaudit's own refusals are written there in runc's format.
#pragma once

#include <string>
#include <string_view>

#include "base/log.h"
#include "base/result.h"
#include "runtime/runc_args.h"

namespace ttyaudit {

/// One error line as runc (logrus) writes it: `{"level":"error","msg":...,"time":...}` for
/// format "json", else logrus's text form `time="..." level=error msg="..."`.
std::string RuncLogErrorLine(std::string_view format, std::string_view msg, int64_t unix_nanos);

/// Appends an error line to runc's --log file `path` (nothing to do when `path` is empty).
Status AppendRuncLogError(const std::string& path, std::string_view format, std::string_view msg);

/// Reports a failure of ttyaudit-runtime itself where each reader looks: `log`, the --log file
/// of the runc call `args` (containerd shows the client its last error line) and stderr.
/// Never stdout, which belongs to the caller of runc.
void ReportFailure(const Logger& log, const RuncArgs& args, std::string_view why);

/// What the client reads when an exec that cannot be recorded is refused (`fail_closed`).
inline std::string FailClosedRefusal(std::string_view why) {
  return "ttyaudit: exec refused: it cannot be recorded and policy is fail_closed: " +
         std::string(why);
}

/// The "msg" of the last {"level":"error"} line of a json-format log text, or empty.
std::string LastRuncLogError(std::string_view log_text);

}  // namespace ttyaudit
