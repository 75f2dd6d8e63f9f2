// The uploader's progress on one session, kept in the spool as <id>.upstate
// (SpoolUploadStatePath, record/spool.h).
#pragma once

#include <cstdint>
#include <string>

#include "base/result.h"
#include "store/store.h"

namespace ttyaudit {

/// Where a session's upload stands. Saved after every step that changed the bucket, so a
/// restart (even after kill -9) neither loses nor repeats work.
struct UploadState {
  enum Phase { kLive, kCast, kManifest, kIndex, kCleanup };
  Phase phase = kLive;
  uint64_t live_offset = 0;    // bytes of the .cast already in live chunks
  uint64_t live_seq = 0;       // number of the next live chunk
  UploadProgress cast_upload;  // multipart of the sealed .cast
};

/// The phase's name in the state file and in --status ("live", "cast", ...).
const char* UploadPhaseName(UploadState::Phase p);

/// Reads a state file; a missing file is a fresh state.
Result<UploadState> LoadUploadState(const std::string& path);
/// Replaces a state file atomically, its content fsync'd.
Status SaveUploadState(const std::string& path, const UploadState& s);

/// Removes what a finished upload may leave behind after a crash between its last unlinks:
/// <id>.upstate in phase cleanup (and its <id>.json) whose <id>.cast is gone. Returns how
/// many sessions it tidied.
int CleanOrphanStates(const std::string& spool_dir);

}  // namespace ttyaudit
