#include "runtime/runc_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "base/ids.h"
#include "base/json.h"

namespace ttyaudit {

std::string RuncLogErrorLine(std::string_view format, std::string_view msg, int64_t unix_nanos) {
  std::string line;
  if (format == "json") {
    line = "{\"level\":\"error\",\"msg\":";
    AppendJsonString(line, msg);
    line += ",\"time\":";
    AppendJsonString(line, FormatRfc3339(unix_nanos));
    line += "}\n";
  } else {
    line = "time=\"" + FormatRfc3339(unix_nanos) + "\" level=error msg=";
    AppendJsonString(line, msg);  // logrus quotes with Go's %q: the same escapes for text
    line += "\n";
  }
  return line;
}

Status AppendRuncLogError(const std::string& path, std::string_view format, std::string_view msg) {
  if (path.empty()) return {};
  std::string line = RuncLogErrorLine(format, msg, RealtimeNanos());
  int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return SysError("open runc log", path, errno);
  ssize_t n = ::write(fd, line.data(), line.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(line.size())) return SysError("write runc log", path, err);
  return {};
}

void ReportFailure(const Logger& log, const RuncArgs& args, std::string_view why) {
  log.Error(why);
  if (auto st = AppendRuncLogError(args.log, args.log_format, why); !st) log.Error(st.message());
  std::string line(why);
  line += '\n';
  ssize_t n = ::write(2, line.data(), line.size());
  (void)n;
}

}  // namespace ttyaudit
