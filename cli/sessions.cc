#include "cli/sessions.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <map>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/unique_fd.h"
#include "record/cast_reader.h"
#include "record/session_meta_read.h"
#include "record/spool.h"
#include "store/keys.h"
#include "store/signing.h"

namespace ttyaudit {
namespace {

// What search needs from a manifest (or an index entry, which is a manifest plus its key):
// the "commands" array as compact JSON ("[]" when absent) and whether it saw an escalation.
void ReadManifestSummary(const simdjson::dom::element& doc, SessionRecord& r) {
  simdjson::dom::array commands;
  r.commands_json = doc["commands"].get_array().get(commands) ? "[]" : simdjson::minify(commands);
  bool escalated = false;
  r.escalated = !doc["escalated"].get_bool().get(escalated) && escalated;
}

void ReadManifestFile(const std::string& cast_path, SessionRecord& r) {
  r.commands_json = "[]";
  auto text = ReadFile(ManifestPathFor(cast_path));
  if (!text.ok()) return;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (!parser.parse(*text).get(doc)) ReadManifestSummary(doc, r);
}

void Walk(const std::string& dir, int depth, std::vector<std::string>& out) {
  if (depth > 12) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == ".." || (depth == 0 && name == "quarantine")) continue;
    std::string p = dir + "/" + name;
    if (e->d_type == DT_DIR) {
      Walk(p, depth + 1, out);
    } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".cast") == 0) {
      out.push_back(p);
    }
  }
  closedir(d);
}

}  // namespace

// The identity object's API user ("user" member), or empty.
std::string IdentityUser(const std::string& json) {
  simdjson::dom::parser parser;
  std::string_view user;
  if (parser.parse(json)["user"].get_string().get(user)) return "";
  return std::string(user);
}

void SetIdentity(SessionRecord& r, std::string json) {
  r.k8s_user = IdentityUser(json);
  r.k8s_json = std::move(json);
}

// Identities recorded by `correlate` in a store, by session id.
std::map<std::string, std::string> LoadIdentities(Store& store) {
  std::map<std::string, std::string> out;
  auto keys = store.List(IdentityPrefix());
  if (!keys.ok()) return out;
  for (const auto& e : *keys) {
    auto id = SessionIdOfIdentityKey(e.key);
    if (!id) continue;
    auto body = store.Get(e.key);
    if (body.ok()) out[*id] = std::move(body.value());
  }
  return out;
}

void SetSignedBy(SessionRecord& r, std::string key_id) {
  r.evidence = key_id.empty() ? "unsigned" : "signed";
  r.signed_by = std::move(key_id);
}

Result<SessionRecord> ReadLocalSession(const std::string& cast_path, const std::string& where) {
  auto reader = CastReader::Open(cast_path);
  if (!reader.ok()) return reader.error();
  auto meta = SessionMetaFromHeader(reader->header());
  if (!meta.ok()) return Error{cast_path + ": " + meta.message()};
  SessionRecord r;
  r.meta = std::move(meta.value());
  r.path = cast_path;
  r.where = where;
  ReadManifestFile(cast_path, r);
  if (where == "spool") {
    r.evidence = "pending";
  } else {  // an archive: the signature beside the recording names its key
    auto sig = ReadFile(SignatureKeyFor(cast_path));
    auto doc = sig.ok() ? ParseSignatureDoc(*sig) : Result<SignatureDoc>(sig.error());
    SetSignedBy(r, doc.ok() ? doc->key_id : "");
  }
  if (r.meta.state == "recording" && !RecorderHoldsLock(cast_path)) {
    r.meta.state = "interrupted";
    struct stat st;
    if (stat(cast_path.c_str(), &st) == 0)
      r.meta.end_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  }
  return r;
}

std::vector<SessionRecord> ListLocalSessions(const std::string& dir, const std::string& where,
                                             std::vector<std::string>& warnings) {
  std::vector<std::string> paths;
  Walk(dir, 0, paths);
  std::vector<SessionRecord> out;
  for (const auto& p : paths) {
    auto r = ReadLocalSession(p, where);
    if (r.ok())
      out.push_back(std::move(r.value()));
    else
      warnings.push_back(r.message());
  }
  return out;
}

Result<SessionRecord> ParseIndexEntry(const std::string& json, std::shared_ptr<Store> store) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc)) return Error{"index entry: not JSON"};
  simdjson::dom::object session;
  std::string_view key;
  if (doc["session"].get_object().get(session)) return Error{"index entry: no session object"};
  if (doc["key"].get_string().get(key)) return Error{"index entry: no key"};
  auto meta = ParseSessionMeta(simdjson::minify(session));
  if (!meta.ok()) return meta.error();
  SessionRecord r;
  r.meta = std::move(meta.value());
  ReadManifestSummary(doc, r);
  std::string_view signed_by;
  SetSignedBy(r, std::string(doc["signed_by"].get_string().get(signed_by) ? "" : signed_by));
  r.key = std::string(key);
  r.where = store->Url();
  if (!store->Remote()) r.path = store->Url().substr(7) + "/" + r.key;
  r.store = std::move(store);
  return r;
}

Result<std::vector<SessionRecord>> ListStoreSessions(std::shared_ptr<Store> store, int64_t since_ns,
                                                     int64_t until_ns,
                                                     std::vector<std::string>& warnings) {
  std::vector<std::string> prefixes;
  constexpr int64_t kDay = 86400LL * 1000000000LL;
  if (since_ns) {
    // Sessions are filed under their start date; one that started the day before `since`
    // may still have been running then.
    int64_t end = until_ns ? until_ns : RealtimeNanos();
    if (end - since_ns <= 400 * kDay)
      for (int64_t t = since_ns - kDay; t <= end + kDay; t += kDay)
        prefixes.push_back(IndexDayPrefix(t));
  }
  if (prefixes.empty()) prefixes.push_back(IndexPrefix());
  std::vector<SessionRecord> out;
  for (const auto& prefix : prefixes) {
    auto entries = store->List(prefix);
    if (!entries.ok()) return Error{store->Url() + ": " + entries.message()};
    for (const auto& e : *entries) {
      if (!IsIndexEntryKey(e.key)) continue;
      auto body = store->Get(e.key);
      if (!body.ok()) {
        warnings.push_back(store->Url() + ": " + body.message());
        continue;
      }
      auto rec = ParseIndexEntry(*body, store);
      if (rec.ok())
        out.push_back(std::move(rec.value()));
      else
        warnings.push_back(store->Url() + "/" + e.key + ": " + rec.message());
    }
  }
  return out;
}

std::vector<SessionRecord> ListSessions(const Config& cfg, const std::string& store_url,
                                        std::vector<std::string>& warnings, int64_t since_ns,
                                        int64_t until_ns) {
  std::vector<SessionRecord> out;
  std::map<std::string, std::string> identities;
  if (store_url.empty()) out = ListLocalSessions(cfg.spool_dir, "spool", warnings);
  auto store = OpenStore(cfg, store_url);
  if (!store.ok()) {
    warnings.push_back(store.message());
  } else {
    std::shared_ptr<Store> shared(std::move(store.value()));
    identities = LoadIdentities(*shared);
    auto more = ListStoreSessions(shared, since_ns, until_ns, warnings);
    if (!more.ok())
      warnings.push_back(more.message());
    else
      for (auto& r : *more) {
        // A session still in the spool and already in the store is one session: the
        // stored copy is the sealed one.
        auto same = std::find_if(out.begin(), out.end(),
                                 [&](const SessionRecord& s) { return s.meta.id == r.meta.id; });
        if (same != out.end())
          *same = std::move(r);
        else
          out.push_back(std::move(r));
      }
  }
  for (auto& r : out)
    if (auto it = identities.find(r.meta.id); it != identities.end()) SetIdentity(r, it->second);
  std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.meta.start_ns < b.meta.start_ns;
  });
  return out;
}

Status RecordK8sIdentity(const Config& cfg, const std::string& store_url, const SessionRecord& s,
                         const std::string& identity_json) {
  if (s.store) return s.store->Put(IdentityKey(s.meta.id), identity_json);
  auto store = OpenStore(cfg, store_url);
  if (!store.ok()) return store.status();
  return (*store)->Put(IdentityKey(s.meta.id), identity_json);
}

Result<std::string> LocalCastPath(SessionRecord& s) {
  if (!s.path.empty()) return s.path;
  if (!s.store) return Error{"session " + s.meta.id + ": no file and no store"};
  const char* env_tmp = std::getenv("TMPDIR");
  std::string dir = env_tmp && *env_tmp ? env_tmp : "/tmp";
  UniqueFd fd(open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!fd && (errno == EOPNOTSUPP || errno == EISDIR || errno == EINVAL)) {
    std::string tmpl = dir + "/ttyaudit-fetch.XXXXXX";
    fd.reset(mkostemp(tmpl.data(), O_CLOEXEC));
    if (fd) unlink(tmpl.c_str());
  }
  if (!fd) return SysError("create a temporary file in", dir, errno);
  constexpr uint64_t kChunk = 8ULL << 20;
  for (uint64_t off = 0;; off += kChunk) {
    auto part = s.store->Get(s.key, off, kChunk);
    if (!part.ok()) return Error{s.store->Url() + "/" + s.key + ": " + part.message()};
    if (Status st = WriteAll(fd.get(), *part, "a temporary copy of " + s.key); !st)
      return Error{st.message()};
    if (part->size() < kChunk) break;
  }
  s.path = "/proc/self/fd/" + std::to_string(fd.get());
  s.copy = std::make_shared<const UniqueFd>(std::move(fd));
  return s.path;
}

void DropLocalCopy(SessionRecord& s) {
  if (!s.copy) return;
  s.copy.reset();
  s.path.clear();
}

Result<SessionRecord> FindSession(const Config& cfg, const std::string& store_url,
                                  const std::string& id_or_path) {
  if (id_or_path.find('/') != std::string::npos ||
      (id_or_path.size() > 5 && id_or_path.compare(id_or_path.size() - 5, 5, ".cast") == 0))
    return ReadLocalSession(id_or_path, "file");
  if (id_or_path.size() < 8)
    return Error{"session id `" + id_or_path + "`: give at least 8 characters of the id"};
  std::vector<std::string> warnings;
  std::vector<SessionRecord> matches;
  for (auto& s : ListSessions(cfg, store_url, warnings))
    if (s.meta.id.rfind(id_or_path, 0) == 0) matches.push_back(std::move(s));
  if (matches.empty()) return Error{"no session with id `" + id_or_path + "`"};
  if (matches.size() > 1) {
    bool same = std::all_of(matches.begin(), matches.end(), [&](const SessionRecord& s) {
      return s.meta.id == matches[0].meta.id;
    });
    if (!same) return Error{"session id `" + id_or_path + "` is ambiguous: give more characters"};
  }
  return std::move(matches[0]);
}

std::string SessionJsonLine(const SessionRecord& s, const std::string& prefix) {
  const SessionMeta& m = s.meta;
  JsonWriter w;
  w.BeginObject();
  WriteSessionStart(w, m);
  w.Key("source").String(m.source);
  w.Key("node").String(m.node);
  WriteSessionWhere(w, m);
  WriteSessionOutcome(w, m, /*signal_always=*/false);
  w.Key("commands").Raw(s.commands_json.empty() ? "[]" : s.commands_json);
  w.Key("escalated").Bool(s.escalated);
  if (!s.k8s_json.empty())
    w.Key("k8s").Raw(s.k8s_json);
  else
    w.Key("k8s").Null();
  w.Key("bytes_out").Uint(m.bytes_out);
  w.Key("bytes_in").Uint(m.bytes_in);
  w.Key("state").String(m.state);
  w.Key("key").String(!s.key.empty() ? (prefix.empty() ? s.key : prefix + "/" + s.key)
                                     : SessionKey(m, prefix));
  w.Key("where").String(s.where);
  w.Key("path").String(s.path);
  w.Key("evidence").String(s.evidence);
  w.Key("signed_by").String(s.signed_by);
  w.EndObject();
  return w.Take();
}

}  // namespace ttyaudit
