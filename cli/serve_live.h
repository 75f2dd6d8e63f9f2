// The live page's stream: a running session's output as server-sent events, from the live
// engine (cli/live.h), through TerminalFilter (what could act on a terminal never reaches
// xterm.js).
#pragma once

#include <memory>
#include <string>

#include "cli/terminal_filter.h"
#include "config/config.h"

namespace ttyaudit {

class LiveFollower;

/// Events: "header" {"width","height"} first, then "output" (a JSON string of filtered text),
/// "resize" [w,h], and "end" once the session is sealed and every byte sent; "failed" (a JSON
/// string) when it cannot be followed. A comment line when nothing happened, so that a page
/// that left is noticed on the next write.
class LiveEventStream {
 public:
  LiveEventStream(const Config& cfg, std::string store_url, std::string id);
  ~LiveEventStream();
  /// Appends the next events to `out`, waiting up to `timeout_ms` for output. False once the
  /// stream has ended (nothing appended).
  bool Next(int timeout_ms, std::string& out);

 private:
  const Config& cfg_;
  std::string store_url_, id_;
  std::unique_ptr<LiveFollower> follower_;
  TerminalFilter filter_;
  bool done_ = false;
};

}  // namespace ttyaudit
