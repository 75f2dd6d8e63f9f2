// Reading a session back: cat, play, export, watch.
#pragma once

#include <string>

#include "cli/sessions.h"

namespace ttyaudit {

/// Writes the session's output bytes to stdout exactly as recorded. Returns an exit status.
int CatSession(const SessionRecord& s);

struct PlayOptions {
  double speed = 1.0;
  double max_idle_s = 2.0;  // longer pauses are shortened to this; 0 keeps them
};
/// Replays the output to stdout with its timing.
int PlaySession(const SessionRecord& s, const PlayOptions& opts);

/// Writes the session as plain asciicast v2 (no padding, no ttyaudit raw-byte events) to stdout.
int ExportSession(const SessionRecord& s);

/// Prints the output recorded so far, then follows the session until it ends.
int WatchSession(const SessionRecord& s);

}  // namespace ttyaudit
