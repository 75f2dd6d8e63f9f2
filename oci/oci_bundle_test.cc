#include "oci/oci_bundle.h"

#include <doctest/doctest.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "oci/container_meta.h"

namespace ttyaudit {
namespace {

const char* kConfig = R"({
  "ociVersion": "1.0.2-dev",
  "process": {"terminal": true, "user": {"uid": 0, "gid": 0}, "args": ["sh"],
              "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}]},
  "root": {"path": "rootfs", "readonly": true},
  "hooks": {
    "prestart": [{"path": "/usr/bin/nvidia-hook", "args": ["nvidia-hook", "prestart"]}],
    "createRuntime": [{"path": "/usr/bin/other", "args": ["other", "x"], "timeout": 5}]
  },
  "annotations": {"io.kubernetes.cri.sandbox-name": "web-1", "weird \"key\"": "v\u00e9"},
  "linux": {"resources": {"memory": {"limit": 18446744073709551615}}}
})";

// The hook stage arrays of a config, as (path, last arg) pairs.
std::vector<std::pair<std::string, std::string>> Stage(const std::string& json, const char* stage) {
  simdjson::dom::parser p;
  simdjson::padded_string ps(json);
  simdjson::dom::element root = p.parse(ps).value();
  std::vector<std::pair<std::string, std::string>> out;
  simdjson::dom::array arr;
  if (root["hooks"][stage].get_array().get(arr)) return out;
  for (auto h : arr) {
    simdjson::dom::array args = h["args"].get_array().value();
    std::string last;
    for (auto a : args) last = std::string(a.get_string().value());
    out.emplace_back(std::string(h["path"].get_string().value()), last);
  }
  return out;
}

std::string ReadAll(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("oci bundle: our hooks go after the hooks already there, which are kept") {
  auto out = AddHooksToConfig(kConfig, "/usr/local/bin/ttyaudit-hook");
  REQUIRE(out.ok());
  auto cr = Stage(*out, "createRuntime");
  REQUIRE(cr.size() == 2);
  CHECK(cr[0] == std::make_pair(std::string("/usr/bin/other"), std::string("x")));
  CHECK(cr[1] ==
        std::make_pair(std::string("/usr/local/bin/ttyaudit-hook"), std::string("createRuntime")));
  auto ps = Stage(*out, "poststop");
  REQUIRE(ps.size() == 1);
  CHECK(ps[0].second == "poststop");
  CHECK(Stage(*out, "prestart").size() == 1);
  // Everything else is unchanged, including a uint64 beyond int64 and escaped strings.
  CHECK(out->find("18446744073709551615") != std::string::npos);
  CHECK(out->find(R"("weird \"key\"":"vé")") != std::string::npos);
  CHECK(out->find(R"("timeout":5)") != std::string::npos);
  CHECK(out->find(R"("root":{"path":"rootfs","readonly":true})") != std::string::npos);
}

TEST_CASE("oci bundle: adding the hooks twice gives the same file as adding them once") {
  HookOptions opts;
  opts.env = {"TTYAUDIT_CONFIG=/etc/ttyaudit/config.json"};
  auto once = AddHooksToConfig(kConfig, "/x/ttyaudit-hook", opts);
  REQUIRE(once.ok());
  auto twice = AddHooksToConfig(*once, "/x/ttyaudit-hook", opts);
  REQUIRE(twice.ok());
  CHECK(*once == *twice);
  CHECK(Stage(*twice, "createRuntime").size() == 2);
  CHECK(once->find(R"("env":["TTYAUDIT_CONFIG=/etc/ttyaudit/config.json"],"timeout":10)") !=
        std::string::npos);
}

TEST_CASE("oci bundle: a config without hooks gets both stages") {
  auto out = AddHooksToConfig(R"({"ociVersion":"1.0.2"})", "/h");
  REQUIRE(out.ok());
  CHECK(*out == R"({"ociVersion":"1.0.2","hooks":{"createRuntime":[{"path":"/h","args":)"
                R"(["/h","createRuntime"],"timeout":10}],"poststop":[{"path":"/h","args":)"
                R"(["/h","poststop"],"timeout":10}]}})");
}

TEST_CASE("oci bundle: malformed hooks are an error naming the member") {
  auto out = AddHooksToConfig(R"({"hooks":{"poststop":{}}})", "/h");
  REQUIRE_FALSE(out.ok());
  CHECK(out.message() == "config.json: hooks.poststop: want an array");
  CHECK_FALSE(AddHooksToConfig("[1]", "/h").ok());
  CHECK_FALSE(AddHooksToConfig("{", "/h").ok());
}

TEST_CASE("oci bundle: AddHooks rewrites config.json in place keeping its mode") {
  char tmpl[] = "/tmp/ttyaudit-bundle.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  {
    std::ofstream f(dir + "/config.json");
    f << kConfig;
  }
  REQUIRE(chmod((dir + "/config.json").c_str(), 0640) == 0);
  REQUIRE(AddHooks(dir, "/x/ttyaudit-hook").ok());
  std::string first = ReadAll(dir + "/config.json");
  REQUIRE(AddHooks(dir, "/x/ttyaudit-hook").ok());
  CHECK(ReadAll(dir + "/config.json") == first);
  struct stat st;
  REQUIRE(stat((dir + "/config.json").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0640);
  auto info = ReadBundleConfig(dir);  // what an exec's session reads from it later
  REQUIRE(info.ok());
  CHECK(AnnotationValue(info->annotations, "io.kubernetes.cri.sandbox-name") == "web-1");
  CHECK(AnnotationValue(info->annotations, "weird \"key\"") == "v\xC3\xA9");
  CHECK(info->root_path == "rootfs");
  CHECK_FALSE(AddHooks(dir + "/missing", "/x").ok());
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

TEST_CASE("oci bundle: config.json gives annotations, the hostname mount and the rootfs") {
  auto b = ParseBundleConfig(R"({"ociVersion":"1.0.2","root":{"path":"rootfs"},
    "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
              {"destination":"/etc/hostname",
               "source":"/var/lib/docker/containers/abc/hostname","options":["rbind"]}],
    "annotations":{"io.kubernetes.cri.sandbox-namespace":"prod","x":"y"}})");
  REQUIRE(b.ok());
  CHECK(b->root_path == "rootfs");
  CHECK(b->hostname_mount == "/var/lib/docker/containers/abc/hostname");
  REQUIRE(b->annotations.size() == 2);
  CHECK(b->annotations[0].second == "prod");
  CHECK_FALSE(ParseBundleConfig(R"({"annotations":{"a":1}})").ok());
  // The last /etc/hostname mount wins, and one mount's fields never leak into the next.
  auto two = ParseBundleConfig(R"({"mounts":[{"destination":"/etc/hostname","source":"/a"},
    {"source":"/b"},{"destination":"/etc/hostname"}]})");
  REQUIRE(two.ok());
  CHECK(two->hostname_mount == "");
  auto bad = ParseBundleConfig(R"({"mounts":[{"destination":7}]})");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message() == "bundle config: mounts.destination: want a string");
}

TEST_CASE("oci bundle: a config.json that cannot be read or parsed is an error naming it") {
  char tmpl[] = "/tmp/ttyaudit-bundle.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string dir = tmpl;
  auto missing = ReadBundleConfig(dir);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message() == "open `" + dir + "/config.json`: No such file or directory");
  std::ofstream(dir + "/config.json") << R"({"annotations":{"a":1}})";
  auto bad = ReadBundleConfig(dir);
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message() == dir + "/config.json: bundle config: annotations: want string values");
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

TEST_CASE("oci bundle: the hook state is parsed from the runtime's JSON") {
  auto st = ParseHookState(R"({"ociVersion":"1.0.2","id":"abc","status":"creating",)"
                           R"("pid":4242,"bundle":"/b","annotations":{"k":"v"},"extra":[1]})");
  REQUIRE(st.ok());
  CHECK(st->id == "abc");
  CHECK(st->status == "creating");
  CHECK(st->pid == 4242);
  CHECK(st->bundle == "/b");
  REQUIRE(st->annotations.size() == 1);
  CHECK(st->annotations[0].second == "v");
  CHECK_FALSE(ParseHookState(R"({"pid":1})").ok());
  CHECK_FALSE(ParseHookState(R"({"id":"x","pid":"one"})").ok());
  CHECK_FALSE(ParseHookState("").ok());
}

TEST_CASE("container meta: CRI-O and Docker containers are told apart from CRI ones") {
  HookState s;
  s.id = "x";
  s.annotations = {{"io.kubernetes.pod.namespace", "ns"},
                   {"io.kubernetes.pod.name", "p"},
                   {"io.kubernetes.container.name", "c"},
                   {"io.kubernetes.cri-o.ImageName", "img"}};
  ContainerMeta m = ContainerMetaFromState(s);
  CHECK(m.runtime == "cri-o");
  CHECK(m.k8s_namespace == "ns");
  CHECK(m.pod == "p");
  CHECK(m.container == "c");
  CHECK(m.image == "img");
  HookState d;
  d.id = "y";
  d.bundle = "/run/docker/containerd/daemon/io.containerd.runtime.v2.task/moby/y";
  CHECK(ContainerMetaFromState(d).runtime == "docker");
  auto back = ParseContainerMeta(ContainerMetaToJson(m));
  REQUIRE(back.ok());
  CHECK(back->pod == "p");
  CHECK(back->annotations == m.annotations);
}

}  // namespace ttyaudit

namespace ttyaudit {

// Inputs from containers and their managers: every prefix and single-byte change of a valid
// document must give a value or an error, never a crash (run under ASan/UBSan too).
TEST_CASE("oci bundle: truncated and corrupted state and config JSON are errors, not crashes") {
  const std::string state = R"({"ociVersion":"1.0.2","id":"abc","status":"creating","pid":42,)"
                            R"("bundle":"/b","annotations":{"k":"v","n":"\u00e9"}})";
  const std::string config = kConfig;
  int parsed = 0;
  for (size_t cut = 0; cut < state.size(); ++cut)
    parsed += ParseHookState(state.substr(0, cut)).ok();
  CHECK(parsed == 0);  // no proper prefix is a whole object
  const char repl[] = {'"', '{', '}', '[', ']', ':', ',', '\\', 'x', '0', '\0', '\xff'};
  for (size_t i = 0; i < state.size(); ++i) {
    for (char c : repl) {
      std::string s = state;
      s[i] = c;
      (void)ParseHookState(s);
    }
  }
  for (size_t cut = 0; cut < config.size(); cut += 7)
    (void)AddHooksToConfig(config.substr(0, cut), "/h");
  for (size_t i = 0; i < config.size(); i += 3) {
    for (char c : repl) {
      std::string s = config;
      s[i] = c;
      auto out = AddHooksToConfig(s, "/h");
      if (out.ok()) {  // whatever was accepted comes out as JSON that takes the hooks again
        auto again = AddHooksToConfig(*out, "/h");
        REQUIRE(again.ok());
        CHECK(*again == *out);
      }
    }
  }
}

}  // namespace ttyaudit
