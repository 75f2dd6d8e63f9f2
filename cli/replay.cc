#include "cli/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>
#include <thread>
#include <utility>

#include "base/printable.h"
#include "base/unique_fd.h"
#include "base/utf8.h"
#include "cli/terminal_filter.h"
#include "record/asciicast.h"
#include "record/cast_reader.h"
#include "record/spool.h"
#include "record/spool_writer.h"

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

// A line of a session that watch skips, as CastReader reports one.
void Warn(const std::string& path, uint64_t line, const std::string& why) {
  std::fprintf(stderr, "ttyaudit watch: warning: %s: line %llu: %s; skipped\n",
               EscapeControlChars(path).c_str(), static_cast<unsigned long long>(line),
               EscapeControlChars(why).c_str());
}

constexpr size_t kMaxLine = 64 << 20;

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

int WatchSession(const SessionRecord& s, const ReplayOptions& opts) {
  UniqueFd fd(open(s.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Fail("watch", std::string("open `") + s.path + "`: " + std::strerror(errno));
  EventLineParser parser;
  std::string pending;  // the line so far
  bool too_long = false;
  uint64_t line_number = 0;
  char buf[65536];
  CastEvent ev;
  Output out(opts);
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Fail("watch", std::string("read: ") + std::strerror(errno));
    if (n == 0) {
      // At the end of what is written: finished once the recorder has let go of its lock.
      if (!RecorderHoldsLock(fd.get())) {
        n = read(fd.get(), buf, sizeof buf);  // whatever it wrote last
        if (n <= 0) break;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        continue;
      }
    }
    std::string_view chunk(buf, static_cast<size_t>(n));
    for (size_t nl; !chunk.empty(); chunk.remove_prefix(nl + 1)) {
      nl = chunk.find('\n');
      std::string_view part = chunk.substr(0, nl);
      // A line is held up to the reader's limit; past it, read through and skipped.
      if (!too_long && pending.size() + part.size() > kMaxLine) {
        too_long = true;
        std::string().swap(pending);
      }
      if (!too_long) pending.append(part);
      if (nl == std::string_view::npos) break;
      ++line_number;
      if (std::exchange(too_long, false)) {
        Warn(s.path, line_number, "longer than 64 MiB");
      } else if (line_number > 1) {  // line 1 is the header
        auto got = parser.Parse(pending, ev, s.path);
        if (!got.ok())
          Warn(s.path, line_number, got.message());
        else if (*got && ev.code == "o" && !out.Write(ev.data))
          return 1;
      }
      pending.clear();
    }
  }
  if (!pending.empty() || too_long)
    std::fprintf(stderr,
                 "ttyaudit watch: warning: %s: ends in the middle of line %llu: the session is "
                 "truncated there\n",
                 EscapeControlChars(s.path).c_str(),
                 static_cast<unsigned long long>(line_number + 1));
  return out.Finish() ? 0 : 1;
}

}  // namespace ttyaudit
