// ttyaudit-uploader: ships the spool to the store (an S3 bucket, or the local archive).
//
// While a session records, its new whole lines go up every live_interval_s as live chunks
// (live/<id>/<seq>.part, store/keys.h). Once sealed (<id>.json present), or once its recorder is
// gone without sealing (the session is then sealed as "interrupted"), the session goes up as:
//   sessions/date=.../<id>.cast   the recording (multipart above 8 MiB), with object lock and
//                                 SSE when configured
//   sessions/date=.../<id>.json   the manifest, byte for byte as the recorder wrote it (or,
//                                 for an interrupted session, as the uploader made it)
//   sessions/date=.../<id>.sig    the manifest's Ed25519 signature by the node's key
//                                 (store/signing.h)
//   index/date=.../node=.../<id>.json   the manifest plus "key", "cast_size", "cast_sha256"
// in that order, each confirmed before the next; then the session's catalog line goes into the
// spool's segment journal (catalog/segment_journal.h: index-segments/...), then the live chunks
// are deleted, then the spool files. Progress is saved in <id>.upstate after every step, so a
// restart resumes.
// With a file:// store there are no live chunks (the spool is already local) and sealed
// sessions move into the archive under the same keys.
//
// Before a session is shipped, its hash chain is checked against its manifest (record/chain.h)
// and its files must be regular files owned by the uploader's user. A session that fails is
// never shipped: its files move to <spool>/quarantine/ and the reason is logged as an error.
// The node's public key is published once at keys/<node>/<key_id>.pub.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <string>

#include "base/log.h"
#include "base/result.h"
#include "catalog/segment_journal.h"
#include "config/config.h"
#include "record/spool.h"
#include "store/signing.h"
#include "store/store.h"
#include "uploader/upload_state.h"

namespace ttyaudit {

struct UploaderOptions {
  Config config;
  std::string store_url;  // empty: config.StoreUrl()
  int jobs = 4;           // sessions uploaded in parallel
  bool once = false;      // go through the spool once, then return
  /// A session with no manifest, no flock on its .cast and no change for this long is treated
  /// as interrupted (its recorder died) and sealed as such.
  double interrupted_after_s = 30;
  S3RetryPolicy retry;
};

/// Counters shown by --status (and written to <spool>/uploader.status).
struct UploaderStats {
  uint64_t sessions_sealed = 0;
  uint64_t live_chunks = 0;
  uint64_t bytes_sent = 0;
  uint64_t errors = 0;
  uint64_t quarantined = 0;
  std::string last_error;
};

/// Where the uploader's diagnostics go (main: the journal, else stderr).
using LogSink = std::function<void(LogLevel, std::string_view)>;

class Uploader {
 public:
  Uploader(UploaderOptions opts, LogSink log);

  /// Runs until `stop` becomes true (the object in flight is finished first), or with
  /// opts.once until every session in the spool has been handled once. `on_ready` is called
  /// after the store has been opened and the first scan is queued. Returns an error when the
  /// store cannot be opened, or with --once when some session failed.
  Status Run(const std::atomic<bool>& stop, const std::function<void()>& on_ready);

  UploaderStats stats() const;

 private:
  enum class JobKind { kLive, kSeal };
  struct Job {
    SpoolEntry entry;
    JobKind kind;
  };
  struct Sched {
    double next_due = 0;  // monotonic seconds
    bool busy = false;
    int failures = 0;
  };

  void Worker(Store& store);
  Status DoLive(Store& store, const SpoolEntry& e);
  Status DoSeal(Store& store, const SpoolEntry& e);
  /// Why the session must not be shipped (its files or its chain), or empty. `manifest` is
  /// the sealed manifest, or the one made for an interrupted session (which gets its chain).
  std::string Distrust(const SpoolEntry& e, std::string& manifest) const;
  void Quarantine(const SpoolEntry& e, const std::string& why);
  Status PublishKey(Store& store);
  void Schedule(const std::vector<SpoolEntry>& spool, double now, bool first_pass);
  void WriteStatus(uint64_t spool_bytes, size_t sessions);
  PutOptions SealedPutOptions(const std::string& content_type) const;

  UploaderOptions opts_;
  std::unique_ptr<NodeKey> key_;
  bool key_published_ = false;  // under mu_
  void Log(LogLevel level, std::string_view message) const { log_(level, message); }
  LogSink log_;
  bool remote_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::map<std::string, Sched> sched_;
  int busy_ = 0;
  bool stopping_ = false;
  UploaderStats stats_;
  uint64_t failed_once_ = 0;
  std::unique_ptr<SegmentJournal> segments_;         // sealed sessions' lines for the next segment
  std::unique_ptr<SegmentJournal> screen_segments_;  // and their screen texts
};

/// Text for `ttyaudit-uploader --status`: the backlog in the spool now, and the daemon's
/// counters from <spool>/uploader.status when it runs. With `json`, one JSON object.
Result<std::string> UploaderStatusReport(const Config& cfg, bool json);

}  // namespace ttyaudit
