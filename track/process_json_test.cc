#include "track/process_json.h"

#include <doctest/doctest.h>
#include <signal.h>

namespace ttyaudit {

TEST_CASE("process records: a uid too long for 32 bits names no user, and does not wrap around") {
  // 2^64 + 0 would wrap to uid 0 in 64-bit arithmetic (found by fuzz/passwd_fuzz.cc).
  UserNames n = ParsePasswd(
      "fake:x:18446744073709551616:0::/:/bin/sh\nbig:x:4294967296:0::/:/bin/sh\n"
      "root:x:0:0:root:/root:/bin/sh\nnobody:x:4294967295:0::/:/bin/sh\n");
  CHECK(n.size() == 2);
  CHECK(n[0] == "root");
  CHECK(n[4294967295] == "nobody");
}

TEST_CASE("process records: user names come from passwd text, bad lines skipped") {
  UserNames n = ParsePasswd(
      "root:x:0:0:root:/root:/bin/sh\nbroken\nweb:x:1000:1000::/:/bin/false\n"
      "x:x:notanumber:0::/:/bin/sh\n");
  CHECK(n.size() == 2);
  CHECK(n[0] == "root");
  CHECK(n[1000] == "web");
  Escalation e;
  e.pid = 9;
  e.uid_before = e.euid_before = 1000;
  e.uid_after = 1000;
  e.euid_after = 0;
  JsonWriter w;
  WriteEscalationJson(w, e, 0, &n);
  CHECK(w.str().find(R"("before":{"uid":1000,"euid":1000,"user":"web","euser":"web"})") !=
        std::string::npos);
  CHECK(
      w.str().find(R"("after":{"uid":1000,"euid":0,"user":"web","euser":"root"},"to_root":true)") !=
      std::string::npos);
}

TEST_CASE("process records: JSON has the commands shape with offsets, exit code and signal") {
  ProcessRecord a;
  a.pid = 7;
  a.ppid = 1;
  a.argv = {"sh", "-c", "x"};
  a.cwd = "/";
  a.uid = 0;
  a.euid = 0;
  a.start_mono_ns = 1'500'000'000;
  a.end_mono_ns = 2'000'000'000;
  a.exited = true;
  a.wait_status = SIGKILL;
  std::string s = ProcessManifestMembers({a}, {}, 1'000'000'000, 0);
  CHECK(s.find("\"commands\":[{\"pid\":7,\"ppid\":1,\"argv\":[\"sh\",\"-c\",\"x\"],\"cwd\":\"/\","
               "\"uid\":0,\"euid\":0,\"start\":0.500000,\"end\":1.000000,\"exit_code\":-1,"
               "\"signal\":9") == 0);
  CHECK(s.find("\"escalations\":[]") != std::string::npos);
  CHECK(s.find("\"escalated\":false") != std::string::npos);
}

}  // namespace ttyaudit
