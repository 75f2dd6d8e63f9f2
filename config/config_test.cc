#include "config/config.h"

#include <doctest/doctest.h>

using namespace ttyaudit;

TEST_CASE("config: an empty object gives every default") {
  auto c = ParseConfig("{}", "t");
  REQUIRE(c.ok());
  CHECK(c->spool_dir == "/var/lib/ttyaudit/spool");
  CHECK(c->StoreUrl() == "file:///var/lib/ttyaudit/archive");
  CHECK(c->record_input);
  CHECK(c->fail_policy == FailPolicy{});
  CHECK(c->live_interval_s == 2.0);
  CHECK(c->fsync_interval_s == 1.0);
}

TEST_CASE("config: every documented key is read") {
  auto c = ParseConfig(R"({"runc":"/usr/sbin/runc","spool_dir":"/s","archive_dir":"/a",
    "store":"s3://b/p","s3":{"endpoint":"http://127.0.0.1:9","region":"eu-west-1",
    "path_style":false,"object_lock":{"mode":"COMPLIANCE","days":30},"sse":"AES256"},
    "record_input":false,"fail_closed":["prod"],"live_interval_s":0.5,"fsync_interval_s":2,
    "spool_max_bytes":1048576,"node_name":"n1"})",
                       "t");
  REQUIRE(c.ok());
  CHECK(c->runc == "/usr/sbin/runc");
  CHECK(c->s3.object_lock.mode == "COMPLIANCE");
  CHECK(c->s3.object_lock.days == 30);
  CHECK_FALSE(c->s3.path_style);
  CHECK_FALSE(c->record_input);
  CHECK(c->fail_policy == FailPolicy{false, {"prod"}});
  CHECK(c->live_interval_s == 0.5);
  CHECK(c->node_name == "n1");
}

TEST_CASE("config: unknown keys and bad values are errors naming the key") {
  auto msg = [](const char* json) {
    auto c = ParseConfig(json, "cfg.json");
    return c.ok() ? std::string("ok") : c.message();
  };
  CHECK(msg(R"({"spool":"/x"})") == "cfg.json: spool: unknown key");
  CHECK(msg(R"({"s3":{"endpiont":"x"}})") == "cfg.json: s3.endpiont: unknown key");
  CHECK(msg(R"({"record_input":"yes"})").find("record_input: want true or false") !=
        std::string::npos);
  CHECK(msg(R"({"spool_dir":"relative"})").find("spool_dir: want an absolute path") !=
        std::string::npos);
  CHECK(msg(R"({"store":"ftp://x"})").find("store: want file:///path or s3://") !=
        std::string::npos);
  CHECK(msg(R"({"s3":{"object_lock":{"mode":"FOREVER","days":1}}})").find("s3.object_lock.mode") !=
        std::string::npos);
  CHECK(
      msg(R"({"s3":{"object_lock":{"mode":"GOVERNANCE","days":0}}})").find("s3.object_lock.days") !=
      std::string::npos);
  CHECK(msg(R"({"live_interval_s":0})").find("live_interval_s") != std::string::npos);
  CHECK(msg(R"({"fail_closed":"sometimes"})").find("fail_closed") != std::string::npos);
  CHECK(msg("[1]").find("want a JSON object") != std::string::npos);
  CHECK(msg("{").find("cfg.json") != std::string::npos);
}

TEST_CASE("config: text after the object is an error; white space is not") {
  auto c = ParseConfig("{\"runc\":\"/r\"} {\"runc\":\"/other\"}", "/etc/c.json");
  REQUIRE_FALSE(c.ok());
  CHECK(c.message() == "/etc/c.json: not valid JSON (text after the object)");
  CHECK(ParseConfig("{\"runc\":\"/r\"} \n\t", "t").ok());
  CHECK(ParseConfig("{\"s3\":{\"region\":\"eu\"}}", "t").ok());
}

TEST_CASE("config: the sandbox's keys, their defaults and their ranges") {
  auto d = ParseConfig("{}", "t");
  REQUIRE(d.ok());
  CHECK(d->sandbox.enabled);
  CHECK(d->sandbox.recorder_memory_max == (256ULL << 20));
  CHECK(d->sandbox.recorder_pids_max == 64);
  auto c = ParseConfig(
      R"({"sandbox":{"enabled":false,"recorder_memory_max":67108864,"recorder_pids_max":16}})",
      "t");
  REQUIRE(c.ok());
  CHECK_FALSE(c->sandbox.enabled);
  CHECK(c->sandbox.recorder_memory_max == 67108864);
  CHECK(c->sandbox.recorder_pids_max == 16);
  auto msg = [](const char* json) {
    auto r = ParseConfig(json, "cfg.json");
    return r.ok() ? std::string("ok") : r.message();
  };
  CHECK(msg(R"({"sandbox":{"recorder_pids_max":2}})").find("sandbox.recorder_pids_max") !=
        std::string::npos);
  CHECK(msg(R"({"sandbox":{"recorder_memory_max":4096}})").find("sandbox.recorder_memory_max") !=
        std::string::npos);
  CHECK(msg(R"({"sandbox":{"seccomp":false}})") == "cfg.json: sandbox.seccomp: unknown key");
  CHECK(msg(R"({"sandbox":{"enabled":"no"}})").find("sandbox.enabled") != std::string::npos);
}
