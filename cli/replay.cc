#include "cli/replay.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

#include "record/asciicast.h"
#include "record/cast_reader.h"
#include "record/spool.h"
#include "base/utf8.h"
#include "base/unique_fd.h"

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

int Fail(const std::string& verb, const std::string& msg) {
  std::fprintf(stderr, "ttyaudit %s: %s\n", verb.c_str(), msg.c_str());
  return 1;
}

}  // namespace

int CatSession(const SessionRecord& s) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("cat", reader.message());
  CastEvent ev;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return Fail("cat", more.message());
    if (!*more) break;
    if (ev.code == "o" && !WriteOut(ev.data)) return Fail("cat", std::string("write: ") + std::strerror(errno));
  }
  return 0;
}

int PlaySession(const SessionRecord& s, const PlayOptions& opts) {
  auto reader = CastReader::Open(s.path);
  if (!reader.ok()) return Fail("play", reader.message());
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
    if (!WriteOut(ev.data)) return 1;
  }
  return 0;
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
    AppendEventLine(out, ev.time, ev.code, ev.code == "o" || ev.code == "i" ? ToValidUtf8Lossy(ev.data) : ev.data);
    if (out.size() > (1 << 20)) {
      if (!WriteOut(out)) return 1;
      out.clear();
    }
  }
  return WriteOut(out) ? 0 : 1;
}

int WatchSession(const SessionRecord& s) {
  UniqueFd fd(open(s.path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return Fail("watch", std::string("open `") + s.path + "`: " + std::strerror(errno));
  EventLineParser parser;
  std::string pending;
  bool header_done = false;
  char buf[65536];
  CastEvent ev;
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
    pending.append(buf, static_cast<size_t>(n));
    size_t start = 0, nl;
    while ((nl = pending.find('\n', start)) != std::string::npos) {
      std::string line = pending.substr(start, nl - start);
      start = nl + 1;
      if (!header_done) {
        header_done = true;
        continue;
      }
      auto got = parser.Parse(line, ev, s.path);
      if (!got.ok()) return Fail("watch", got.message());
      if (*got && ev.code == "o" && !WriteOut(ev.data)) return 1;
    }
    pending.erase(0, start);
  }
  return 0;
}

}  // namespace ttyaudit
