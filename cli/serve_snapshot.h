// What `ttyaudit serve` reads from its store once for many requests: the catalog's sync, the
// Kubernetes identities (identity/) and the running sessions (live/), at most once per interval
// and shared by every request that comes meanwhile, so that a page costs its query, not a
// listing of the bucket.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "base/result.h"
#include "cli/search.h"
#include "config/config.h"

namespace ttyaudit {

class Catalog;
class Store;

/// Runs `refresh` for callers of Get: at most once per `interval_ns`, and once for all the
/// callers that come while it runs (they wait for it and take its result). A result older than
/// the interval is made again by the next caller; a failed one is not kept.
class CoalescedSnapshot {
 public:
  using Snapshot = std::shared_ptr<const StoreSnapshot>;
  using RefreshFn = std::function<Result<Snapshot>()>;
  CoalescedSnapshot(RefreshFn refresh, int64_t interval_ns);

  Result<Snapshot> Get();
  /// How many times `refresh` ran.
  uint64_t refreshes() const;
  /// Changes whenever a refresh saw the store change (ChangedSince).
  uint64_t generation() const;
  /// For `refresh`: the store changed since the last result (new segments, identities or live
  /// sessions).
  void MarkChanged();

 private:
  RefreshFn refresh_;
  int64_t interval_ns_;
  mutable std::mutex mu_;
  std::condition_variable done_;
  bool running_ = false;
  uint64_t runs_ = 0;
  uint64_t generation_ = 0;
  int64_t taken_at_ = 0;  // MonotonicNanos when the kept result's refresh started
  Snapshot kept_;
};

/// The store serve reads, refreshed through a CoalescedSnapshot: one Store and one Catalog
/// handle, used by one refresh at a time; identity objects and live sessions' headers already
/// read are not read again.
class ServeStoreReader {
 public:
  ServeStoreReader(const Config& cfg, std::string store_url, int64_t interval_ns = 1000000000);
  ~ServeStoreReader();
  /// A snapshot at most the interval old (made now when older), for SearchQuery::snapshot.
  Result<CoalescedSnapshot::Snapshot> Fresh() { return coalesced_.Get(); }
  /// Changes whenever the store's sessions, identities or running sessions changed.
  uint64_t generation() const { return coalesced_.generation(); }

 private:
  Result<CoalescedSnapshot::Snapshot> Refresh();
  const Config& cfg_;
  std::string store_url_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Catalog> catalog_;
  std::map<std::string, std::pair<uint64_t, std::string>> identity_bodies_;  // key: size, body
  std::map<std::string, SessionMeta> live_headers_;                          // by id
  CoalescedSnapshot coalesced_;
};

}  // namespace ttyaudit
