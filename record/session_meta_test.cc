#include "record/session_meta.h"

#include <doctest/doctest.h>

#include "base/json.h"

using namespace ttyaudit;

namespace {

// 2026-12-03T10:00:00.000Z and two seconds later, in nanoseconds.
constexpr int64_t kStart = 1796292000LL * 1000000000LL;
constexpr int64_t kEnd = kStart + 2000000000LL;

std::string Members(const SessionMeta& m, bool signal_always) {
  JsonWriter w;
  w.BeginObject();
  WriteSessionStart(w, m);
  WriteSessionOutcome(w, m, signal_always);
  w.EndObject();
  return w.Take();
}

}  // namespace

// The bytes below are part of three schemas (search --json, index segments, the viewer's API):
// a change here is a change to each of them.
TEST_CASE("session start and outcome members: exact bytes for each state") {
  SessionMeta m;
  m.id = "01JABCDEF";
  m.start_ns = kStart;

  m.state = "recording";
  CHECK(Members(m, true) ==
        R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z","end":null,"exit_code":null,)"
        R"("signal":null})");
  CHECK(Members(m, false) ==
        R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z","end":null,"exit_code":null})");

  m.end_ns = kEnd;
  m.state = "exited";
  m.exit_code = 3;
  m.signal = 9;  // ignored: the session exited
  CHECK(Members(m, true) == R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z",)"
                            R"("end":"2026-12-03T10:00:02.000Z","exit_code":3,"signal":null})");
  CHECK(Members(m, false) == R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z",)"
                             R"("end":"2026-12-03T10:00:02.000Z","exit_code":3})");

  m.state = "signaled";
  m.exit_code = 0;  // ignored: the session was signaled
  CHECK(Members(m, true) == R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z",)"
                            R"("end":"2026-12-03T10:00:02.000Z","exit_code":null,"signal":9})");
  CHECK(Members(m, false) == R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z",)"
                             R"("end":"2026-12-03T10:00:02.000Z","exit_code":null,"signal":9})");

  m.state = "interrupted";
  CHECK(Members(m, false) == R"({"id":"01JABCDEF","start":"2026-12-03T10:00:00.000Z",)"
                             R"("end":"2026-12-03T10:00:02.000Z","exit_code":null})");
}
