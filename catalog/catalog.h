// The catalog: a local SQLite cache of a store's sessions, filled from its index segments
// (segment.h) and searched with SQL, so that a search costs what it returns and a repeated
// search reads only the segments written since the last one. The design: docs/CATALOG.md.
//
// The cache is derived data: the per-session index entries are the truth, the segments are
// built from them (by the uploader, or by RebuildSegments), and the cache from the segments.
// Deleting the cache file costs one full read of the segments, nothing else.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "base/result.h"
#include "catalog/filter.h"
#include "catalog/segment.h"
#include "store/store.h"

struct sqlite3;

namespace ttyaudit {

/// How far a sync (or a reindex) has got, for a progress line.
struct SyncProgress {
  uint64_t keys_listed = 0;
  uint64_t segments_read = 0;
  uint64_t sessions_indexed = 0;
  uint64_t bad_lines = 0;  // lines skipped (not a session line of a known version), and
                           // segments too large to be ours (over 256 MiB)
  bool done = false;
};
using ProgressFn = std::function<void(const SyncProgress&)>;
/// Opens another handle on the same store, for a reader thread of its own.
using StoreOpener = std::function<Result<std::unique_ptr<Store>>()>;

/// Where the cache of the store at `store_url` lives: $TTYAUDIT_CACHE_DIR, else
/// $XDG_CACHE_HOME/ttyaudit, else ~/.cache/ttyaudit, then catalog-<hash of the URL>.sqlite.
std::string DefaultCatalogPath(const std::string& store_url);

class Catalog {
 public:
  /// Opens (creating it, mode 0600, with its directory) the cache at `path` for the store at
  /// `store_url`. A cache of another schema version or another store is emptied first; one
  /// SQLite cannot read is deleted and made again.
  static Result<std::unique_ptr<Catalog>> Open(const std::string& path,
                                               const std::string& store_url);
  ~Catalog();
  Catalog(const Catalog&) = delete;
  Catalog& operator=(const Catalog&) = delete;

  /// Reads the segments the cache has not seen: those listed after the newest one it has read
  /// less kSegmentGraceMs, several at a time through stores from `open_store` (when given).
  /// A segment that cannot be read is an error (the cache keeps what it read before it); a
  /// line that is not a session is counted in bad_lines and skipped.
  Result<SyncProgress> Sync(Store& store, const ProgressFn& progress,
                            const StoreOpener& open_store = nullptr);

  /// The sessions that pass `m`'s filter, newest first, at most filter().limit (0: all).
  Result<std::vector<CatalogEntry>> Query(const FilterMatcher& m);

  /// How many sessions the cache holds.
  Result<uint64_t> Count();

  /// Reads the screen segments the cache has not seen into its text index, as Sync reads the
  /// index segments (its own position, the same grace period). Each session's text is kept
  /// once, whichever segments hold it.
  Result<SyncProgress> SyncScreenText(Store& store, const ProgressFn& progress,
                                      const StoreOpener& open_store = nullptr);

  /// Puts the screen text (docs/SCREEN.md) of each of `sessions` (id, recording key) that the
  /// cache does not hold yet into its text index, read from the store beside the recording; a
  /// session without one (recorded before screen text existed) is remembered as such.
  /// Returns how many were read from the store.
  Result<uint64_t> FillScreenText(Store& store,
                                  const std::vector<std::pair<std::string, std::string>>& sessions);

  struct TextMatches {
    std::set<std::string> matched;       // screen text matches
    std::set<std::string> without_text;  // no screen text in the store: the caller decides
  };
  /// Which of `ids` have screen text in which some line matches `re`: the text index is asked
  /// first for `literal` (RequiredLiteral of the pattern; none when shorter than 3 characters),
  /// then `re` runs over the lines of the rows it returns.
  Result<TextMatches> MatchScreenText(const std::vector<std::string>& ids, const std::regex& re,
                                      const std::string& literal);

 private:
  explicit Catalog(sqlite3* db) : db_(db) {}
  /// Open, once; `unreadable` says whether SQLite found the file corrupt or not a database.
  static Result<std::unique_ptr<Catalog>> OpenOnce(const std::string& path,
                                                   const std::string& store_url, bool& unreadable);
  Status Exec(const char* sql);
  struct NewSegments {
    std::vector<std::string> keys;  // to read, in key order
    std::vector<int64_t> ms;        // their write times
    int64_t watermark = -1;         // the position, moved past the keys already read
  };
  /// Lists the segments under `prefix` after the position `mark_key` (in meta) less the grace
  /// period, and keeps those not read yet.
  Result<NewSegments> ListNewSegments(Store& store, std::string_view prefix, const char* mark_key,
                                      SyncProgress& p);
  sqlite3* db_;
};

/// The screen text stored beside the recording at `cast_key` (at most `max_bytes` of it), or
/// nullopt when the store has none.
Result<std::optional<std::string>> FetchScreenText(Store& store, const std::string& cast_key,
                                                   uint64_t max_bytes = 4 << 20);

/// Whether some line of `text` matches `re`.
bool AnyLineMatches(std::string_view text, const std::regex& re);

/// Rebuilds a store's segments from its per-session index entries (the truth): reads every
/// index/ entry (with `jobs` readers, each a store opened by `open_store`), writes their lines,
/// sorted by id, as segments of at most `lines_per_segment` lines, then deletes every segment
/// that was there before. Segments written meanwhile by uploaders are kept. Returns what it
/// read; bad_lines counts index entries that are not sessions (named in `warnings`).
Result<SyncProgress> RebuildSegments(
    Store& store, const std::function<Result<std::unique_ptr<Store>>()>& open_store, int jobs,
    size_t lines_per_segment, const ProgressFn& progress, std::vector<std::string>& warnings);

}  // namespace ttyaudit
