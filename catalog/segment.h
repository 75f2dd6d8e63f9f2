// Index segments: the sessions an uploader sealed, many to an object, as JSON lines under a
// Hive-partitioned prefix that a catalog can list incrementally and Athena, Trino, Spark or
// DuckDB can query as they are (docs/CATALOG.md has the schema and the argument).
//
//   index-segments/date=YYYY-MM-DD/hour=HH/<written, Unix ms, 13 digits>-<node>-<first id>.jsonl
//
// The partitions and the name's leading milliseconds are the time the segment was written, so
// keys sort in write order across nodes and a reader lists only keys after its last one, less
// a grace period (kSegmentGraceMs) that covers clock skew and slow writes.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "record/session_meta.h"
#include "store/keys.h"

namespace ttyaudit {

/// The schema version of a segment line (its "v" member).
constexpr int kSegmentLineVersion = 1;
/// How far before its newest key a reader lists again. A writer whose segment took longer
/// than half of this to land writes it again under a fresh name (SegmentJournal).
constexpr int64_t kSegmentGraceMs = 15 * 60 * 1000;

/// One session's line in a segment (no newline), a function of its per-session index entry
/// (the manifest plus "key", "cast_size" and "cast_sha256") alone: the uploader and `reindex`
/// write the same line for the same session. An error when the entry is not one.
Result<std::string> SegmentLine(std::string_view index_entry);

/// A session as its segment line describes it.
struct CatalogEntry {
  SessionMeta meta;           // exit_code -1 and signal 0 where the line has null
  std::string commands_json;  // the manifest's "commands", compact JSON; "[]" when none
  bool escalated = false;
  std::string key;  // the .cast's key under the store's root
  uint64_t cast_size = 0;
  std::string cast_sha256;
  std::string signed_by;  // the node key that signed the manifest once the uploader had checked
                          // the recording's hash chain against it; empty: shipped unsigned
};

/// Parses and checks one line (every member's type; the id a UUID; the key under sessions/).
Result<CatalogEntry> ParseSegmentLine(std::string_view line);

/// A session's screen text as a screen segment holds it (docs/CATALOG.md):
/// {"v":1,"id":"...","node":"...","text":"..."}, "text" null when the session has none (the
/// emulator could not read its recording). No newline.
std::string ScreenSegmentLine(std::string_view id, std::string_view node,
                              const std::optional<std::string>& text);

struct ScreenSegmentEntry {
  std::string id, node;
  std::optional<std::string> text;
};

/// Parses and checks one screen segment line (the id a UUID, the text a string or null).
Result<ScreenSegmentEntry> ParseScreenSegmentLine(std::string_view line);

}  // namespace ttyaudit
