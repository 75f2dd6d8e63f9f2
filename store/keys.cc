#include "store/keys.h"

#include <cstdio>

#include "base/ids.h"

namespace ttyaudit {
namespace {

constexpr std::string_view kIdentity = "identity/";
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

}  // namespace ttyaudit
