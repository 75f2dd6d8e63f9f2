// `ttyaudit doctor`: whether this node records, keeps and ships sessions, and what to fix.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "config/config.h"

namespace ttyaudit {

enum class CheckStatus { kOk, kWarn, kFail };

/// One finding: what was checked, what was found and, when not ok, what to do.
struct DoctorCheck {
  std::string name;
  CheckStatus status = CheckStatus::kOk;
  std::string detail;
  std::string fix;
  /// Figures for machines (--json's "values"), e.g. the clock's "offset_s".
  std::map<std::string, double> values;
};

struct DoctorOptions {
  std::string containerd_config = "/etc/containerd/config.toml";
  std::string docker_config = "/etc/docker/daemon.json";
  std::string runtime;  // the ttyaudit-runtime to ask which runc it runs
  std::string run_dir;  // where the tracker hub's pid file is
};

/// Which runc ttyaudit-runtime runs: its `--version` is the real runc's, found as for every
/// runc call. Fails when the runtime is missing or finds no runc.
DoctorCheck CheckRunc(const std::string& runtime);
/// Whether a runtime handler of containerd's config (text at `path`) has ttyaudit-runtime as
/// its BinaryName, and that binary exists. A missing file is a warning.
DoctorCheck CheckContainerd(const std::string& path);
/// Whether a runtime of Docker's daemon.json is ttyaudit-runtime. A missing file is fine.
DoctorCheck CheckDocker(const std::string& path);
/// The spool: a directory, root's, writable by no one else, writable, and how full.
DoctorCheck CheckSpool(const Config& cfg);
/// Whether the tracker hub of `run_dir` runs (a warning if not: recorders start one).
DoctorCheck CheckTracker(const std::string& run_dir);
/// Whether the uploader of this spool runs (it writes <spool>/uploader.status).
DoctorCheck CheckUploader(const Config& cfg);
/// Whether the store is reachable and writable: a probe object is written and removed.
DoctorCheck CheckStore(const Config& cfg);

/// This node's clock against the bucket's (the Date header of its answer): ok within
/// kClockWarnS, a warning past it, a failure from kClockFailS. A local archive has no clock to
/// compare with (ok). values: offset_s (the bucket's time minus ours), error_s.
DoctorCheck CheckClock(const Config& cfg);
/// Past this many seconds off, `ttyaudit correlate` (whose --skew is 2 s) no longer matches
/// sessions with their exec requests in the API server's audit log, and sessions' times no
/// longer line up with other nodes' and the API server's.
constexpr double kClockWarnS = 2;
/// A third of SigV4's limit (15 minutes, past which S3 refuses every request: no upload, no
/// live chunk, no search of the bucket): a clock this far off is kept by no NTP, drifts, and
/// already puts every session, index segment and Object Lock date minutes off.
constexpr double kClockFailS = 300;

/// With s3.object_lock configured: the bucket's Object Lock configuration is read back (it must
/// be enabled), and a probe object written with the configured mode must come back with that
/// lock; a local archive cannot hold one. Ok when no Object Lock is configured.
DoctorCheck CheckObjectLock(const Config& cfg);

/// The node's signing key (store/signing.h): it exists, is root's and 0600, loads, and its
/// public part is published in the store, where `ttyaudit verify` looks for it.
DoctorCheck CheckNodeKey(const Config& cfg);

/// Every check, in the order above.
std::vector<DoctorCheck> RunDoctor(const Config& cfg, const DoctorOptions& opts);
/// One line per check, or with `json` one object: {"ok": bool, "checks": [...]}.
std::string DoctorReport(const std::vector<DoctorCheck>& checks, bool json);
/// 0 when no check failed, else 1.
int DoctorExitCode(const std::vector<DoctorCheck>& checks);

/// `ttyaudit doctor`: loads the config itself (one that cannot be read is a failed check, and
/// the checks that need no config still run), prints the report and returns the exit status:
/// 1 when a check failed. `opts.runtime` and `opts.run_dir` empty: beside this program, and
/// the default run dir.
int RunDoctorCommand(DoctorOptions opts, bool json);

}  // namespace ttyaudit
