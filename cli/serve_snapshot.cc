#include "cli/serve_snapshot.h"

#include <sys/stat.h>

#include <utility>

#include "base/ids.h"
#include "catalog/catalog.h"
#include "cli/live.h"
#include "store/keys.h"
#include "store/store.h"

namespace ttyaudit {

CoalescedSnapshot::CoalescedSnapshot(RefreshFn refresh, int64_t interval_ns)
    : refresh_(std::move(refresh)), interval_ns_(interval_ns) {}

Result<CoalescedSnapshot::Snapshot> CoalescedSnapshot::Get() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (kept_ && MonotonicNanos() - taken_at_ < interval_ns_) return kept_;
    if (!running_) break;
    // One is being made: take it, whatever it gives.
    const uint64_t run = runs_;
    done_.wait(lock, [&] { return runs_ != run; });
    if (kept_ && MonotonicNanos() - taken_at_ < interval_ns_) return kept_;
    // It failed (or the interval is shorter than a refresh): make one ourselves.
  }
  running_ = true;
  const int64_t started = MonotonicNanos();
  lock.unlock();
  Result<Snapshot> made = refresh_();
  lock.lock();
  running_ = false;
  ++runs_;
  if (made.ok()) {
    kept_ = *made;
    taken_at_ = started;
  }
  done_.notify_all();
  return made;
}

uint64_t CoalescedSnapshot::refreshes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return runs_;
}

uint64_t CoalescedSnapshot::generation() const {
  std::lock_guard<std::mutex> lock(mu_);
  return generation_;
}

void CoalescedSnapshot::MarkChanged() {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
}

ServeStoreReader::ServeStoreReader(const Config& cfg, std::string store_url, int64_t interval_ns)
    : cfg_(cfg),
      store_url_(std::move(store_url)),
      coalesced_([this] { return Refresh(); }, interval_ns) {}

ServeStoreReader::~ServeStoreReader() = default;

// Runs under the coalescer: one refresh at a time, so the store, the catalog handle and the
// caches need no lock of their own.
Result<CoalescedSnapshot::Snapshot> ServeStoreReader::Refresh() {
  if (!store_) {
    auto opened = OpenStore(cfg_, store_url_);
    if (!opened.ok()) return opened.error();
    store_ = std::move(opened.value());
  }
  auto snap = std::make_shared<StoreSnapshot>();
  bool changed = false;
  struct stat st;
  // The configured archive may not exist yet (nothing uploaded): nothing to read there.
  if (!store_->Remote() && stat(store_->Url().substr(7).c_str(), &st) != 0) {
    if (!identity_bodies_.empty() || !live_headers_.empty()) changed = true;
    identity_bodies_.clear();
    live_headers_.clear();
    if (changed) coalesced_.MarkChanged();
    return CoalescedSnapshot::Snapshot(snap);
  }
  if (!catalog_) {
    auto catalog = Catalog::Open(DefaultCatalogPath(store_->Url()), store_->Url());
    if (!catalog.ok()) return catalog.error();
    catalog_ = std::move(catalog.value());
  }
  auto synced = catalog_->Sync(*store_, nullptr);
  if (!synced.ok()) return synced.error();
  changed = changed || synced->segments_read > 0;

  // Identities: `correlate` writes identity/<id>.json, and may write one again (larger or
  // smaller); an object of the same size is not read again.
  auto keys = store_->List(IdentityPrefix());
  if (keys.ok()) {
    std::map<std::string, std::pair<uint64_t, std::string>> bodies;
    for (const auto& e : *keys) {
      auto id = SessionIdOfIdentityKey(e.key);
      if (!id) continue;
      auto known = identity_bodies_.find(e.key);
      if (known != identity_bodies_.end() && known->second.first == e.size) {
        bodies.emplace(e.key, std::move(known->second));
      } else if (auto body = store_->Get(e.key); body.ok()) {
        bodies.emplace(e.key, std::make_pair(e.size, std::move(body.value())));
        changed = true;
      }
      if (auto it = bodies.find(e.key); it != bodies.end())
        snap->identities[*id] = it->second.second;
    }
    changed = changed || bodies.size() != identity_bodies_.size();
    identity_bodies_ = std::move(bodies);
  }

  std::vector<std::string> warnings;
  std::vector<std::string> ids_before;
  for (const auto& [id, m] : live_headers_) ids_before.push_back(id);
  snap->live = ListLiveSessions(*store_, warnings, &live_headers_);
  std::vector<std::string> ids_now;
  for (const auto& [id, m] : live_headers_) ids_now.push_back(id);
  changed = changed || ids_now != ids_before;
  if (changed) coalesced_.MarkChanged();
  return CoalescedSnapshot::Snapshot(snap);
}

}  // namespace ttyaudit
