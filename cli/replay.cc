#include "cli/replay.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "base/printable.h"
#include "base/utf8.h"
#include "cli/live.h"
#include "cli/terminal_filter.h"
#include "record/asciicast.h"
#include "record/cast_reader.h"

namespace ttyaudit {
namespace {

bool WriteOut(std::string_view data) {
  const char* p = data.data();
  size_t n = data.size();
  while (n) {
    ssize_t w = write(1, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// Recorded output on its way to stdout: through a TerminalFilter when stdout is a terminal.
class Output {
 public:
  explicit Output(const ReplayOptions& opts) {
    if (!opts.raw && isatty(1)) filter_.emplace();
  }
  bool Write(std::string_view data) {
    if (!filter_) return WriteOut(data);
    safe_.clear();
    filter_->Feed(data, safe_);
    return WriteOut(safe_);
  }
  bool Finish() {
    if (!filter_) return true;
    safe_.clear();
    filter_->Finish(safe_);
    return WriteOut(safe_);
  }

 private:
  std::optional<TerminalFilter> filter_;
  std::string safe_;
};

int Fail(const std::string& verb, const std::string& msg) {
  std::fprintf(stderr, "ttyaudit %s: %s\n", verb.c_str(), EscapeControlChars(msg).c_str());
  return 1;
}

// Consecutive failed reads of the store after which watch gives up.
constexpr int kWatchRetries = 30;

}  // namespace

int CatSession(const SessionRecord& s, const ReplayOptions& opts) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("cat", reader.message());
  Output out(opts);
  CastEvent ev;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return Fail("cat", more.message());
    if (!*more) break;
    if (ev.code == "o" && !out.Write(ev.data))
      return Fail("cat", std::string("write: ") + std::strerror(errno));
  }
  return out.Finish() ? 0 : 1;
}

int PlaySession(const SessionRecord& s, const ReplayOptions& opts) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("play", reader.message());
  Output out(opts);
  CastEvent ev;
  double last = 0;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return Fail("play", more.message());
    if (!*more) break;
    if (ev.code != "o") continue;
    double gap = ev.time - last;
    last = ev.time;
    if (opts.max_idle_s > 0 && gap > opts.max_idle_s) gap = opts.max_idle_s;
    if (gap > 0) std::this_thread::sleep_for(std::chrono::duration<double>(gap / opts.speed));
    if (!out.Write(ev.data)) return 1;
  }
  return out.Finish() ? 0 : 1;
}

int ExportSession(const SessionRecord& s) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("export", reader.message());
  std::string out = reader->header() + "\n";
  CastEvent ev;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return Fail("export", more.message());
    if (!*more) break;
    AppendEventLine(out, ev.time, ev.code,
                    ev.code == "o" || ev.code == "i" ? ToValidUtf8Lossy(ev.data) : ev.data);
    if (out.size() > (1 << 20)) {
      if (!WriteOut(out)) return 1;
      out.clear();
    }
  }
  return WriteOut(out) ? 0 : 1;
}

int WatchSession(const Config& cfg, const std::string& store_url, const std::string& id,
                 const ReplayOptions& opts) {
  auto follower = LiveFollower::Open(cfg, store_url, id);
  if (!follower.ok()) return Fail("watch", follower.message());
  LiveFollower& f = **follower;
  Output out(opts);
  int failures = 0;
  while (!f.Ended()) {
    auto events = f.PollEvents(1000);
    for (const auto& w : f.TakeWarnings())
      std::fprintf(stderr, "ttyaudit watch: warning: %s\n", EscapeControlChars(w).c_str());
    if (!events.ok()) {
      // A store that does not answer for a while is waited out, not a reason to stop.
      if (++failures >= kWatchRetries) return Fail("watch", events.message());
      std::fprintf(stderr, "ttyaudit watch: %s; trying again\n",
                   EscapeControlChars(events.message()).c_str());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    failures = 0;
    for (const auto& ev : *events)
      if (ev.code == "o" && !out.Write(ev.data))
        return Fail("watch", std::string("write: ") + std::strerror(errno));
  }
  if (!out.Finish()) return 1;
  const int status = ShellStatus(f.Meta());
  return status < 0 ? 0 : status;
}

}  // namespace ttyaudit
