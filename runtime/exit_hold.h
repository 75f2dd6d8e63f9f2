// Holding an exec's process at its exit until its last output has been forwarded.
//
// Why: containerd's shim reaps the exec process and then drains only what is already in the
// pty it was given. With the recorder in between, the process's last bytes (a prompt's echo,
// "LAST-LINE" before exit) may still be on the inner pty when the shim reaps, and the client
// loses them (measured: 2 of 20 `echo LAST-LINE; exit` execs without this). The recorder
// therefore traces the process with PTRACE_SEIZE and PTRACE_O_TRACEEXIT only: it runs
// untouched (no syscall tracing; a signal sent to it costs one stop that is re-injected at
// once), and when it exits it stops before its files are closed, the recorder waits until the
// inner pty is drained, and lets it go. The exit status comes with the exit stop.
//
// Limits: another tracer (strace -p, gdb) cannot attach to the exec's first process while it
// is held; its children are not traced. If the recorder dies the kernel detaches the process.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "base/result.h"

namespace ttyaudit {

class ExitHold {
 public:
  /// Seizes `pid` (a process we may trace). At its exit the hold waits until `drained()`
  /// returns true twice 2 ms apart, or `max_hold_ms` has passed, then releases it.
  static Result<std::unique_ptr<ExitHold>> Start(pid_t pid, std::function<bool()> drained,
                                                 int max_hold_ms);
  /// Releases the process if it is still held (detaches), and stops the thread.
  ~ExitHold();
  ExitHold(const ExitHold&) = delete;
  ExitHold& operator=(const ExitHold&) = delete;

  /// From now on do not wait for drained() at the exit (the proxy has stopped).
  void StopWaitingForDrain() { no_drain_ = true; }
  /// The process's raw wait status, waiting up to `timeout_ms`; nothing if not seen in time.
  std::optional<int> WaitExit(int timeout_ms);

 private:
  ExitHold() = default;
  void Run(pid_t pid, std::function<bool()> drained, int max_hold_ms);
  void Loop(pid_t pid, const std::function<bool()>& drained, int max_hold_ms);
  void HoldUntilDrained(const std::function<bool()>& drained, int max_hold_ms);
  void SetStatus(int status);
  void SetAttached(bool ok, int err);

  std::thread thread_;
  std::atomic<pid_t> tid_{0};
  std::atomic<bool> stop_{false};
  std::atomic<bool> no_drain_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool attach_done_ = false;
  int attach_errno_ = 0;
  bool finished_ = false;
  std::optional<int> status_;
};

}  // namespace ttyaudit
