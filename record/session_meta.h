// What ttyaudit knows about one recorded session: the asciicast header's "ttyaudit" object.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/json.h"

namespace ttyaudit {

struct SessionMeta {
  std::string id;               // UUIDv7
  std::string source = "host";  // "host" (ttyaudit rec) or "runtime" (an exec in a container)
  std::string node;
  std::string machine_id;
  std::string user;
  int64_t uid = -1;
  int64_t gid = -1;
  std::vector<std::string> argv;
  std::string cwd;
  std::vector<std::pair<std::string, std::string>> env;  // secret-looking values redacted
  bool terminal = true;

  // Container sessions; empty for host sessions.
  std::string runtime;  // "kubernetes-cri", "cri-o", "docker", "containerd"
  std::string container_id;
  std::string runtime_root;
  std::string bundle;
  std::string k8s_namespace;
  std::string pod;
  std::string pod_uid;
  std::string container;
  std::string image;

  int width = 80;
  int height = 24;
  int64_t start_ns = 0;             // Unix nanoseconds
  int64_t end_ns = 0;               // 0 while recording
  std::string state = "recording";  // recording | exited | signaled | interrupted
  int exit_code = -1;               // for "exited"
  int signal = 0;                   // for "signaled"
  uint64_t bytes_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_in_hidden = 0;  // typed while echo was off: counted, not stored
  int64_t recorder_pid = 0;
  uint64_t seq = 0;  // the node's session number (record/spool_writer.h); 0: none

  /// Writes this as one JSON object value.
  void WriteJson(JsonWriter& w) const;
  /// The object as text.
  std::string ToJson() const;
};

/// The members that say where and as whom a session ran, in this order: namespace, pod,
/// container, container_id, image, user, uid, argv (search --json lines and index segments).
void WriteSessionWhere(JsonWriter& w, const SessionMeta& m);

/// The members that name a session and its times, in this order: id, start, end (RFC 3339; end
/// is null while it runs). Every JSON shape of a session begins with them.
void WriteSessionStart(JsonWriter& w, const SessionMeta& m);

/// What a session ended with: exit_code (null unless it exited), then signal (the signal's number
/// when it was signaled; otherwise null, or left out where `signal_always` is false).
void WriteSessionOutcome(JsonWriter& w, const SessionMeta& m, bool signal_always = true);

/// argv joined with single spaces, for display and regular-expression search.
std::string JoinArgv(const std::vector<std::string>& argv);

/// The exit status a shell would report: the exit code, 128+N for a signal, -1 if unknown.
int ShellStatus(const SessionMeta& m);

/// True for environment variable names whose values must not be stored (*TOKEN*, *PASSWORD*,
/// *SECRET*, *KEY*, *CREDENTIAL*, *PASSWD*, *AUTH*), compared case-insensitively.
bool IsSecretEnvName(std::string_view name);

/// Splits NAME=VALUE strings, redacting secret-looking values as "[redacted]".
std::vector<std::pair<std::string, std::string>> RedactEnv(const std::vector<std::string>& env);

}  // namespace ttyaudit
