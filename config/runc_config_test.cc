#include "config/runc_config.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

#include "config/config.h"

using namespace ttyaudit;

TEST_CASE("runc config: runc and log_file are read among every other key") {
  auto c = ParseRuncConfig(R"({"spool_dir":"/s","s3":{"endpoint":"http://h","object_lock":
    {"mode":"COMPLIANCE","days":30}},"fail_closed":["a","b"],"live_interval_s":0.5e1,
    "record_input":false,"node_name":null,"runc":"/opt/runc/bin/runc","log_file":"/l"})",
                           "t");
  REQUIRE(c.ok());
  CHECK(c->runc == "/opt/runc/bin/runc");
  CHECK(c->log_file == "/l");
}

TEST_CASE("runc config: defaults when the keys are absent; the last of repeated keys wins") {
  auto c = ParseRuncConfig(" {} \n", "t");
  REQUIRE(c.ok());
  CHECK(c->runc.empty());
  CHECK(c->log_file == "/var/log/ttyaudit.log");
  auto twice = ParseRuncConfig(R"({"runc":"/a","runc":"/b"})", "t");
  REQUIRE(twice.ok());
  CHECK(twice->runc == "/b");
}

TEST_CASE("runc config: escapes in strings are decoded, surrogate pairs included") {
  auto c = ParseRuncConfig(R"({"runc":"\/opt\/r\u00fcnc \"x\"\\\ud83d\ude00\t"})", "t");
  REQUIRE(c.ok());
  CHECK(c->runc == "/opt/r\xC3\xBCnc \"x\"\\\xF0\x9F\x98\x80\t");
  auto key = ParseRuncConfig(R"({"r\u0075nc":"/escaped/key"})", "t");
  REQUIRE(key.ok());
  CHECK(key->runc == "/escaped/key");
}

TEST_CASE("runc config: a runc or log_file that is not a string is an error naming the key") {
  auto c = ParseRuncConfig(R"({"runc":["/usr/bin/runc"]})", "/etc/c.json");
  REQUIRE_FALSE(c.ok());
  CHECK(c.message() == "/etc/c.json: runc: want a string");
  auto l = ParseRuncConfig(R"({"log_file":null})", "t");
  REQUIRE_FALSE(l.ok());
  CHECK(l.message() == "t: log_file: want a string");
}

TEST_CASE("runc config: text that is not one JSON object is an error, wherever it breaks") {
  const std::vector<std::string> bad = {
      "",
      "{",
      "{\"runc\":\"/r\"",
      "{\"runc\":\"/r\",}",
      "{\"runc\" \"/r\"}",
      "{\"runc\":\"/r\"} {}",
      "{\"a\":[1,2,]}",
      "{\"a\":01}",
      "{\"a\":1.}",
      "{\"a\":.5}",
      "{\"a\":-}",
      "{\"a\":1e}",
      "{\"a\":tru}",
      "{\"a\":\"\x01\"}",
      "{\"a\":\"\\x\"}",
      "{\"a\":\"\\ud800\"}",
      "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\u12\"}",
      "{a:1}",
      "{\"a\":1}\xEF",
      "{\"runc\":\"/r\xFF\"}",
      std::string(100, '[') + std::string(100, ']'),
      "{'runc':'/r'}",
      "{\"a\":{\"b\":}}",
  };
  for (const auto& text : bad) {
    auto c = ParseRuncConfig(text, "t");
    INFO(text);
    CHECK_FALSE(c.ok());
    if (!c.ok()) CHECK(c.message().rfind("t: not valid JSON", 0) == 0);
  }
  auto arr = ParseRuncConfig("[\"runc\"]", "t");
  REQUIRE_FALSE(arr.ok());
  CHECK(arr.message() == "t: want a JSON object");
}

TEST_CASE("runc config: agrees with ParseConfig on every valid config") {
  const std::vector<std::string> configs = {
      "{}",
      R"({"runc":""})",
      R"({"runc":"/usr/sbin/runc","spool_dir":"/s","log_file":"/var/log/x.log"})",
      R"({"s3":{"region":"eu-west-1","object_lock":{"mode":"GOVERNANCE","days":1}},
          "runc":"/a\u0020b","fail_closed":true,"spool_max_bytes":1048576})",
      R"( { "log_file" : "" , "runc" : "\/x" } )",
      R"({"fail_closed":["kube-system", "prod"]})",
      R"({"fail_closed":[]})",
      R"({"fail_closed":false})",
      R"({"fail_closed":["a"],"fail_closed":["b"]})",
      R"({"fail_closed":["a"],"fail_closed":true})",
      R"({"fail_closed":true,"fail_closed":["a","a\u0062"]})",
      R"({"fail_closed":["a"],"fail_closed":false})",
  };
  for (const auto& text : configs) {
    INFO(text);
    auto full = ParseConfig(text, "t");
    auto lean = ParseRuncConfig(text, "t");
    REQUIRE(full.ok());
    REQUIRE(lean.ok());
    CHECK(lean->runc == full->runc);
    CHECK(lean->log_file == full->log_file);
    CHECK(lean->fail_policy == full->fail_policy);
  }
}

TEST_CASE("runc config: fail_closed is closed unless false, absent or an empty list") {
  // As the front asks: it cannot tell an exec's namespace.
  auto closed = [](const std::string& text) {
    auto c = ParseRuncConfig(text, "t");
    REQUIRE(c.ok());
    return FailClosed(c->fail_policy, kNamespaceUnknown);
  };
  CHECK_FALSE(closed("{}"));
  CHECK_FALSE(closed(R"({"fail_closed":false})"));
  CHECK_FALSE(closed(R"({"fail_closed":[ ]})"));
  CHECK(closed(R"({"fail_closed":true})"));
  CHECK(closed(R"({"fail_closed":["prod"]})"));
  CHECK_FALSE(closed(R"({"fail_closed":true,"fail_closed":false})"));  // the last one wins
  // Values the full runtime rejects: the front, which cannot say which exec they meant to close,
  // takes them as closed.
  CHECK(closed(R"({"fail_closed":null})"));
  CHECK(closed(R"({"fail_closed":"yes"})"));
  CHECK(closed(R"({"fail_closed":[""]})"));
  CHECK(closed(R"({"fail_closed":{}})"));
  CHECK(closed(R"({"fail_closed":["prod",1]})"));
  auto malformed = ParseRuncConfig(R"({"fail_closed":["prod",null]})", "t");
  REQUIRE(malformed.ok());
  CHECK(FailClosed(malformed->fail_policy, "dev"));  // closed everywhere, not for prod alone
}

TEST_CASE("runc config: a missing default file gives the defaults, as LoadConfig's") {
  ConfigText none{"/nonexistent/config.json", false, ""};
  auto lean = RuncConfigFromText(none);
  auto full = ConfigFromText(none);
  REQUIRE(lean.ok());
  REQUIRE(full.ok());
  CHECK(lean->runc == full->runc);
  CHECK(lean->log_file == full->log_file);
  CHECK(lean->fail_policy == full->fail_policy);
  ConfigText bad{"/etc/c.json", true, "{"};
  auto lean_bad = RuncConfigFromText(bad);
  REQUIRE_FALSE(lean_bad.ok());
  CHECK(lean_bad.message().rfind("/etc/c.json: not valid JSON", 0) == 0);
  auto full_bad = ConfigFromText(bad);
  REQUIRE_FALSE(full_bad.ok());
  CHECK(full_bad.message().rfind("/etc/c.json: ", 0) == 0);
}

TEST_CASE(
    "runc config: a missing file named by TTYAUDIT_CONFIG is an error, a present one is read") {
  char dir[] = "/tmp/ttyaudit-runcconfig.XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string path = std::string(dir) + "/config.json";
  const char* old = std::getenv("TTYAUDIT_CONFIG");
  std::string saved = old ? old : "";
  setenv("TTYAUDIT_CONFIG", path.c_str(), 1);
  auto missing = LoadRuncConfig();
  CHECK_FALSE(missing.ok());
  if (!missing.ok()) CHECK(missing.message().find(path) != std::string::npos);
  std::ofstream(path) << R"({"runc":"/x/runc"})";
  auto present = LoadRuncConfig();
  REQUIRE(present.ok());
  CHECK(present->runc == "/x/runc");
  if (old)
    setenv("TTYAUDIT_CONFIG", saved.c_str(), 1);
  else
    unsetenv("TTYAUDIT_CONFIG");
  unlink(path.c_str());
  rmdir(dir);
}
