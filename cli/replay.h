// Reading a session back: cat, play, export, watch.
#pragma once

#include <string>

#include "cli/sessions.h"
#include "config/config.h"

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

/// Prints the output of session `id` (or a .cast path) recorded so far, from this node's spool
/// or the store's live chunks (cli/live.h), then follows it until it ends. Returns the
/// session's exit status as a shell gives it (0 when it is not known), 1 when it cannot be
/// followed.
int WatchSession(const Config& cfg, const std::string& store_url, const std::string& id,
                 const ReplayOptions& opts);

}  // namespace ttyaudit
