// The tracker hub's routing: which subscriber each process event belongs to. Pure bookkeeping
// (no sockets, /proc through replaceable readers), so that tests can feed it synthetic events.
//
// Each subscriber tracks a set of live processes: its root and everything the set forks from
// then on, as in ProcessTable, but with no history (the client keeps the records). An event is
// routed by one hash lookup of its subject (a fork's parent, else the process): an untracked
// event, nearly every event of a busy node, costs that lookup and nothing else. The /proc
// snapshot of an exec is read once, however many subscribers track the process.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "track/proc_events.h"
#include "track/proc_snapshot.h"
#include "track/tracker_wire.h"

namespace ttyaudit {

/// How the hub looks at a process: a full snapshot at exec, the cwd at fork.
struct HubReaders {
  ProcReader snapshot = ReadProcSnapshot;
  std::function<std::string(pid_t)> cwd;  // empty: snapshot(pid).cwd
};

class HubRouter {
 public:
  using Id = uint64_t;
  explicit HubRouter(HubReaders readers = {});

  /// A new subscriber tracking `root` and what it starts; events the kernel stamped before
  /// `now_ns` are not its own (they happened before it asked).
  Id Add(pid_t root, int64_t now_ns);
  void Remove(Id id);
  /// Narrows `id` to `pid` and its descendants (tracking `pid` if it was not): the processes
  /// on the way from the old root to `pid`, and what they started besides, are dropped. A
  /// process whose line to the root is broken (an ancestor already exited) is kept: routing
  /// a few events too many is harmless, the client's table ignores them.
  void Reroot(Id id, pid_t pid);

  /// Routes one event to the subscribers that track its subject; returns true if any did.
  /// `given`: what the source read of the process at the event (else the readers are asked).
  bool OnEvent(const ProcEvent& e, const ProcSnapshot* given = nullptr);
  /// Reads now what OnEvent will need for `e` (an exec's snapshot, a fork's cwd) if some
  /// subscriber tracks its subject: the wake-up socket delivers a tracked event at once, while
  /// the record socket holds it behind the host's backlog. OnEvent uses (and forgets) it.
  /// A tracked process's fork also puts the child in the tracked set for the wake-up filter
  /// at once (tracked_version() changes), so that the child's exec wakes the hub and is read
  /// then, not when the backlog reaches the fork: a /bin/rm lives under a millisecond.
  void Prefetch(const ProcEvent& e);
  /// After lost events: `procs` is every (pid, ppid) on the host at `now_ns`. Each subscriber
  /// forgets what is gone, adopts untracked children of what it tracks, and is sent a RESYNC
  /// with its processes (adopted ones with a snapshot) and `lost`.
  void Resync(const std::vector<std::pair<pid_t, pid_t>>& procs, uint64_t lost, int64_t now_ns);

  /// Closes the subscriber's open EVENTS batch into its outbox.
  void Flush(Id id);
  /// Packets waiting for the subscriber, oldest first (the server sends and pops them).
  std::deque<std::string>& Outbox(Id id);
  /// Bytes in the outbox and the open batch.
  size_t QueuedBytes(Id id) const;
  void NoteSent(Id id, size_t bytes);

  bool Has(Id id) const { return subs_.count(id) != 0; }
  bool Tracks(Id id, pid_t pid) const;
  size_t subscriber_count() const { return subs_.size(); }
  /// Every process some subscriber tracks (for the wake-up filter), and a version that changes
  /// when that set gains a member.
  std::vector<pid_t> TrackedPids() const;
  uint64_t tracked_version() const { return version_; }
  size_t tracked_count() const { return index_.size(); }
  /// Live processes summed over subscribers (an idle session tracks one: its shell).
  size_t live_total() const { return live_total_; }

 private:
  struct Subscriber {
    std::unordered_map<pid_t, pid_t> live;  // tracked pid -> the tracked parent it forked from
    int64_t since_ns = 0;
    int64_t resync_ns = 0;
    tracker_wire::EventBatch batch;
    std::deque<std::string> outbox;
    size_t outbox_bytes = 0;
  };
  void Track(Id id, Subscriber& s, pid_t pid, pid_t parent);
  void Untrack(Id id, Subscriber& s, pid_t pid);
  void Append(Subscriber& s, const ProcEvent& e, const ProcSnapshot* snap);

  // (pid, kernel time) of an event -> what was read when its wake-up came.
  struct EventKey {
    pid_t pid;
    int64_t time_ns;
    bool operator<(const EventKey& o) const {
      return pid != o.pid ? pid < o.pid : time_ns < o.time_ns;
    }
  };
  ProcSnapshot Read(const ProcEvent& e);

  HubReaders readers_;
  std::map<EventKey, ProcSnapshot> prefetched_;
  // Children whose fork woke us, until OnEvent reaches that fork: pid -> fork time.
  std::unordered_map<pid_t, int64_t> early_;
  Id next_id_ = 1;
  std::map<Id, Subscriber> subs_;
  std::unordered_map<pid_t, std::vector<Id>> index_;  // tracked pid -> subscribers
  uint64_t version_ = 0;
  size_t live_total_ = 0;
};

}  // namespace ttyaudit
