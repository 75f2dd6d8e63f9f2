// `ttyaudit verify ID|FILE|--all [--since T]`: proves that sessions are complete and unchanged.
//
// For each session: its hash chain against the recording's bytes and against its manifest
// (record/chain.h), the manifest's Ed25519 signature by a known node key (store/signing.h), the
// index entry against the manifest, and, for a bucket with Object Lock configured, that the
// objects are locked at least as long as configured. Over all sessions of a node: its session
// numbers, where a gap means a session was deleted. Sessions still in the spool are checked
// against their chain and manifest; they are signed when the uploader ships them.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "store/store.h"

namespace ttyaudit {

struct VerifyOptions {
  std::string target;     // a session id (or 8+ leading characters) or a .cast file
  bool all = false;       // every session of the spool and the store
  std::string since;      // with --all: sessions still running at or after T
  std::string keys_file;  // trusted public keys; else the keys published in the store
  std::string store_url;  // --store
  bool json = false;      // one JSON object per session and line
};

/// One session's verdict.
struct Verdict {
  std::string id;
  std::string where;
  std::string node;
  uint64_t seq = 0;
  std::string key_id;
  bool signed_ok = false;
  bool pending = false;  // in the spool: not signed yet, by design
  std::vector<std::string> problems;
  bool ok() const { return problems.empty(); }
};

/// What is wrong with the Object Lock of object `key` (its HEAD: `o`) for a config that asks for
/// `want`: missing, another mode (COMPLIANCE is stricter and passes), or retained for less than
/// the configured days from the object's Last-Modified. Empty when it holds.
std::vector<std::string> ObjectLockProblems(const std::string& key, const ObjectInfo& o,
                                            const ObjectLockConfig& want);

struct SessionRecord;

/// Checks one session as `ttyaudit verify ID` does: a stored one against its chain, manifest,
/// signature (keys from `opts.keys_file`, else the store's keys/ of `opts.store_url`), index
/// entry and Object Lock; one in the spool or an archive against its chain and manifest.
Verdict VerifySession(SessionRecord& s, const VerifyOptions& opts, const Config& cfg);

/// What the viewer and `search --verify` say of a session's evidence, from its verdict: "verified"
/// (chain, manifest, index entry and signature hold), "failed" (with every reason),
/// "pending" (still recording, or in the spool: signed when uploaded), "unsigned" (stored
/// without a signature, nothing else wrong).
struct EvidenceState {
  std::string state;
  std::vector<std::string> problems;
  std::string key_id;
};
EvidenceState EvidenceOf(const SessionRecord& s, const Verdict& v);

/// The gaps and repeats in each node's session numbers among `verdicts`, as problems.
std::vector<std::string> SequenceProblems(const std::vector<Verdict>& verdicts);

/// Runs the command: prints one line per session and per problem; 0 when everything verified,
/// 1 when something did not, 2 when it could not run.
int RunVerify(const VerifyOptions& opts, const Config& cfg);

}  // namespace ttyaudit
