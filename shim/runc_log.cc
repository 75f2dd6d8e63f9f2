#include "shim/runc_log.h"

#include <fcntl.h>
#include <simdjson.h>
#include <unistd.h>

#include <cerrno>

#include "common/ids.h"
#include "common/json.h"

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

std::string LastRuncLogError(std::string_view log_text) {
  namespace od = simdjson::ondemand;
  std::string last;
  od::parser parser;
  size_t start = 0;
  while (start < log_text.size()) {
    size_t end = log_text.find('\n', start);
    if (end == std::string_view::npos) end = log_text.size();
    std::string_view line = log_text.substr(start, end - start);
    start = end + 1;
    if (line.find("\"error\"") == std::string_view::npos) continue;
    simdjson::padded_string padded(line);
    od::document doc;
    std::string_view level, msg;
    if (parser.iterate(padded).get(doc)) continue;
    if (doc["level"].get_string().get(level) || level != "error") continue;
    if (doc["msg"].get_string().get(msg)) continue;
    last = std::string(msg);
  }
  return last;
}

}  // namespace ttyaudit
