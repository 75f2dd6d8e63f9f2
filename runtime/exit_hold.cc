#include "runtime/exit_hold.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/ids.h"

namespace ttyaudit {
namespace {

// Interrupts the hold thread's waitpid when the recorder wants it to let go.
constexpr int kWakeSignal = SIGUSR2;

void NoOp(int) {}

void InstallWakeHandler() {
  struct sigaction sa {};
  sa.sa_handler = NoOp;  // no SA_RESTART: waitpid returns EINTR
  sigemptyset(&sa.sa_mask);
  sigaction(kWakeSignal, &sa, nullptr);
}

bool IsStopSignal(int sig) {
  return sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU;
}

}  // namespace

Result<std::unique_ptr<ExitHold>> ExitHold::Start(pid_t pid, std::function<bool()> drained,
                                                  int max_hold_ms) {
  InstallWakeHandler();
  std::unique_ptr<ExitHold> h(new ExitHold());
  ExitHold* p = h.get();
  h->thread_ = std::thread(
      [p, pid, drained = std::move(drained), max_hold_ms] { p->Run(pid, drained, max_hold_ms); });
  std::unique_lock<std::mutex> lock(h->mu_);
  h->cv_.wait(lock, [&] { return h->attach_done_; });
  if (h->attach_errno_ != 0) {
    int err = h->attach_errno_;
    lock.unlock();
    h->thread_.join();
    return SysError("ptrace PTRACE_SEIZE", "pid " + std::to_string(pid), err);
  }
  return h;
}

ExitHold::~ExitHold() {
  stop_ = true;
  if (!thread_.joinable()) return;
  // The thread may be between its check of stop_ and waitpid: wake it until it has finished.
  std::unique_lock<std::mutex> lock(mu_);
  while (!finished_) {
    if (pid_t tid = tid_.load(); tid > 0) ::syscall(SYS_tgkill, ::getpid(), tid, kWakeSignal);
    cv_.wait_for(lock, std::chrono::milliseconds(10), [&] { return finished_; });
  }
  lock.unlock();
  thread_.join();
}

void ExitHold::SetAttached(bool ok, int err) {
  std::lock_guard<std::mutex> lock(mu_);
  attach_done_ = true;
  attach_errno_ = ok ? 0 : err;
  cv_.notify_all();
}

void ExitHold::SetStatus(int status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!status_) status_ = status;
  finished_ = true;
  cv_.notify_all();
}

std::optional<int> ExitHold::WaitExit(int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return status_.has_value(); });
  return status_;
}

void ExitHold::HoldUntilDrained(const std::function<bool()>& drained, int max_hold_ms) {
  int64_t deadline = MonotonicNanos() + int64_t{max_hold_ms} * 1000000;
  int clean = 0;
  while (clean < 2 && !no_drain_ && !stop_ && MonotonicNanos() < deadline) {
    clean = drained() ? clean + 1 : 0;
    if (clean < 2) ::usleep(2000);
  }
}

void ExitHold::Run(pid_t pid, std::function<bool()> drained, int max_hold_ms) {
  tid_ = static_cast<pid_t>(::syscall(SYS_gettid));
  sigset_t wake;
  sigemptyset(&wake);
  sigaddset(&wake, kWakeSignal);
  pthread_sigmask(SIG_UNBLOCK, &wake, nullptr);
  if (::ptrace(PTRACE_SEIZE, pid, nullptr, reinterpret_cast<void*>(PTRACE_O_TRACEEXIT)) < 0) {
    int err = errno;
    {
      std::lock_guard<std::mutex> lock(mu_);
      finished_ = true;
    }
    SetAttached(false, err);
    return;
  }
  SetAttached(true, 0);
  Loop(pid, drained, max_hold_ms);
  std::lock_guard<std::mutex> lock(mu_);
  finished_ = true;
  cv_.notify_all();
}

void ExitHold::Loop(pid_t pid, const std::function<bool()>& drained, int max_hold_ms) {
  bool interrupted = false;
  for (;;) {
    int st = 0;
    pid_t r = ::waitpid(pid, &st, __WALL);
    if (r < 0) {
      if (errno == EINTR) {
        // The recorder is done: stop the process (PTRACE_INTERRUPT) to detach at that stop.
        if (stop_ && !interrupted) {
          interrupted = true;
          ::ptrace(PTRACE_INTERRUPT, pid, nullptr, nullptr);
        }
        continue;
      }
      break;  // ECHILD: gone
    }
    if (WIFEXITED(st) || WIFSIGNALED(st)) {
      SetStatus(st);
      break;
    }
    if (!WIFSTOPPED(st)) continue;
    int sig = WSTOPSIG(st);
    int event = st >> 16;
    if (event == PTRACE_EVENT_EXIT) {
      unsigned long msg = 0;
      ::ptrace(PTRACE_GETEVENTMSG, pid, nullptr, &msg);
      HoldUntilDrained(drained, max_hold_ms);
      SetStatus(static_cast<int>(msg));
      ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
      break;
    }
    if (event == PTRACE_EVENT_STOP) {
      if (stop_) {
        ::ptrace(PTRACE_DETACH, pid, nullptr, nullptr);
        break;
      }
      // A group stop (SIGSTOP, SIGTSTP, ...): stay stopped as without us, but keep watching.
      if (IsStopSignal(sig))
        ::ptrace(PTRACE_LISTEN, pid, nullptr, nullptr);
      else
        ::ptrace(PTRACE_CONT, pid, nullptr, nullptr);
      continue;
    }
    // A signal on its way to the process: deliver it unchanged.
    if (stop_) {
      ::ptrace(PTRACE_DETACH, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
      break;
    }
    ::ptrace(PTRACE_CONT, pid, nullptr, reinterpret_cast<void*>(static_cast<long>(sig)));
  }
}

}  // namespace ttyaudit
