#include "record/spool.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.h"

namespace ttyaudit {
namespace {

std::string TempSpool() {
  char dir[] = "/tmp/ttyaudit-spool-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

void Touch(const std::string& path, const std::string& bytes) {
  REQUIRE(ReplaceFile(path, bytes, Durability::kNone).ok());
}

TEST_CASE("spool: every file of a session is named from the spool and the session id") {
  CHECK(SpoolCastPath("/s", "0193a") == "/s/0193a.cast");
  CHECK(SpoolManifestPath("/s", "0193a") == "/s/0193a.json");
  CHECK(SpoolUploadStatePath("/s", "0193a") == "/s/0193a.upstate");
  CHECK(SpoolUploaderStatusPath("/s") == "/s/uploader.status");
  CHECK(SpoolCastPath("/s", "../../etc/x") == "/s/.._.._etc_x.cast");
  CHECK(ManifestPathFor(SpoolCastPath("/s", "0193a")) == SpoolManifestPath("/s", "0193a"));
  CHECK(ManifestPathFor("/archive/a/b.cast") == "/archive/a/b.json");
  CHECK(ScreenTextPathFor(SpoolCastPath("/s", "0193a")) == SpoolScreenTextPath("/s", "0193a"));
  CHECK(KeyframesPathFor("/archive/a/b.cast") == "/archive/a/b.keyframes.jsonl");
}

TEST_CASE("spool: sessions are the .cast files, sealed when their manifest exists") {
  std::string dir = TempSpool();
  Touch(dir + "/0193b.cast", "{\"version\":2}\n");
  Touch(dir + "/0193a.cast", "{\"version\":2}\n[0.1, \"o\", \"x\"]\n");
  Touch(dir + "/0193a.json", "{}");
  Touch(dir + "/.0193c.json.tmp-1-0", "{}");  // a manifest being written is not one yet
  Touch(dir + "/0193c.cast", "{}\n");
  Touch(dir + "/uploader.status", "{}");
  Touch(dir + "/0193a.upstate", "{}");
  REQUIRE(mkdir((dir + "/sub.cast").c_str(), 0700) == 0);  // not a file: not a session
  REQUIRE(symlink("/etc/hostname", (dir + "/link.cast").c_str()) == 0);
  uint64_t total = 0;
  auto spool = ScanSpool(dir, &total);
  REQUIRE(spool.ok());
  REQUIRE(spool->size() == 3);
  CHECK(spool->at(0).id == "0193a");
  CHECK(spool->at(0).sealed);
  CHECK(spool->at(0).cast_size == 30);
  CHECK(spool->at(0).cast_path == SpoolCastPath(dir, "0193a"));
  CHECK(spool->at(0).manifest_path == SpoolManifestPath(dir, "0193a"));
  CHECK(spool->at(0).state_path == SpoolUploadStatePath(dir, "0193a"));
  CHECK(spool->at(0).mtime_ns > 0);
  CHECK(spool->at(1).id == "0193b");
  CHECK_FALSE(spool->at(1).sealed);
  CHECK(spool->at(2).id == "0193c");
  CHECK_FALSE(spool->at(2).sealed);
  CHECK(total == 14 + 30 + 2 + 2 + 3 + 2 + 2);
  CHECK(SpoolBytes(dir) == total);
  CHECK(SpoolUploadStateIds(dir) == std::vector<std::string>{"0193a"});
  CHECK(ScanSpool(dir + "/missing", nullptr)->empty());
  CHECK(SpoolBytes(dir + "/missing") == 0);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace ttyaudit
