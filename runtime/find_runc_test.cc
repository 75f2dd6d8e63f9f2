#include "runtime/find_runc.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>
#include <vector>

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/ttyaudit-findrunc.XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string Exe(const std::string& rel) {
    std::string p = path + "/" + rel;
    std::system(("mkdir -p \"$(dirname '" + p + "')\"").c_str());
    std::ofstream(p) << "#!/bin/sh\n";
    chmod(p.c_str(), 0755);
    return p;
  }
};

}  // namespace

TEST_CASE("find runc: the first runc on PATH that is not ttyaudit-runtime itself") {
  TempDir d;
  std::string self = d.Exe("a/runc");
  std::string real = d.Exe("b/runc");
  auto r = ttyaudit::FindRealRunc("", d.path + "/a:" + d.path + "/b", {self});
  REQUIRE(r.ok());
  CHECK(r.value() == real);
}

TEST_CASE("find runc: a hard link to itself under another name is still itself") {
  TempDir d;
  std::string self = d.Exe("self/ttyaudit-runtime");
  REQUIRE(mkdir((d.path + "/a").c_str(), 0755) == 0);
  REQUIRE(link(self.c_str(), (d.path + "/a/runc").c_str()) == 0);
  std::string real = d.Exe("b/runc");
  auto r = ttyaudit::FindRealRunc("", d.path + "/a:" + d.path + "/b", {self});
  REQUIRE(r.ok());
  CHECK(r.value() == real);
}

TEST_CASE("find runc: a configured runc that is itself is a loop, named as one") {
  TempDir d;
  std::string self = d.Exe("ttyaudit-runtime");
  auto r = ttyaudit::FindRealRunc(self, "", {self});
  REQUIRE_FALSE(r.ok());
  CHECK(r.message().find("loop") != std::string::npos);
  auto missing = ttyaudit::FindRealRunc(d.path + "/nope", "", {self});
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message().find("not an executable") != std::string::npos);
}

TEST_CASE("find runc: the front and the full runtime beside it are both itself") {
  TempDir d;
  std::string front = d.Exe("bin/ttyaudit-runtime");
  std::string full = d.Exe("bin/ttyaudit-runtime-full");
  auto selves = ttyaudit::RuntimeBinaries(full);
  CHECK(selves == std::vector<std::string>{full, front, full});
  REQUIRE(mkdir((d.path + "/a").c_str(), 0755) == 0);
  REQUIRE(mkdir((d.path + "/c").c_str(), 0755) == 0);
  REQUIRE(link(front.c_str(), (d.path + "/a/runc").c_str()) == 0);
  REQUIRE(symlink(full.c_str(), (d.path + "/c/runc").c_str()) == 0);
  auto configured =
      ttyaudit::FindRealRunc(d.path + "/a/runc", "", ttyaudit::RuntimeBinaries(front));
  REQUIRE_FALSE(configured.ok());
  CHECK(configured.message().find("loop") != std::string::npos);
  std::string real = d.Exe("b/runc");
  auto r = ttyaudit::FindRealRunc("", d.path + "/a:" + d.path + "/c:" + d.path + "/b", selves);
  REQUIRE(r.ok());
  CHECK(r.value() == real);
}
