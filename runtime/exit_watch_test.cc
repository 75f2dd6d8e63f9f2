#include "runtime/exit_watch.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

TEST_CASE("exit watcher: sees the exit status of a process, even one that exited before Watch") {
  auto w = ttyaudit::ExitWatcher::Open();
  REQUIRE_MESSAGE(
      w.ok(), "the proc connector is unavailable (run the unit tests as root): " << w.message());
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) _exit(3);
  int st = 0;
  REQUIRE(waitpid(pid, &st, 0) == pid);
  usleep(100 * 1000);  // the event is read on the watcher's thread
  w.value()->Watch(pid);
  auto got = w.value()->WaitExit(pid, 2000);
  REQUIRE(got.has_value());
  CHECK(WIFEXITED(*got));
  CHECK(WEXITSTATUS(*got) == 3);
}

TEST_CASE("exit watcher: a watched process that has not exited times out empty") {
  auto w = ttyaudit::ExitWatcher::Open();
  REQUIRE_MESSAGE(
      w.ok(), "the proc connector is unavailable (run the unit tests as root): " << w.message());
  w.value()->Watch(getpid());
  CHECK_FALSE(w.value()->WaitExit(getpid(), 50).has_value());
}
