#include "store/keys.h"

#include <doctest/doctest.h>

#include <algorithm>

namespace ttyaudit {
namespace {

constexpr int64_t kNov25 = 1764072000LL * 1000000000LL;  // 2025-11-25T12:00:00Z

SessionMeta PodSession() {
  SessionMeta m;
  m.id = "0193a";
  m.source = "runtime";
  m.node = "node-1";
  m.k8s_namespace = "prod";
  m.pod = "web-0";
  m.container = "app";
  m.start_ns = kNov25;
  return m;
}

TEST_CASE("keys: a container session files under its day, namespace, pod and container") {
  SessionMeta m = PodSession();
  CHECK(SessionKey(m) == "sessions/date=2025-11-25/prod/web-0/app/0193a.cast");
  CHECK(SessionManifestKey(m) == "sessions/date=2025-11-25/prod/web-0/app/0193a.json");
  CHECK(ScreenTextKeyFor(SessionKey(m)) ==
        "sessions/date=2025-11-25/prod/web-0/app/0193a.screen.txt");
  CHECK(KeyframesKeyFor(SessionKey(m)) ==
        "sessions/date=2025-11-25/prod/web-0/app/0193a.keyframes.jsonl");
  CHECK(SessionKey(m, "audit/eu") == "audit/eu/sessions/date=2025-11-25/prod/web-0/app/0193a.cast");
  CHECK(IndexKey(m) == "index/date=2025-11-25/node=node-1/0193a.json");
  CHECK(IndexKey(m, "p") == "p/index/date=2025-11-25/node=node-1/0193a.json");
  CHECK(IndexKey(m).rfind(IndexDayPrefix(m.start_ns), 0) == 0);
  CHECK(IsIndexEntryKey(IndexKey(m)));
  CHECK_FALSE(IsIndexEntryKey(SessionKey(m)));
  CHECK_FALSE(IsIndexEntryKey("index/date=2025-11-25/node=n/x.part"));
}

TEST_CASE("keys: a plain container without pod or namespace, and a host session") {
  SessionMeta m = PodSession();
  m.k8s_namespace.clear();
  m.pod.clear();
  m.container.clear();
  m.container_id = std::string(80, 'c');
  CHECK(SessionKey(m) ==
        "sessions/date=2025-11-25/_none/_none/" + std::string(64, 'c') + "/0193a.cast");
  SessionMeta h = PodSession();
  h.source = "host";
  h.user = "alice";
  CHECK(SessionKey(h) == "sessions/date=2025-11-25/_host/node-1/alice/0193a.cast");
  h.user.clear();
  h.uid = 1000;
  CHECK(SessionKey(h) == "sessions/date=2025-11-25/_host/node-1/1000/0193a.cast");
}

TEST_CASE("keys: hostile names stay one key component each") {
  SessionMeta m = PodSession();
  m.k8s_namespace = "..";
  m.pod = "a/../../b";
  m.container = "";
  m.container_id = "/etc/passwd";
  m.id = "../../x";
  m.node = "n/../..";
  const std::string key = SessionKey(m);
  CHECK(key.find("/../") == std::string::npos);
  CHECK(std::count(key.begin(), key.end(), '/') == 5);
  const std::string index = IndexKey(m);
  CHECK(std::count(index.begin(), index.end(), '/') == 3);
  CHECK(LiveChunkPrefix("../x") == "live/.._x/");
  CHECK(IdentityKey("a/b") == "identity/a_b.json");
}

TEST_CASE("keys: live chunks sort in the order they were recorded") {
  CHECK(LiveChunkKey("0193", 7) == "live/0193/00000007.part");
  CHECK(LiveChunkKey("0193", 7) < LiveChunkKey("0193", 10));
  CHECK(LiveChunkKey("0193", 3).rfind(LiveChunkPrefix("0193"), 0) == 0);
}

TEST_CASE("keys: an identity key names its session, and only a well-formed one does") {
  CHECK(IdentityKey("0193a") == "identity/0193a.json");
  CHECK(SessionIdOfIdentityKey(IdentityKey("0193a")) == "0193a");
  CHECK(IdentityKey("0193a").rfind(IdentityPrefix(), 0) == 0);
  CHECK_FALSE(SessionIdOfIdentityKey("identity/.json"));
  CHECK_FALSE(SessionIdOfIdentityKey("identity/a/b.json"));
  CHECK_FALSE(SessionIdOfIdentityKey("identity/a.txt"));
  CHECK_FALSE(SessionIdOfIdentityKey("index/a.json"));
}

TEST_CASE("keys: a listed segment key past year 2262 is no segment key, and does not overflow") {
  // 13 digits of ms up to 9999999999999 overflowed ms * 10^6 in SegmentListStart (found with
  // fuzz/object_keys).
  CHECK_FALSE(SegmentKeyMillis("index-segments/date=2026-12-03/hour=10/9999999999999-n-a.jsonl"));
  CHECK_FALSE(SegmentKeyMillis("index-segments/date=2262-04-11/hour=23/9223372036855-n-a.jsonl"));
  const int64_t last = 9223372036854LL;  // the last ms an int64_t of ns holds
  std::string k = SegmentKey(last * 1000000, "n", "a");
  CHECK(SegmentKeyMillis(k) == std::optional<int64_t>(last));
  CHECK(SegmentListStart(9999999999999LL) == SegmentListStart(last));
}

}  // namespace
}  // namespace ttyaudit
