#include "uploader/upload_state.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.h"
#include "record/spool.h"

namespace ttyaudit {
namespace {

std::string TempSpool() {
  char dir[] = "/tmp/ttyaudit-upstate-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

void Touch(const std::string& path, const std::string& bytes) {
  REQUIRE(ReplaceFile(path, bytes, Durability::kNone).ok());
}

TEST_CASE("upload state: survives a round trip through its file") {
  std::string dir = TempSpool();
  std::string path = SpoolUploadStatePath(dir, "s");
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
  Touch(path, "{\"live_offset\":\"12\"}");
  auto wrong = LoadUploadState(path);
  REQUIRE_FALSE(wrong.ok());
  CHECK(wrong.message() == "state file `" + path + "`: live_offset: want a whole number from 0");
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("upload state: leftovers of a finished upload are tidied, nothing else") {
  std::string dir = TempSpool();
  UploadState done;
  done.phase = UploadState::kCleanup;
  REQUIRE(SaveUploadState(SpoolUploadStatePath(dir, "a"), done).ok());
  Touch(SpoolManifestPath(dir, "a"), "{}");
  UploadState mid;
  mid.phase = UploadState::kManifest;
  REQUIRE(SaveUploadState(SpoolUploadStatePath(dir, "b"), mid).ok());
  REQUIRE(SaveUploadState(SpoolUploadStatePath(dir, "c"), done).ok());
  Touch(SpoolCastPath(dir, "c"), "x\n");  // still has its recording: not a leftover
  CHECK(CleanOrphanStates(dir) == 1);
  CHECK(access(SpoolUploadStatePath(dir, "a").c_str(), F_OK) != 0);
  CHECK(access(SpoolManifestPath(dir, "a").c_str(), F_OK) != 0);
  CHECK(access(SpoolUploadStatePath(dir, "b").c_str(), F_OK) == 0);
  CHECK(access(SpoolUploadStatePath(dir, "c").c_str(), F_OK) == 0);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace ttyaudit
