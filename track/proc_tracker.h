// What ran in a session: every descendant of the session's first process, from the kernel's
// process events.
//
// Source: the proc connector (NETLINK_CONNECTOR, CN_IDX_PROC), not eBPF. It needs only
// CAP_NET_ADMIN in the initial network namespace (verified on this kernel, 6.18, cgroup v1),
// no compiler toolchain or BTF at run time, and it carries what an audit needs: fork (parent
// and child tgid), exec, uid change (ruid/euid after the change, from commit_creds, so setuid
// execs and su/sudo both show), and exit with the raw wait status. Its weakness is scale: it
// is a host-wide broadcast, so a reader sees every process event of the node. eBPF
// (sched_process_fork/exec/exit tracepoints with the tracked set in a map that the fork program
// extends in the kernel) would drop untracked events in the kernel and read argv in the exec
// itself, but it needs a BPF toolchain, BTF and a loader on every node; one reader per node
// gets most of that benefit with what runs here already.
//
// One reader per node: the tracker hub (ttyaudit-tracker, tracker/). Each recorder reading the
// whole stream made tracking cost sessions x host events: a loop forking 2,000 processes a
// second cost every idle session about 0.6% of a core, 50 sessions a quarter of a core. Now:
//  - The hub reads the proc connector once for the node and keeps, per subscriber, the set of
//    live processes it tracks. An event is routed by one hash lookup of its subject (a fork's
//    parent, else the process); nearly every event of a busy node is someone else's and costs
//    the netlink read and that lookup. Each subscriber is sent only its own events, in kernel
//    order, in batches (SOCK_SEQPACKET on $TTYAUDIT_RUN_DIR/tracker.sock, root only, 0600 in a
//    0700 dir; track/tracker_wire.h).
//  - /proc is read by the hub, at once, for tracked processes only: at an exec the snapshot
//    (argv, cwd, uids, setuid program and its owner: ProcSnapshot), at a fork the child's cwd.
//    It travels with the event; the client's ProcessTable reads it instead of /proc, so the
//    records and the manifest are the same as with in-process tracking.
//  - Two netlink sockets, as the in-process tracker has (below). The wake-up socket's classic
//    BPF filter passes only the union of the tracked sets' events; the record socket passes
//    every process event and is the complete, ordered stream. The hub sleeps on the wake-up
//    socket (and drains the record socket every 50 ms in batches of 64, about a microsecond
//    an event). A wake-up is a tracked event: the hub reads its /proc entries right then,
//    before working through the record's backlog to the same event (HubRouter::Prefetch).
//    The filter is rebuilt as soon as a tracked process forks, and the record socket is read
//    once more after every rebuild: an exec that the old filter hid was queued before the
//    rebuild and is found by that read; a later one passes the new filter and wakes the hub.
//    So a busy session costs a wake-up per own event, not per host event.
//  - SCHED_FIFO 1 for the hub (else nice -10), as the in-process reader: argv is read from
//    /proc racing the process's exit, and a /bin/true lives about half a millisecond.
//  - Cost (bench/tracking.sh, bench/results/tracking.json): the hub pays about a microsecond
//    per host event once for the node; an idle session is sent nothing and pays nothing; a
//    busy one pays for its own events only. Memory: a subscriber whose queue passes 4 MiB (it
//    does not read) is dropped with a logged error and tracks in-process from then on.
//
// No race at subscription. Open() subscribes "the spawner (the process that will fork the
// session's first process) and what it starts from now on" and returns only after the hub's
// acknowledgement; the session's first process is forked after that (ttyaudit rec and track:
// the recorder itself; the runtime's recorder: the wrapper, which forks runc after "ready").
// The hub handles the subscription at time t: it adds the spawner to the tracked set and to
// the wake-up filter, then sends the ack. Every fork the spawner makes after the client has
// read the ack happens after t, so the kernel queues its event on the record socket after t,
// and the hub, which reads that socket in order, meets it with the parent already tracked:
// the child is tracked before any of its own events are read. Events the kernel stamped
// before t are ignored for the new subscriber (a reused pid's stale exit cannot end it).
// Start(pid) and Reroot(pid) then narrow the hub's set to `pid`'s subtree (dropping the
// spawner and anything else it started), as the table does on the client.
//
// Lifetime. The first recorder that needs the hub starts it (ttyaudit-tracker next to its own
// program; double fork, setsid, fds 0-2 on /dev/null, a ready pipe that says at once whether
// it listens); one instance per run dir by flock on tracker.lock; it exits after 30 s without
// subscribers. examples/systemd/ttyaudit-tracker.service runs one for good (a hub started by
// a recorder lives in that recorder's cgroup). If the hub cannot be reached or started, the
// tracker runs in-process as before and says so (problem(), the manifest's tracking.via and
// tracking.problem); if the hub's connection ends mid-session, the client opens its own
// sockets, rescans /proc for the tree, counts a lost event and records when it happened.
//
// In-process tracking (the fallback, and what ProcessTable's tests exercise): the same two
// sockets in the recorder. Idle (only the session's shell alive, nothing tracked for 0.5 s):
// its thread sleeps on the wake-up socket and reads the record socket's backlog every 50 ms.
// Active: it reads every event as it comes. Both sockets use the kernel's event mask
// (PROC_CN_MCAST_LISTEN with proc_input, Linux >= 6.6) and a filter that drops threads
// (child_pid != child_tgid, process_pid != process_tgid), so busy Go or Java programs cost
// nothing. A filter on the tracked set alone cannot be the record: a new child can exec and
// exit before its pid is added (measured: up to 28 of 100 /bin/true lost that race on a
// loaded 2-core VM).
//
// Events carry their own time (CLOCK_MONOTONIC), so batching does not blur start and end.
//
// Limits: argv is read from /proc when the exec is seen; a process that exits first is still
// recorded from its fork/exec/exit events, with argv [comm] (argv_from_comm) if it is a
// zombie, or an empty argv once reaped. A program that runs as a fork without exec (busybox
// ash runs rm, cp, ... that way) shows its shell's argv with exec false. A receive buffer
// overrun (ENOBUFS) is counted in lost_events and the tracked processes are re-found by
// scanning /proc (by the hub, for each subscriber: a RESYNC message).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

/// One process of the session. Times are CLOCK_MONOTONIC nanoseconds (0 = unknown).
struct ProcessRecord {
  pid_t pid = 0;
  pid_t ppid = 0;
  std::vector<std::string> argv;  // after its last exec; a fork's copy of its parent's before
  bool execed = false;            // false for a fork that never exec'd (a subshell)
  bool argv_from_comm = false;    // exited before /proc/PID/cmdline could be read
  std::string cwd;
  int64_t uid = -1;  // ruid and euid at exec (or inherited at fork)
  int64_t euid = -1;
  int64_t start_mono_ns = 0;
  int64_t exec_mono_ns = 0;  // its last exec
  int64_t end_mono_ns = 0;   // 0 while running
  bool exited = false;
  int wait_status = 0;     // raw, as waitpid would give
  bool top_level = false;  // started by the session's first process (a typed command)
  int parent_record = -1;  // index of the parent's record in the table, -1 for the root
};

/// A change of real or effective uid of a tracked process.
struct Escalation {
  pid_t pid = 0;
  std::vector<std::string> argv;       // what the process was running when its ids changed
  std::vector<std::string> exec_argv;  // set when the change was a setuid exec: the new program
  int64_t uid_before = -1, euid_before = -1;
  int64_t uid_after = -1, euid_after = -1;
  int64_t time_mono_ns = 0;
  // The exec that followed the change was gone before its program could be read, so whether
  // that program is setuid is unknown.
  bool exec_unread = false;

  /// The real or effective uid became root.
  bool ToRoot() const {
    return (uid_after == 0 && uid_before != 0) || (euid_after == 0 && euid_before != 0);
  }
  /// The runtime switching to the exec's user just before the session's first exec: setup, not
  /// an escalation. A change to root whose exec could not be read is kept: a setuid-root
  /// program that exits at once must not pass for the runtime's setup.
  bool IsSetupOf(pid_t root, int64_t root_exec_ns) const {
    return pid == root && time_mono_ns <= root_exec_ns && exec_argv.empty() &&
           !(exec_unread && ToRoot());
  }
};

/// A typed command for the recording's timeline ("m" marker events).
struct CommandEvent {
  int64_t time_mono_ns = 0;
  pid_t pid = 0;
  std::vector<std::string> argv;
};

/// What the tracker reads about a process when it sees its exec; replaceable in tests.
struct ProcSnapshot {
  std::vector<std::string> argv;
  bool argv_from_comm = false;
  std::string cwd;
  int64_t uid = -1, euid = -1;
  bool exe_setuid = false;  // the program file has the set-user-ID bit...
  int64_t exe_owner = -1;   // ... and this owner
};
using ProcReader = std::function<ProcSnapshot(pid_t)>;
/// Reads /proc/PID/{cmdline,comm,cwd,status,exe}; fields it cannot read stay empty / -1.
ProcSnapshot ReadProcSnapshot(pid_t pid);

/// The session's process tree, built from process events. Pure bookkeeping (no sockets), so
/// that it can be fed synthetic events in tests. Not thread-safe.
class ProcessTable {
 public:
  explicit ProcessTable(ProcReader reader = ReadProcSnapshot) : read_(std::move(reader)) {}

  /// Tracks `pid` and everything it starts from now on.
  void AddRoot(pid_t pid, int64_t now_mono_ns);
  /// Narrows the session to `pid` (already tracked, or added) and its descendants: records of
  /// other processes (e.g. the runtime's own helpers that started it) are dropped, and so are
  /// the uid changes `pid` went through before its exec (the runtime switching to the exec's
  /// user), but for a setuid exec itself.
  void Reroot(pid_t pid, int64_t now_mono_ns);

  void OnFork(pid_t parent_tgid, pid_t child_pid, pid_t child_tgid, int64_t t);
  void OnExec(pid_t pid, int64_t t);
  void OnUid(pid_t pid, uint32_t ruid, uint32_t euid, int64_t t);
  void OnExit(pid_t pid, pid_t tgid, uint32_t wait_status, int64_t t);
  /// Changes whenever a pid is added to the tracked set.
  uint64_t live_version() const { return live_version_; }
  size_t live_count() const { return live_.size(); }
  std::vector<pid_t> LivePids() const;

  /// After lost events: `procs` is every (pid, ppid) on the host at `now_mono_ns`. Adopts
  /// untracked descendants of tracked processes and ends tracked processes that are gone
  /// (not those that started after `now_mono_ns`: the scan could not see them).
  void Resync(const std::vector<std::pair<pid_t, pid_t>>& procs, int64_t now_mono_ns);

  bool Tracks(pid_t pid) const { return live_.count(pid) != 0; }
  pid_t root() const { return root_; }
  /// The root's exit: true and its raw wait status once it has exited.
  bool RootExited(int* wait_status) const;
  /// True when no tracked process is running.
  bool AllExited() const { return live_.empty(); }

  const std::vector<ProcessRecord>& records() const { return records_; }
  const std::vector<Escalation>& escalations() const { return escalations_; }
  /// Moves out the typed commands seen since the last call.
  std::vector<CommandEvent> TakeCommands();

 private:
  ProcessRecord* Live(pid_t pid);
  bool IsTopLevelParent(int parent_index) const;
  void AddRecord(ProcessRecord r);

  ProcReader read_;
  pid_t root_ = 0;
  std::vector<ProcessRecord> records_;      // in start order; pids may repeat (reuse)
  std::unordered_map<pid_t, size_t> live_;  // running tracked pid -> index in records_
  std::vector<Escalation> escalations_;
  std::vector<CommandEvent> commands_;
  std::unordered_map<pid_t, size_t> uid_pending_exec_;  // pid -> escalation a next exec explains
  uint64_t live_version_ = 0;
};

/// uid -> user name, as the container's (or host's) /etc/passwd says.
using UserNames = std::unordered_map<int64_t, std::string>;
/// Parses passwd text ("name:x:uid:..." lines); malformed lines are skipped.
UserNames ParsePasswd(std::string_view text);
/// The names of the users inside the mount namespace of `pid` (/proc/PID/root/etc/passwd);
/// empty if it cannot be read.
UserNames ReadUserNames(pid_t pid);

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
class ProcTracker {
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
  /// Reads the hub's messages until stopped (false) or the connection ends (true).
  bool HubLoop();
  /// Applies what the hub sent so far; false when the connection has ended.
  bool ReadHub();
  /// After the hub's connection ended: opens the sockets here and rescans /proc.
  bool FallBackToLocal();
  void LocalLoop();
  void Drain();
  void PublishCommands();
  ProcSnapshot ReadSnapshot(pid_t pid);
  void TellHub(pid_t pid);
  void DrainWake();
  void Rescan();
  void UpdateFilter();

  ProcTrackerOptions opts_;
  static constexpr int64_t kActiveLingerNs = 500'000'000;  // idle again after 0.5 s quiet
  static constexpr int kActiveRecheckMs = 100;
  static constexpr int kIdleDrainMs = 50;
  UniqueFd hub_;   // the hub's connection: this session's events only, in kernel order
  UniqueFd sock_;  // in-process: every process event of the host, the record, read in order
  UniqueFd wake_;  // in-process: only the tracked set's events (filter kept up to date)
  UniqueFd command_fd_;
  UniqueFd stop_fd_;
  std::thread thread_;
  mutable std::mutex mu_;
  ProcessTable table_;
  UserNames names_;  // of the session root's mount namespace, read at Start and Reroot
  std::unordered_map<pid_t, ProcSnapshot> given_;  // what the hub read, for the event at hand
  std::string via_;
  std::string problem_;
  std::string hub_end_;  // how the hub's connection ended
  std::string hub_buf_;  // one packet from the hub (the reading thread's, or Stop's after it)
  std::vector<CommandEvent> pending_commands_;
  uint64_t lost_ = 0;
  uint64_t read_ = 0;
  int64_t max_lag_ns_ = 0;
  uint64_t filter_version_ = ~0ULL;  // table live_version() the socket filter was built for
  size_t filter_size_ = 0;
  uint64_t filter_updates_ = 0;
  uint64_t wakeups_ = 0;
  int64_t last_hit_ns_ = 0;  // last event about a tracked process (CLOCK_MONOTONIC)
  bool started_ = false;
  bool stopped_ = false;
};

/// Writes one record as {pid, ppid, argv, cwd, uid, euid, user, euser, start, end, exit_code,
/// signal, ...} with start/end as seconds from `session_start_mono_ns` (end null while
/// running); user/euser only when `names` knows them.
void WriteProcessRecordJson(JsonWriter& w, const ProcessRecord& r, int64_t session_start_mono_ns,
                            const UserNames* names = nullptr);
/// Writes {pid, argv, time, before:{uid,euid}, after:{uid,euid}, to_root}.
void WriteEscalationJson(JsonWriter& w, const Escalation& e, int64_t session_start_mono_ns,
                         const UserNames* names = nullptr);
/// The manifest members for records and escalations (no tracker needed).
/// How the session was tracked, for the manifest's "tracking" member.
struct TrackingInfo {
  std::string via;      // "hub", "local", "hub, then local" or "hub, then none"
  std::string problem;  // why tracking may be incomplete; empty when it is not
};
std::string ProcessManifestMembers(const std::vector<ProcessRecord>& records,
                                   const std::vector<Escalation>& escalations,
                                   int64_t session_start_mono_ns, uint64_t lost_events,
                                   const UserNames* names = nullptr,
                                   const TrackingInfo* info = nullptr);

}  // namespace ttyaudit
