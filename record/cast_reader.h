// Reading asciicast v2 files and event lines back (the format: record/asciicast.h). Apart from
// the writer so that the recorder, which only writes, does not link simdjson.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>

#include "base/result.h"

namespace ttyaudit {

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
  /// The byte offset in the file where the line after the last one read starts: after Next()
  /// returned an event, where a replay that resumes after that event starts reading.
  uint64_t offset() const { return file_pos_ - (buf_.size() - buf_pos_); }
  /// Goes on reading at byte `offset` (an offset() of an earlier read of the same file: the
  /// start of a line). Line numbers in warnings then count from there.
  Status SeekTo(uint64_t offset);
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
  uint64_t file_pos_ = 0;     // bytes read from the file into buf_ so far
  uint64_t line_number_ = 0;  // of line_; the header is line 1
  uint64_t bad_lines_ = 0;
  bool truncated_ = false;
};

}  // namespace ttyaudit
