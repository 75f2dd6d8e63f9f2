// Following a session while it is recorded, wherever it can be read: the node's spool (the
// growing .cast) or a store's live chunks (live/<id>/<seq>.part, store/keys.h), up to its end,
// which the sealed recording completes. One engine for `ttyaudit watch` and the viewer's live
// page.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "record/cast_reader.h"
#include "record/session_meta.h"
#include "store/store.h"

namespace ttyaudit {

/// How often a follower reads from where it follows (one LIST of the live prefix per interval
/// for a store; a file is watched with inotify, and read at least this often without it).
struct LiveTiming {
  int store_list_interval_ms = 500;
  int spool_poll_interval_ms = 100;
};

class LiveSource;

/// Follows one session. Every byte of it is hostile: lines are bounded (a line or chunk over
/// the limits below is skipped with a warning, never loaded), and events come back re-encoded
/// as well-formed asciicast v2. Memory stays bounded: nothing holds the whole session.
class LiveFollower {
 public:
  /// Finds the session `id` (a full id, a unique prefix of 8+ characters, or a .cast path): in
  /// this node's spool (unless `store_url` is given), else in the store's live chunks
  /// (`store_url`, else the config's), else sealed in the store's index, which it then reads
  /// to the end. An error ("no session with id ...") when none has it.
  static Result<std::unique_ptr<LiveFollower>> Open(const Config& cfg, const std::string& store_url,
                                                    const std::string& id,
                                                    const LiveTiming& timing = {});
  ~LiveFollower();
  LiveFollower(const LiveFollower&) = delete;
  LiveFollower& operator=(const LiveFollower&) = delete;

  /// The session's asciicast v2 header line, as it was when the session started.
  const std::string& Header() const;
  /// New asciicast v2 event lines (no newline; "o"/"i" data as valid UTF-8), possibly none:
  /// waits up to `timeout_ms` for something new. An error only when the source cannot be read
  /// at all; lines it skips are in TakeWarnings().
  Result<std::vector<std::string>> Poll(int timeout_ms);
  /// Poll, as events with their exact recorded bytes (what `watch` writes).
  Result<std::vector<CastEvent>> PollEvents(int timeout_ms);
  /// Sealed, and every event returned.
  bool Ended() const;

  /// The session's metadata: from the header, then, once Ended(), its final state and exit
  /// status when the seal says them.
  const SessionMeta& Meta() const;
  /// "spool", "file" or the store URL it follows.
  const std::string& Where() const;
  /// What was skipped since the last call (a line too long, a chunk too big, a bad line).
  std::vector<std::string> TakeWarnings();

  /// A line longer than this is skipped; a live chunk larger than this is not fetched.
  static constexpr size_t kMaxLine = 8 << 20;
  static constexpr uint64_t kMaxChunk = 32ULL << 20;

 private:
  LiveFollower() = default;
  Result<std::vector<CastEvent>> Events(int timeout_ms);
  std::unique_ptr<LiveSource> source_;
  EventLineParser parser_;
  uint64_t line_number_ = 1;  // the header is line 1
};

/// The bookkeeping of a follower over one session's live chunks: which keys it has taken, which
/// are new in a listing, and whether the chunks are gone (the uploader removes them once the
/// session is sealed). A listing starts after the key before the last chunk taken, so that the
/// last one shows again for as long as it exists.
class LiveChunkCursor {
 public:
  explicit LiveChunkCursor(std::string id);

  /// The key to list LiveChunkPrefix(id) after.
  std::string ListStart() const;

  struct Step {
    std::vector<StoreEntry> fetch;  // new chunks, in order
    bool gone = false;              // the last chunk taken is no longer listed
    std::vector<std::string> warnings;
  };
  /// Reads one listing of the prefix after ListStart().
  Step Take(const std::vector<StoreEntry>& listed) const;
  /// Records that chunk `e` (one of Take's) was read or skipped: `e.size` bytes of the .cast.
  void Consumed(const StoreEntry& e);

  /// Bytes of the .cast the chunks taken so far hold.
  uint64_t offset() const { return offset_; }
  /// False once a chunk was missing between two taken: offset() then no longer says where the
  /// sealed recording goes on.
  bool contiguous() const { return contiguous_; }
  bool any() const { return !last_key_.empty(); }

  /// The sequence number a live chunk key of this session carries, or -1 for another key.
  int64_t SeqOf(const std::string& key) const;

 private:
  std::string prefix_;
  std::string last_key_;
  int64_t last_seq_ = -1;
  uint64_t offset_ = 0;
  bool contiguous_ = true;
};

/// The sessions a store is recording now: one per id under live/ whose chunk 0 holds a header,
/// as its header says (state "recording"). Reads the first bytes of each chunk 0 only, and not
/// even those for an id in `known` (headers read by an earlier call, which a header never
/// changes): `known` is then left holding the headers of the sessions listed now.
std::vector<SessionMeta> ListLiveSessions(Store& store, std::vector<std::string>& warnings,
                                          std::map<std::string, SessionMeta>* known = nullptr);

}  // namespace ttyaudit
