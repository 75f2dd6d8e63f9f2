// What was on screen during a session, computed from its recording (docs/SCREEN.md): the
// screen text (every line that appeared, for `search --text`) and keyframes (the screen every
// few seconds and at every command marker, for `play --at` and the web viewer's seek).
//
// The uploader builds both when it seals a session and stores them beside the .cast
// (record/spool.h, store/keys.h); readers that find none (sessions from before, or still in
// the spool) build them the same way on the spot.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

/// The screen at one moment of a session, enough to start a replay there.
struct Keyframe {
  double time = 0;      // session seconds: the screen as it was from then on
  uint64_t offset = 0;  // byte offset in the .cast of the first event line after it
  int cols = 0, rows = 0;
  std::string why;     // "start", "time" or "command"
  std::string screen;  // escape sequences that paint it from any state (ScreenEmulator::Repaint)
};

/// The bounds of one session's screen record.
struct ScreenLimits {
  size_t max_text_bytes = 4 << 20;         // screen text; lines past it are dropped
  size_t max_keyframes = 1000;             // past it, every other one goes and the spacing doubles
  size_t max_keyframe_bytes = 32 << 20;    // the keyframes' screens together; the same
  double keyframe_every_s = 5;             // a keyframe at least this often while output changes
  uint64_t max_output_bytes = 1ULL << 30;  // output bytes run through the emulator; the rest not
};

struct ScreenRecord {
  std::string text;  // UTF-8, one screen line per '\n'-terminated line, each line once
  std::vector<Keyframe> keyframes;  // by time; the first at time 0 ("start")
  double duration = 0;              // the time of the last event
  uint64_t output_bytes = 0;        // output bytes in the recording
  bool text_truncated = false;      // max_text_bytes was reached
  bool keyframes_thinned = false;   // max_keyframes or max_keyframe_bytes was reached
  bool output_truncated = false;    // max_output_bytes was reached: the rest is not in it
};

/// A command of the manifest: when it started and its argv joined with spaces.
struct CommandMark {
  double start = 0;
  std::string line;
};

/// The commands of a manifest's "commands" JSON array, by start time (at most 100,000; a
/// member that is not a command is skipped).
std::vector<CommandMark> CommandMarks(std::string_view commands_json);

/// Runs the recording at `cast_path` through a terminal emulator at its recorded sizes,
/// following its resize events, with a keyframe at each of `marks` (session seconds).
Result<ScreenRecord> BuildScreenRecord(const std::string& cast_path,
                                       const std::vector<double>& marks,
                                       const ScreenLimits& limits = {});

}  // namespace ttyaudit
