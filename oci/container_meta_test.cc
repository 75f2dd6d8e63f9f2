#include "oci/container_meta.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace ttyaudit {
namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ttyaudit-meta-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return tmpl;
}

}  // namespace

TEST_CASE("container meta: a session takes the hook's fields without losing its own") {
  ContainerMeta c;
  c.id = "abc";
  c.runtime = "kubernetes-cri";
  c.k8s_namespace = "ns";
  c.pod = "p";
  c.container = "app";
  c.image = "img:1";
  SessionMeta m;
  m.container_id = "abc";
  m.image = "from-the-exec";
  ApplyContainerMeta(c, m);
  CHECK(m.runtime == "kubernetes-cri");
  CHECK(m.k8s_namespace == "ns");
  CHECK(m.pod == "p");
  CHECK(m.container == "app");
  CHECK(m.image == "from-the-exec");
}

TEST_CASE("container meta: a registration lists the recorder until it is destroyed") {
  std::string dir = TempDir();
  const std::string entry = dir + "/sessions/c1/s1.pid";
  {
    SessionRegistration reg(dir, "c1", "s1", getpid());
    REQUIRE(reg.ok());
    CHECK(access(entry.c_str(), F_OK) == 0);
    CHECK(ProcessStartTime(getpid()) > 0);
  }
  CHECK(access(entry.c_str(), F_OK) != 0);
  SessionRegistration bad("/proc/no/such", "c1", "s1", getpid());
  CHECK_FALSE(bad.ok());
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

TEST_CASE("container meta: metadata saved by id is loaded back, and absent once removed") {
  std::string dir = TempDir();
  ContainerMeta c;
  c.id = "../../etc/evil";  // ids come from outside: they never leave the directory
  c.pod = "p";
  REQUIRE(SaveContainerMeta(dir, c).ok());
  auto back = LoadContainerMeta(dir, c.id);
  REQUIRE(back.ok());
  CHECK(back->pod == "p");
  CHECK(access((dir + "/containers/.._.._etc_evil.json").c_str(), F_OK) == 0);
  REQUIRE(RemoveContainerMeta(dir, c.id).ok());
  CHECK_FALSE(LoadContainerMeta(dir, c.id).ok());
  CHECK(RemoveContainerMeta(dir, c.id).ok());  // twice is fine
  std::string rm = "rm -rf " + dir;
  CHECK(system(rm.c_str()) == 0);
}

}  // namespace ttyaudit
