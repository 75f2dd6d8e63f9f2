#include "cli/live.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "base/ids.h"
#include "record/spool_writer.h"
#include "store/keys.h"
#include "tests/unit/temp_dir.h"

namespace ttyaudit {
namespace {

const char kId[] = "0190a000-0000-7000-8000-000000000001";

StoreEntry Chunk(uint64_t seq, uint64_t size) { return {LiveChunkKey(kId, seq), size}; }

struct TempDir {
  std::string path;
  TempDir() {
    char tmpl[] = "/tmp/ttyaudit-live-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    path = tmpl;
  }
  ~TempDir() { testing::RemoveTestDir(path); }
};

std::string Joined(const std::vector<CastEvent>& events) {
  std::string out;
  for (const auto& ev : events)
    if (ev.code == "o") out += ev.data;
  return out;
}

// Polls until `want` has been written or `ms` passed; returns what came.
std::string PollFor(LiveFollower& f, const std::string& want, int ms) {
  std::string got;
  for (int waited = 0; got.find(want) == std::string::npos && waited < ms; waited += 50) {
    auto events = f.PollEvents(50);
    REQUIRE(events.ok());
    got += Joined(*events);
  }
  return got;
}

}  // namespace

TEST_CASE("live chunk cursor: takes new chunks in order, each once") {
  LiveChunkCursor c(kId);
  CHECK(c.ListStart() == LiveChunkPrefix(kId));
  auto step = c.Take({Chunk(0, 100), Chunk(1, 50)});
  REQUIRE(step.fetch.size() == 2);
  CHECK(step.fetch[0].key == LiveChunkKey(kId, 0));
  CHECK_FALSE(step.gone);
  for (const auto& e : step.fetch) c.Consumed(e);
  CHECK(c.offset() == 150);
  // The next listing starts after chunk 0, so that chunk 1 shows again while it exists.
  CHECK(c.ListStart() == LiveChunkKey(kId, 0));
  step = c.Take({Chunk(1, 50)});
  CHECK(step.fetch.empty());
  CHECK_FALSE(step.gone);
  step = c.Take({Chunk(1, 50), Chunk(2, 7)});
  REQUIRE(step.fetch.size() == 1);
  CHECK(step.fetch[0].key == LiveChunkKey(kId, 2));
  c.Consumed(step.fetch[0]);
  CHECK(c.offset() == 157);
  CHECK(c.contiguous());
}

TEST_CASE("live chunk cursor: the last chunk gone means the chunks were removed") {
  LiveChunkCursor c(kId);
  for (const auto& e : c.Take({Chunk(0, 10), Chunk(1, 10)}).fetch) c.Consumed(e);
  auto step = c.Take({});
  CHECK(step.gone);
  // Removal goes in key order: later chunks may still be listed, and are not taken.
  step = c.Take({Chunk(2, 10)});
  CHECK(step.gone);
  CHECK(step.fetch.empty());
}

TEST_CASE("live chunk cursor: a gap is reported and the offset no longer trusted") {
  LiveChunkCursor c(kId);
  for (const auto& e : c.Take({Chunk(0, 10)}).fetch) c.Consumed(e);
  auto step = c.Take({Chunk(0, 10), Chunk(3, 10), {LiveChunkPrefix(kId) + "x.part", 1}});
  REQUIRE(step.fetch.size() == 1);
  CHECK(step.warnings.size() == 2);  // chunks 1 to 2 missing; a key that is not a chunk's
  c.Consumed(step.fetch[0]);
  CHECK_FALSE(c.contiguous());
}

TEST_CASE("live chunk cursor: keys of another session are never taken") {
  LiveChunkCursor c(kId);
  CHECK(c.SeqOf(LiveChunkKey("0190a000-0000-7000-8000-000000000002", 0)) == -1);
  CHECK(c.SeqOf(LiveChunkKey(kId, 12345678)) == 12345678);
  CHECK(c.SeqOf(LiveChunkPrefix(kId) + "0000000a.part") == -1);
}

TEST_CASE("live follower: follows a spool session as it is written, to its exit status") {
  TempDir dir;
  Config cfg;
  cfg.spool_dir = dir.path + "/spool";
  SessionMeta m;
  m.id = NewUuidV7();
  m.start_ns = RealtimeNanos();
  m.node = "node-1";
  auto w = SessionWriter::Create(cfg.spool_dir, m, {});
  REQUIRE(w.ok());
  (*w)->Output("first\r\n");
  REQUIRE((*w)->Flush().ok());

  auto f = LiveFollower::Open(cfg, "", m.id.substr(0, 13));
  REQUIRE_MESSAGE(f.ok(), f.message());
  CHECK((*f)->Where() == "spool");
  CHECK((*f)->Header().find(m.id) != std::string::npos);
  CHECK(PollFor(**f, "first", 2000).find("first") != std::string::npos);
  CHECK_FALSE((*f)->Ended());

  (*w)->Output("second\r\n");
  REQUIRE((*w)->Flush().ok());
  CHECK(PollFor(**f, "second", 2000) == "second\r\n");
  REQUIRE((*w)->Finish("exited", 3, 0).ok());
  w->reset();
  for (int i = 0; i < 40 && !(*f)->Ended(); ++i) REQUIRE((*f)->PollEvents(50).ok());
  CHECK((*f)->Ended());
  CHECK((*f)->Meta().state == "exited");
  CHECK((*f)->Meta().exit_code == 3);
}

TEST_CASE("live follower: skips a line over its limit and goes on") {
  TempDir dir;
  const std::string path = dir.path + "/s.cast";
  {
    std::ofstream out(path);
    out << R"({"version":2,"width":80,"height":24,"ttyaudit":{"id":"x1234567","state":"exited"}})"
        << "\n[0.1,\"o\",\"" << std::string(LiveFollower::kMaxLine + 10, 'a') << "\"]\n"
        << "[0.2,\"o\",\"after\"]\n"
        << "not json\n"
        << "[0.3,\"o\",\"\\u001b]52;c;aGk=\\u0007\"]\n";
  }
  Config cfg;
  auto f = LiveFollower::Open(cfg, "", path);
  REQUIRE_MESSAGE(f.ok(), f.message());
  std::vector<std::string> lines;
  while (!(*f)->Ended()) {
    auto got = (*f)->Poll(100);
    REQUIRE(got.ok());
    lines.insert(lines.end(), got->begin(), got->end());
  }
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == R"([0.200000, "o", "after"])");
  // Escape bytes come back as JSON escapes, never raw.
  CHECK(lines[1].find('\x1b') == std::string::npos);
  auto warnings = (*f)->TakeWarnings();
  REQUIRE(warnings.size() == 2);
  CHECK(warnings[0].find("line 2: longer than") != std::string::npos);
  CHECK(warnings[1].find("line 4") != std::string::npos);
}

}  // namespace ttyaudit
