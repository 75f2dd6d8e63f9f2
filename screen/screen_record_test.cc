#include "screen/screen_record.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "record/asciicast.h"
#include "record/cast_reader.h"
#include "screen/emulator.h"
#include "screen/keyframes.h"

using namespace ttyaudit;

namespace {

// A .cast in a temp file with `events`; removed with the object.
struct TempCast {
  std::string path;
  explicit TempCast(const std::string& events) {
    char tmpl[] = "/tmp/ttyaudit-screen-test.XXXXXX";
    int fd = mkstemp(tmpl);
    path = tmpl;
    std::string all = "{\"version\":2,\"width\":40,\"height\":10}\n" + events;
    CHECK(write(fd, all.data(), all.size()) == static_cast<ssize_t>(all.size()));
    close(fd);
  }
  ~TempCast() { unlink(path.c_str()); }
};

std::string Event(double t, const char* code, const std::string& data) {
  std::string line;
  AppendEventLine(line, t, code, data);
  return line;
}

}  // namespace

TEST_CASE("screen record: text drawn in pieces is one line, and keyframes resume at a line") {
  std::string ev = Event(0.1, "o", "$ top\r\n") + Event(1.0, "o", "\x1b[?1049h\x1b[H\x1b[2J") +
                   Event(1.5, "o", "\x1b[5;10Hhid\x1b[5;20Hden") +
                   Event(7.0, "o", "\x1b[6;1Hsecond screen") + Event(9.0, "o", "\x1b[?1049l") +
                   Event(9.5, "r", "30x6") + Event(12.0, "o", "$ rm -rf /tmp/x\r\n") +
                   Event(13.0, "o", "done\r\n");
  TempCast cast(ev);
  auto rec = BuildScreenRecord(cast.path, {11.0});
  REQUIRE(rec.ok());
  CHECK(rec->text.find("         hid       den\n") != std::string::npos);
  CHECK(rec->text.find("second screen\n") != std::string::npos);
  CHECK(rec->text.find("$ rm -rf /tmp/x\n") != std::string::npos);
  CHECK(rec->text.find("hid\x1b") == std::string::npos);
  CHECK(rec->duration == doctest::Approx(13.0));
  REQUIRE(rec->keyframes.size() >= 3);
  CHECK(rec->keyframes[0].why == "start");
  // A keyframe at the command marker (11 s): the screen since 9.5 s, resuming at 12 s's event.
  const Keyframe* k = KeyframeAt(rec->keyframes, 11.0);
  REQUIRE(k != nullptr);
  CHECK(k->why == "command");
  CHECK(k->time == doctest::Approx(9.5));
  CHECK(k->cols == 30);
  CHECK(k->rows == 6);
  auto reader = CastReader::Open(cast.path);
  REQUIRE(reader.ok());
  REQUIRE(reader->SeekTo(k->offset));
  CastEvent next;
  REQUIRE(*reader->Next(next));
  CHECK(next.time == doctest::Approx(12.0));
  CHECK(next.data == "$ rm -rf /tmp/x\r\n");
  // Painting a keyframe and playing on from its offset gives the screen of a full replay.
  const Keyframe* mid = KeyframeAt(rec->keyframes, 8.0);
  REQUIRE(mid != nullptr);
  CHECK(mid->time <= 8.0);
  ScreenEmulator from_key(mid->cols, mid->rows, nullptr), full(40, 10, nullptr);
  from_key.Feed(mid->screen);
  auto r2 = CastReader::Open(cast.path);
  REQUIRE(r2.ok());
  REQUIRE(r2->SeekTo(mid->offset));
  while (*r2->Next(next) && next.time <= 8.0)
    if (next.code == "o") from_key.Feed(next.data);
  auto r3 = CastReader::Open(cast.path);
  while (*r3->Next(next) && next.time <= 8.0)
    if (next.code == "o") full.Feed(next.data);
  for (int r = 0; r < 10; ++r) CHECK(from_key.RowText(r) == full.RowText(r));
  CHECK(from_key.RowText(4) == "         hid       den");
}

TEST_CASE("screen record: keyframes and text stay within their limits") {
  std::string ev;
  for (int i = 0; i < 3000; ++i)
    ev += Event(i * 1.0, "o", "\x1b[H\x1b[2Jframe " + std::to_string(i) + " \x1b[31mred\x1b[0m");
  TempCast cast(ev);
  ScreenLimits limits;
  limits.max_keyframes = 50;
  limits.max_text_bytes = 4096;
  auto rec = BuildScreenRecord(cast.path, {}, limits);
  REQUIRE(rec.ok());
  CHECK(rec->keyframes.size() <= 50);
  CHECK(rec->keyframes.size() >= 20);
  CHECK(rec->keyframes_thinned);
  CHECK(rec->keyframes.back().time > 2000);  // still spread over the whole session
  CHECK(rec->text.size() <= 4096);
  CHECK(rec->text_truncated);
  for (size_t i = 1; i < rec->keyframes.size(); ++i) {
    CHECK(rec->keyframes[i].time >= rec->keyframes[i - 1].time);
    CHECK(rec->keyframes[i].offset > rec->keyframes[i - 1].offset);
  }
}

TEST_CASE("screen record: each line is kept once") {
  std::string ev;
  for (int i = 0; i < 50; ++i)
    ev += Event(i * 0.5, "o", "\x1b[H\x1b[2Jsame top line\r\nrow " + std::to_string(i % 3));
  TempCast cast(ev);
  auto rec = BuildScreenRecord(cast.path, {});
  REQUIRE(rec.ok());
  CHECK(rec->text == "same top line\nrow 0\nrow 1\nrow 2\n");
}

TEST_CASE("keyframes: the file reads back as written, and a bad one is an error") {
  ScreenRecord rec;
  rec.duration = 12.5;
  rec.output_bytes = 99;
  rec.keyframes.push_back(Keyframe{0, 40, 80, 24, "start", "\x1b[0m\x1b[H\x1b[2J"});
  rec.keyframes.push_back(Keyframe{5.25, 400, 100, 30, "time", "\x1b[1;1Hx\"y\\z"});
  std::string text = KeyframesJsonl(rec);
  auto f = ParseKeyframes(text, "k.jsonl");
  REQUIRE(f.ok());
  CHECK(f->header.duration == doctest::Approx(12.5));
  CHECK(f->header.output_bytes == 99);
  REQUIRE(f->keyframes.size() == 2);
  CHECK(f->keyframes[1].screen == "\x1b[1;1Hx\"y\\z");
  CHECK(f->keyframes[1].offset == 400);
  CHECK(f->keyframes[1].cols == 100);
  CHECK(KeyframeAt(f->keyframes, 5.0)->offset == 40);
  CHECK(KeyframeAt(f->keyframes, 5.25)->offset == 400);
  CHECK(KeyframeAt(f->keyframes, 1e9)->offset == 400);
  CHECK_FALSE(ParseKeyframes("{\"v\":2}\n", "k.jsonl").ok());
  CHECK_FALSE(ParseKeyframes(text + "{\"t\":1,\"offset\":1}\n", "k.jsonl").ok());
  auto bad = ParseKeyframes(text + text.substr(text.find('\n') + 1), "k.jsonl");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.message().find("k.jsonl: line 4") == 0);
  CHECK_FALSE(ParseKeyframes(text, "k.jsonl", 10).ok());
}

TEST_CASE("screen record: command marks come from the manifest's commands, by start") {
  auto marks = CommandMarks(
      R"([{"pid":2,"argv":["rm","-rf","/x"],"start":4.5},{"pid":1,"argv":["bash"],"start":0},)"
      R"({"pid":3,"start":"bad"},{"argv":["ls"],"start":2}])");
  REQUIRE(marks.size() == 3);
  CHECK(marks[0].line == "bash");
  CHECK(marks[1].line == "ls");
  CHECK(marks[2].line == "rm -rf /x");
  CHECK(marks[2].start == doctest::Approx(4.5));
  CHECK(CommandMarks("not json").empty());
}
