#include "tracker/hub.h"

#include <algorithm>
#include <unordered_set>

namespace ttyaudit {
namespace {

// An exec's snapshot that would not fit one packet loses arguments from the end.
const ProcSnapshot* Fitting(const ProcSnapshot* snap, ProcSnapshot& trimmed) {
  constexpr size_t kRoom = tracker_wire::kMaxPacket - 256;
  if (snap == nullptr || tracker_wire::EventBatch::EncodedSize({}, snap) <= kRoom) return snap;
  trimmed = *snap;
  if (trimmed.cwd.size() > 4096) trimmed.cwd.resize(4096);
  while (!trimmed.argv.empty() && tracker_wire::EventBatch::EncodedSize({}, &trimmed) > kRoom)
    trimmed.argv.pop_back();
  return &trimmed;
}

}  // namespace

HubRouter::HubRouter(HubReaders readers) : readers_(std::move(readers)) {}

HubRouter::Id HubRouter::Add(pid_t root, int64_t now_ns) {
  Id id = next_id_++;
  Subscriber& s = subs_[id];
  s.since_ns = now_ns;
  Track(id, s, root, 0);
  return id;
}

void HubRouter::Remove(Id id) {
  auto it = subs_.find(id);
  if (it == subs_.end()) return;
  std::vector<pid_t> pids;
  for (const auto& [pid, parent] : it->second.live) pids.push_back(pid);
  for (pid_t p : pids) Untrack(id, it->second, p);
  subs_.erase(it);
}

void HubRouter::Track(Id id, Subscriber& s, pid_t pid, pid_t parent) {
  auto [it, added] = s.live.emplace(pid, parent);
  if (!added) {
    it->second = parent;
    return;
  }
  index_[pid].push_back(id);
  ++version_;
  ++live_total_;
}

void HubRouter::Untrack(Id id, Subscriber& s, pid_t pid) {
  if (s.live.erase(pid) == 0) return;
  --live_total_;
  auto it = index_.find(pid);
  if (it == index_.end()) return;
  std::erase(it->second, id);
  if (it->second.empty()) index_.erase(it);
}

void HubRouter::Reroot(Id id, pid_t pid) {
  auto sit = subs_.find(id);
  if (sit == subs_.end()) return;
  Subscriber& s = sit->second;
  if (!s.live.count(pid)) Track(id, s, pid, 0);
  // Walk each process's line of tracked parents: through `pid` it is kept; ending at another
  // root it is dropped; broken (a parent no longer tracked) it is kept.
  enum State { kIn, kOut, kUnknown };
  std::unordered_map<pid_t, State> state;
  std::vector<pid_t> drop;
  for (const auto& [start, first_parent] : s.live) {
    std::vector<pid_t> path;
    State result = kUnknown;
    for (pid_t cur = start;;) {
      if (cur == pid) {
        result = kIn;
        break;
      }
      if (auto known = state.find(cur); known != state.end()) {
        result = known->second;
        break;
      }
      auto it = s.live.find(cur);
      if (it == s.live.end() || path.size() > s.live.size()) break;  // broken (or a cycle)
      path.push_back(cur);
      if (it->second == 0) {
        result = kOut;
        break;
      }
      cur = it->second;
    }
    for (pid_t p : path) state[p] = result;
    if (result == kOut) drop.push_back(start);
  }
  for (pid_t p : drop) Untrack(id, s, p);
  s.live[pid] = 0;
}

void HubRouter::Append(Subscriber& s, const ProcEvent& e, const ProcSnapshot* snap) {
  size_t size = tracker_wire::EventBatch::EncodedSize(e, snap);
  if (s.batch.count() > 0 && s.batch.size() + size > tracker_wire::kMaxPacket) {
    std::string p = s.batch.Take();
    s.outbox_bytes += p.size();
    s.outbox.push_back(std::move(p));
  }
  s.batch.Add(e, snap);
}

ProcSnapshot HubRouter::Read(const ProcEvent& e) {
  if (auto it = prefetched_.find({e.tgid, e.time_ns}); it != prefetched_.end()) {
    ProcSnapshot s = std::move(it->second);
    prefetched_.erase(it);
    return s;
  }
  ProcSnapshot s;
  if (e.kind == ProcEvent::kFork)
    s.cwd = readers_.cwd ? readers_.cwd(e.tgid) : readers_.snapshot(e.tgid).cwd;
  else
    s = readers_.snapshot(e.tgid);
  return s;
}

void HubRouter::Prefetch(const ProcEvent& e) {
  if ((e.kind != ProcEvent::kExec && e.kind != ProcEvent::kFork) || e.is_thread()) return;
  bool tracked =
      index_.count(e.subject()) != 0 || (e.kind == ProcEvent::kExec && early_.count(e.tgid) != 0);
  if (!tracked) return;
  // Bounded: entries whose event never reaches OnEvent (lost in an overrun) must not pile up.
  if (prefetched_.size() >= 4096) prefetched_.clear();
  if (early_.size() >= 4096) early_.clear();
  prefetched_[{e.tgid, e.time_ns}] = Read(e);
  if (e.kind == ProcEvent::kFork && early_.emplace(e.tgid, e.time_ns).second) ++version_;
}

bool HubRouter::OnEvent(const ProcEvent& e, const ProcSnapshot* given) {
  if (e.kind == ProcEvent::kNone || e.is_thread()) return false;
  if (e.kind == ProcEvent::kFork) early_.erase(e.tgid);  // tracked below, or not at all
  auto it = index_.find(e.subject());
  if (it == index_.end()) return false;
  const std::vector<Id> ids = it->second;  // tracking may change the index below
  bool routed = false;
  bool have_snap = false;
  ProcSnapshot snap, trimmed;
  const ProcSnapshot* to_send = nullptr;
  auto read_once = [&] {
    if (have_snap) return;
    have_snap = true;
    snap = given ? *given : Read(e);
    to_send = Fitting(&snap, trimmed);
  };
  for (Id id : ids) {
    Subscriber& s = subs_.at(id);
    if (e.time_ns < s.since_ns) continue;  // before it subscribed
    switch (e.kind) {
      case ProcEvent::kFork:
        // Already adopted by a resync that this event predates.
        if (s.live.count(e.tgid) && e.time_ns <= s.resync_ns) continue;
        read_once();
        Track(id, s, e.tgid, e.parent_tgid);
        Append(s, e, to_send);
        break;
      case ProcEvent::kExec:
        read_once();
        Append(s, e, to_send);
        break;
      case ProcEvent::kUid:
        Append(s, e, nullptr);
        break;
      case ProcEvent::kExit:
        Append(s, e, nullptr);
        Untrack(id, s, e.tgid);
        break;
      case ProcEvent::kNone:
        continue;
    }
    routed = true;
  }
  return routed;
}

void HubRouter::Resync(const std::vector<std::pair<pid_t, pid_t>>& procs, uint64_t lost,
                       int64_t now_ns) {
  std::unordered_map<pid_t, pid_t> ppid_of(procs.begin(), procs.end());
  for (auto& [id, s] : subs_) {
    std::vector<pid_t> gone;
    for (const auto& [pid, parent] : s.live)
      if (!ppid_of.count(pid)) gone.push_back(pid);
    for (pid_t p : gone) Untrack(id, s, p);
    std::unordered_set<pid_t> adopted;
    for (bool changed = true; changed;) {
      changed = false;
      for (const auto& [pid, ppid] : procs) {
        if (s.live.count(pid) || !s.live.count(ppid)) continue;
        Track(id, s, pid, ppid);
        adopted.insert(pid);
        changed = true;
      }
    }
    std::vector<ResyncProc> list;
    size_t bytes = 0;
    for (const auto& [pid, parent] : s.live) {
      ResyncProc p;
      p.pid = pid;
      p.ppid = ppid_of[pid];
      // Snapshots while they fit one packet; past that the client reads /proc itself.
      if (adopted.count(pid) && bytes < tracker_wire::kMaxPacket / 2) {
        p.snapshot = readers_.snapshot(pid);
        p.has_snapshot = true;
        bytes += tracker_wire::EventBatch::EncodedSize({}, &p.snapshot);
      }
      list.push_back(std::move(p));
    }
    Flush(id);
    std::string packet = tracker_wire::EncodeResync(lost, now_ns, list);
    s.outbox_bytes += packet.size();
    s.outbox.push_back(std::move(packet));
    s.resync_ns = now_ns;
  }
}

void HubRouter::Flush(Id id) {
  auto it = subs_.find(id);
  if (it == subs_.end() || it->second.batch.count() == 0) return;
  std::string p = it->second.batch.Take();
  it->second.outbox_bytes += p.size();
  it->second.outbox.push_back(std::move(p));
}

std::deque<std::string>& HubRouter::Outbox(Id id) { return subs_.at(id).outbox; }

size_t HubRouter::QueuedBytes(Id id) const {
  auto it = subs_.find(id);
  return it == subs_.end() ? 0 : it->second.outbox_bytes + it->second.batch.size();
}

void HubRouter::NoteSent(Id id, size_t bytes) {
  auto it = subs_.find(id);
  if (it != subs_.end()) it->second.outbox_bytes -= std::min(bytes, it->second.outbox_bytes);
}

bool HubRouter::Tracks(Id id, pid_t pid) const {
  auto it = subs_.find(id);
  return it != subs_.end() && it->second.live.count(pid) != 0;
}

std::vector<pid_t> HubRouter::TrackedPids() const {
  std::vector<pid_t> out;
  out.reserve(index_.size() + early_.size());
  for (const auto& [pid, ids] : index_) out.push_back(pid);
  for (const auto& [pid, fork_ns] : early_)
    if (!index_.count(pid)) out.push_back(pid);
  return out;
}

}  // namespace ttyaudit
