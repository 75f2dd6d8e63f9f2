// What ran in a session: every descendant of the session's first process, from the kernel's
// process events, tracked on a thread of the recorder.
//
// ProcTracker keeps the session's ProcessTable (process_table.h) and feeds it from one event
// source (proc_event_source.h): the node's tracker hub when it can be reached (hub_source.h;
// its design and cost model: tracker/README.md), else the proc connector read here
// (proc_connector_source.h). If the hub's connection ends mid-session, the tracker opens the
// proc connector itself, rescans /proc for the tree, counts a lost event and records when it
// happened; the manifest's tracking.via says which ("hub", "local", "hub, then local").
//
// No race at subscription. Open() subscribes "the spawner (the process that will fork the
// session's first process) and what it starts from now on" and returns only when the source
// listens (the hub's acknowledgement; the sockets subscribed); the session's first process is
// forked after that (ttyaudit rec and track: the recorder itself; the runtime's recorder: the
// wrapper, which forks runc after "ready"). Start(pid) and Reroot(pid) then narrow the session
// to `pid`'s subtree, here and in the hub.
//
// In-process, the idle session (only its shell alive, nothing tracked for 0.5 s) sleeps on
// the proc connector's wake-up socket and reads the host's backlog every 50 ms; active, it
// reads every event as it comes. Events carry their own time (CLOCK_MONOTONIC), so batching
// does not blur start and end.
//
// Limits of the proc connector (the hub's eBPF source reads argv in the kernel at the exec:
// tracker/README.md): argv is read from /proc when the exec is seen; a process that exits
// first is still recorded from its fork/exec/exit events, with argv [comm] (argv_from_comm)
// if it is a zombie, or an empty argv once reaped. A program that runs as a fork without exec
// (busybox ash runs rm, cp, ... that way) shows its shell's argv with exec false. Lost events
// (a receive buffer overrun) are counted in lost_events and the tracked processes re-found by
// scanning /proc (by the hub, for each subscriber: a RESYNC message).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "track/proc_event_source.h"
#include "track/process_json.h"
#include "track/process_table.h"

namespace ttyaudit {

struct ProcTrackerOptions {
  /// Session start (CLOCK_MONOTONIC ns): times in the JSON are offsets from it.
  int64_t session_start_mono_ns = 0;
  /// Socket receive buffer (SO_RCVBUFFORCE): room for bursts while the thread is descheduled.
  int rcvbuf_bytes = 8 << 20;
  ProcReader reader = ReadProcSnapshot;
  /// Run the reading thread at SCHED_FIFO 1 (else nice -10) so that argv is read before
  /// short-lived processes exit (in-process tracking only: the hub does it for its clients).
  bool realtime = true;
  /// Track through the node's hub whose socket is in this run directory (DefaultRunDir()),
  /// starting it when none runs; empty, or the hub unreachable: track in-process.
  std::string hub_run_dir;
  /// The hub's program; empty: ttyaudit-tracker next to /proc/self/exe.
  std::string hub_exe;
  /// The process that will fork the session's first process (the hub tracks it from Open on,
  /// so that nothing that process starts is missed); 0: this process.
  pid_t spawner_pid = 0;
};

/// Tracks one session's processes on a thread of its own.
///
/// Use: Open() before the session's first process is forked (events queue on the socket from
/// then on), fork it, Start(pid). For a runtime exec, start with the runtime's pid and
/// Reroot(exec_pid) once the pid file is read. Stop() when the session has ended, then write
/// the records. All methods are safe to call from another thread than the tracker's own.
class ProcTracker : private ProcEventSink {
 public:
  /// With `hub_run_dir`: subscribes to the hub (the spawner is tracked once this returns).
  /// Else, or when the hub cannot be reached or started: opens and subscribes the netlink
  /// sockets here, and problem() says why the hub was not used. Fails without CAP_NET_ADMIN,
  /// or outside the initial network namespace ("proc connector: ...").
  static Result<std::unique_ptr<ProcTracker>> Open(const ProcTrackerOptions& opts);
  ~ProcTracker();
  ProcTracker(const ProcTracker&) = delete;
  ProcTracker& operator=(const ProcTracker&) = delete;

  /// Tracks `root_pid` and its descendants and starts the reading thread.
  Status Start(pid_t root_pid);
  /// Sets the session's start (CLOCK_MONOTONIC ns) when it was not known at Open(): the
  /// JSON's times are offsets from it. A SessionWriter `w` started at
  /// MonotonicNanos() - int64_t(w.Now() * 1e9).
  void SetSessionStart(int64_t mono_ns);
  /// See ProcessTable::Reroot. Typed commands not yet taken are recomputed for the new root;
  /// ones already taken are not withdrawn.
  void Reroot(pid_t pid);
  /// Readable (an eventfd) while typed commands wait in TakeCommands(); poll it in the proxy.
  int command_fd() const { return command_fd_.get(); }
  std::vector<CommandEvent> TakeCommands();
  /// Waits up to `grace_ms` for the root (and, if `wait_all`, every tracked process) to exit,
  /// so that exit events still queued are read, then stops the thread. Idempotent.
  void Stop(int grace_ms, bool wait_all = false);

  /// The root's raw wait status once its exit was seen.
  bool RootExited(int* wait_status) const;
  /// Events the kernel dropped because the socket buffer was full.
  uint64_t lost_events() const;
  /// Events read from the socket (tracked or not), for the benchmark.
  uint64_t events_read() const;
  /// The longest time an event waited between the kernel and the tracker (ns).
  int64_t max_lag_ns() const;
  /// "hub", "local", or "hub, then local" once the hub's connection was lost ("hub, then
  /// none" if in-process tracking could not take over).
  std::string via() const;
  /// What read the kernel's events: "proc_connector", "ebpf" (the hub's), or "ebpf, then
  /// proc_connector" after a fallback.
  std::string source() const;
  /// Why tracking is not through the hub, or may be incomplete; empty when all is well. A
  /// recorder logs it (the manifest's "tracking" member carries it too).
  std::string problem() const;

  /// Manifest members: "commands":[...],"escalations":[...],"tracking":{...}.
  std::string ManifestMembers() const;
  /// Copies of the records and escalations so far.
  std::vector<ProcessRecord> Records() const;
  std::vector<Escalation> Escalations() const;

 private:
  ProcTracker() = default;
  void Loop();
  /// Reads the source until stopped (false) or the source ends (true).
  bool Pump();
  /// After the hub's connection ended: opens the proc connector here and rescans /proc.
  bool FallBackToLocal();
  void PublishCommands();
  ProcSnapshot ReadSnapshot(pid_t pid);

  // ProcEventSink, called by the source on the reading thread (they take mu_).
  void OnEvent(const ProcEvent& e, const ProcSnapshot* snapshot) override;
  void OnLost(uint64_t lost, int64_t time_ns, std::vector<ResyncProc>& procs) override;
  uint64_t TrackedVersion() const override;
  std::vector<pid_t> TrackedPids() const override;
  bool WantsPromptEvents() const override;

  ProcTrackerOptions opts_;
  static constexpr int64_t kActiveLingerNs = 500'000'000;  // idle again after 0.5 s quiet
  // Replaced only by the reading thread, under mu_; other threads use it under mu_.
  std::unique_ptr<ProcEventSource> source_;
  UniqueFd command_fd_;
  UniqueFd stop_fd_;
  std::thread thread_;
  mutable std::mutex mu_;
  ProcessTable table_;
  UserNames names_;  // of the session root's mount namespace, read at Start and Reroot
  std::unordered_map<pid_t, ProcSnapshot> given_;  // what the source read, for the event at hand
  std::string via_;
  std::string reads_;  // the manifest's tracking.source
  std::string problem_;
  std::vector<CommandEvent> pending_commands_;
  uint64_t lost_ = 0;
  uint64_t read_before_ = 0;  // events read by a source that ended
  int64_t max_lag_ns_ = 0;
  int64_t last_hit_ns_ = 0;  // last event about a tracked process (CLOCK_MONOTONIC)
  bool started_ = false;
  bool stopped_ = false;
};

}  // namespace ttyaudit
