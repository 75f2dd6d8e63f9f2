// ttyaudit-tracker: the node's one reader of the kernel's process events. Recorders subscribe
// over $RUN_DIR/tracker.sock (root only) and get their own sessions' events; see
// tracker/README.md for why, and for the cost model.
#pragma once

#include <cstddef>
#include <string>

#include "base/log.h"

namespace ttyaudit {

struct HubOptions {
  /// Socket, lock and pid files live here (created 0700 if absent).
  std::string run_dir;
  /// Exit after this many seconds without subscribers; 0: run until signalled.
  int idle_exit_s = 30;
  /// The record socket's receive buffer (SO_RCVBUFFORCE).
  int rcvbuf_bytes = 8 << 20;
  /// A subscriber with more than this waiting to be sent (it does not read) is dropped.
  size_t max_queued_bytes = 4 << 20;
  /// Read at SCHED_FIFO 1 (else nice -10): argv must be read before short processes exit.
  bool realtime = true;
  /// Read the kernel's events with eBPF (track/ebpf/ebpf_source.h) where it loads; false, or
  /// where it does not: the proc connector.
  bool ebpf = true;
  /// The eBPF ring buffer's size (a power of two, at least a page); 0: the default (8 MiB).
  size_t ebpf_ring_bytes = 0;
  /// With eBPF, see uid changes at the return of the setuid-family syscalls (every syscall of
  /// the node then pays for the kernel's tracepoint while a session is tracked).
  bool ebpf_uid_syscalls = true;
  /// How long to wait for the lock that a hub that is exiting still holds.
  int lock_wait_ms = 2000;
  /// Written one byte once the hub listens, then closed (the starter waits on it); -1: none.
  int ready_fd = -1;
  /// Once set up, enter the hub's sandbox (sandbox/profiles.h): for the hub process, never for
  /// a hub on a thread of another program (the tests).
  bool sandbox = false;
};

/// Serves until SIGTERM/SIGINT or the idle timeout. Returns the exit status: 0 also when
/// another hub holds the lock (one per run directory). Errors are logged.
int RunHub(const HubOptions& opts, const Logger& log);

/// `ttyaudit-tracker --stats`: prints the running hub's counters (JSON); 1 when none answers.
int PrintHubStats(const std::string& run_dir);

}  // namespace ttyaudit
