// `ttyaudit search`: sessions by time, user, command, text on screen and where they ran.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/sessions.h"
#include "config/config.h"

namespace ttyaudit {

/// What a long-running reader of one store (serve) read from it itself, shared by the searches
/// it runs meanwhile: a search given one neither syncs the catalog (the reader did) nor lists
/// identity/ and live/ again.
struct StoreSnapshot {
  std::map<std::string, std::string> identities;  // LoadIdentities
  std::vector<SessionMeta> live;                  // ListLiveSessions
};

struct SearchQuery {
  std::string since, until;  // as ParseTime accepts
  std::string user, command_re, text_re;
  std::string k8s_namespace, pod, container, node, image;
  bool escalated = false;             // only sessions with a uid/euid change in their process tree
  std::string exit_code, uid, limit;  // integers, checked by RunSearch
  std::string state;                  // one of catalog/filter.h's kSessionStates
  bool live = false;                  // only sessions still recording
  bool scan = false;  // read every per-session index entry instead of the catalog (reference)
  bool json = false;
  bool verify = false;  // check each match as `ttyaudit verify` does (reads every byte)
  std::string store_url;
  std::shared_ptr<const StoreSnapshot> snapshot;  // set: the catalog is synced already
};

/// The sessions that match `q`, newest first: the store's catalog (synced first) merged with
/// the spool's sessions when no store is named, Kubernetes identities attached, then --text
/// and --limit. What was skipped goes to `warnings`. On an error `status` is 2 for a bad query,
/// 1 when the store cannot be read. `ttyaudit search` and `ttyaudit serve` both list this way.
Result<std::vector<SessionRecord>> SearchSessions(const SearchQuery& q, const Config& cfg,
                                                  std::vector<std::string>& warnings, int& status);

/// Runs the search and prints the matches to stdout, newest first (a table, or one JSON object
/// per line). The store's sessions come from its catalog (catalog/catalog.h), synced first,
/// with progress on a terminal unless --json. Returns the exit status: 0 (even with no match;
/// with --verify, 1 when a match failed its check),
/// 1 when the store cannot be read, 2 for a bad query.
int RunSearch(const SearchQuery& q, const Config& cfg);

/// Whether the screen text of a session (its output, escape sequences removed) matches.
Result<bool> ScreenTextMatches(const std::string& cast_path, const std::string& regex);

/// Strips terminal escape sequences (CSI, OSC, two-byte ESC) from `s`, keeping text.
std::string StripEscapes(std::string_view s);

}  // namespace ttyaudit
