// Reading asciicast v2 files and event lines back (the format: record/asciicast.h). Apart from
// the writer so that the recorder, which only writes, does not link simdjson.
#pragma once

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

/// Reads an asciicast v2 file: the header line, then events. Memory stays bounded by the
/// longest line (lines over 64 MiB are an error).
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
  /// recorder was killed mid-write) ends the stream and sets truncated().
  Result<bool> Next(CastEvent& ev);
  bool truncated() const { return truncated_; }

 private:
  Result<bool> ReadLine();
  FILE* f_ = nullptr;
  std::string name_;
  std::string header_;
  std::string line_;
  EventLineParser parser_;
  char* buf_ = nullptr;
  size_t cap_ = 0;
  bool truncated_ = false;
};

}  // namespace ttyaudit
