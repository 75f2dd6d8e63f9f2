// The spool: where sessions wait on their node until the uploader has shipped them. This module
// names every file in it; the recorders, the uploader and the CLI find them through it.
//
// One flat directory (config `spool_dir`, mode 0700):
//   <id>.cast        asciicast v2, append-only while recording (record/spool_writer.h). Its
//                    header line is padded with spaces so that the writer can rewrite it in
//                    place with the end state; until then it says "state":"recording". The
//                    recorder holds flock(LOCK_EX) on it while it runs, so a reader that can
//                    take the lock knows the recorder is gone and reads an unfinished file as
//                    "interrupted".
//   <id>.json        the manifest (SessionMeta + commands + the chain's end, record/chain.h),
//                    replaced atomically when the session ends. Its presence means the session
//                    is sealed and ready to upload. Both files are made read-only (0400) once
//                    sealed, and immutable (FS_IMMUTABLE_FL) where the filesystem and the
//                    recorder's capabilities allow, until the uploader takes them.
//   sequence         the node's session counter: each session takes the next number (meta.seq),
//                    so a session deleted later leaves a gap that `ttyaudit verify` reports.
//   <id>.upstate     the uploader's progress on that session (uploader/upload_state.h).
//   <id>.screen.txt, <id>.keyframes.jsonl
//                    what was on screen and the replay keyframes (screen/screen_record.h),
//                    written by the uploader when it seals the session, before it ships them
//   index-segment.journal, screen-segment.journal (and .flushing)
//                    sealed sessions' catalog lines waiting for their segment
//                    (catalog/segment_journal.h)
//   uploader.status  the uploader's counters, for `ttyaudit-uploader --status`.
//   quarantine/      sessions whose chain does not hold, moved aside by the uploader.
//   .<name>.tmp-...  a file being replaced (base/files.h); hidden, so never a session.
// Only <id>.cast names a session; every file counts against spool_max_bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

/// <spool_dir>/<id>.cast, with `id` made safe as a file name (SanitizeKeyComponent).
std::string SpoolCastPath(const std::string& spool_dir, std::string_view id);
/// <spool_dir>/<id>.json
std::string SpoolManifestPath(const std::string& spool_dir, std::string_view id);
/// <spool_dir>/<id>.upstate
std::string SpoolUploadStatePath(const std::string& spool_dir, std::string_view id);
/// <spool_dir>/uploader.status
std::string SpoolUploaderStatusPath(const std::string& spool_dir);
/// <spool_dir>/sequence: the node's session counter (NextSessionSeq, record/spool_writer.h)
std::string SpoolSequencePath(const std::string& spool_dir);
/// <spool_dir>/quarantine: where the uploader moves sessions whose chain does not hold
std::string SpoolQuarantineDir(const std::string& spool_dir);
/// <spool_dir>/index-segment.journal: the index lines the uploader has not yet put into an index
/// segment (catalog/segment_journal.h). Neither .cast nor .json: no reader of the spool takes
/// it for a session.
std::string SpoolSegmentJournalPath(const std::string& spool_dir);
/// <spool_dir>/screen-segment.journal: the screen-text lines the uploader has not yet put into
/// a screen segment (catalog/segment_journal.h); neither .cast nor .json either.
std::string SpoolScreenSegmentJournalPath(const std::string& spool_dir);
/// The manifest path beside a .cast path (in the spool or in a file:// archive).
std::string ManifestPathFor(const std::string& cast_path);
/// <spool_dir>/<id>.screen.txt: the session's screen text (docs/SCREEN.md).
std::string SpoolScreenTextPath(const std::string& spool_dir, std::string_view id);
/// <spool_dir>/<id>.keyframes.jsonl: the session's replay keyframes (docs/SCREEN.md).
std::string SpoolKeyframesPath(const std::string& spool_dir, std::string_view id);
/// The screen text path beside a .cast path (in the spool or in a file:// archive).
std::string ScreenTextPathFor(const std::string& cast_path);
/// The keyframes path beside a .cast path (in the spool or in a file:// archive).
std::string KeyframesPathFor(const std::string& cast_path);

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
/// empty spool. `total_bytes` (may be null) receives the size of every file in it.
Result<std::vector<SpoolEntry>> ScanSpool(const std::string& spool_dir, uint64_t* total_bytes);

/// Bytes in the regular files of the spool (what spool_max_bytes caps); 0 when it is missing.
uint64_t SpoolBytes(const std::string& spool_dir);

/// The ids that have an upload state file (<id>.upstate), whether or not their .cast is there.
std::vector<std::string> SpoolUploadStateIds(const std::string& spool_dir);

/// True while a recorder holds the lock of the session file open on `fd`: a shared,
/// non-blocking probe, released at once. Safe at any time, since a starting recorder waits out
/// a probe instead of failing.
bool RecorderHoldsLock(int fd);
/// The same for the session file at `cast_path`; false when it cannot be opened.
bool RecorderHoldsLock(const std::string& cast_path);

}  // namespace ttyaudit
