// Reading a session back: cat, play, export, watch.
#pragma once

#include <string>

#include "cli/sessions.h"

namespace ttyaudit {

struct ReplayOptions {
  /// Write the recorded bytes unchanged even to a terminal. Otherwise, when stdout is a
  /// terminal, they go through TerminalFilter (terminal_filter.h).
  bool raw = false;
  double speed = 1.0;       // play
  double max_idle_s = 2.0;  // play: longer pauses are shortened to this; 0 keeps them
};

/// Writes the session's output bytes to stdout. Returns an exit status.
int CatSession(const SessionRecord& s, const ReplayOptions& opts);

/// Replays the output to stdout with its timing.
int PlaySession(const SessionRecord& s, const ReplayOptions& opts);

/// Writes the session as plain asciicast v2 (no padding, no ttyaudit raw-byte events) to stdout.
int ExportSession(const SessionRecord& s);

/// Prints the output recorded so far, then follows the session until it ends.
int WatchSession(const SessionRecord& s, const ReplayOptions& opts);

}  // namespace ttyaudit
