#include "runtime/recorder.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "base/log.h"

namespace ttyaudit {

// The recorder runs in a detached process of its own (ForkDetached), as under the runtime. A
// spool that cannot be written stops it at its first phase, before any process tracking, so the
// test starts no tracker hub.
TEST_CASE("recorder: a session that cannot be created is why StartRecorder gives up") {
  char tmpl[] = "/tmp/ttyaudit-recorder-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string dir = tmpl;
  std::ofstream(dir + "/not-a-dir") << "x";
  Config config;
  config.spool_dir = dir + "/not-a-dir/spool";
  Logger log("ttyaudit-test", dir + "/log");
  RuncArgs args;
  args.command = "exec";
  args.exec.container_id = "c1";
  ExecContext ctx{config, log, args, "/bin/false", dir + "/run"};
  SessionMeta meta;
  meta.id = "0190f5a8-0000-7000-8000-000000000001";
  meta.container_id = "c1";
  auto control = StartRecorder(ctx, meta, "xterm", 5000);
  REQUIRE_FALSE(control.ok());
  CHECK(control.message().find(dir + "/not-a-dir/spool") != std::string::npos);
  CHECK(control.message().find("Not a directory") != std::string::npos);
  CHECK(system(("rm -rf " + dir).c_str()) == 0);
}

}  // namespace ttyaudit
