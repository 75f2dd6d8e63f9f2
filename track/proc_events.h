// The kernel's process events (proc connector, NETLINK_CONNECTOR / CN_IDX_PROC): the sockets,
// their filters and the decoding, shared by the in-process tracker (proc_tracker.h) and the
// node's tracker hub (tracker/).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

/// One process event, as the proc connector reported it. Times are the kernel's
/// (CLOCK_MONOTONIC ns, when the event happened).
struct ProcEvent {
  enum Kind : uint8_t { kNone = 0, kFork = 1, kExec = 2, kUid = 3, kExit = 4 };
  Kind kind = kNone;
  int64_t time_ns = 0;
  pid_t pid = 0;                // fork: the child's pid; exit: the task's pid; exec, uid: the tgid
  pid_t tgid = 0;               // fork: the child's tgid; else the process
  pid_t parent_tgid = 0;        // fork only
  uint32_t ruid = 0, euid = 0;  // uid only: the ids after the change
  uint32_t exit_code = 0;       // exit only: the raw wait status

  /// The process a tracker must already track for the event to matter: a fork's parent, else
  /// the process itself.
  pid_t subject() const { return kind == kFork ? parent_tgid : tgid; }
  /// A thread's creation or exit (the process goes on).
  bool is_thread() const { return (kind == kFork || kind == kExit) && pid != tgid; }
};

/// Decodes one datagram; false for anything that is not a fork, exec, uid or exit event from
/// the proc connector (acks, other types, short or malformed datagrams).
bool ParseProcEvent(const char* data, size_t len, ProcEvent& out);

/// A proc connector socket subscribed to fork, exec, uid and exit events (the event mask on
/// Linux >= 6.6) whose filter passes every process event and drops thread events. Non-blocking.
/// Fails without CAP_NET_ADMIN in the initial network namespace ("bind ... proc connector").
Result<UniqueFd> OpenProcSocket(int rcvbuf_bytes);

/// Narrows `fd`'s filter to events about `tracked` (forks whose parent is in it; exec, uid
/// change and exit of its members). nullptr, or a set too large for a filter: every process
/// event. Errors name the setsockopt.
Status SetProcFilter(int fd, const std::vector<pid_t>* tracked);

/// Reads up to 64 datagrams without blocking and appends the events among them to `out`.
/// Returns how many datagrams were read (0: drained). Sets `overrun` when the kernel dropped
/// events because the receive buffer was full (ENOBUFS).
int ReadProcEvents(int fd, std::vector<ProcEvent>& out, bool& overrun);

/// The parent of `pid` (field 4 of /proc/PID/stat), 0 if it cannot be read.
pid_t ReadParentPid(pid_t pid);
/// Every (pid, ppid) on the host now, from /proc.
std::vector<std::pair<pid_t, pid_t>> ScanProcesses();

}  // namespace ttyaudit
