// What the uploader sees in the spool, and the small state it keeps there per session.
//
// Spool files (see record/spool_writer.h): <id>.cast while recording and after; <id>.json once
// sealed. The uploader adds <id>.upstate (its progress for that session, replaced atomically)
// and uploader.status (its counters, for `ttyaudit-uploader --status`). Neither ends in .cast or
// .json, so readers of the spool never take them for sessions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "store/store.h"

namespace ttyaudit {

struct SpoolEntry {
  std::string id;
  std::string cast_path;
  std::string manifest_path;  // <id>.json; exists only when `sealed`
  std::string state_path;     // <id>.upstate
  uint64_t cast_size = 0;
  int64_t mtime_ns = 0;
  bool sealed = false;
};

/// The sessions in `spool_dir`, sorted by id (UUIDv7: oldest first). A missing directory is an
/// empty spool. `total_bytes` receives the size of every file in it.
Result<std::vector<SpoolEntry>> ScanSpool(const std::string& spool_dir, uint64_t* total_bytes);

/// Where a session's upload stands. Saved after every step that changed the bucket, so a
/// restart (even after kill -9) neither loses nor repeats work.
struct UploadState {
  enum Phase { kLive, kCast, kManifest, kIndex, kCleanup };
  Phase phase = kLive;
  uint64_t live_offset = 0;    // bytes of the .cast already in live chunks
  uint64_t live_seq = 0;       // number of the next live chunk
  UploadProgress cast_upload;  // multipart of the sealed .cast
};

/// Reads a state file; a missing file is a fresh state.
Result<UploadState> LoadUploadState(const std::string& path);
/// Writes a state file atomically (temp file, fsync, rename).
Status SaveUploadState(const std::string& path, const UploadState& s);

/// The key of live chunk `seq` of session `id`: live/<id>/<seq, 8 digits>.part. A chunk holds
/// whole asciicast lines; chunk 0 starts with the header line as it was at the start, and the
/// chunks in order are the .cast as recorded so far.
std::string LiveChunkKey(std::string_view id, uint64_t seq);
/// The prefix under which all live chunks of `id` sit: live/<id>/
std::string LiveChunkPrefix(std::string_view id);

/// Length of the longest prefix of `data` that ends in '\n' (0 when there is none).
size_t WholeLines(std::string_view data);

/// Writes `bytes` to `path` atomically (temp file in the same directory, fsync, rename).
Status WriteFileAtomically(const std::string& path, std::string_view bytes);
/// Reads a whole file.
Result<std::string> ReadFile(const std::string& path);

}  // namespace ttyaudit

namespace ttyaudit {
/// Removes what a finished upload may leave behind after a crash between its last unlinks:
/// <id>.upstate in phase cleanup (and its <id>.json) whose <id>.cast is gone. Returns how
/// many sessions it tidied.
int CleanOrphanStates(const std::string& spool_dir);
}  // namespace ttyaudit
