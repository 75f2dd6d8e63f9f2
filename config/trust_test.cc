#include "config/trust.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

using namespace ttyaudit;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ttyaudit-trust-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  return tmpl;
}

void RemoveDir(const std::string& dir) { std::system(("rm -rf '" + dir + "'").c_str()); }

}  // namespace

TEST_CASE("trust: a config only its owner can write is accepted; group- or world-writable is not") {
  std::string dir = TempDir();
  std::string path = dir + "/config.json";
  std::ofstream(path) << "{}";
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  CHECK(CheckConfigTrusted(path).ok());
  REQUIRE(chmod(path.c_str(), 0666) == 0);
  Status st = CheckConfigTrusted(path);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("mode 666") != std::string::npos);
  REQUIRE(chmod(path.c_str(), 0664) == 0);
  CHECK_FALSE(CheckConfigTrusted(path).ok());
  RemoveDir(dir);
}

TEST_CASE("trust: a config in a directory others can write is refused, unless it is sticky") {
  std::string dir = TempDir();
  std::string path = dir + "/config.json";
  std::ofstream(path) << "{}";
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  REQUIRE(chmod(dir.c_str(), 0777) == 0);
  Status st = CheckConfigTrusted(path);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("config directory") != std::string::npos);
  REQUIRE(chmod(dir.c_str(), 01777) == 0);
  CHECK(CheckConfigTrusted(path).ok());
  RemoveDir(dir);
}

TEST_CASE("trust: private dirs are made 0700 and refused when looser") {
  std::string top = TempDir();
  std::string dir = top + "/a/spool";
  REQUIRE(EnsurePrivateDir(dir, "spool").ok());
  struct stat st;
  REQUIRE(stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  REQUIRE(chmod(dir.c_str(), 0777) == 0);
  Status bad = EnsurePrivateDir(dir, "spool");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message().find("has mode 777") != std::string::npos);
  RemoveDir(top);
}
