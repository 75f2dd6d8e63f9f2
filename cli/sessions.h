// Finding recorded sessions and reading their metadata, wherever they are.
#pragma once

#include <string>
#include <vector>

#include "common/config.h"
#include "common/result.h"
#include "common/session_meta.h"

namespace ttyaudit {

/// One session as search and the viewers see it.
struct SessionRecord {
  SessionMeta meta;
  std::string path;           // a local .cast file
  std::string commands_json;  // the manifest's "commands" array, "[]" when there is none
  std::string where;          // "spool" or the store URL it came from
};

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
                                        std::vector<std::string>& warnings);

/// Finds a session by full id, unique id prefix (8+ characters) or .cast path.
Result<SessionRecord> FindSession(const Config& cfg, const std::string& store_url,
                                  const std::string& id_or_path);

/// The session as one search --json line (the fields DESIGN.md names).
std::string SessionJsonLine(const SessionRecord& s, const std::string& prefix);

}  // namespace ttyaudit
