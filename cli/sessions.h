// Finding recorded sessions and reading their metadata, wherever they are.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "base/unique_fd.h"
#include "config/config.h"
#include "record/session_meta.h"
#include "store/store.h"

namespace ttyaudit {

/// One session as search and the viewers see it.
struct SessionRecord {
  SessionMeta meta;
  std::string path;           // a local .cast file; empty until fetched for a remote store
  std::string commands_json;  // the manifest's "commands" array, "[]" when there is none
  bool escalated = false;     // the manifest lists a uid/euid change in the session's tree
  std::string k8s_json;       // the Kubernetes identity `correlate` recorded, or empty
  std::string k8s_user;       // its API user
  std::string where;          // "spool", "file", or the store URL it came from
  std::string key;            // the .cast's key in `store`, for sessions from a store
  std::shared_ptr<Store> store;
  std::shared_ptr<const UniqueFd> copy;  // a fetched copy, which `path` names while it is held
  // What the session's evidence is, as cheaply known (docs/EVIDENCE.md); `ttyaudit verify`
  // checks it all again. "signed": the uploader checked the recording's hash chain against the
  // manifest and signed the manifest with key `signed_by`. "pending": still in the spool,
  // checked and signed when shipped. "unsigned": stored without a signature.
  std::string evidence;
  std::string signed_by;
};

/// Sets `evidence` from the key that signed the session (empty: none).
void SetSignedBy(SessionRecord& r, std::string key_id);

/// A local file with the session's recording: `path` itself, or the object fetched from its
/// remote store into a temporary file that has no name (O_TMPFILE, else unlinked at once), held
/// open by `s.copy` and named by a /proc/self/fd path. The copy goes when the last holder of
/// `s.copy` lets go or the process ends, however it ends (Ctrl-C too): nothing is left behind.
Result<std::string> LocalCastPath(SessionRecord& s);

/// Lets go of the fetched copy of a remote session (LocalCastPath), if there is one.
void DropLocalCopy(SessionRecord& s);

/// Records the Kubernetes identity (a JSON object) of a session at identity/<id>.json in the
/// session's store, or in the configured store (`store_url`, else the config's) for a session
/// still in the spool. Sealed index entries are not rewritten (object lock may keep them);
/// readers join identities to sessions by id.
Status RecordK8sIdentity(const Config& cfg, const std::string& store_url, const SessionRecord& s,
                         const std::string& identity_json);

/// The Kubernetes identities `correlate` recorded in a store (identity/<id>.json), by session id.
std::map<std::string, std::string> LoadIdentities(Store& store);
/// The API user ("user" member) of an identity object, or empty.
std::string IdentityUser(const std::string& json);
/// Attaches an identity object to a session (k8s_json and k8s_user).
void SetIdentity(SessionRecord& r, std::string json);

/// Parses an index entry (the manifest plus "key") into a record of `store`.
Result<SessionRecord> ParseIndexEntry(const std::string& json, std::shared_ptr<Store> store);

/// Every session in a store, read from its index. With `since_ns`/`until_ns` non-zero only the
/// date partitions that can hold sessions of that range are listed.
Result<std::vector<SessionRecord>> ListStoreSessions(std::shared_ptr<Store> store, int64_t since_ns,
                                                     int64_t until_ns,
                                                     std::vector<std::string>& warnings);

/// Reads one local .cast file (header, live/interrupted state, manifest beside it). A session
/// whose recorder is gone before it finished reads as "interrupted", ending at the file's mtime.
Result<SessionRecord> ReadLocalSession(const std::string& cast_path, const std::string& where);

/// Every session in a spool or archive directory tree (recursively; *.cast files).
/// Unreadable files are reported through `warnings` and skipped.
std::vector<SessionRecord> ListLocalSessions(const std::string& dir, const std::string& where,
                                             std::vector<std::string>& warnings);

/// The sessions of the spool and of the configured store (a file:// archive), or only of
/// `store_url` when it is given.
std::vector<SessionRecord> ListSessions(const Config& cfg, const std::string& store_url,
                                        std::vector<std::string>& warnings, int64_t since_ns = 0,
                                        int64_t until_ns = 0);

/// Finds a session by full id, unique id prefix (8+ characters) or .cast path.
Result<SessionRecord> FindSession(const Config& cfg, const std::string& store_url,
                                  const std::string& id_or_path);

/// The session as one search --json line (the fields docs/DESIGN.md names).
std::string SessionJsonLine(const SessionRecord& s, const std::string& prefix);

}  // namespace ttyaudit
