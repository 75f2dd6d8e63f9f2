// Reading session metadata back (SessionMeta: record/session_meta.h), apart from the writer so
// that the recorder, which only writes it, does not link simdjson.
#pragma once

#include <string_view>

#include "base/result.h"
#include "record/session_meta.h"

namespace ttyaudit {

/// Parses a SessionMeta object (unknown keys are skipped, for files from newer versions).
Result<SessionMeta> ParseSessionMeta(std::string_view json);

/// Reads the "ttyaudit" object out of an asciicast v2 header line; also fills width/height from
/// the header when the object lacks them.
Result<SessionMeta> SessionMetaFromHeader(std::string_view header_line);

}  // namespace ttyaudit
