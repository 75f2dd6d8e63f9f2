// LastRuncLogError, apart from the writers in runc_log.cc: it needs simdjson, which the
// runtime's front (runtime/front.h) must not load.
#include <simdjson.h>

#include "runtime/runc_log.h"

namespace ttyaudit {

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
