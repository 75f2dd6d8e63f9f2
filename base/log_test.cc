#include "base/log.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

TEST_CASE("log: a line names time, program, pid and level, and stays one line") {
  std::string line = ttyaudit::FormatLogLine("ttyaudit-runtime", 42, ttyaudit::LogLevel::kError,
                                             "runc exec\nfailed", 0);
  CHECK(line == "1970-01-01T00:00:00.000Z ttyaudit-runtime[42]: error: runc exec failed\n");
}

TEST_CASE("log: control characters in a message are shown, not sent to the reader's terminal") {
  std::string line = ttyaudit::FormatLogLine("ttyaudit-uploader", 7, ttyaudit::LogLevel::kWarning,
                                             "upload sessions/\x1b]0;owned\x07.cast", 0);
  CHECK(line ==
        "1970-01-01T00:00:00.000Z ttyaudit-uploader[7]: warning: upload "
        "sessions/^[]0;owned^G.cast\n");
}

TEST_CASE("log: without a journal, lines are appended to the log file") {
  char dir[] = "/tmp/ttyaudit-log-test.XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string path = std::string(dir) + "/x.log";
  ttyaudit::Logger log("t", path);
  log.SetUseJournal(false);
  log.Error("one");
  log.Warning("two");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  CHECK(text.find("t[" + std::to_string(getpid()) + "]: error: one\n") != std::string::npos);
  CHECK(text.find("]: warning: two\n") != std::string::npos);
  unlink(path.c_str());
  rmdir(dir);
}
