#include "runtime/exec_meta.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <fstream>

using ttyaudit::Annotations;
using ttyaudit::SessionMeta;

TEST_CASE("exec meta: the shim's process file gives argv, env, cwd, ids and console size") {
  auto p = ttyaudit::ParseProcessSpec(R"({"terminal":true,"consoleSize":{"height":30,"width":100},
    "user":{"uid":1000,"gid":100,"additionalGids":[1,2]},"args":["sh","-l"],
    "env":["PATH=/bin","API_TOKEN=x"],"cwd":"/srv","capabilities":{"bounding":["CAP_KILL"]},
    "noNewPrivileges":true})");
  REQUIRE(p.ok());
  CHECK(p->terminal);
  CHECK(p->width == 100);
  CHECK(p->height == 30);
  CHECK(p->uid == 1000);
  CHECK(p->gid == 100);
  CHECK(p->args == std::vector<std::string>{"sh", "-l"});
  CHECK(p->env.size() == 2);
  CHECK(p->cwd == "/srv");
}

TEST_CASE("exec meta: a process file that is not an object, or has wrong types, is an error") {
  CHECK_FALSE(ttyaudit::ParseProcessSpec("[]").ok());
  CHECK_FALSE(ttyaudit::ParseProcessSpec("{\"args\":\"sh\"}").ok());
  CHECK_FALSE(ttyaudit::ParseProcessSpec("{\"args\":[1]}").ok());
  CHECK_FALSE(ttyaudit::ParseProcessSpec("not json").ok());
  auto uid = ttyaudit::ParseProcessSpec(R"({"user":{"uid":"0"}})");
  REQUIRE_FALSE(uid.ok());
  CHECK(uid.message() == "process spec: user.uid: want a whole number");
  auto width = ttyaudit::ParseProcessSpec(R"({"consoleSize":{"width":4294967297}})");
  REQUIRE_FALSE(width.ok());
  CHECK(width.message() == "process spec: consoleSize.width: want a whole number");
  // A user or consoleSize that is not an object was iterated anyway (found by
  // fuzz/process_spec): undefined behaviour in simdjson.
  CHECK_FALSE(ttyaudit::ParseProcessSpec(R"({"args":["ls"],"user":"root"})").ok());
  CHECK_FALSE(ttyaudit::ParseProcessSpec(R"({"consoleSize":[80,24]})").ok());
}

TEST_CASE("exec meta: a console size that no pty can have counts as absent") {
  auto p =
      ttyaudit::ParseProcessSpec(R"({"consoleSize":{"height":-24,"width":-80},"user":{"uid":0}})");
  REQUIRE(p.ok());
  CHECK(p->width == 0);
  CHECK(p->height == 0);
  auto q = ttyaudit::ParseProcessSpec(R"({"consoleSize":{"height":65535,"width":65536}})");
  REQUIRE(q.ok());
  CHECK(q->height == 65535);
  CHECK(q->width == 0);
}

TEST_CASE("exec meta: CRI annotations name the Kubernetes namespace, pod and container") {
  Annotations a = {{"io.kubernetes.cri.container-type", "container"},
                   {"io.kubernetes.cri.sandbox-namespace", "payments"},
                   {"io.kubernetes.cri.sandbox-name", "web-1"},
                   {"io.kubernetes.cri.sandbox-uid", "uid-1"},
                   {"io.kubernetes.cri.container-name", "nginx"},
                   {"io.kubernetes.cri.image-name", "nginx:1.25"}};
  SessionMeta m;
  ttyaudit::ApplyAnnotations(a, "/run/containerd/runc/k8s.io", m);
  CHECK(m.runtime == "kubernetes-cri");
  CHECK(m.k8s_namespace == "payments");
  CHECK(m.pod == "web-1");
  CHECK(m.pod_uid == "uid-1");
  CHECK(m.container == "nginx");
  CHECK(m.image == "nginx:1.25");
}

TEST_CASE("exec meta: CRI-O annotations, and Docker or containerd without any") {
  Annotations crio = {{"io.kubernetes.pod.namespace", "ns"},
                      {"io.kubernetes.pod.name", "p"},
                      {"io.kubernetes.container.name", "c"}};
  SessionMeta m;
  ttyaudit::ApplyAnnotations(crio, "/run/runc", m);
  CHECK(m.runtime == "cri-o");
  CHECK(m.k8s_namespace == "ns");
  CHECK(m.pod == "p");
  CHECK(m.container == "c");
  SessionMeta d;
  ttyaudit::ApplyAnnotations({}, "/run/docker/runtime-runc/moby", d);
  CHECK(d.runtime == "docker");
  SessionMeta c;
  ttyaudit::ApplyAnnotations({}, "/run/containerd/runc/default/", c);
  CHECK(c.runtime == "containerd");
}

TEST_CASE("exec meta: Docker's config.v2.json gives the name without its one leading '/'") {
  auto c = ttyaudit::ParseDockerConfig(R"({"Name":"//web","Config":{"Image":"busybox"},"X":[]})");
  REQUIRE(c.ok());
  CHECK(c->name == "/web");
  CHECK(c->image == "busybox");
  CHECK_FALSE(ttyaudit::ParseDockerConfig(R"({"Name":7})").ok());
  CHECK_FALSE(ttyaudit::ParseDockerConfig(R"({"Config":{"Image":null}})").ok());
  CHECK_FALSE(ttyaudit::ParseDockerConfig("[]").ok());
  auto none = ttyaudit::ParseDockerConfig("{}");
  REQUIRE(none.ok());
  CHECK(none->name.empty());
}

TEST_CASE("exec meta: Docker's name and image come from config.v2.json beside the hostname file") {
  char dir[] = "/tmp/ttyaudit-docker.XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string d = dir;
  std::ofstream(d + "/config.v2.json")
      << R"({"ID":"abc","Config":{"Hostname":"abc","Image":"busybox:1.36","Env":[]},"Name":"/web"})";
  SessionMeta m;
  ttyaudit::ApplyDockerConfig(d + "/hostname", m);
  CHECK(m.container == "web");
  CHECK(m.image == "busybox:1.36");
  SessionMeta untouched;
  ttyaudit::ApplyDockerConfig("/nonexistent/hostname", untouched);
  CHECK(untouched.container.empty());
  std::system(("rm -rf '" + d + "'").c_str());
}
