#include "store/keys.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "base/ids.h"

namespace ttyaudit {
namespace {

constexpr std::string_view kIdentity = "identity/";
// The latest time, in ms, that Unix nanoseconds in an int64_t can hold (year 2262).
constexpr int64_t kMaxMillis = std::numeric_limits<int64_t>::max() / 1000000;
constexpr std::string_view kJson = ".json";

std::string JoinPrefix(std::string_view prefix, const std::string& rest) {
  if (prefix.empty()) return rest;
  return std::string(prefix) + "/" + rest;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// sessions/date=.../<namespace>/<pod>/<container>/<id>, without its extension.
std::string SessionStem(const SessionMeta& m) {
  std::string ns, pod, ctr;
  if (m.source == "host") {
    ns = "_host";
    pod = SanitizeKeyComponent(m.node);
    ctr = SanitizeKeyComponent(m.user.empty() ? std::to_string(m.uid) : m.user);
  } else {
    ns = SanitizeKeyComponent(m.k8s_namespace.empty() ? "_none" : m.k8s_namespace);
    pod = SanitizeKeyComponent(m.pod.empty() ? "_none" : m.pod);
    ctr = SanitizeKeyComponent(!m.container.empty() ? m.container : m.container_id.substr(0, 64));
  }
  return "sessions/date=" + FormatDate(m.start_ns) + "/" + ns + "/" + pod + "/" + ctr + "/" +
         SanitizeKeyComponent(m.id);
}

}  // namespace

std::string SessionKey(const SessionMeta& m, std::string_view prefix) {
  return JoinPrefix(prefix, SessionStem(m) + ".cast");
}

std::string SessionManifestKey(const SessionMeta& m) { return SessionStem(m) + ".json"; }

namespace {

std::string BesideCastKey(std::string_view cast_key, std::string_view suffix) {
  if (EndsWith(cast_key, ".cast")) cast_key.remove_suffix(5);
  return std::string(cast_key) + std::string(suffix);
}

}  // namespace

std::string ScreenTextKeyFor(std::string_view cast_key) {
  return BesideCastKey(cast_key, ".screen.txt");
}

std::string KeyframesKeyFor(std::string_view cast_key) {
  return BesideCastKey(cast_key, ".keyframes.jsonl");
}

std::string IndexKey(const SessionMeta& m, std::string_view prefix) {
  return JoinPrefix(prefix, IndexDayPrefix(m.start_ns) + "node=" + SanitizeKeyComponent(m.node) +
                                "/" + SanitizeKeyComponent(m.id) + ".json");
}

std::string IndexPrefix() { return "index/"; }

std::string IndexDayPrefix(int64_t ns) { return IndexPrefix() + "date=" + FormatDate(ns) + "/"; }

bool IsIndexEntryKey(std::string_view key) {
  return key.substr(0, IndexPrefix().size()) == IndexPrefix() && EndsWith(key, kJson);
}

std::string LiveChunkKey(std::string_view id, uint64_t seq) {
  char num[32];
  snprintf(num, sizeof num, "%08llu", static_cast<unsigned long long>(seq));
  return LiveChunkPrefix(id) + num + ".part";
}

std::string LiveChunkPrefix(std::string_view id) {
  return "live/" + SanitizeKeyComponent(id) + "/";
}

std::string IdentityKey(std::string_view id) {
  return std::string(kIdentity) + SanitizeKeyComponent(id) + std::string(kJson);
}

std::string IdentityPrefix() { return std::string(kIdentity); }

std::optional<std::string> SessionIdOfIdentityKey(std::string_view key) {
  if (key.substr(0, kIdentity.size()) != kIdentity || !EndsWith(key, kJson)) return std::nullopt;
  std::string_view id = key.substr(kIdentity.size(), key.size() - kIdentity.size() - kJson.size());
  if (id.empty() || id.find('/') != std::string_view::npos) return std::nullopt;
  return std::string(id);
}

std::string SignatureKeyFor(std::string_view cast_key) {
  std::string k(cast_key);
  if (EndsWith(k, ".cast")) k.resize(k.size() - 5);
  return k + ".sig";
}

std::string NodePublicKeyKey(std::string_view node, std::string_view key_id) {
  return NodeKeysPrefix() + SanitizeKeyComponent(node) + "/" + SanitizeKeyComponent(key_id) +
         ".pub";
}

std::string NodeKeysPrefix() { return "keys/"; }

std::string SegmentKey(int64_t written_ns, std::string_view node, std::string_view first_id,
                       std::string_view prefix) {
  int64_t ms = written_ns / 1000000;
  return SegmentListStart(ms, prefix) + "-" + SanitizeKeyComponent(node, 64) + "-" +
         SanitizeKeyComponent(first_id, 64) + ".jsonl";
}

std::string SegmentListStart(int64_t ms, std::string_view prefix) {
  ms = std::clamp<int64_t>(ms, 0, kMaxMillis);
  std::string stamp = FormatRfc3339(ms * 1000000);  // 2026-12-03T10:00:00.000Z
  char name[24];
  std::snprintf(name, sizeof name, "%013lld", static_cast<long long>(ms));
  return std::string(prefix) + "date=" + stamp.substr(0, 10) + "/hour=" + stamp.substr(11, 2) +
         "/" + name;
}

std::optional<int64_t> SegmentKeyMillis(std::string_view key, std::string_view prefix) {
  // <prefix>date=YYYY-MM-DD/hour=HH/ then 13 digits, '-', and ".jsonl" at the end
  const size_t at = prefix.size() + std::strlen("date=YYYY-MM-DD/hour=HH/");
  if (key.size() < at + 14 + 6 || key.substr(0, prefix.size()) != prefix ||
      key.substr(key.size() - 6) != ".jsonl" || key[at + 13] != '-')
    return std::nullopt;
  int64_t ms = 0;
  for (size_t i = at; i < at + 13; ++i) {
    if (key[i] < '0' || key[i] > '9') return std::nullopt;
    ms = ms * 10 + (key[i] - '0');
  }
  if (ms > kMaxMillis) return std::nullopt;  // no SegmentKey is this late
  // The partitions must be the ones the name's time gives, or the key sorts out of place.
  if (key.substr(0, at + 13) != SegmentListStart(ms, prefix)) return std::nullopt;
  if (key.find('/', at) != std::string_view::npos) return std::nullopt;
  return ms;
}

std::string DoctorProbeKey(int64_t ns) { return "doctor-probe/" + std::to_string(ns); }

}  // namespace ttyaudit
