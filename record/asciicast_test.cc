#include "record/asciicast.h"

#include <doctest/doctest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <random>

#include "base/json.h"
#include "record/cast_reader.h"

using namespace ttyaudit;

namespace {

// Writes a header and `body` to a temp file and reads back every event.
std::vector<CastEvent> ReadBack(const std::string& body) {
  char path[] = "/tmp/ttyaudit-cast-test.XXXXXX";
  int fd = mkstemp(path);
  FILE* f = fdopen(fd, "w");
  std::fputs("{\"version\":2,\"width\":80,\"height\":24}      \n", f);
  std::fwrite(body.data(), 1, body.size(), f);
  std::fclose(f);
  auto r = CastReader::Open(path);
  REQUIRE(r.ok());
  CHECK(r->header() == "{\"version\":2,\"width\":80,\"height\":24}");
  std::vector<CastEvent> out;
  CastEvent ev;
  for (;;) {
    auto more = r->Next(ev);
    REQUIRE(more.ok());
    if (!*more) break;
    out.push_back(ev);
  }
  unlink(path);
  return out;
}

std::string Concat(const std::vector<CastEvent>& evs, const std::string& code) {
  std::string s;
  for (const auto& e : evs)
    if (e.code == code) s += e.data;
  return s;
}

}  // namespace

TEST_CASE("asciicast: a stream of event lines is cut only after a whole line") {
  CHECK(WholeLines("a\nb\nc") == 4);
  CHECK(WholeLines("a\nb\n") == 4);
  CHECK(WholeLines("abc") == 0);
  CHECK(WholeLines("") == 0);
}

TEST_CASE("asciicast: event lines are one JSON array each, with control bytes escaped") {
  std::string out;
  AppendEventLine(out, 1.5, "o", std::string("a\"b\\c\n\x1b[0m\0z", 12));
  CHECK(out == "[1.500000, \"o\", \"a\\\"b\\\\c\\n\\u001b[0m\\u0000z\"]\n");
}

TEST_CASE("json: the vectorised escaper agrees with a byte-at-a-time reference") {
  auto reference = [](std::string_view in) {
    std::string out = "\"";
    for (unsigned char c : in) {
      char buf[8];
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\b')
        out += "\\b";
      else if (c == '\f')
        out += "\\f";
      else if (c < 0x20) {
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else
        out.push_back(static_cast<char>(c));
    }
    return out + "\"";
  };
  std::mt19937 rng(7);
  const char alphabet[] = "abc\"\\\n\r\x1b\x01\x1f\x20\x7f\x80\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 70, '\0');
    for (auto& c : s)
      c = rng() % 4 ? alphabet[rng() % (sizeof alphabet - 1)] : static_cast<char>(rng());
    std::string got;
    AppendJsonString(got, s);
    REQUIRE(got == reference(s));
  }
}

TEST_CASE("asciicast: every byte sequence survives the round trip exactly") {
  std::mt19937 rng(42);
  std::string all;
  for (int i = 0; i < 200000; ++i) all.push_back(static_cast<char>(rng()));
  all += "w\xC3\xB6rld \xE2\x82\xAC";
  EventEncoder enc;
  std::string body;
  // Random chunk boundaries split characters across reads.
  size_t pos = 0;
  double t = 0;
  while (pos < all.size()) {
    size_t n = std::min<size_t>(1 + rng() % 5000, all.size() - pos);
    enc.Append(body, t += 0.001, 'o', std::string_view(all).substr(pos, n));
    pos += n;
  }
  enc.Flush(body, t);
  CHECK(Concat(ReadBack(body), "o") == all);
}

TEST_CASE("asciicast: a character split across two reads is recorded whole and valid") {
  EventEncoder enc;
  std::string body;
  enc.Append(body, 0.1, 'o', "ab\xE2\x82");
  enc.Append(body, 0.2, 'o',
             "\xAC"
             "cd");
  CHECK(body.find("\"b\"") == std::string::npos);  // no raw-byte event needed
  auto evs = ReadBack(body);
  REQUIRE(evs.size() == 2);
  CHECK(evs[0].data == "ab");
  CHECK(evs[1].data ==
        "\xE2\x82\xAC"
        "cd");
}

TEST_CASE("asciicast: invalid UTF-8 shows as U+FFFD to players and stays exact for ttyaudit") {
  EventEncoder enc;
  std::string body;
  enc.Append(body, 0.1, 'o', "x\xFFy");
  CHECK(body.find("\"o\", \"x\xEF\xBF\xBDy\"") != std::string::npos);
  CHECK(ReadBack(body)[0].data == "x\xFFy");
}

TEST_CASE("asciicast: a last line cut short ends the stream as truncated, earlier events intact") {
  std::string body;
  AppendEventLine(body, 0.1, "o", "first");
  body += "[0.2, \"o\", \"sec";
  char path[] = "/tmp/ttyaudit-cast-test.XXXXXX";
  int fd = mkstemp(path);
  std::string all = "{\"version\":2}\n" + body;
  CHECK(write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()));
  close(fd);
  auto r = CastReader::Open(path);
  REQUIRE(r.ok());
  CastEvent ev;
  CHECK(*r->Next(ev));
  CHECK(ev.data == "first");
  CHECK_FALSE(*r->Next(ev));
  CHECK(r->truncated());
  unlink(path);
}

// Writes `all` to a temp file; returns its path.
static std::string TempCast(const std::string& all) {
  char path[] = "/tmp/ttyaudit-cast-test.XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  for (size_t off = 0; off < all.size();) {
    ssize_t n = write(fd, all.data() + off, all.size() - off);
    REQUIRE(n > 0);
    off += static_cast<size_t>(n);
  }
  close(fd);
  return path;
}

TEST_CASE("asciicast: a malformed line is skipped and the events after it are read") {
  std::string all = "{\"version\":2}\n{not json}\n[0.1, \"b\", \"!!\"]\n";
  AppendEventLine(all, 0.2, "o", "after");
  std::string path = TempCast(all);
  auto r = CastReader::Open(path);
  REQUIRE(r.ok());
  CastEvent ev;
  auto got = r->Next(ev);
  REQUIRE(got.ok());
  CHECK(*got);
  CHECK(ev.data == "after");
  CHECK(r->bad_lines() == 2);
  CHECK_FALSE(*r->Next(ev));
  CHECK_FALSE(r->truncated());
  unlink(path.c_str());
}

TEST_CASE("asciicast: an empty or short array is a malformed line, and the next event reads") {
  // "[]" had simdjson read the first element of an empty array (found by fuzz/cast_reader).
  EventLineParser parser;
  CastEvent ev;
  for (const char* bad : {"[]", "[ ]", "[0.1]", "[0.1, \"o\"]", "[[]]", "[{}, \"o\", \"x\"]"}) {
    std::string line = bad;
    auto got = parser.Parse(line, ev, "t.cast");
    CHECK_FALSE(got.ok());
  }
  std::string line = "[0.5, \"o\", \"ok\"]";
  auto got = parser.Parse(line, ev, "t.cast");
  REQUIRE(got.ok());
  CHECK(*got);
  CHECK(ev.data == "ok");
}

TEST_CASE("asciicast: a line over 64 MiB is skipped without being held") {
  std::string all = "{\"version\":2}\n";
  AppendEventLine(all, 0.1, "o", "before");
  all += "[0.2, \"o\", \"" + std::string(200 << 20, 'x') + "\"]\n";
  AppendEventLine(all, 0.3, "o", "after");
  std::string path = TempCast(all);
  std::string().swap(all);
  // Read in a child, whose peak memory is its own.
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto r = CastReader::Open(path);
    std::string seen;
    CastEvent ev;
    for (;;) {
      if (!r.ok()) break;
      auto more = r->Next(ev);
      if (!more.ok() || !*more) break;
      seen += ev.data + ",";
    }
    _exit(r.ok() && seen == "before,after," && r->bad_lines() == 1 ? 0 : 1);
  }
  int status = 0;
  rusage usage{};
  REQUIRE(wait4(pid, &status, 0, &usage) == pid);
  unlink(path.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  MESSAGE("peak RSS reading a 200 MiB line: " << usage.ru_maxrss << " KiB");
  CHECK(usage.ru_maxrss < self.ru_maxrss + (100 << 10));  // not 200 MiB more than before
}

TEST_CASE("asciicast: a reader resumes at the offset after an event, raw-byte events too") {
  EventEncoder enc;
  std::string body;
  enc.Append(body, 0.1, 'o', "first\r\n");
  enc.Flush(body, 0.1);
  enc.Append(body, 0.2, 'o', "raw \xff\xfe bytes");
  enc.Flush(body, 0.2);
  enc.Append(body, 0.3, 'o', "third");
  enc.Flush(body, 0.3);
  char path[] = "/tmp/ttyaudit-cast-test.XXXXXX";
  int fd = mkstemp(path);
  std::string all = "{\"version\":2,\"width\":80,\"height\":24}\n" + body;
  REQUIRE(write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()));
  close(fd);
  auto r = CastReader::Open(path);
  REQUIRE(r.ok());
  std::vector<uint64_t> offsets{r->offset()};
  std::vector<std::string> data;
  CastEvent ev;
  while (*r->Next(ev)) {
    offsets.push_back(r->offset());
    data.push_back(ev.data);
  }
  REQUIRE(data.size() == 3);
  CHECK(offsets.front() == all.find('\n') + 1);
  CHECK(offsets.back() == all.size());
  for (size_t i = 0; i < data.size(); ++i) {
    auto again = CastReader::Open(path);
    REQUIRE(again->SeekTo(offsets[i]));
    REQUIRE(*again->Next(ev));
    CHECK(ev.data == data[i]);
    CHECK(again->offset() == offsets[i + 1]);
  }
  unlink(path);
}
