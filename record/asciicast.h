// The asciicast v2 event stream: encoding recorded bytes as lines, and reading them back.
//
// asciicast strings are UTF-8 JSON. Bytes that are not well-formed UTF-8 are recorded twice:
// a ttyaudit "b" event with the exact bytes in base64, immediately followed by the ordinary
// "o"/"i" event with those bytes as a terminal would display them (each bad byte as U+FFFD).
// Players ignore the unknown "b" code and show the "o" text; ttyaudit's reader takes the "b"
// bytes instead, so `ttyaudit cat` reproduces the stream byte for byte.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "base/result.h"

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

struct CastEvent {
  double time = 0;
  std::string code;  // "o", "i", "r", "m", ...
  std::string data;  // exact bytes for "o"/"i" (raw bytes restored), else the string
};

/// Parses event lines one at a time, pairing each "b" line with the event it restores.
class EventLineParser {
 public:
  /// Parses `line` (no newline; may be resized for padding). True when `ev` holds an event;
  /// false for a line that only prepares the next one or is another tool's event shape.
  Result<bool> Parse(std::string& line, CastEvent& ev, const std::string& origin);

 private:
  std::string raw_;
  bool have_raw_ = false;
};

/// Reads an asciicast v2 file: the header line, then events. Memory stays bounded: a line is
/// never held past 64 MiB. A line that is too long or not an event is skipped with a warning on
/// stderr that names its line number; a file that ends in the middle of a line is reported
/// there too.
class CastReader {
 public:
  CastReader() = default;
  CastReader(CastReader&& o) noexcept;
  CastReader& operator=(CastReader&& o) noexcept;
  CastReader(const CastReader&) = delete;
  ~CastReader();

  /// Opens `path` and reads its header line.
  static Result<CastReader> Open(const std::string& path);
  /// Reads from an open stream (taking ownership of `f`).
  static Result<CastReader> FromFile(FILE* f, const std::string& name);

  /// The header line as written (trailing padding removed).
  const std::string& header() const { return header_; }

  /// Reads the next event into `ev`: true, or false at the end. A last line cut short (the
  /// recorder was killed mid-write) ends the stream and sets truncated(). An error only when
  /// the file cannot be read.
  Result<bool> Next(CastEvent& ev);
  bool truncated() const { return truncated_; }
  /// Lines skipped so far because they were too long or not events.
  uint64_t bad_lines() const { return bad_lines_; }

 private:
  Result<bool> ReadLine();
  FILE* f_ = nullptr;
  std::string name_;
  std::string header_;
  std::string line_;
  EventLineParser parser_;
  std::string buf_;  // read ahead of line_
  size_t buf_pos_ = 0;
  uint64_t line_number_ = 0;  // of line_; the header is line 1
  uint64_t bad_lines_ = 0;
  bool truncated_ = false;
};

}  // namespace ttyaudit
