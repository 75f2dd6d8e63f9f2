// The tracker hub's protocol (tracker/ serves it, HubSource speaks it): one message per
// SOCK_SEQPACKET packet on $TTYAUDIT_RUN_DIR/tracker.sock, in host byte order (both ends are
// on the same machine). The first byte is the message type.
//
//   client -> hub   SUBSCRIBE version pid   track `pid` and what it starts from now on
//                   REROOT pid              narrow the session to `pid` and its descendants
//                   STATS                   ask for the hub's counters (diagnostics, bench)
//   hub -> client   ACK version hub_pid t source
//                                           subscribed at CLOCK_MONOTONIC time t; the hub
//                                           reads the kernel's events with `source`
//                   EVENTS n (event [snapshot])...
//                                           the subscriber's events in kernel order; an exec
//                                           carries the /proc snapshot read at once, a fork
//                                           the child's cwd
//                   RESYNC lost t n (pid ppid [snapshot])...
//                                           the kernel dropped events: the tracked processes
//                                           alive at t (adopted ones with a snapshot)
//                   STATS json              reply to STATS
//                   CLOSING reason          the hub drops this subscriber (then closes)
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "track/proc_event_source.h"
#include "track/proc_events.h"
#include "track/proc_snapshot.h"

namespace ttyaudit {
namespace tracker_wire {

constexpr uint32_t kVersion = 2;  // 2: snapshots carry gids, exe group and inode, cgroup
/// The largest packet either side sends; an EVENTS batch is closed before it would grow past.
constexpr size_t kMaxPacket = 60 * 1024;
/// The socket's name in the run directory, and the lock and pid files of the one hub.
constexpr const char* kSocketName = "tracker.sock";
constexpr const char* kLockName = "tracker.lock";
constexpr const char* kPidName = "tracker.pid";

enum class Type : uint8_t {
  kSubscribe = 1,
  kReroot = 2,
  kStats = 3,
  kAck = 16,
  kEvents = 17,
  kResync = 18,
  kStatsReply = 19,
  kClosing = 20,
};

struct WireEvent {
  ProcEvent event;
  bool has_snapshot = false;
  ProcSnapshot snapshot;
};

/// A decoded message: `type` says which fields are set.
struct Message {
  Type type = Type::kSubscribe;
  uint32_t version = 0;           // SUBSCRIBE, ACK
  pid_t pid = 0;                  // SUBSCRIBE, REROOT; ACK: the hub's pid
  int64_t time_ns = 0;            // ACK, RESYNC
  uint64_t lost = 0;              // RESYNC
  std::vector<WireEvent> events;  // EVENTS
  std::vector<ResyncProc> procs;  // RESYNC
  std::string text;               // STATS reply (JSON), CLOSING reason, ACK: the hub's source
};

std::string EncodeSubscribe(pid_t pid);
std::string EncodeReroot(pid_t pid);
std::string EncodeStatsRequest();
std::string EncodeAck(pid_t hub_pid, int64_t time_ns, std::string_view source);
std::string EncodeStatsReply(std::string_view json);
std::string EncodeClosing(std::string_view reason);
std::string EncodeResync(uint64_t lost, int64_t time_ns, const std::vector<ResyncProc>& procs);

/// An EVENTS packet built one event at a time.
class EventBatch {
 public:
  EventBatch();
  /// The bytes `e` would add (to decide whether to close the batch first).
  static size_t EncodedSize(const ProcEvent& e, const ProcSnapshot* snapshot);
  void Add(const ProcEvent& e, const ProcSnapshot* snapshot);
  size_t count() const { return count_; }
  size_t size() const { return buf_.size(); }
  /// The packet; the batch is empty again afterwards.
  std::string Take();

 private:
  std::string buf_;
  uint32_t count_ = 0;
};

/// Decodes one packet. Errors name what is malformed ("tracker message: ...").
Result<Message> Decode(std::string_view packet);

}  // namespace tracker_wire
}  // namespace ttyaudit
