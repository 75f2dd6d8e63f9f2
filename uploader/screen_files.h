// The uploader's one step for what was on screen (docs/SCREEN.md): when a session is sealed,
// its screen text and keyframes are built from the recording into the spool beside it, then
// put beside the recording in the store.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "base/log.h"
#include "base/result.h"
#include "catalog/segment_journal.h"
#include "record/spool.h"
#include "store/store.h"

namespace ttyaudit {

/// Builds <id>.screen.txt and <id>.keyframes.jsonl in `spool_dir` from the session's .cast
/// (keyframes at the manifest's command starts), unless both are there from an earlier try,
/// and puts them at ScreenTextKeyFor(cast_key) and KeyframesKeyFor(cast_key). A recording the
/// emulator cannot read is logged and leaves none: the session ships without them, and readers
/// fall back to its raw output. Only a spool or store failure is an error (the seal retries).
Status ShipScreenFiles(Store& store, const std::string& spool_dir, const SpoolEntry& e,
                       std::string_view manifest, const std::string& cast_key,
                       const std::function<void(LogLevel, std::string_view)>& log);

/// Appends the session's screen text (from the spool, as ShipScreenFiles left it; none when it
/// left none) to the screen segment journal, before the session leaves the spool.
Status JournalScreenText(SegmentJournal& journal, const std::string& spool_dir, const SpoolEntry& e,
                         std::string_view node);

}  // namespace ttyaudit
