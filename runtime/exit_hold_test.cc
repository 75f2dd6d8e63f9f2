#include "runtime/exit_hold.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>

namespace {

// A process that is not the hold's thread's child, as in the runtime: a child of this process
// that the test reaps after the hold let it go.
pid_t ForkSleeper(int exit_code, int delay_ms) {
  pid_t pid = fork();
  if (pid == 0) {
    usleep(static_cast<useconds_t>(delay_ms) * 1000);
    _exit(exit_code);
  }
  return pid;
}

}  // namespace

TEST_CASE("exit hold: the process stays at its exit until drained, and its status is known") {
  pid_t pid = ForkSleeper(3, 100);
  std::atomic<bool> drained{false};
  auto hold = ttyaudit::ExitHold::Start(
      pid, [&] { return drained.load(); }, 5000);
  if (!hold.ok()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL("ptrace is unavailable (run the unit tests as root): " << hold.message());
  }
  usleep(400 * 1000);
  int st = 0;
  // Held at its exit: not reapable yet.
  CHECK(waitpid(pid, &st, WNOHANG) == 0);
  drained = true;
  auto status = hold.value()->WaitExit(3000);
  REQUIRE(status.has_value());
  CHECK(WIFEXITED(*status));
  CHECK(WEXITSTATUS(*status) == 3);
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WEXITSTATUS(st) == 3);
}

TEST_CASE("exit hold: signals reach the process unchanged and releasing it early works") {
  pid_t pid = fork();
  if (pid == 0) {
    signal(SIGUSR1, [](int) { _exit(9); });
    for (;;) pause();
  }
  auto hold = ttyaudit::ExitHold::Start(
      pid, [] { return true; }, 1000);
  if (!hold.ok()) {
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    FAIL("ptrace is unavailable (run the unit tests as root): " << hold.message());
  }
  usleep(50 * 1000);
  kill(pid, SIGUSR1);
  auto status = hold.value()->WaitExit(3000);
  REQUIRE(status.has_value());
  CHECK(WEXITSTATUS(*status) == 9);
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  CHECK(WEXITSTATUS(st) == 9);

  // The runner is ended with SIGTERM: it must die of it, not run doctest's crash handler
  // (inherited through fork), so the handler is reset before the signal can arrive.
  sigset_t term, old_mask;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  sigprocmask(SIG_BLOCK, &term, &old_mask);
  pid_t runner = fork();
  if (runner == 0) {
    signal(SIGTERM, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old_mask, nullptr);
    for (;;) pause();
  }
  sigprocmask(SIG_SETMASK, &old_mask, nullptr);
  {
    auto h2 = ttyaudit::ExitHold::Start(
        runner, [] { return true; }, 1000);
    REQUIRE(h2.ok());
    usleep(50 * 1000);
  }  // released while running
  CHECK(waitpid(runner, &st, WNOHANG) == 0);
  kill(runner, SIGTERM);
  REQUIRE(waitpid(runner, &st, 0) == runner);
  CHECK(WIFSIGNALED(st));
}
