#include "store/store.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "tests/unit/s3_client_testing.h"

namespace ttyaudit {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/ttyaudit-store-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

std::string WriteTempFile(const std::string& dir, const std::string& name,
                          const std::string& bytes) {
  std::string path = dir + "/" + name;
  FILE* f = fopen(path.c_str(), "wb");
  REQUIRE(f);
  REQUIRE(fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size());
  fclose(f);
  return path;
}

// The contract every kind of store keeps; run against each.
void CheckStoreContract(Store& store, const std::string& scratch) {
  const std::string cast = "sessions/date=2026-11-25/ns/pod/c/0193a.cast";
  const std::string index = "index/date=2026-11-25/node=n1/0193a.json";
  REQUIRE(store.Put(cast, "{\"version\":2}\n[0.1, \"o\", \"hi\"]\n").ok());
  REQUIRE(store.Put(index, "{}").ok());
  REQUIRE(store.Put("sessions/date=2026-11-26/ns/pod/c/0193b.cast", "x").ok());
  CHECK(store.Get(cast).value() == "{\"version\":2}\n[0.1, \"o\", \"hi\"]\n");
  CHECK(store.Get(cast, 1, 9).value() == "\"version\"");
  CHECK(store.Get(cast, 25, 100).value() == "\"hi\"]\n");
  CHECK(store.Size(cast).value() == std::optional<uint64_t>(31));
  CHECK(!store.Size("sessions/none.cast").value().has_value());
  CHECK_FALSE(store.Get("sessions/none.cast").ok());

  auto day = store.List("sessions/date=2026-11-25/");
  REQUIRE(day.ok());
  REQUIRE(day->size() == 1);
  CHECK(day->at(0).key == cast);
  CHECK(day->at(0).size == 31);
  // A prefix need not end at a directory boundary.
  auto month = store.List("sessions/date=2026-11-2");
  REQUIRE(month.ok());
  CHECK(month->size() == 2);
  CHECK(store.List("").value().size() == 3);
  CHECK(store.List("nothing/").value().empty());
  // Listing after a key gives only the keys that sort after it, whatever it names.
  auto after = store.ListAfter("sessions/", cast);
  REQUIRE(after.ok());
  REQUIRE(after->size() == 1);
  CHECK(after->at(0).key == "sessions/date=2026-11-26/ns/pod/c/0193b.cast");
  CHECK(store.ListAfter("sessions/", "sessions/date=2026-11-25/").value().size() == 2);
  CHECK(store.ListAfter("sessions/", "sessions/date=2026-11-25/ns/pod/c/0193").value().size() == 2);
  CHECK(store.ListAfter("sessions/", "sessions/date=2026-11-27").value().empty());
  CHECK(store.ListAfter("sessions/", "").value().size() == 2);

  std::string big(9 << 20, 'z');
  for (size_t i = 0; i < big.size(); i += 777) big[i] = static_cast<char>('a' + i % 26);
  std::string file = WriteTempFile(scratch, "big.cast", big);
  PutFileOptions opts;
  REQUIRE(store.PutFile("sessions/big.cast", file, opts).ok());
  CHECK(store.Get("sessions/big.cast").value() == big);

  REQUIRE(store.Delete(index).ok());
  CHECK(store.Delete(index).ok());
  CHECK(!store.Size(index).value().has_value());
}

TEST_CASE("store: a file:// archive keeps the store contract") {
  std::string dir = TempDir();
  Config cfg;
  auto store = OpenStore(cfg, "file://" + dir + "/archive/");
  REQUIRE(store.ok());
  CHECK(store.value()->Url() == "file://" + dir + "/archive");
  CHECK_FALSE(store.value()->Remote());
  CheckStoreContract(**store, dir);
  // Writes are atomic: no temp file is left or listed.
  CHECK(store.value()->List("sessions/").value().size() == 3);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("store: a file:// archive refuses keys that climb out of it") {
  Config cfg;
  auto store = OpenStore(cfg, "file:///tmp/ttyaudit-never-written");
  REQUIRE(store.ok());
  CHECK_FALSE(store.value()->Put("../escape", "x").ok());
  CHECK_FALSE(store.value()->Put("a//b", "x").ok());
  CHECK_FALSE(store.value()->Put("/abs", "x").ok());
  CHECK_FALSE(store.value()->Get("a/../../etc/passwd").ok());
  CHECK_FALSE(OpenStore(cfg, "file://relative/path").ok());
  CHECK_FALSE(OpenStore(cfg, "ftp://x").ok());
}

TEST_CASE("store: the default store is the archive directory") {
  Config cfg;
  cfg.archive_dir = "/tmp/ttyaudit-default-archive";
  auto store = OpenStore(cfg, "");
  REQUIRE(store.ok());
  CHECK(store.value()->Url() == "file:///tmp/ttyaudit-default-archive");
}

S3RetryPolicy Quick() {
  S3RetryPolicy p;
  p.max_attempts = 3;
  p.base_delay_s = 0.01;
  p.max_delay_s = 0.05;
  return p;
}

TEST_CASE("store: an s3:// bucket with a prefix keeps the store contract") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  Config cfg;
  cfg.s3.endpoint = s3.endpoint();
  cfg.s3.access_key_id = "S3RVER";
  cfg.s3.secret_access_key = "S3RVER";
  auto store = OpenStore(cfg, "s3://tb/team/a", Quick());
  REQUIRE_MESSAGE(store.ok(), store.message());
  CHECK(store.value()->Url() == "s3://tb/team/a");
  CHECK(store.value()->Remote());
  std::string dir = TempDir();
  CheckStoreContract(**store, dir);
  // The prefix is the store's: the same keys sit under it in the bucket.
  auto client = S3Client::Create(cfg.s3, "tb", {"S3RVER", "S3RVER", ""}, Quick());
  REQUIRE(client.ok());
  CHECK(client.value()->HeadObject("team/a/sessions/big.cast").value().has_value());
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("store: a multipart upload resumes from the parts already recorded") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  Config cfg;
  cfg.s3.endpoint = s3.endpoint();
  cfg.s3.access_key_id = "S3RVER";
  cfg.s3.secret_access_key = "S3RVER";
  std::string dir = TempDir();
  std::string bytes(21 << 20, 'q');
  for (size_t i = 0; i < bytes.size(); i += 1000) bytes[i] = static_cast<char>('0' + i % 10);
  std::string file = WriteTempFile(dir, "s.cast", bytes);
  // A previous run created the upload and sent part 1 before it died.
  auto client = S3Client::Create(cfg.s3, "tb", {"S3RVER", "S3RVER", ""}, Quick());
  REQUIRE(client.ok());
  UploadProgress progress;
  progress.upload_id = client.value()->CreateMultipartUpload("k.cast").value();
  progress.part_size = 8 << 20;
  auto e1 = client.value()->UploadPart("k.cast", progress.upload_id, 1,
                                       std::string_view(bytes).substr(0, 8 << 20));
  REQUIRE(e1.ok());
  progress.parts.push_back({1, *e1});

  auto store = OpenStore(cfg, "s3://tb", Quick());
  REQUIRE(store.ok());
  int saves = 0;
  PutFileOptions opts;
  opts.progress = &progress;
  opts.on_progress = [&] { ++saves; };
  Status s = store.value()->PutFile("k.cast", file, opts);
  REQUIRE_MESSAGE(s.ok(), s.message());
  CHECK(saves == 2);  // parts 2 and 3 only
  CHECK(progress.parts.size() == 3);
  CHECK(store.value()->Get("k.cast").value() == bytes);
  std::system(("rm -rf '" + dir + "'").c_str());
}

TEST_CASE("store: a multipart upload that can never complete is aborted and forgotten") {
  // A stand-in S3 that records aborts; the test is about what the store asks for.
  testing::StandInS3 stand_in;
  httplib::Server& srv = stand_in.server;
  std::mutex mu;
  std::vector<std::string> aborted;
  srv.Delete("/tb/k.cast", [&](const httplib::Request& req, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mu);
    aborted.push_back(req.get_param_value("uploadId"));
    res.status = 204;
  });
  srv.Post("/tb/k.cast", [&](const httplib::Request& req, httplib::Response& res) {
    res.set_content(
        "<InitiateMultipartUploadResult><Bucket>tb</Bucket><Key>k.cast</Key>"
        "<UploadId>fresh</UploadId></InitiateMultipartUploadResult>",
        "application/xml");
  });
  srv.Put("/tb/k.cast", [&](const httplib::Request&, httplib::Response& res) {
    res.status = 400;
    res.set_content("<Error><Code>EntityTooSmall</Code><Message>too small</Message></Error>",
                    "application/xml");
  });
  const std::string endpoint = stand_in.Start();

  Config cfg;
  cfg.s3.endpoint = endpoint;
  cfg.s3.access_key_id = "AK";
  cfg.s3.secret_access_key = "SK";
  std::string dir = TempDir();
  std::string file = WriteTempFile(dir, "s.cast", std::string(9 << 20, 'x'));
  auto store = OpenStore(cfg, "s3://tb", Quick());
  REQUIRE(store.ok());
  // A previous run cut the file in other part sizes: that upload cannot be completed.
  UploadProgress progress{"stale", 5 << 20, {{1, "\"e1\""}}};
  int saves = 0;
  PutFileOptions opts;
  opts.progress = &progress;
  opts.on_progress = [&] { ++saves; };
  Status st = store.value()->PutFile("k.cast", file, opts);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("EntityTooSmall") != std::string::npos);
  {
    std::lock_guard<std::mutex> lock(mu);
    // The stale upload, then the fresh one whose part the server refused for good.
    CHECK(aborted == std::vector<std::string>{"stale", "fresh"});
  }
  CHECK(progress.upload_id.empty());  // the next attempt starts a new upload
  CHECK(progress.parts.empty());
  CHECK(saves >= 2);
  std::system(("rm -rf '" + dir + "'").c_str());
}

}  // namespace
}  // namespace ttyaudit
