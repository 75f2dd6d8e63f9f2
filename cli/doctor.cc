#include "cli/doctor.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <regex>

#include "base/files.h"
#include "base/host_info.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/run_dir.h"
#include "record/spool.h"
#include "store/keys.h"
#include "store/s3_client.h"
#include "store/signing.h"
#include "store/store.h"

namespace ttyaudit {
namespace {

DoctorCheck Ok(std::string name, std::string detail) {
  return {std::move(name), CheckStatus::kOk, std::move(detail), "", {}};
}
DoctorCheck Warn(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckStatus::kWarn, std::move(detail), std::move(fix), {}};
}
DoctorCheck Fail(std::string name, std::string detail, std::string fix) {
  return {std::move(name), CheckStatus::kFail, std::move(detail), std::move(fix), {}};
}

// Runs `argv` with stdout and stderr in one pipe; returns its exit status (-1 if it could not
// run) and up to 4 KiB of its output.
int RunCapture(const std::vector<std::string>& argv, std::string& out) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return -1;
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (pid == 0) {
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(fds[1]);
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))
    if (n > 0 && out.size() < 4096) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string FirstLine(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  for (char& c : line)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return line;
}

// The comm of `pid` starts with `prefix` (so that a reused pid is not taken for ours).
bool ProcessIs(long pid, const std::string& prefix) {
  if (pid <= 0) return false;
  auto comm = ReadSmallFile("/proc/" + std::to_string(pid) + "/comm", 64);
  return comm.ok() && comm->compare(0, prefix.size(), prefix) == 0;
}

// Text from files and programs, made safe for a terminal: no control characters.
std::string Printable(std::string s) {
  for (char& c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return s;
}

// The ttyaudit-runtime installed beside this program.
std::string RuntimeBesideSelf() {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return "ttyaudit-runtime";
  std::string path(self, static_cast<size_t>(n));
  return path.substr(0, path.rfind('/') + 1) + "ttyaudit-runtime";
}

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

S3RetryPolicy QuickPolicy() {
  S3RetryPolicy quick;
  quick.max_attempts = 2;
  quick.connect_timeout_s = 5;
  quick.read_timeout_s = 10;
  quick.write_timeout_s = 10;
  return quick;
}

bool IsS3(const std::string& url) { return url.rfind("s3://", 0) == 0; }

// The config's bucket, for the checks that talk S3 itself (the Store interface has no clock
// and no bucket configuration), and the store's prefix in it.
struct Bucket {
  std::unique_ptr<S3Client> client;
  std::string prefix;
};

Result<Bucket> OpenBucket(const Config& cfg) {
  auto parsed = ParseS3Url(cfg.StoreUrl());
  if (!parsed) return parsed.error();
  auto creds = ResolveCredentials(cfg.s3);
  if (!creds) return creds.error();
  auto client = S3Client::Create(cfg.s3, parsed->first, std::move(creds.value()), QuickPolicy());
  if (!client) return client.error();
  return Bucket{std::move(client.value()), parsed->second};
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", s);
  return buf;
}

// The probe's lock lasts an hour: longer than any skew a signed request survives (15 min), so
// that the date is in the future by the bucket's clock too, and short, since the locked
// version stays (behind a delete marker) until then.
constexpr int64_t kProbeLockS = 3600;

// What is wrong with the probe object's lock as it came back, against what was asked.
void ProbeLockProblems(const ObjectInfo& o, const std::string& mode, int64_t until_ns,
                       const std::string& until, std::vector<std::string>& problems) {
  if (o.lock_mode.empty() || o.lock_retain_until.empty()) {
    problems.push_back("a probe written with " + mode + " until " + until +
                       " came back without Object Lock");
    return;
  }
  if (o.lock_mode != mode && o.lock_mode != "COMPLIANCE")
    problems.push_back("a probe written with " + mode + " came back locked in " + o.lock_mode);
  auto got = ParseTime(o.lock_retain_until, RealtimeNanos());
  if (!got.ok() || *got + 1000000000LL < until_ns)
    problems.push_back("a probe written with " + mode + " until " + until +
                       " came back locked only until " + o.lock_retain_until);
}

}  // namespace

DoctorCheck CheckRunc(const std::string& runtime) {
  if (access(runtime.c_str(), X_OK) != 0)
    return Fail("runc", runtime + ": " + std::strerror(errno),
                "install ttyaudit-runtime beside ttyaudit (make install)");
  std::string out;
  int rc = RunCapture({runtime, "--version"}, out);
  if (rc != 0 || out.compare(0, 13, "runc version ") != 0)
    return Fail("runc", "ttyaudit-runtime finds no runc to run: " + FirstLine(out),
                "install runc (Debian: runc), or name it in the config's \"runc\"");
  return Ok("runc", FirstLine(out) + " (what ttyaudit-runtime runs)");
}

DoctorCheck CheckContainerd(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text.ok())
    return Warn("containerd", path + ": none (" + text.message() + ")",
                "with containerd, add the ttyaudit handler of examples/containerd/config.toml");
  static const std::regex kHeader(R"(^\s*\[([^\]]*)\])");
  static const std::regex kBinary(R"re(^\s*BinaryName\s*=\s*"([^"]*)")re");
  std::string table, handlers, problem;
  size_t start = 0;
  while (start < text->size()) {
    size_t end = text->find('\n', start);
    if (end == std::string::npos) end = text->size();
    std::string line = text->substr(start, end - start);
    start = end + 1;
    std::smatch m;
    if (std::regex_search(line, m, kHeader)) {
      table = m[1];
    } else if (std::regex_search(line, m, kBinary)) {
      std::string bin = m[1];
      if (bin.size() < 16 || bin.compare(bin.size() - 16, 16, "ttyaudit-runtime") != 0) continue;
      size_t at = table.find(".runtimes.");
      std::string handler = at == std::string::npos ? table : table.substr(at + 10);
      if (handler.size() > 8 && handler.compare(handler.size() - 8, 8, ".options") == 0)
        handler.resize(handler.size() - 8);
      handlers += (handlers.empty() ? "" : ", ") + handler;
      if (access(bin.c_str(), X_OK) != 0) problem = bin + ": " + std::strerror(errno);
    }
  }
  if (handlers.empty())
    return Fail("containerd", path + ": no runtime handler runs ttyaudit-runtime",
                "add the ttyaudit handler of examples/containerd/config.toml (or run "
                "examples/kubernetes/install-node.sh), then restart containerd");
  if (!problem.empty())
    return Fail("containerd", "handler " + handlers + ": " + problem,
                "install ttyaudit-runtime there, or fix BinaryName in " + path);
  return Ok("containerd", path + ": handler " + handlers + " runs ttyaudit-runtime");
}

DoctorCheck CheckDocker(const std::string& path) {
  auto text = ReadSmallFile(path);
  if (!text.ok()) return Ok("docker", path + ": none (Docker not configured here)");
  static const std::regex kPath(R"re("path"\s*:\s*"([^"]*ttyaudit-runtime)")re");
  std::smatch m;
  if (!std::regex_search(*text, m, kPath))
    return Fail("docker", path + ": no runtime is ttyaudit-runtime",
                "add the runtime of examples/docker/daemon.json, then restart dockerd");
  std::string bin = m[1];
  if (access(bin.c_str(), X_OK) != 0)
    return Fail("docker", bin + ": " + std::strerror(errno), "install ttyaudit-runtime there");
  return Ok("docker", path + ": runtime " + bin);
}

DoctorCheck CheckSpool(const Config& cfg) {
  const std::string& dir = cfg.spool_dir;
  struct stat st;
  if (stat(dir.c_str(), &st) != 0)
    return Fail("spool", dir + ": " + std::strerror(errno), "mkdir -m 0700 -p " + dir);
  if (!S_ISDIR(st.st_mode))
    return Fail("spool", dir + ": not a directory", "make it a directory of root's, mode 0700");
  if (st.st_uid != 0)
    return Fail("spool", dir + ": owned by uid " + std::to_string(st.st_uid), "chown root " + dir);
  if (st.st_mode & 022)
    return Fail("spool", dir + ": mode " + Octal(st.st_mode) + ", writable by others",
                "chmod 0700 " + dir);
  std::string probe = dir + "/.doctor-" + std::to_string(getpid());
  int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return Fail("spool", "cannot write in " + dir + ": " + std::strerror(errno),
                "make " + dir + " writable by root (read-only file system?)");
  close(fd);
  unlink(probe.c_str());
  uint64_t used = 0;
  auto sessions = ScanSpool(dir, &used);
  if (!sessions.ok()) return Fail("spool", sessions.message(), "check " + dir);
  struct statvfs vfs;
  uint64_t free_bytes = statvfs(dir.c_str(), &vfs) == 0 ? uint64_t(vfs.f_bavail) * vfs.f_frsize : 0;
  std::string detail = dir + ": mode " + Octal(st.st_mode) + ", " +
                       std::to_string(sessions->size()) + " sessions, " + std::to_string(used) +
                       " of " + std::to_string(cfg.spool_max_bytes) + " bytes allowed, " +
                       std::to_string(free_bytes) + " bytes free on its file system";
  if (used >= cfg.spool_max_bytes)
    return Fail("spool", detail, "the spool is full: is the uploader running and the store up?");
  if (used >= cfg.spool_max_bytes / 10 * 8 || free_bytes < (64ULL << 20))
    return Warn("spool", detail, "the spool is filling up: check the uploader and the store");
  return Ok("spool", detail);
}

DoctorCheck CheckTracker(const std::string& run_dir) {
  auto pid = ReadSmallFile(run_dir + "/tracker.pid", 64);
  if (pid.ok() && ProcessIs(std::atol(pid->c_str()), "ttyaudit-track"))
    return Ok("tracker", "ttyaudit-tracker runs (pid " + FirstLine(*pid) + ")");
  return Warn("tracker", "no tracker hub runs for " + run_dir,
              "recorders start one on demand; `systemctl enable --now ttyaudit-tracker` keeps "
              "one out of containerd's cgroup");
}

DoctorCheck CheckUploader(const Config& cfg) {
  auto status = ReadSmallFile(cfg.spool_dir + "/uploader.status", 1 << 16);
  long pid = 0;
  if (status.ok()) {
    size_t at = status->find("\"pid\":");
    if (at != std::string::npos) pid = std::atol(status->c_str() + at + 6);
  }
  if (!ProcessIs(pid, "ttyaudit-upload"))
    return Fail("uploader", "no ttyaudit-uploader runs for " + cfg.spool_dir,
                "`systemctl enable --now ttyaudit-uploader`: until then sessions stay on this "
                "node");
  return Ok("uploader", "ttyaudit-uploader runs (pid " + std::to_string(pid) + ")");
}

DoctorCheck CheckStore(const Config& cfg) {
  S3RetryPolicy quick;
  quick.max_attempts = 2;
  quick.connect_timeout_s = 5;
  quick.read_timeout_s = 10;
  quick.write_timeout_s = 10;
  auto store = OpenStore(cfg, cfg.StoreUrl(), quick);
  std::string url = cfg.StoreUrl();
  if (!store.ok())
    return Fail("store", url + ": " + store.message(), "fix \"store\" and \"s3\" in the config");
  std::string key = DoctorProbeKey(RealtimeNanos());
  if (Status st = (*store)->Put(key, "ttyaudit doctor probe\n"); !st)
    return Fail("store", url + ": cannot write: " + st.message(),
                "check the endpoint, the credentials and that the bucket exists");
  if (Status st = (*store)->Delete(key); !st)
    return Warn("store", url + ": written, but the probe " + key + " stays: " + st.message(),
                "allow DeleteObject, or remove " + key + " by hand");
  return Ok("store", url + ": reachable and writable");
}

DoctorCheck CheckClock(const Config& cfg) {
  const std::string url = cfg.StoreUrl();
  if (!IsS3(url)) return Ok("clock", url + " is a local archive: no bucket clock to compare with");
  auto bucket = OpenBucket(cfg);
  auto clock =
      bucket.ok() ? bucket->client->ReadServerClock() : Result<ServerClock>(bucket.error());
  if (!clock.ok())
    return Warn("clock", "cannot compare with the bucket's clock: " + clock.message(),
                "make the bucket reachable (the store check), then run doctor again");
  const double off = clock->offset_s;
  const double apart = std::max(0.0, std::fabs(off) - clock->error_s);
  std::string detail = "this node's clock is " + Seconds(std::fabs(off)) + " " +
                       (off > 0 ? "behind" : "ahead of") + " the bucket's (+-" +
                       Seconds(clock->error_s) + "; its Date: " + clock->date + ")";
  DoctorCheck c;
  if (apart >= kClockFailS)
    c = Fail("clock",
             detail + ", at least " + Seconds(apart) + " off: over the " + Seconds(kClockFailS) +
                 " allowed",
             "synchronise the clock (chrony, systemd-timesyncd or ntpd; `timedatectl` shows "
             "whether it is): from 15 min off the bucket refuses every request "
             "(RequestTimeTooSkewed), and session times are already wrong");
  else if (apart >= kClockWarnS)
    c = Warn("clock", detail + ", at least " + Seconds(apart) + " off",
             "synchronise the clock: sessions' times no longer line up with the API server's "
             "audit log (ttyaudit correlate --skew) or other nodes");
  else
    c = Ok("clock", detail);
  c.values = {{"offset_s", off}, {"error_s", clock->error_s}};
  return c;
}

DoctorCheck CheckObjectLock(const Config& cfg) {
  const ObjectLockConfig& want = cfg.s3.object_lock;
  const std::string url = cfg.StoreUrl();
  if (want.mode.empty())
    return Ok("object lock", "none configured (s3.object_lock): whoever may delete in " + url +
                                 " can remove sealed sessions");
  const std::string wanted = want.mode + " for " + std::to_string(want.days) + " days";
  const std::string fix =
      "turn Object Lock on for the bucket (versioning on, then `aws s3api "
      "put-object-lock-configuration`), or remove s3.object_lock from the config; until then "
      "sealed sessions can be deleted";
  if (!IsS3(url))
    return Fail(
        "object lock",
        "configured " + wanted + ", but " + url + " is a local archive, which holds no Object Lock",
        fix);
  auto bucket = OpenBucket(cfg);
  if (!bucket.ok())
    return Fail("object lock", "configured " + wanted + "; cannot check: " + bucket.message(),
                "fix \"store\" and \"s3\" in the config");
  S3Client& s3 = *bucket->client;
  std::vector<std::string> problems;
  std::string bucket_says;
  if (auto conf = s3.GetObjectLockConfiguration(); !conf.ok()) {
    problems.push_back("the bucket's Object Lock configuration cannot be read: " + conf.message());
  } else if (!conf->enabled) {
    problems.push_back("the bucket has no Object Lock");
  } else {
    bucket_says = "the bucket has Object Lock on, default retention " +
                  (conf->mode.empty() ? std::string("none")
                                      : conf->mode + " for " +
                                            (conf->years ? std::to_string(conf->years) + " years"
                                                         : std::to_string(conf->days) + " days"));
  }
  const int64_t now = RealtimeNanos();
  const int64_t until_ns = now + kProbeLockS * 1000000000LL;
  PutOptions put;
  put.content_type = "text/plain";
  put.object_lock_mode = want.mode;
  put.object_lock_retain_until = FormatRfc3339(until_ns);
  const std::string probe = DoctorProbeKey(now);
  const std::string key = bucket->prefix.empty() ? probe : bucket->prefix + "/" + probe;
  std::string came_back;
  if (auto put_ok = s3.PutObject(key, "ttyaudit doctor Object Lock probe\n", put); !put_ok.ok()) {
    problems.push_back("a probe written with " + want.mode + " until " +
                       put.object_lock_retain_until + " was refused: " + put_ok.message());
  } else {
    auto head = s3.HeadObject(key);
    if (!head.ok() || !*head)
      problems.push_back("the probe " + key + " cannot be read back" +
                         (head.ok() ? std::string() : ": " + head.message()));
    else
      ProbeLockProblems(**head, want.mode, until_ns, put.object_lock_retain_until, problems);
    if (head.ok() && *head)
      came_back = "a probe came back locked in " + (*head)->lock_mode + " until " +
                  (*head)->lock_retain_until;
    // Where the bucket keeps versions this leaves a delete marker; the locked version stays
    // until its date, an hour away.
    (void)s3.DeleteObject(key);
  }
  if (!problems.empty()) {
    std::string detail = "configured " + wanted + ", but ";
    for (size_t i = 0; i < problems.size(); ++i) detail += (i ? "; " : "") + problems[i];
    return Fail("object lock", detail, fix);
  }
  return Ok("object lock", "configured " + wanted + ": " + bucket_says + ", and " + came_back);
}

DoctorCheck CheckNodeKey(const Config& cfg) {
  const std::string path = cfg.NodeKeyPath();
  struct stat st;
  if (lstat(path.c_str(), &st) != 0)
    return Fail("node key", path + ": " + std::strerror(errno),
                "start ttyaudit-uploader, which makes the key when there is none");
  if (!S_ISREG(st.st_mode))
    return Fail("node key", path + ": not a regular file",
                "remove it; ttyaudit-uploader then makes a new key");
  if (st.st_uid != 0)
    return Fail("node key", path + ": owned by uid " + std::to_string(st.st_uid),
                "chown root " + path + ", or remove it and let the uploader make a new key");
  if (st.st_mode & 077)
    return Fail("node key", path + ": mode " + Octal(st.st_mode) + ", readable by others",
                "chmod 0600 " + path +
                    "; whoever could read it can forge signatures, so make a "
                    "new key if that was possible for long");
  auto key = NodeKey::Load(path, NodeName(cfg.node_name));
  if (!key.ok()) return Fail("node key", key.message(), "remove it; the uploader makes a new one");
  const PublicKey& pub = key->public_key();
  const std::string object = PublicKeyObjectKey(pub);
  const std::string detail = path + ": key " + pub.key_id + ", root's, mode 0600";
  S3RetryPolicy quick;
  quick.max_attempts = 2;
  quick.connect_timeout_s = 5;
  quick.read_timeout_s = 10;
  auto store = OpenStore(cfg, cfg.StoreUrl(), quick);
  if (!store.ok())
    return Fail("node key", detail + "; cannot look for its public part: " + store.message(),
                "fix \"store\" in the config");
  auto text = (*store)->Get(object);
  const std::string where = (*store)->Url() + "/" + object;
  if (!text.ok())
    return Fail("node key", detail + "; its public part is not at " + where + ": " + text.message(),
                "start ttyaudit-uploader, which publishes it; until then `ttyaudit verify` "
                "cannot check this node's sessions");
  auto published = ParsePublicKeyLine(*text);
  if (!published.ok() || published->raw != pub.raw || published->node != pub.node)
    return Fail("node key", detail + "; " + where + " does not hold this key's public part",
                "find out who wrote it; then remove it and restart ttyaudit-uploader");
  return Ok("node key", detail + ", published at " + where);
}

std::vector<DoctorCheck> RunDoctor(const Config& cfg, const DoctorOptions& opts) {
  return {CheckRunc(opts.runtime),
          CheckContainerd(opts.containerd_config),
          CheckDocker(opts.docker_config),
          CheckSpool(cfg),
          CheckTracker(opts.run_dir),
          CheckUploader(cfg),
          CheckStore(cfg),
          CheckClock(cfg),
          CheckObjectLock(cfg),
          CheckNodeKey(cfg)};
}

std::string DoctorReport(const std::vector<DoctorCheck>& checks, bool json) {
  static const char* kNames[] = {"ok", "warn", "fail"};
  if (json) {
    JsonWriter w;
    w.BeginObject().Key("ok").Bool(DoctorExitCode(checks) == 0).Key("checks").BeginArray();
    for (const auto& c : checks) {
      w.BeginObject().Key("name").String(c.name);
      w.Key("status").String(kNames[static_cast<int>(c.status)]);
      w.Key("detail").String(c.detail).Key("fix").String(c.fix);
      if (!c.values.empty()) {
        w.Key("values").BeginObject();
        for (const auto& [name, value] : c.values) w.Key(name).Double(value, 3);
        w.EndObject();
      }
      w.EndObject();
    }
    w.EndArray().EndObject();
    return w.str() + "\n";
  }
  std::string out;
  for (const auto& c : checks) {
    static const char* kTags[] = {"ok  ", "WARN", "FAIL"};
    out += std::string(kTags[static_cast<int>(c.status)]) + "  " + c.name + ": " +
           Printable(c.detail) + "\n";
    if (!c.fix.empty()) out += "      fix: " + Printable(c.fix) + "\n";
  }
  return out;
}

int DoctorExitCode(const std::vector<DoctorCheck>& checks) {
  for (const auto& c : checks)
    if (c.status == CheckStatus::kFail) return 1;
  return 0;
}

int RunDoctorCommand(DoctorOptions opts, bool json) {
  if (opts.runtime.empty()) opts.runtime = RuntimeBesideSelf();
  if (opts.run_dir.empty()) opts.run_dir = DefaultRunDir();
  std::vector<DoctorCheck> checks;
  auto cfg = LoadConfig();
  if (cfg.ok()) {
    checks = RunDoctor(*cfg, opts);
  } else {
    checks.push_back(Fail("config", cfg.message(), "fix the config file"));
    checks.push_back(CheckRunc(opts.runtime));
    checks.push_back(CheckContainerd(opts.containerd_config));
    checks.push_back(CheckDocker(opts.docker_config));
  }
  std::fputs(DoctorReport(checks, json).c_str(), stdout);
  std::fflush(stdout);
  return DoctorExitCode(checks);
}

}  // namespace ttyaudit
