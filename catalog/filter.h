// What `ttyaudit search` filters on, checked once, and matched the same way by the catalog's
// SQL (catalog.h) and by a scan of sessions one by one (the spool, the brute-force reference).
#pragma once

#include <cstdint>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "base/result.h"
#include "record/session_meta.h"

namespace ttyaudit {

struct SessionFilter {
  int64_t since_ns = 0;               // sessions still running at or after (0: any)
  int64_t until_ns = 0;               // sessions started at or before (0: any)
  std::string user;                   // user name, or uid as text, or one of `user_ids`
  std::vector<std::string> user_ids;  // sessions whose Kubernetes user (correlate) is `user`
  std::string command_re;             // ECMAScript, over the argv and each command's argv
  std::string k8s_namespace, pod, node;
  std::string container;  // container name, or a prefix of its id
  std::string image;      // substring
  bool escalated = false;
  std::optional<int> exit_code;  // only "exited" sessions with this code
  std::string state;             // one of kSessionStates, or empty
  std::optional<int64_t> uid;
  bool live = false;  // only sessions still recording
  size_t limit = 0;   // at most this many, newest first (0: all)
};

/// The session states a filter may name.
inline constexpr const char* kSessionStates[] = {"recording", "exited", "signaled", "ended",
                                                 "interrupted"};

/// The lines --command matches, each on its own: the session's argv, then each command's argv
/// (from the manifest's "commands" JSON), joined with spaces.
std::vector<std::string> CommandLines(const std::vector<std::string>& argv,
                                      std::string_view commands_json);

/// A literal that every match of `re` contains (so a substring search can rule rows out before
/// the regular expression runs), or empty when none is certain.
std::string RequiredLiteral(const std::string& re);

/// A checked filter: the regular expression compiled, the state known.
class FilterMatcher {
 public:
  /// An error names the option: "--command: bad regular expression ...", "--state: ...".
  static Result<FilterMatcher> Create(const SessionFilter& f);

  const SessionFilter& filter() const { return f_; }
  /// Whether one session passes every filter (not `limit`).
  bool Matches(const SessionMeta& m, std::string_view commands_json, bool escalated,
               const std::string& k8s_user) const;
  /// Whether any of `lines` matches --command (true when there is no --command).
  bool CommandMatches(const std::vector<std::string>& lines) const;

 private:
  SessionFilter f_;
  std::regex command_;
};

}  // namespace ttyaudit
