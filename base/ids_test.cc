#include "base/ids.h"

#include <doctest/doctest.h>

#include <set>

using namespace ttyaudit;

TEST_CASE("uuidv7: version 7, RFC 9562 variant, current time, sorted by creation") {
  int64_t before = RealtimeNanos() / 1000000;
  std::string a = NewUuidV7();
  std::string b;
  do b = NewUuidV7();
  while (b.substr(0, 13) == a.substr(0, 13));  // next millisecond
  CHECK(a.size() == 36);
  CHECK(a[14] == '7');
  CHECK(std::string("89ab").find(a[19]) != std::string::npos);
  auto ms = UuidV7Millis(a);
  REQUIRE(ms.ok());
  CHECK(*ms >= before);
  CHECK(*ms <= RealtimeNanos() / 1000000);
  CHECK(a < b);
  std::set<std::string> many;
  for (int i = 0; i < 1000; ++i) many.insert(NewUuidV7());
  CHECK(many.size() == 1000);
  CHECK_FALSE(UuidV7Millis("not-a-uuid").ok());
}

TEST_CASE("time: RFC 3339, dates, Unix seconds and relative times parse; garbage does not") {
  int64_t now = 1795610184LL * 1000000000LL;
  CHECK(*ParseTime("2026-11-25T12:36:24Z", now) == 1795610184LL * 1000000000LL);
  CHECK(*ParseTime("2026-11-25T13:36:24+01:00", now) == 1795610184LL * 1000000000LL);
  CHECK(*ParseTime("2026-11-25T12:36:24.5Z", now) == 1795610184LL * 1000000000LL + 500000000LL);
  CHECK(*ParseTime("1795610184", now) == 1795610184LL * 1000000000LL);
  CHECK(*ParseTime("-2h", now) == now - 7200LL * 1000000000LL);
  CHECK(*ParseTime("2026-11-25", now) == 1795564800LL * 1000000000LL);
  CHECK_FALSE(ParseTime("yesterday", now).ok());
  CHECK(*ParseTime("1h", now) == now - 3600LL * 1000000000LL);  // an age: one hour ago
  CHECK(*ParseTime("2024-02-29", now) == 1709164800LL * 1000000000LL);
}

TEST_CASE("time: a date or time that does not exist is an error naming it") {
  for (const char* bad :
       {"2026-13-45", "2026-02-30", "2026-12-03T25:00:00Z", "2025-02-29", "2026-12-03T10:60:00Z",
        "2026-12-03T10:00:00", "2026-12-03T10:00Z", "2026-1-03", "2026-12-03x",
        "2026-12-03T10:00:00.Z", "-h", "1w", "2026-12-03T10:00:00+25:00", ""}) {
    auto t = ParseTime(bad, 0);
    CHECK_MESSAGE(!t.ok(), bad);
    if (!t.ok()) CHECK(t.message().find(std::string("`") + bad + "`") != std::string::npos);
  }
  CHECK(ParseTime("2026-13-45", 0).message().find("no month 13") != std::string::npos);
  CHECK(ParseTime("2026-02-30", 0).message().find("no day 30 in 2026-02") != std::string::npos);
  CHECK(FormatRfc3339(1795610184LL * 1000000000LL + 123000000) == "2026-11-25T12:36:24.123Z");
}

TEST_CASE("time: a time that nanoseconds in 64 bits cannot hold is an error, not an overflow") {
  // Found by fuzz/audit_log: requestReceivedTimestamp "0000-..." overflowed secs * 10^9.
  const int64_t now = 1795610184LL * 1000000000LL;
  for (const char* far : {"0000-01-01T00:00:00Z", "1677-01-01", "9999-12-31T23:59:59Z",
                          "2263-01-01", "999999999999", "-999999999999d", "999999999999h"}) {
    auto t = ParseTime(far, now);
    CHECK_MESSAGE(!t.ok(), far);
    if (!t.ok()) CHECK(t.message().find("out of range") != std::string::npos);
  }
  CHECK(ParseTime("1678-01-01", now).ok());
  CHECK(ParseTime("2261-12-31T23:59:59Z", now).ok());
  CHECK(*ParseTime("9223372035", now) == 9223372035LL * 1000000000LL);
  CHECK(*ParseTime("106751d", now) == now - 106751LL * 86400 * 1000000000LL);
}

TEST_CASE("base64: round trip of every byte value; bad input is an error") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (size_t n : {0, 1, 2, 3, 255, 256}) {
    auto back = Base64Decode(Base64Encode(all.substr(0, n)));
    REQUIRE(back.ok());
    CHECK(*back == all.substr(0, n));
  }
  CHECK_FALSE(Base64Decode("abc").ok());
  CHECK_FALSE(Base64Decode("a*c=").ok());
}

TEST_CASE("key components: anything from outside becomes one safe path component") {
  CHECK(SanitizeKeyComponent("kube-system") == "kube-system");
  CHECK(SanitizeKeyComponent("../../etc") == ".._.._etc");
  CHECK(SanitizeKeyComponent("..") == "_");
  CHECK(SanitizeKeyComponent("") == "_");
  CHECK(SanitizeKeyComponent("a/b c") == "a_b_c");
}
