// The asciicast v2 event stream: encoding recorded bytes as lines (reading them back:
// record/cast_reader.h).
//
// asciicast strings are UTF-8 JSON. Bytes that are not well-formed UTF-8 are recorded twice:
// a ttyaudit "b" event with the exact bytes in base64, immediately followed by the ordinary
// "o"/"i" event with those bytes as a terminal would display them (each bad byte as U+FFFD).
// Players ignore the unknown "b" code and show the "o" text; ttyaudit's reader takes the "b"
// bytes instead, so `ttyaudit cat` reproduces the stream byte for byte.
#pragma once

#include <string>
#include <string_view>

namespace ttyaudit {

/// Appends one event line `[t, "code", "data"]\n`; `data` must be valid UTF-8.
void AppendEventLine(std::string& out, double t, std::string_view code, std::string_view data);

/// Turns recorded bytes into event lines. Holds back a trailing incomplete UTF-8 sequence
/// per stream, so a character split across two reads is recorded whole.
class EventEncoder {
 public:
  /// Appends the line(s) for `data` on stream 'o' or 'i' at `t` seconds.
  void Append(std::string& out, double t, char stream, std::string_view data);
  /// Appends whatever is still held back (as raw bytes); call at the end of the session.
  void Flush(std::string& out, double t);

 private:
  void Emit(std::string& out, double t, char stream, std::string_view data);
  std::string held_[2];  // [0] output, [1] input
};

/// Length of the longest prefix of `data` that ends in '\n' (0 when there is none): where a
/// stream of event lines can be cut into pieces that are each whole lines.
size_t WholeLines(std::string_view data);

}  // namespace ttyaudit
