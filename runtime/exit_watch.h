// The exit status of a process that is not our child (the shim reaps runtime exec processes),
// from the kernel's proc connector exit events.
//
// Why not track/proc_tracker: that tracks a whole process tree and lands separately; the
// runtime needs only one exit status per session, and needs it for execs that are not recorded
// (non-terminal ones) too. The socket drops every event but process exits in the kernel (a
// classic BPF filter), so a busy host costs one wakeup per exiting process, not per fork.
#pragma once

#include <sys/types.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

class ExitWatcher {
 public:
  /// Subscribes to exit events (needs CAP_NET_ADMIN in the initial network namespace) and
  /// starts the reading thread. Exits seen before Watch() are remembered (the last 4096), so
  /// open it before the process can exit, and watch it soon after its pid is known.
  static Result<std::unique_ptr<ExitWatcher>> Open();
  ~ExitWatcher();
  ExitWatcher(const ExitWatcher&) = delete;
  ExitWatcher& operator=(const ExitWatcher&) = delete;

  /// Adds a process (a thread group leader, host pid) whose exit to keep.
  void Watch(pid_t pid);
  /// The raw wait status of a watched `pid`, waiting up to `timeout_ms` (-1: no limit) for it;
  /// nothing if not seen in time.
  std::optional<int> WaitExit(pid_t pid, int timeout_ms);

 private:
  ExitWatcher() = default;
  void Loop();
  void OnExit(pid_t pid, int status);

  UniqueFd sock_;
  UniqueFd stop_fd_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<pid_t, std::optional<int>> watched_;
  std::deque<std::pair<pid_t, int>> recent_;
};

}  // namespace ttyaudit
