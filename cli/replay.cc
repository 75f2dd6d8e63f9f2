#include "cli/replay.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <optional>
#include <regex>
#include <thread>
#include <utility>

#include "base/files.h"
#include "base/printable.h"
#include "base/utf8.h"
#include "cli/live.h"
#include "cli/terminal_filter.h"
#include "record/asciicast.h"
#include "record/cast_reader.h"
#include "record/spool.h"
#include "screen/keyframes.h"
#include "screen/screen_record.h"
#include "store/keys.h"

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

std::optional<double> ParseAtTime(std::string_view at) {
  if (at.empty() || at.size() > 32) return std::nullopt;
  // Numbers (the last may have a fraction), each followed by h, m or s, or joined by colons.
  double total = 0;
  bool units = false, clock = false;
  int colons = 0;
  while (!at.empty()) {
    size_t n = 0;
    double v = 0;
    while (n < at.size() && at[n] >= '0' && at[n] <= '9') v = v * 10 + (at[n++] - '0');
    if (n == 0) return std::nullopt;
    if (n < at.size() && at[n] == '.') {
      double scale = 0.1;
      size_t digits = ++n;
      for (; n < at.size() && at[n] >= '0' && at[n] <= '9'; ++n, scale /= 10)
        v += (at[n] - '0') * scale;
      if (n == digits || (n < at.size() && at[n] != 's')) return std::nullopt;
    }
    at.remove_prefix(n);
    if (at.empty())
      return units && total > 0 && !clock ? std::nullopt : std::optional<double>(total + v);
    char c = at[0];
    at.remove_prefix(1);
    if (c == ':' && !units && colons < 2 && !at.empty()) {
      total = (total + v) * 60;
      clock = true;
      ++colons;
    } else if ((c == 'h' || c == 'm' || c == 's') && !clock) {
      total += v * (c == 'h' ? 3600 : c == 'm' ? 60 : 1);
      units = true;
    } else {
      return std::nullopt;
    }
  }
  return total;
}

namespace {

std::string Clock(double s) {
  char buf[32];
  long long t = static_cast<long long>(s);
  std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
  return buf;
}

// The session's keyframes: the file beside its recording (the archive's or the spool's), or
// the object beside it in its store; built from the recording when it has none.
Result<KeyframesFile> LoadKeyframes(const SessionRecord& s) {
  constexpr size_t kMaxBytes = 64 << 20;
  std::optional<std::string> text;
  std::string origin;
  if (s.store && s.store->Remote() && !s.key.empty()) {
    origin = s.store->Url() + "/" + KeyframesKeyFor(s.key);
    if (auto size = s.store->Size(KeyframesKeyFor(s.key)); size.ok() && *size) {
      auto body = s.store->Get(KeyframesKeyFor(s.key), 0, kMaxBytes + 1);
      if (!body.ok()) return body.error();
      text = std::move(body.value());
    }
  } else {
    origin = KeyframesPathFor(s.path);
    auto body = ReadFileIfExists(origin, kMaxBytes + 1);
    if (!body.ok()) return body.error();
    text = std::move(body.value());
  }
  if (text) {
    auto parsed = ParseKeyframes(*text, origin, kMaxBytes);
    if (parsed.ok()) return parsed;
    std::fprintf(stderr, "ttyaudit play: warning: %s; reading the recording instead\n",
                 EscapeControlChars(parsed.message()).c_str());
  }
  std::vector<double> marks;
  for (const CommandMark& m : CommandMarks(s.commands_json)) marks.push_back(m.start);
  auto rec = BuildScreenRecord(s.path, marks);
  if (!rec.ok()) return rec.error();
  auto parsed = ParseKeyframes(KeyframesJsonl(*rec), s.path, SIZE_MAX);
  return parsed;
}

// Where --at points: seconds into the session, or an error that says why not.
Result<double> AtSeconds(const SessionRecord& s, const std::string& at, double duration) {
  if (auto t = ParseAtTime(at)) {
    if (*t > duration)
      return Error{"--at " + at + ": past the end of the session (" + Clock(duration) + ")"};
    return *t;
  }
  std::regex re;
  try {
    re = std::regex(at, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Error{"--at: `" + at + "` is neither a time (90s, 10m, 1:30) nor a regular " +
                 "expression: " + e.what()};
  }
  for (const CommandMark& m : CommandMarks(s.commands_json))
    if (std::regex_search(m.line, re)) return m.start;
  return Error{"--at: no command of the session matches `" + at + "`"};
}

}  // namespace

int PlaySession(const SessionRecord& s, const ReplayOptions& opts) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("play", reader.message());
  Output out(opts);
  CastEvent ev;
  double last = 0;
  double from = 0;  // with --at: events before this go out at once
  if (!opts.at.empty()) {
    auto frames = LoadKeyframes(s);
    if (!frames.ok()) return Fail("play", frames.message());
    auto at = AtSeconds(s, opts.at, frames->header.duration);
    if (!at.ok()) return Fail("play", at.message());
    const Keyframe* k = KeyframeAt(frames->keyframes, *at);
    if (k) {
      if (Status st = reader->SeekTo(k->offset); !st) return Fail("play", st.message());
      if (!out.Write(k->screen)) return 1;
    }
    from = *at;
    last = *at;
  }
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return Fail("play", more.message());
    if (!*more) break;
    if (ev.code != "o") continue;
    if (ev.time < from) {
      if (!out.Write(ev.data)) return 1;
      continue;
    }
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
