#include "record/console_proxy.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include "base/files.h"
#include "base/ids.h"
#include "base/unique_fd.h"
#include "record/cast_reader.h"
#include "record/pty.h"
#include "record/session_meta_read.h"
#include "tests/unit/temp_dir.h"

namespace ttyaudit {
namespace {

// What a session through the proxy gave: what the user saw, what was recorded, how it ended.
struct Session {
  Result<ProxyOutcome> outcome = Error{"not run"};
  std::string user_saw;
  std::string recorded_output;  // the "o" events, joined
  std::string recorded_input;   // the "i" events, joined
  std::string markers;          // the "m" events, joined with '\n'
  SessionMeta meta;
};

// Runs `script` under /bin/sh on a fresh pty behind the proxy, as `ttyaudit rec` does with a
// pipe for the user's side: once the session has printed `prompt`, `typed` is written to the
// user's input, then the input ends.
Session RunThroughProxy(const std::string& script, const std::string& prompt,
                        const std::string& typed, bool record_input = true) {
  char tmpl[] = "/tmp/ttyaudit-proxy-XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  const std::string dir = tmpl;
  auto pty = OpenPty();
  REQUIRE(pty.ok());
  winsize ws{24, 80, 0, 0};
  ioctl(pty->master.get(), TIOCSWINSZ, &ws);
  SessionMeta meta;
  meta.id = NewUuidV7();
  meta.start_ns = RealtimeNanos();
  SessionWriterOptions wopts;
  wopts.record_input = record_input;
  auto writer = SessionWriter::Create(dir, meta, wopts);
  REQUIRE(writer.ok());

  int in_pipe[2], out_pipe[2];
  REQUIRE(pipe2(in_pipe, O_CLOEXEC) == 0);
  REQUIRE(pipe2(out_pipe, O_CLOEXEC) == 0);
  UniqueFd user_in_r(in_pipe[0]), user_in_w(in_pipe[1]);
  UniqueFd user_out_r(out_pipe[0]), user_out_w(out_pipe[1]);

  BlockProxySignals();
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    UnblockProxySignals();
    setsid();
    int slave = pty->slave.get();
    ioctl(slave, TIOCSCTTY, 0);
    for (int fd = 0; fd < 3; ++fd) dup2(slave, fd);
    execl("/bin/sh", "sh", "-c", script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  pty->slave.reset();
  // The user: watches the output until the proxy lets go of it; types once the prompt shows,
  // then ends the input.
  Session s;
  std::mutex mu;
  std::condition_variable shown;
  bool done = false;
  std::thread viewer([&] {
    char buf[65536];
    for (ssize_t n; (n = read(user_out_r.get(), buf, sizeof buf)) > 0;) {
      std::lock_guard<std::mutex> lock(mu);
      s.user_saw.append(buf, static_cast<size_t>(n));
      shown.notify_all();
    }
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    shown.notify_all();
  });
  std::thread typist([&] {
    {
      std::unique_lock<std::mutex> lock(mu);
      shown.wait_for(lock, std::chrono::seconds(10),
                     [&] { return done || s.user_saw.find(prompt) != std::string::npos; });
    }
    (void)WriteAll(user_in_w.get(), typed, "user input");
    user_in_w.reset();
  });
  ProxyEnds ends{user_in_r.get(), user_out_w.get(), pty->master.get(), -1};
  ProxyOptions popts;
  popts.child = child;
  s.outcome = RunConsoleProxy(ends, popts, **writer);
  UnblockProxySignals();
  user_out_w.reset();
  typist.join();
  viewer.join();
  if (!(s.outcome.ok() && s.outcome->child_reaped)) waitpid(child, nullptr, 0);
  REQUIRE((*writer)
              ->FinishWithWaitStatus(s.outcome.ok() && s.outcome->child_reaped
                                         ? std::optional<int>(s.outcome->wait_status)
                                         : std::nullopt)
              .ok());

  auto reader = CastReader::Open((*writer)->path());
  REQUIRE(reader.ok());
  auto recorded = SessionMetaFromHeader(reader->header());
  REQUIRE(recorded.ok());
  s.meta = *recorded;
  CastEvent ev;
  while (reader->Next(ev).value()) {
    if (ev.code == "o") s.recorded_output += ev.data;
    if (ev.code == "i") s.recorded_input += ev.data;
    if (ev.code == "m") s.markers += ev.data + "\n";
  }
  testing::RemoveTestDir(dir);
  return s;
}

TEST_CASE("console proxy: the user sees what the session printed, and the record holds it") {
  Session s = RunThroughProxy("printf 'hello\\n'; exit 3", "", "");
  REQUIRE_MESSAGE(s.outcome.ok(), s.outcome.message());
  CHECK(s.outcome->child_reaped);
  CHECK(WIFEXITED(s.outcome->wait_status));
  CHECK(WEXITSTATUS(s.outcome->wait_status) == 3);
  CHECK(s.user_saw == "hello\r\n");  // the pty's line discipline adds the \r
  CHECK(s.recorded_output == s.user_saw);
  CHECK(s.meta.state == "exited");
  CHECK(s.meta.exit_code == 3);
}

TEST_CASE("console proxy: drains output after the process exits") {
  // 1 MiB written in one go by a process that exits at once: none of it may be lost.
  Session s = RunThroughProxy("head -c 1048576 /dev/zero | tr '\\0' x; exit 0", "", "");
  REQUIRE(s.outcome.ok());
  CHECK(s.outcome->child_reaped);
  CHECK(s.user_saw.size() == 1048576);
  CHECK(s.user_saw.find_first_not_of('x') == std::string::npos);
  CHECK(s.recorded_output == s.user_saw);
  CHECK(s.meta.bytes_out == 1048576);
}

TEST_CASE("console proxy: typed input reaches the session, and the end of input ends it") {
  // cat reads the tty until the EOF character the proxy types when the user's pipe ends.
  Session s = RunThroughProxy("echo ready; cat; echo done", "ready", "typed line\n");
  REQUIRE(s.outcome.ok());
  CHECK(s.outcome->child_reaped);
  CHECK(s.user_saw.find("typed line\r\n") != std::string::npos);
  CHECK(s.user_saw.find("done") != std::string::npos);
  CHECK(s.recorded_input.find("typed line\n") != std::string::npos);
}

TEST_CASE("console proxy: input at a password prompt is counted and never recorded") {
  // The shape of getpass(): canonical mode with echo off.
  Session s =
      RunThroughProxy("stty -echo; echo 'Password:'; read pw; stty echo; echo \"got ${#pw}\"",
                      "Password:", "hunter2\n");
  REQUIRE(s.outcome.ok());
  CHECK(s.user_saw.find("got 7") != std::string::npos);
  CHECK(s.recorded_input.find("hunter2") == std::string::npos);
  CHECK(s.recorded_output.find("hunter2") == std::string::npos);
  CHECK(s.meta.bytes_in_hidden >= 8);
  CHECK(s.markers.find("input hidden") != std::string::npos);
}

TEST_CASE("console proxy: with record_input off, typed input runs but is not stored") {
  Session s =
      RunThroughProxy("echo ready; read line; echo \"len ${#line}\"", "ready", "visible\n", false);
  REQUIRE(s.outcome.ok());
  CHECK(s.user_saw.find("len 7") != std::string::npos);
  CHECK(s.recorded_input.empty());
  CHECK(s.meta.bytes_in == 8);
}

}  // namespace
}  // namespace ttyaudit
