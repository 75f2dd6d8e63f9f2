// The uploader's side of the catalog: each sealed session's segment line is appended (and
// fsync'd) to a journal in the spool before the session leaves the spool, and the journal goes
// to the store as one index segment once it is old or long enough, or when the uploader stops.
// A second journal does the same for the sessions' screen texts (screen segments).
//
// The journal is what makes a crash lose nothing: a line is in it before the uploader forgets
// the session, and it stays on disk until its segment has landed. A crash after a segment
// landed and before the journal was cleared writes those lines again in a second segment;
// readers key sessions by id (docs/CATALOG.md), so nothing is counted twice.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"
#include "store/store.h"

namespace ttyaudit {

/// The journal's file in a spool directory (neither .cast nor .json: no reader of the spool
/// takes it for a session).
std::string SegmentJournalPath(const std::string& spool_dir);

/// What a journal holds: index lines (SegmentLine, for index-segments/) or screen-text lines
/// (ScreenSegmentLine, for screen-segments/).
enum class SegmentKind { kIndex, kScreen };

class SegmentJournal {
 public:
  /// A journal of `kind` in `spool_dir`; a segment is due once its oldest line is `interval_s`
  /// old, or it holds `max_lines` lines or `max_bytes` bytes. Lines left by an earlier process
  /// are due at once.
  explicit SegmentJournal(std::string spool_dir, double interval_s = 60, size_t max_lines = 5000,
                          SegmentKind kind = SegmentKind::kIndex, uint64_t max_bytes = 64 << 20);

  /// Appends the segment line of a session from its index entry, durably; false (nothing
  /// written) when the entry makes no line (SegmentLine's error). Thread-safe. kIndex only.
  Result<bool> Add(std::string_view index_entry);

  /// Appends a line made by ScreenSegmentLine, durably. Thread-safe. kScreen only.
  Status AddLine(std::string line);

  /// Writes the journal to `store` as one segment when it is due, or whenever it holds a line
  /// with `force`, and empties it once the segment has landed. One caller at a time.
  Status Flush(Store& store, bool force);

  /// Lines waiting for a segment.
  size_t pending() const;

 private:
  Status Append(std::string line);
  Status WriteSegment(Store& store, const std::string& path);

  SegmentKind kind_;
  std::string path_;
  double interval_s_;
  size_t max_lines_;
  uint64_t max_bytes_;
  mutable std::mutex mu_;  // guards fd_, lines_, bytes_, oldest_ns_
  UniqueFd fd_;
  size_t lines_ = 0;
  uint64_t bytes_ = 0;
  int64_t oldest_ns_ = 0;  // monotonic time of the oldest line; 0 when empty
};

}  // namespace ttyaudit
