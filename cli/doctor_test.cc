#include "cli/doctor.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <string>

#include "store/signing.h"
#include "store/store.h"
#include "tests/unit/s3_client_testing.h"

using namespace ttyaudit;

namespace {

struct TempDir {
  std::string path;
  TempDir() {
    char t[] = "/tmp/ttyaudit-doctor-XXXXXX";
    REQUIRE(mkdtemp(t));
    path = t;
  }
  ~TempDir() { std::system(("rm -rf '" + path + "'").c_str()); }
  std::string Write(const std::string& name, const std::string& text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
};

}  // namespace

TEST_CASE("doctor: a containerd handler whose BinaryName is ttyaudit-runtime is found") {
  TempDir t;
  std::string bin = t.Write("ttyaudit-runtime", "#!/bin/sh\n");
  chmod(bin.c_str(), 0755);
  std::string cfg =
      t.Write("config.toml",
              "version = 2\n"
              "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.audit]\n"
              "  [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.audit.options]\n"
              "    BinaryName = \"" +
                  bin + "\"\n");
  DoctorCheck c = CheckContainerd(cfg);
  CHECK(c.status == CheckStatus::kOk);
  CHECK(c.detail.find("handler audit") != std::string::npos);
}

TEST_CASE("doctor: containerd not pointed at ttyaudit-runtime, or at a missing one, fails") {
  TempDir t;
  std::string plain =
      t.Write("plain.toml",
              "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.runc.options]\n"
              "  BinaryName = \"/usr/bin/runc\"\n");
  DoctorCheck c = CheckContainerd(plain);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.fix.find("examples/containerd/config.toml") != std::string::npos);
  std::string missing =
      t.Write("missing.toml",
              "[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.t.options]\n"
              "  BinaryName = \"" +
                  t.path + "/nowhere/ttyaudit-runtime\"\n");
  CHECK(CheckContainerd(missing).status == CheckStatus::kFail);
  CHECK(CheckContainerd(t.path + "/absent.toml").status == CheckStatus::kWarn);
}

TEST_CASE("doctor: Docker's daemon.json is checked only when there is one") {
  TempDir t;
  CHECK(CheckDocker(t.path + "/absent.json").status == CheckStatus::kOk);
  std::string other = t.Write("other.json", R"({"runtimes": {"x": {"path": "/usr/bin/crun"}}})");
  CHECK(CheckDocker(other).status == CheckStatus::kFail);
}

TEST_CASE("doctor: a spool that others can write is a failure that says chmod") {
  if (geteuid() != 0) return;  // the spool must be root's
  TempDir t;
  Config cfg;
  cfg.spool_dir = t.path + "/spool";
  REQUIRE(mkdir(cfg.spool_dir.c_str(), 0700) == 0);
  CHECK(CheckSpool(cfg).status == CheckStatus::kOk);
  chmod(cfg.spool_dir.c_str(), 0777);
  DoctorCheck c = CheckSpool(cfg);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.detail.find("0777") != std::string::npos);
  CHECK(c.fix == "chmod 0700 " + cfg.spool_dir);
}

TEST_CASE("doctor: the node key must exist, be root's and 0600, and be published") {
  if (geteuid() != 0) return;  // the key must be root's
  TempDir t;
  Config cfg;
  cfg.spool_dir = t.path + "/spool";
  cfg.archive_dir = t.path + "/archive";
  cfg.node_name = "node-doctor";
  REQUIRE(mkdir(cfg.spool_dir.c_str(), 0700) == 0);
  REQUIRE(mkdir(cfg.archive_dir.c_str(), 0700) == 0);
  const std::string path = cfg.NodeKeyPath();
  CHECK(path == t.path + "/node.key");
  DoctorCheck c = CheckNodeKey(cfg);  // none yet
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.fix.find("ttyaudit-uploader") != std::string::npos);

  auto key = NodeKey::LoadOrCreate(path, "node-doctor");
  REQUIRE(key.ok());
  c = CheckNodeKey(cfg);  // made, but its public part is not where verify looks
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.detail.find("is not at file://" + cfg.archive_dir + "/keys/node-doctor/") !=
        std::string::npos);

  auto store = OpenStore(cfg, cfg.StoreUrl());
  REQUIRE(store.ok());
  const std::string object = PublicKeyObjectKey(key->public_key());
  // Another key's line under this key's name: not this key's public part.
  auto other = NodeKey::LoadOrCreate(t.path + "/other.key", "node-doctor");
  REQUIRE(other.ok());
  REQUIRE((*store)->Put(object, PublicKeyLine(other->public_key())).ok());
  c = CheckNodeKey(cfg);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.detail.find("does not hold this key's public part") != std::string::npos);

  REQUIRE((*store)->Put(object, PublicKeyLine(key->public_key())).ok());
  c = CheckNodeKey(cfg);
  CHECK(c.status == CheckStatus::kOk);
  CHECK(c.detail.find("published at") != std::string::npos);

  REQUIRE(chmod(path.c_str(), 0640) == 0);
  c = CheckNodeKey(cfg);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.fix.find("chmod 0600 " + path) == 0);
  REQUIRE(chmod(path.c_str(), 0600) == 0);
  REQUIRE(chown(path.c_str(), 65534, 65534) == 0);
  c = CheckNodeKey(cfg);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.detail.find("owned by uid 65534") != std::string::npos);
}

TEST_CASE("doctor: any failed check makes the exit code 1; --json says ok false") {
  std::vector<DoctorCheck> checks = {{"a", CheckStatus::kOk, "fine", "", {}},
                                     {"b", CheckStatus::kWarn, "hmm", "look", {}}};
  CHECK(DoctorExitCode(checks) == 0);
  checks.push_back({"c", CheckStatus::kFail, "bad\x1b[2J", "fix it", {}});
  CHECK(DoctorExitCode(checks) == 1);
  std::string text = DoctorReport(checks, false);
  CHECK(text.find("FAIL  c: bad?[2J") != std::string::npos);  // no escape reaches the terminal
  std::string json = DoctorReport(checks, true);
  CHECK(json.find("\"ok\":false") != std::string::npos);
  CHECK(json.find("\"status\":\"fail\"") != std::string::npos);
}

TEST_CASE("doctor: a local archive has no clock to compare with and cannot hold Object Lock") {
  TempDir d;
  Config cfg;
  cfg.store = "file://" + d.path;
  CHECK(CheckClock(cfg).status == CheckStatus::kOk);
  CHECK(CheckObjectLock(cfg).status == CheckStatus::kOk);
  cfg.s3.object_lock = {"COMPLIANCE", 30};
  DoctorCheck c = CheckObjectLock(cfg);
  CHECK(c.status == CheckStatus::kFail);
  CHECK(c.detail.find("configured COMPLIANCE for 30 days") != std::string::npos);
  CHECK(c.detail.find("local archive") != std::string::npos);
}

TEST_CASE("doctor: s3rver's clock is ours, and an Object Lock configured there is missing") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  Config cfg;
  cfg.store = "s3://tb/doctor";
  cfg.s3.endpoint = s3.endpoint();
  cfg.s3.access_key_id = "S3RVER";
  cfg.s3.secret_access_key = "S3RVER";
  DoctorCheck clock = CheckClock(cfg);
  CHECK_MESSAGE(clock.status == CheckStatus::kOk, clock.detail);
  CHECK(clock.detail.find("the bucket's (+-") != std::string::npos);
  REQUIRE(clock.values.count("offset_s"));
  CHECK(std::abs(clock.values["offset_s"]) <= clock.values["error_s"] + 0.01);
  CHECK(DoctorReport({clock}, true).find("\"values\":{\"error_s\":") != std::string::npos);
  CHECK(CheckObjectLock(cfg).status == CheckStatus::kOk);  // none configured
  cfg.s3.object_lock = {"GOVERNANCE", 1};
  DoctorCheck lock = CheckObjectLock(cfg);
  CHECK(lock.status == CheckStatus::kFail);
  CHECK(lock.detail.find("configuration cannot be read") != std::string::npos);
  CHECK(lock.detail.find("came back without Object Lock") != std::string::npos);
  CHECK(lock.fix.find("put-object-lock-configuration") != std::string::npos);
}
