#include "record/spool_scan.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace ttyaudit {
namespace {

std::string TempSpool() {
  char dir[] = "/tmp/ttyaudit-spool-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

void Touch(const std::string& path, const std::string& bytes) {
  REQUIRE(WriteFileAtomically(path, bytes).ok());
}

TEST_CASE("uploader spool: sessions are the .cast files, sealed when their manifest exists") {
  std::string dir = TempSpool();
  Touch(dir + "/0193b.cast", "{\"version\":2}\n");
  Touch(dir + "/0193a.cast", "{\"version\":2}\n[0.1, \"o\", \"x\"]\n");
  Touch(dir + "/0193a.json", "{}");
  Touch(dir + "/0193c.json.tmp", "{}");  // a manifest being written is not one yet
  Touch(dir + "/0193c.cast", "{}\n");
  Touch(dir + "/uploader.status", "{}");
  uint64_t total = 0;
  auto spool = ScanSpool(dir, &total);
  REQUIRE(spool.ok());
  REQUIRE(spool->size() == 3);
  CHECK(spool->at(0).id == "0193a");
  CHECK(spool->at(0).sealed);
  CHECK(spool->at(0).cast_size == 30);
  CHECK(spool->at(0).state_path == dir + "/0193a.upstate");
  CHECK_FALSE(spool->at(1).sealed);
  CHECK_FALSE(spool->at(2).sealed);
  CHECK(total == 14 + 30 + 2 + 2 + 3 + 2);
  CHECK(ScanSpool(dir + "/missing", nullptr)->empty());
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("uploader spool: the upload state survives a round trip through its file") {
  std::string dir = TempSpool();
  std::string path = dir + "/s.upstate";
  auto fresh = LoadUploadState(path);
  REQUIRE(fresh.ok());
  CHECK(fresh->phase == UploadState::kLive);
  CHECK(fresh->live_offset == 0);
  UploadState s;
  s.phase = UploadState::kCast;
  s.live_offset = 123456789012ULL;
  s.live_seq = 42;
  s.cast_upload.upload_id = "abc/def==\"quoted\"";
  s.cast_upload.part_size = 8 << 20;
  s.cast_upload.parts = {{1, "etag1"}, {2, "etag2"}};
  REQUIRE(SaveUploadState(path, s).ok());
  auto back = LoadUploadState(path);
  REQUIRE_MESSAGE(back.ok(), back.message());
  CHECK(back->phase == UploadState::kCast);
  CHECK(back->live_offset == s.live_offset);
  CHECK(back->live_seq == 42);
  CHECK(back->cast_upload.upload_id == s.cast_upload.upload_id);
  CHECK(back->cast_upload.part_size == s.cast_upload.part_size);
  REQUIRE(back->cast_upload.parts.size() == 2);
  CHECK(back->cast_upload.parts[1].number == 2);
  CHECK(back->cast_upload.parts[1].etag == "etag2");
  Touch(path, "{\"phase\":");
  CHECK_FALSE(LoadUploadState(path).ok());
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("uploader spool: live chunks hold whole lines under keys that sort in order") {
  CHECK(WholeLines("a\nb\nc") == 4);
  CHECK(WholeLines("abc") == 0);
  CHECK(WholeLines("") == 0);
  CHECK(LiveChunkKey("0193", 7) == "live/0193/00000007.part");
  CHECK(LiveChunkKey("0193", 7) < LiveChunkKey("0193", 10));
  CHECK(LiveChunkPrefix("../x") == "live/.._x/");
}

TEST_CASE("uploader spool: leftovers of a finished upload are tidied, nothing else") {
  std::string dir = TempSpool();
  UploadState done;
  done.phase = UploadState::kCleanup;
  REQUIRE(SaveUploadState(dir + "/a.upstate", done).ok());
  Touch(dir + "/a.json", "{}");
  UploadState mid;
  mid.phase = UploadState::kManifest;
  REQUIRE(SaveUploadState(dir + "/b.upstate", mid).ok());
  REQUIRE(SaveUploadState(dir + "/c.upstate", done).ok());
  Touch(dir + "/c.cast", "x\n");  // still has its recording: not a leftover
  CHECK(CleanOrphanStates(dir) == 1);
  CHECK(access((dir + "/a.upstate").c_str(), F_OK) != 0);
  CHECK(access((dir + "/a.json").c_str(), F_OK) != 0);
  CHECK(access((dir + "/b.upstate").c_str(), F_OK) == 0);
  CHECK(access((dir + "/c.upstate").c_str(), F_OK) == 0);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace ttyaudit
