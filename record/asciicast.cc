#include "record/asciicast.h"

#include "base/ids.h"
#include "base/json.h"
#include "base/utf8.h"

namespace ttyaudit {

void AppendEventLine(std::string& out, double t, std::string_view code, std::string_view data) {
  char ts[40];
  int n = std::snprintf(ts, sizeof ts, "[%.6f, ", t);
  out.append(ts, static_cast<size_t>(n));
  AppendJsonString(out, code);
  out += ", ";
  AppendJsonString(out, data);
  out += "]\n";
}

void EventEncoder::Emit(std::string& out, double t, char stream, std::string_view data) {
  const char code[2] = {stream, 0};
  if (IsValidUtf8(data)) {
    AppendEventLine(out, t, code, data);
  } else {
    AppendEventLine(out, t, "b", Base64Encode(data));
    AppendEventLine(out, t, code, ToValidUtf8Lossy(data));
  }
}

void EventEncoder::Append(std::string& out, double t, char stream, std::string_view data) {
  std::string& held = held_[stream == 'o' ? 0 : 1];
  std::string joined;
  if (!held.empty()) {
    joined = std::move(held);
    joined.append(data);
    held.clear();
    data = joined;
  }
  size_t tail = IncompleteUtf8Tail(data);
  if (tail) {
    held.assign(data.substr(data.size() - tail));
    data.remove_suffix(tail);
  }
  if (!data.empty()) Emit(out, t, stream, data);
}

void EventEncoder::Flush(std::string& out, double t) {
  for (int i = 0; i < 2; ++i) {
    if (held_[i].empty()) continue;
    Emit(out, t, i == 0 ? 'o' : 'i', held_[i]);
    held_[i].clear();
  }
}

size_t WholeLines(std::string_view data) {
  size_t nl = data.rfind('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

}  // namespace ttyaudit
