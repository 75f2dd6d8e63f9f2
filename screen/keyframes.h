// The keyframes file (<id>.keyframes.jsonl beside the .cast; format in docs/SCREEN.md): JSON
// lines, a header line then one line per keyframe. This module writes it and reads it back,
// and picks the keyframe a replay starts from; `play --at` and the web viewer use it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "screen/screen_record.h"

namespace ttyaudit {

/// What a keyframes file says besides its keyframes.
struct KeyframesHeader {
  int version = 1;
  double duration = 0;  // the session's last event, seconds
  uint64_t output_bytes = 0;
  bool text_truncated = false, keyframes_thinned = false, output_truncated = false;
};

struct KeyframesFile {
  KeyframesHeader header;
  std::vector<Keyframe> keyframes;  // by time
};

/// The keyframes file of `rec`.
std::string KeyframesJsonl(const ScreenRecord& rec);

/// Reads a keyframes file. A line of another version or shape is an error naming `origin`;
/// keyframes are checked to be in time order, with offsets that never go back. At most
/// `max_bytes` are read (the caller bounds what it fetched; this only refuses more).
Result<KeyframesFile> ParseKeyframes(std::string_view jsonl, const std::string& origin,
                                     size_t max_bytes = 64 << 20);

/// The last keyframe at or before `time` (the first when `time` is before every one), or null
/// when there is none.
const Keyframe* KeyframeAt(const std::vector<Keyframe>& frames, double time);

}  // namespace ttyaudit
