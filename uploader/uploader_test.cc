#include "uploader/uploader.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>

#include "base/files.h"
#include "base/ids.h"
#include "record/session_meta_read.h"
#include "record/spool_writer.h"
#include "store/keys.h"
#include "store/signing.h"
#include "store/sigv4.h"
#include "tests/unit/s3_client_testing.h"
#include "tests/unit/temp_dir.h"

namespace ttyaudit {
namespace {

// A spool and a file:// archive in a fresh temp dir, and an uploader over them.
struct Fixture {
  std::string dir;
  Config cfg;
  std::vector<std::string> log;

  Fixture() {
    char tmpl[] = "/tmp/ttyaudit-uploader-XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    dir = tmpl;
    cfg.spool_dir = dir + "/spool";
    cfg.store = "file://" + dir + "/archive";
    REQUIRE(MakeDirs(cfg.spool_dir, 0700).ok());
  }
  ~Fixture() { testing::RemoveTestDir(dir); }

  // One pass over the spool, as `ttyaudit-uploader --once` does.
  Status RunOnce(const std::string& store_url = "") {
    UploaderOptions opts;
    opts.config = cfg;
    opts.store_url = store_url;
    opts.once = true;
    opts.jobs = 2;
    opts.interrupted_after_s = 0;
    opts.retry.max_attempts = 2;
    opts.retry.base_delay_s = 0.01;
    Uploader u(opts, [this](LogLevel, std::string_view m) { log.emplace_back(m); });
    std::atomic<bool> stop{false};
    return u.Run(stop, nullptr);
  }

  std::unique_ptr<Store> Archive() {
    auto s = OpenStore(cfg, "");
    REQUIRE(s.ok());
    return std::move(s.value());
  }

  // A session recorded into the spool: sealed unless `keep_open` (then its writer is returned
  // still holding the lock, as a running recorder does).
  std::unique_ptr<SessionWriter> Record(SessionMeta& meta, const std::string& output,
                                        bool keep_open = false) {
    meta.id = NewUuidV7();
    meta.source = "runtime";
    meta.node = "n1";
    meta.k8s_namespace = "prod";
    meta.pod = "web-0";
    meta.container = "app";
    meta.start_ns = RealtimeNanos();
    auto w = SessionWriter::Create(cfg.spool_dir, meta, {});
    REQUIRE(w.ok());
    (*w)->Output(output);
    REQUIRE((*w)->Flush().ok());
    if (keep_open) return std::move(w.value());
    REQUIRE((*w)->Finish("exited", 3, 0).ok());
    meta = (*w)->meta();
    return nullptr;
  }
};

TEST_CASE("uploader: a sealed session moves into the archive under its keys, byte for byte") {
  Fixture f;
  SessionMeta meta;
  f.Record(meta, "hello from the pod\r\n");
  const std::string cast_path = SpoolCastPath(f.cfg.spool_dir, meta.id);
  const std::string cast = ReadFile(cast_path).value();
  const std::string manifest = ReadFile(SpoolManifestPath(f.cfg.spool_dir, meta.id)).value();

  const Status run = f.RunOnce();
  REQUIRE_MESSAGE(run.ok(), run.message());
  auto archive = f.Archive();
  CHECK(archive->Get(SessionKey(meta)).value() == cast);
  CHECK(archive->Get(SessionManifestKey(meta)).value() == manifest);
  auto index = archive->Get(IndexKey(meta));
  REQUIRE(index.ok());
  // The index entry is the manifest plus where the recording is and what it hashes to.
  CHECK(index->find("\"key\":\"" + SessionKey(meta) + "\"") != std::string::npos);
  CHECK(index->find("\"cast_size\":" + std::to_string(cast.size())) != std::string::npos);
  Digest sha(Digest::kSha256);
  sha.Update(cast);
  CHECK(index->find("\"cast_sha256\":\"" + HexEncode(sha.Final()) + "\"") != std::string::npos);
  CHECK(index->find("\"state\":\"exited\"") != std::string::npos);
  // The spool is empty once the store has the session: nothing is left to upload twice.
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->empty());
  for (const std::string& left : {cast_path, SpoolManifestPath(f.cfg.spool_dir, meta.id),
                                  SpoolUploadStatePath(f.cfg.spool_dir, meta.id)})
    CHECK_MESSAGE(access(left.c_str(), F_OK) != 0, left);
  // What is left is the uploader's own status, for --status.
  CHECK(ReadFile(SpoolUploaderStatusPath(f.cfg.spool_dir)).value().find("\"sessions_sealed\":1") !=
        std::string::npos);
}

TEST_CASE("uploader: a recording changed in the spool is quarantined, never shipped") {
  Fixture f;
  SessionMeta good, bad;
  f.Record(good, "an honest session\r\n");
  f.Record(bad, "rm -rf /evidence\r\n");
  const std::string bad_cast = SpoolCastPath(f.cfg.spool_dir, bad.id);
  std::string text = ReadFile(bad_cast).value();
  const size_t at = text.find("rm -rf");
  REQUIRE(at != std::string::npos);
  text.replace(at, 6, "ls -la");  // same length: only the chain can tell
  REQUIRE(ReleaseImmutable(bad_cast).ok());
  REQUIRE(chmod(bad_cast.c_str(), 0600) == 0);
  REQUIRE(ReplaceFile(bad_cast, text, Durability::kNone).ok());

  REQUIRE(f.RunOnce().ok());
  auto archive = f.Archive();
  CHECK_FALSE(archive->Size(SessionKey(bad)).value().has_value());
  CHECK_FALSE(archive->Size(IndexKey(bad)).value().has_value());
  const std::string q = SpoolQuarantineDir(f.cfg.spool_dir);
  CHECK(ReadFile(q + "/" + bad.id + ".cast").value() == text);
  CHECK(access((q + "/" + bad.id + ".json").c_str(), F_OK) == 0);
  bool logged = false;
  for (const auto& line : f.log)
    logged |= line.find("QUARANTINED session " + bad.id) != std::string::npos &&
              line.find("does not match its chain line") != std::string::npos;
  CHECK_MESSAGE(logged, "no loud line for the quarantined session");
  CHECK(ReadFile(SpoolUploaderStatusPath(f.cfg.spool_dir)).value().find("\"quarantined\":1") !=
        std::string::npos);
  // The honest one shipped, signed; its index entry names the key that signed it.
  auto key = NodeKey::Load(f.cfg.NodeKeyPath(), "n1");
  REQUIRE(key.ok());
  CHECK(archive->Size(SignatureKeyFor(SessionKey(good))).value().has_value());
  CHECK(archive->Get(IndexKey(good))
            .value()
            .find("\"signed_by\":\"" + key->public_key().key_id + "\"}") != std::string::npos);
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->empty());
}

TEST_CASE("uploader: a session whose recorder died unsealed goes up as interrupted") {
  Fixture f;
  SessionMeta meta;
  {
    auto w = f.Record(meta, "partial output", /*keep_open=*/true);
    // The writer is destroyed without Finish, as when the recorder is killed: no manifest,
    // and its lock is gone.
  }
  REQUIRE(access(SpoolManifestPath(f.cfg.spool_dir, meta.id).c_str(), F_OK) != 0);
  REQUIRE(f.RunOnce().ok());
  auto archive = f.Archive();
  auto manifest = archive->Get(SessionManifestKey(meta));
  REQUIRE(manifest.ok());
  CHECK(manifest->find("\"state\":\"interrupted\"") != std::string::npos);
  CHECK(manifest->find("\"sealed_by\":\"ttyaudit-uploader\"") != std::string::npos);
  CHECK(archive->Get(SessionKey(meta)).value().find("partial output") != std::string::npos);
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->empty());
}

TEST_CASE("uploader: a session still recording stays in the spool of a local archive") {
  Fixture f;
  SessionMeta meta;
  auto w = f.Record(meta, "still typing", /*keep_open=*/true);
  REQUIRE(f.RunOnce().ok());
  auto spool = ScanSpool(f.cfg.spool_dir, nullptr);
  REQUIRE(spool->size() == 1);
  CHECK(spool->at(0).id == meta.id);
  CHECK(f.Archive()->List("sessions/").value().empty());  // keys/ holds the node's public key
  auto report = UploaderStatusReport(f.cfg, false);
  REQUIRE(report.ok());
  CHECK(report->find(meta.id + "  recording") != std::string::npos);
  REQUIRE(w->Finish("exited", 0, 0).ok());
  REQUIRE(f.RunOnce().ok());
  CHECK(f.Archive()->Size(SessionKey(w->meta())).value().has_value());
}

TEST_CASE("uploader: a restart resumes after the last confirmed step instead of repeating it") {
  Fixture f;
  SessionMeta meta;
  f.Record(meta, "resumed\r\n");
  // The last run had stored the recording and the manifest, and died before the index.
  UploadState state;
  state.phase = UploadState::kIndex;
  REQUIRE(SaveUploadState(SpoolUploadStatePath(f.cfg.spool_dir, meta.id), state).ok());
  REQUIRE(f.RunOnce().ok());
  auto archive = f.Archive();
  CHECK(archive->Size(IndexKey(meta)).value().has_value());
  // Steps before the index were not done again.
  CHECK_FALSE(archive->Size(SessionKey(meta)).value().has_value());
  CHECK_FALSE(archive->Size(SessionManifestKey(meta)).value().has_value());
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->empty());
  CHECK(access(SpoolUploadStatePath(f.cfg.spool_dir, meta.id).c_str(), F_OK) != 0);
}

TEST_CASE("uploader: a manifest that names another session is refused and kept") {
  Fixture f;
  SessionMeta meta;
  f.Record(meta, "x");
  const std::string manifest_path = SpoolManifestPath(f.cfg.spool_dir, meta.id);
  std::string manifest = ReadFile(manifest_path).value();
  const size_t at = manifest.find(meta.id);
  REQUIRE(at != std::string::npos);
  manifest.replace(at, meta.id.size(), "0000-not-this-one");
  REQUIRE(ReleaseImmutable(manifest_path).ok());  // sealed: made immutable where possible
  REQUIRE(ReplaceFile(manifest_path, manifest, Durability::kNone).ok());
  auto st = f.RunOnce();
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().find("is not the file's name") != std::string::npos);
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->size() == 1);
  CHECK(f.Archive()->List("sessions/").value().empty());
  auto json = UploaderStatusReport(f.cfg, true);
  REQUIRE(json.ok());
  CHECK(json->find("\"state\":\"sealed\"") != std::string::npos);
}

TEST_CASE("uploader: a recording session goes up in live chunks of whole lines") {
  testing::TestS3rver s3("tb");
  if (!s3.ok()) {
    MESSAGE("skipped: s3rver is not installed (make deps)");
    return;
  }
  Fixture f;
  f.cfg.s3.endpoint = s3.endpoint();
  f.cfg.s3.access_key_id = "S3RVER";
  f.cfg.s3.secret_access_key = "S3RVER";
  SessionMeta meta;
  auto w = f.Record(meta, "line one\r\n", /*keep_open=*/true);
  REQUIRE(f.RunOnce("s3://tb/p").ok());
  auto bucket = OpenStore(f.cfg, "s3://tb/p");
  REQUIRE(bucket.ok());
  auto chunks = (*bucket)->List(LiveChunkPrefix(meta.id));
  REQUIRE(chunks.ok());
  REQUIRE(chunks->size() == 1);
  CHECK(chunks->at(0).key == LiveChunkKey(meta.id, 0));
  const std::string cast_so_far = ReadFile(SpoolCastPath(f.cfg.spool_dir, meta.id)).value();
  CHECK((*bucket)->Get(LiveChunkKey(meta.id, 0)).value() == cast_so_far);

  w->Output("line two\r\n");
  REQUIRE(w->Flush().ok());
  REQUIRE(f.RunOnce("s3://tb/p").ok());
  auto second = (*bucket)->Get(LiveChunkKey(meta.id, 1));
  REQUIRE(second.ok());
  CHECK(second->find("line two") != std::string::npos);
  CHECK(second->back() == '\n');

  // Sealed: the recording goes up whole and the live chunks are deleted.
  REQUIRE(w->Finish("exited", 0, 0).ok());
  const std::string sealed = ReadFile(SpoolCastPath(f.cfg.spool_dir, meta.id)).value();
  REQUIRE(f.RunOnce("s3://tb/p").ok());
  CHECK((*bucket)->Get(SessionKey(w->meta())).value() == sealed);
  CHECK((*bucket)->List(LiveChunkPrefix(meta.id)).value().empty());
  CHECK(ScanSpool(f.cfg.spool_dir, nullptr)->empty());
}

}  // namespace
}  // namespace ttyaudit
