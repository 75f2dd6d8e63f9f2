// Where process events come from. A tracker (ProcTracker in a recorder, the hub in
// ttyaudit-tracker) keeps the tracked set and is the sink; a source reads the kernel's events,
// or the hub's, and hands them over in kernel order. Sources: the proc connector read here
// (proc_connector_source.h), the node's hub (hub_source.h). A new source is one more
// implementation of ProcEventSource, chosen where its tracker opens its source.
#pragma once

#include <poll.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "track/proc_events.h"
#include "track/proc_snapshot.h"

namespace ttyaudit {

/// A process alive after events were lost, as a rescan found it.
struct ResyncProc {
  pid_t pid = 0;
  pid_t ppid = 0;
  bool has_snapshot = false;  // the source read it (else the sink reads /proc itself)
  ProcSnapshot snapshot;
};

/// What a source delivers to, and asks of, the tracker that keeps the tracked set.
class ProcEventSink {
 public:
  virtual ~ProcEventSink() = default;
  /// One event, in kernel order. `snapshot` is what the source read of the process at the
  /// event (an exec's argv, cwd and ids; a fork's child cwd); nullptr: the sink reads /proc.
  virtual void OnEvent(const ProcEvent& e, const ProcSnapshot* snapshot) = 0;
  /// An event of a tracked process seen ahead of the ordered stream (the proc connector's
  /// wake-up socket): the sink may read /proc for it now. OnEvent follows for the same event.
  virtual void OnEarly(const ProcEvent& e) {}
  /// Events were lost (at least `lost` of them). `procs` is every process alive at `time_ns`
  /// that the sink may track (a host scan, or the hub's list of the session's processes).
  virtual void OnLost(uint64_t lost, int64_t time_ns, std::vector<ResyncProc>& procs) = 0;
  /// The processes whose events matter (a source may filter on them), and a version that
  /// changes whenever the set gains a member.
  virtual uint64_t TrackedVersion() const = 0;
  virtual std::vector<pid_t> TrackedPids() const = 0;
  /// True while the sink wants every event at once (a busy session); false lets a source read
  /// the host's events in batches and wake only for tracked ones.
  virtual bool WantsPromptEvents() const { return true; }
};

/// A stream of process events, read on its tracker's thread between polls:
///   for (;;) { fds = {own...}; t = src.Prepare(fds, sink); poll(fds, t); src.Read(sink); }
class ProcEventSource {
 public:
  virtual ~ProcEventSource() = default;
  /// How the tracker gets its events, for the manifest's tracking.via: "local", "hub".
  virtual std::string name() const = 0;
  /// What reads the kernel's events, for the manifest's tracking.source: "proc_connector",
  /// "ebpf" (through the hub: what the hub reads with).
  virtual std::string reads() const = 0;
  /// Called once on the thread that will read, before the first Prepare.
  virtual void OnReaderThread() {}
  /// Appends the fds to wait on (POLLIN) and returns the longest wait before the next Read
  /// (ms; -1: until an fd is ready).
  virtual int Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) = 0;
  /// Reads what is ready without blocking and delivers it. False once the source has ended
  /// for good (ended() says why); the tracker then falls back to another source.
  virtual bool Read(ProcEventSink& sink) = 0;
  virtual std::string ended() const { return {}; }
  /// The tracked set changed outside of events (subscribed, rerooted, dropped): a source that
  /// filters updates its filter now to `pids`, the set at `version` (ProcEventSink).
  virtual void Retrack(uint64_t version, const std::vector<pid_t>& pids) {}
  /// The session is narrowed to `pid` and its descendants (a source that tracks on its own
  /// side, like the hub, narrows there too).
  virtual void Reroot(pid_t pid) {}
  /// Events read (tracked or not), for the benchmark.
  virtual uint64_t events_read() const = 0;
};

}  // namespace ttyaudit
