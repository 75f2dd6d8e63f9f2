// `ttyaudit correlate`: who, in Kubernetes terms, opened each recorded exec session.
//
// The runtime sees uid 0 in a container; the API server saw the user. Its audit log
// (audit.k8s.io/v1 Event, one JSON object per line) has one `pods/exec` request per
// `kubectl exec`: namespace, pod, container and command (query parameters of requestURI), the
// user, groups and source IPs, and when it was received. A session matches a request when
// namespace, pod, container (when the request names one), command and tty agree and the
// session started within a window after the request was received; each request opens at most
// one session and each session comes from at most one request (closest in time wins).
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "base/json.h"
#include "base/result.h"
#include "config/config.h"
#include "record/session_meta.h"

namespace ttyaudit {

/// One pods/exec request from the audit log (its stages merged by auditID).
struct K8sExecRequest {
  std::string audit_id;
  std::string k8s_namespace;
  std::string pod;
  std::string container;             // "" when the request did not name one
  std::vector<std::string> command;  // the command= parameters, decoded
  bool tty = false;
  bool tty_given = false;
  std::string user;
  std::vector<std::string> groups;
  std::string impersonated_user;
  std::vector<std::string> source_ips;
  std::string user_agent;
  std::string request_uri;
  int64_t received_ns = 0;  // requestReceivedTimestamp, Unix ns
  int response_code = 0;    // responseStatus.code of the last stage seen, 0 if none
};

struct AuditScanStats {
  uint64_t bytes = 0;
  uint64_t lines = 0;
  uint64_t parsed = 0;     // lines that mentioned exec and were parsed as JSON
  uint64_t malformed = 0;  // lines that were not a JSON object
};

/// Reads an audit log (JSON lines) from `f` and returns its pods/exec requests (verb create,
/// or get for WebSocket clients), in the order first seen. Lines that cannot mention exec are
/// skipped without parsing; one simdjson parser serves every line. Requests refused (code >=
/// 400) are dropped.
Result<std::vector<K8sExecRequest>> ReadK8sExecRequests(FILE* f, AuditScanStats* stats = nullptr);
Result<std::vector<K8sExecRequest>> ReadK8sExecRequests(const std::string& path,
                                                        AuditScanStats* stats = nullptr);

struct CorrelateOptions {
  double window_s = 30;  // a session starts at most this long after its request
  double skew_s = 2;     // ... and at most this long before it (API server and node clocks)
};

struct CorrelationMatch {
  size_t session = 0;  // index into the sessions given
  size_t request = 0;  // index into the requests given
  double delay_s = 0;  // session start minus request received
};

/// Matches sessions (container sessions; host ones never match) to requests, one to one.
std::vector<CorrelationMatch> CorrelateSessions(const std::vector<SessionMeta>& sessions,
                                                const std::vector<K8sExecRequest>& requests,
                                                const CorrelateOptions& opts = {});

/// The identity to put in a session's index: {"audit_id","user","groups","impersonated_user",
/// "source_ips","user_agent","request_received","delay_s"}.
void WriteK8sIdentityJson(JsonWriter& w, const K8sExecRequest& r, double delay_s);

/// Splits the query of a requestURI into decoded (name, value) pairs ('+' is a space).
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view uri);

/// What `correlate` is asked to do.
struct CorrelateArgs {
  std::string audit_log;      // the audit log file, or "-" for stdin
  std::string sessions_file;  // `search --json` lines (file or "-"); empty: the spool and store
  CorrelateOptions opts;
  bool json = false;
  bool record = false;  // also record each matched identity with its session, in its store
};

/// Runs `correlate`: prints one line per matched session (and a summary on stderr). Only with
/// `record` does it write, one identity/<id>.json per match in the session's store (sessions
/// still in the spool: `store_url`, else the configured store). Returns the exit status.
int RunCorrelate(const CorrelateArgs& args, const std::string& store_url, const Config& cfg);

}  // namespace ttyaudit
