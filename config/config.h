// The one configuration file every ttyaudit binary honours.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config_file.h"
#include "config/fail_policy.h"
#include "config/runc_config.h"

namespace ttyaudit {

struct ObjectLockConfig {
  std::string mode;  // "", "GOVERNANCE" or "COMPLIANCE"
  int days = 0;
};

struct S3Config {
  std::string endpoint;  // e.g. http://127.0.0.1:4568; empty means AWS's regional endpoint
  std::string region = "us-east-1";
  bool path_style = true;
  ObjectLockConfig object_lock;
  std::string sse;             // "", "AES256" or "aws:kms"
  std::string sse_kms_key_id;  // with sse "aws:kms"
  std::string ca_file;         // CA bundle for HTTPS; empty means the system's
  std::string access_key_id;   // else AWS_ACCESS_KEY_ID, else the shared credentials file
  std::string secret_access_key;
  std::string session_token;
};

/// Least privilege (sandbox/sandbox.h): seccomp, capabilities, no_new_privs and each
/// recorder's own cgroup with these limits. `enabled` false (or TTYAUDIT_SANDBOX=off) is for
/// debugging only.
struct SandboxConfig {
  bool enabled = true;
  uint64_t recorder_memory_max = 256ULL << 20;  // bytes
  uint64_t recorder_pids_max = 64;              // processes and threads
};

struct Config {
  std::string path;  // the file it was read from, or empty for built-in defaults
  std::string runc;  // the real runc; empty means search PATH, /usr/bin/runc, /usr/sbin/runc
  std::string spool_dir = "/var/lib/ttyaudit/spool";
  std::string archive_dir = "/var/lib/ttyaudit/archive";
  std::string store;  // "file:///path" or "s3://bucket/prefix"; empty means file://archive_dir
  S3Config s3;
  bool record_input = true;
  FailPolicy fail_policy;  // `fail_closed`: decided by FailClosed (config/fail_policy.h)
  double live_interval_s = 2.0;
  double fsync_interval_s = 1.0;
  uint64_t spool_max_bytes = 8ULL << 30;
  std::string log_file = "/var/log/ttyaudit.log";
  std::string node_name;  // empty means the host name
  /// The node's Ed25519 signing key (PEM, 0600 root), made by the uploader when missing; empty
  /// means node.key beside the spool directory (/var/lib/ttyaudit/node.key by default).
  std::string node_key;
  SandboxConfig sandbox;

  /// The node key's path with the default applied.
  std::string NodeKeyPath() const {
    if (!node_key.empty()) return node_key;
    std::string dir = spool_dir;
    while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
    size_t slash = dir.rfind('/');
    return (slash == std::string::npos || slash == 0 ? std::string() : dir.substr(0, slash)) +
           "/node.key";
  }
  /// The store URL with the default applied.
  std::string StoreUrl() const { return store.empty() ? "file://" + archive_dir : store; }
};

/// Parses config JSON text. Unknown keys and values of the wrong type or range are errors that
/// name the key (e.g. "config: s3.object_lock.days: want a whole number of days >= 1").
Result<Config> ParseConfig(std::string_view json, const std::string& origin);

/// ParseConfig of a config file as read (config/config_file.h); the defaults when there is none.
Result<Config> ConfigFromText(const ConfigText& config);

/// ConfigFromText(ReadConfigText()): $TTYAUDIT_CONFIG, else /etc/ttyaudit/config.json. A
/// missing default file gives the defaults; a missing file that TTYAUDIT_CONFIG names, or one
/// that cannot be read, is an error ("config: open `/x.json`: No such file or directory").
Result<Config> LoadConfig();

}  // namespace ttyaudit
