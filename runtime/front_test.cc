#include "runtime/front.h"

#include <doctest/doctest.h>

using ttyaudit::NeedsFullRuntime;
using ttyaudit::ParseRuncArgs;

TEST_CASE("front: exec and create go to the full runtime, whatever flags come first") {
  CHECK(NeedsFullRuntime(ParseRuncArgs({"runc", "--root", "/r", "--log", "/l", "--log-format",
                                        "json", "exec", "--process", "/p", "--console-socket", "/s",
                                        "--detach", "--pid-file", "/f", "c1"})));
  CHECK(NeedsFullRuntime(ParseRuncArgs({"runc", "exec", "c1", "sh"})));
  CHECK(NeedsFullRuntime(ParseRuncArgs({"runc", "--root=/r", "--debug", "create", "--bundle", "/b",
                                        "--pid-file", "/b/init.pid", "c1"})));
}

TEST_CASE("front: every other call passes through, flag values that look like commands too") {
  for (const char* cmd :
       {"state", "start", "kill", "delete", "ps", "events", "features", "update", "pause", "resume",
        "checkpoint", "restore", "list", "run", "spec", "help", "no-such-subcommand"}) {
    INFO(cmd);
    CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc", "--root", "/r", cmd, "c1"})));
  }
  CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc", "--root", "exec", "state", "c1"})));
  CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc", "--log", "create", "kill", "c1", "KILL"})));
  CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc", "state", "exec"})));
  CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc", "--version"})));
  CHECK_FALSE(NeedsFullRuntime(ParseRuncArgs({"runc"})));
}

TEST_CASE("front: the full runtime is looked for beside the front") {
  CHECK(ttyaudit::FullRuntimeBeside("/usr/local/bin/ttyaudit-runtime") ==
        "/usr/local/bin/ttyaudit-runtime-full");
  CHECK(ttyaudit::FullRuntimeBeside("/opt/x y/ttyaudit-runtime") ==
        "/opt/x y/ttyaudit-runtime-full");
}
