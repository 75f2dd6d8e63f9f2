#include "config/config_file.h"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <string>

using namespace ttyaudit;

namespace {

// A scratch directory, removed with what the test left in it.
struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/ttyaudit-config-file.XXXXXX";
    REQUIRE(mkdtemp(t));
    path = t;
  }
  ~TempDir() { CHECK(system(("rm -rf " + path).c_str()) == 0); }
};

}  // namespace

TEST_CASE("config file: a missing default file means the defaults, a missing named one errs") {
  TempDir dir;
  const std::string path = dir.path + "/config.json";
  auto by_default = ReadConfigFile(path, false);
  REQUIRE(by_default.ok());
  CHECK_FALSE(by_default->found);
  CHECK(by_default->path == path);
  auto named = ReadConfigFile(path, true);
  REQUIRE_FALSE(named.ok());
  CHECK(named.message() == "config: open `" + path + "`: No such file or directory");
}

TEST_CASE("config file: a file is read whole, named or not") {
  TempDir dir;
  const std::string path = dir.path + "/config.json";
  std::ofstream(path) << R"({"runc":"/x/runc"})";
  for (bool named : {false, true}) {
    auto c = ReadConfigFile(path, named);
    REQUIRE(c.ok());
    CHECK(c->found);
    CHECK(c->path == path);
    CHECK(c->text == R"({"runc":"/x/runc"})");
  }
}

TEST_CASE("config file: a default file that exists but cannot be read is an error") {
  TempDir dir;
  // A directory: open succeeds, read fails (EISDIR), and it is no missing file.
  auto c = ReadConfigFile(dir.path, false);
  REQUIRE_FALSE(c.ok());
  CHECK(c.message() == "config: config `" + dir.path + "`: not a regular file");
  // Beneath a file: ENOTDIR, not ENOENT, so not the defaults either.
  std::ofstream(dir.path + "/file") << "{}";
  auto under_file = ReadConfigFile(dir.path + "/file/config.json", false);
  CHECK_FALSE(under_file.ok());
}

TEST_CASE("config file: TTYAUDIT_CONFIG names the file") {
  TempDir dir;
  const std::string path = dir.path + "/named.json";
  const char* old = std::getenv("TTYAUDIT_CONFIG");
  std::string saved = old ? old : "";
  setenv("TTYAUDIT_CONFIG", path.c_str(), 1);
  CHECK(ConfigPath() == path);
  auto missing = ReadConfigText();
  CHECK_FALSE(missing.ok());
  std::ofstream(path) << "{}";
  auto present = ReadConfigText();
  REQUIRE(present.ok());
  CHECK(present->text == "{}");
  setenv("TTYAUDIT_CONFIG", "", 1);
  CHECK(ConfigPath() == "/etc/ttyaudit/config.json");  // empty counts as unset
  if (old)
    setenv("TTYAUDIT_CONFIG", saved.c_str(), 1);
  else
    unsetenv("TTYAUDIT_CONFIG");
}
