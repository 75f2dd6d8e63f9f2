#include "cli/verify.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/json_read.h"
#include "base/printable.h"
#include "base/sha256.h"
#include "cli/sessions.h"
#include "record/chain.h"
#include "record/session_meta_read.h"
#include "record/spool.h"
#include "record/spool_writer.h"
#include "store/keys.h"
#include "store/signing.h"
#include "store/store.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

// The SessionMeta inside a manifest ({"manifest_version":1,"session":{...},...}).
Result<SessionMeta> ManifestMeta(const std::string& manifest) {
  JsonObjectText text;
  if (Status st = text.Open(manifest, "manifest"); !st) return Error{st.message()};
  od::value session;
  od::object so;
  std::string_view raw;
  if (text.object().find_field_unordered("session").get(session) || session.get_object().get(so) ||
      so.raw_json().get(raw))
    return Error{"manifest: no \"session\" object"};
  return ParseSessionMeta(std::string(raw));
}

std::string WithoutCast(const std::string& path) {
  return path.size() > 5 ? path.substr(0, path.size() - 5) : path;
}

// Where the public keys come from: a trusted keys file, else the store's keys/ objects.
class KeyRing {
 public:
  Status Load(const VerifyOptions& opts, const Config& cfg) {
    if (!opts.keys_file.empty()) {
      auto text = ReadFile(opts.keys_file);
      if (!text.ok()) return text.status();
      auto keys = ParsePublicKeys(*text, opts.keys_file);
      if (!keys.ok()) return keys.status();
      for (auto& k : *keys) keys_[k.key_id] = k;
      from_file_ = true;
      return {};
    }
    auto store = OpenStore(cfg, opts.store_url);
    if (store.ok()) store_ = std::move(store.value());
    return {};
  }
  /// The key `key_id` of `node`, or nullptr when it is unknown.
  const PublicKey* Find(const std::string& node, const std::string& key_id) {
    auto it = keys_.find(key_id);
    if (it == keys_.end() && !from_file_ && store_) {
      auto text = store_->Get(PublicKeyObjectKey(PublicKey{node, key_id, ""}));
      if (text.ok())
        if (auto k = ParsePublicKeyLine(*text); k.ok() && k->key_id == key_id)
          it = keys_.emplace(key_id, std::move(k.value())).first;
    }
    if (it == keys_.end() || it->second.node != node) return nullptr;
    return &it->second;
  }
  std::string Source() const { return from_file_ ? "the trusted keys file" : "the store"; }

 private:
  std::map<std::string, PublicKey> keys_;
  bool from_file_ = false;
  std::unique_ptr<Store> store_;
};

void CheckSignature(Verdict& v, const std::string& manifest, const Result<std::string>& sig,
                    const SessionMeta& meta, KeyRing& keys) {
  if (!sig.ok()) {
    v.problems.push_back("no signature (" + sig.message() + ")");
    return;
  }
  auto doc = ParseSignatureDoc(sig.value());
  if (!doc.ok()) {
    v.problems.push_back(doc.message());
    return;
  }
  v.key_id = doc->key_id;
  if (doc->manifest_sha256 != ToHex(Sha256Of(manifest)))
    v.problems.push_back("the signature is of another manifest: the manifest was changed");
  if (doc->node != meta.node)
    v.problems.push_back("signed by node `" + doc->node + "`'s key, recorded on node `" +
                         meta.node + "`");
  const PublicKey* key = keys.Find(doc->node, doc->key_id);
  if (!key) {
    v.problems.push_back("signed by key " + doc->key_id + " of node `" + doc->node +
                         "`, which is not in " + keys.Source() + ": unknown key");
    return;
  }
  if (!VerifyEd25519(key->raw, manifest, doc->signature)) {
    v.problems.push_back("the signature does not verify with key " + doc->key_id);
    return;
  }
  if (v.problems.empty()) v.signed_ok = true;
}

// The manifest against the recording's chain and the session's id; fills node and seq.
void CheckManifest(Verdict& v, const std::string& manifest, const ChainCheck& chain) {
  auto meta = ManifestMeta(manifest);
  if (!meta.ok()) {
    v.problems.push_back(meta.message());
    return;
  }
  if (meta->id != v.id) v.problems.push_back("the manifest is of session " + meta->id);
  v.node = meta->node;
  v.seq = meta->seq;
  auto claimed = ReadManifestChain(manifest);
  if (!claimed.ok()) {
    v.problems.push_back(claimed.message());
    return;
  }
  if (std::string diff = CompareChain(chain, *claimed); !diff.empty()) v.problems.push_back(diff);
}

Verdict NewVerdict(const SessionMeta& m, const std::string& where) {
  Verdict v;
  v.id = m.id;
  v.where = where;
  v.node = m.node;
  v.seq = m.seq;
  return v;
}

// An HTTP date (Last-Modified) as Unix nanoseconds, or 0.
int64_t HttpDateNanos(const std::string& s) {
  struct tm tm {};
  if (!strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm)) return 0;
  return static_cast<int64_t>(timegm(&tm)) * 1000000000LL;
}

// Each object of a session in a bucket whose config asks for Object Lock must carry it
// (ObjectLockProblems).
void CheckObjectLock(Verdict& v, Store& store, const ObjectLockConfig& want,
                     const std::vector<std::string>& keys) {
  if (!store.Remote() || want.mode.empty() || want.days <= 0) return;
  for (const auto& key : keys) {
    auto head = store.Head(key);
    if (!head.ok() || !*head) {
      v.problems.push_back("object " + key + ": cannot read its Object Lock");
      continue;
    }
    for (auto& p : ObjectLockProblems(key, **head, want)) v.problems.push_back(std::move(p));
  }
}

Verdict VerifyStored(SessionRecord& r, KeyRing& keys, const Config& cfg) {
  Verdict v = NewVerdict(r.meta, r.where + "/" + r.key);
  Store& store = *r.store;
  ChainVerifier verifier(r.meta.id);
  constexpr uint64_t kChunk = 8ULL << 20;
  for (uint64_t off = 0;; off += kChunk) {
    auto part = store.Get(r.key, off, kChunk);
    if (!part.ok()) {
      v.problems.push_back("the recording cannot be read: " + part.message());
      return v;
    }
    verifier.Update(*part);
    if (part->size() < kChunk) break;
  }
  ChainCheck chain = verifier.Finish(false);
  const std::string base = WithoutCast(r.key);
  auto manifest = store.Get(base + ".json");
  if (!manifest.ok()) {
    v.problems.push_back("no manifest (" + manifest.message() + ")");
    return v;
  }
  CheckManifest(v, *manifest, chain);
  auto meta = ManifestMeta(*manifest);
  if (meta.ok()) {
    // Search reads the index entry: it must be the manifest, with only the key and hash added.
    auto index = store.Get(IndexKey(*meta, ""));
    std::string head = *manifest;
    while (!head.empty() && head.back() == '\n') head.pop_back();
    if (!head.empty()) head.pop_back();  // its closing brace
    if (!index.ok())
      v.problems.push_back("no index entry (" + index.message() + ")");
    else if (index->compare(0, head.size(), head) != 0)
      v.problems.push_back("the index entry does not match the manifest");
    CheckSignature(v, *manifest, store.Get(SignatureKeyFor(r.key)), *meta, keys);
    CheckObjectLock(v, store, cfg.s3.object_lock,
                    {r.key, base + ".json", SignatureKeyFor(r.key), IndexKey(*meta, "")});
  }
  return v;
}

Verdict VerifyLocal(const SessionRecord& r, const Config& cfg, KeyRing& keys) {
  Verdict v = NewVerdict(r.meta, r.path);
  const bool recording = RecorderHoldsLock(r.path);
  auto chain = CheckCastFile(r.path, r.meta.id, recording);
  if (!chain.ok()) {
    v.problems.push_back(chain.message());
    return v;
  }
  auto manifest = ReadFile(ManifestPathFor(r.path));
  const bool in_spool = r.path.rfind(cfg.spool_dir + "/", 0) == 0;
  if (!manifest.ok()) {
    // Still recording, or interrupted and waiting for the uploader to seal it.
    if (!chain->chain_ok)
      v.problems.push_back(chain->problem);
    else if (!in_spool)
      v.problems.push_back("no manifest beside the recording");
    v.pending = v.ok();
    return v;
  }
  CheckManifest(v, *manifest, *chain);
  auto sig = ReadFile(WithoutCast(r.path) + ".sig");
  if (!sig.ok() && in_spool) {
    v.pending = v.ok();
    return v;
  }
  auto meta = ManifestMeta(*manifest);
  if (meta.ok()) CheckSignature(v, *manifest, sig, *meta, keys);
  return v;
}

void Print(const Verdict& v, bool json) {
  if (json) {
    JsonWriter w;
    w.BeginObject();
    w.Key("id").String(v.id);
    w.Key("where").String(v.where);
    w.Key("node").String(v.node);
    w.Key("seq").Uint(v.seq);
    w.Key("verified").Bool(v.ok() && !v.pending);
    w.Key("pending").Bool(v.pending);
    w.Key("key_id").String(v.key_id);
    w.Key("problems").StringArray(v.problems);
    w.EndObject();
    std::printf("%s\n", w.Take().c_str());
    return;
  }
  if (!v.ok()) {
    std::printf("FAILED   %s  %s\n", EscapeControlChars(v.id).c_str(),
                EscapeControlChars(v.where).c_str());
    for (const auto& p : v.problems) std::printf("         - %s\n", EscapeControlChars(p).c_str());
  } else if (v.pending) {
    std::printf("PENDING  %s  chain intact so far; in the spool, signed when uploaded\n",
                EscapeControlChars(v.id).c_str());
  } else {
    std::printf("OK       %s  node %s #%llu, signed by key %s\n", EscapeControlChars(v.id).c_str(),
                EscapeControlChars(v.node).c_str(), static_cast<unsigned long long>(v.seq),
                EscapeControlChars(v.key_id).c_str());
  }
}

}  // namespace

std::vector<std::string> ObjectLockProblems(const std::string& key, const ObjectInfo& o,
                                            const ObjectLockConfig& want) {
  std::vector<std::string> out;
  const std::string wanted = want.mode + " for " + std::to_string(want.days) + " days";
  if (o.lock_mode.empty() || o.lock_retain_until.empty()) {
    out.push_back("object " + key + " has no Object Lock (configured: " + wanted + ")");
    return out;
  }
  if (o.lock_mode != want.mode && o.lock_mode != "COMPLIANCE")
    out.push_back("object " + key + " is locked in " + o.lock_mode +
                  " mode (configured: " + wanted + ")");
  auto until = ParseTime(o.lock_retain_until, RealtimeNanos());
  int64_t since = HttpDateNanos(o.last_modified);
  constexpr int64_t kSlack = 300LL * 1000000000LL;  // clocks and the upload's own duration
  if (!until.ok() || !since ||
      *until + kSlack < since + static_cast<int64_t>(want.days) * 86400LL * 1000000000LL)
    out.push_back("object " + key + " is locked only until " + o.lock_retain_until +
                  ", shorter than the configured " + wanted);
  return out;
}

Verdict VerifySession(SessionRecord& s, const VerifyOptions& opts, const Config& cfg) {
  KeyRing keys;
  if (Status st = keys.Load(opts, cfg); !st) {
    Verdict v = NewVerdict(s.meta, s.where);
    v.problems.push_back(st.message());
    return v;
  }
  return s.store && !s.key.empty() ? VerifyStored(s, keys, cfg) : VerifyLocal(s, cfg, keys);
}

std::vector<std::string> SequenceProblems(const std::vector<Verdict>& verdicts) {
  std::map<std::string, std::vector<uint64_t>> by_node;
  std::vector<std::string> out;
  for (const auto& v : verdicts) {
    if (v.seq == 0) continue;
    by_node[v.node].push_back(v.seq);
  }
  for (auto& [node, seqs] : by_node) {
    std::sort(seqs.begin(), seqs.end());
    for (size_t i = 1; i < seqs.size(); ++i) {
      uint64_t a = seqs[i - 1], b = seqs[i];
      if (a == b) {
        out.push_back("node `" + node + "`: session number " + std::to_string(a) +
                      " is used twice");
      } else if (b > a + 1) {
        std::string range = b == a + 2 ? std::to_string(a + 1)
                                       : std::to_string(a + 1) + " to " + std::to_string(b - 1);
        out.push_back("node `" + node + "`: session number " + range +
                      " is missing: a session was deleted (" + std::to_string(a) + " and " +
                      std::to_string(b) + " are present)");
      }
    }
  }
  return out;
}

EvidenceState EvidenceOf(const SessionRecord& s, const Verdict& v) {
  EvidenceState e;
  e.key_id = v.key_id;
  bool unsigned_only = true;
  for (const auto& p : v.problems)
    if (p.rfind("no signature", 0) != 0) unsigned_only = false;
  if (v.pending && v.ok())
    e.state = "pending";
  else if (v.ok() && v.signed_ok)
    e.state = "verified";
  else if (!v.problems.empty() && unsigned_only && s.evidence == "unsigned")
    e.state = "unsigned";
  else
    e.state = "failed";
  if (e.state != "unsigned") e.problems = v.problems;
  return e;
}

int RunVerify(const VerifyOptions& opts, const Config& cfg) {
  if (opts.all == !opts.target.empty()) {
    std::fprintf(stderr, "ttyaudit verify: give a session id, a .cast file, or --all\n");
    return 2;
  }
  KeyRing keys;
  if (Status st = keys.Load(opts, cfg); !st) {
    std::fprintf(stderr, "ttyaudit verify: %s\n", EscapeControlChars(st.message()).c_str());
    return 2;
  }
  std::vector<SessionRecord> sessions;
  std::vector<std::string> warnings;
  if (opts.all) {
    int64_t since = 0;
    if (!opts.since.empty()) {
      auto t = ParseTime(opts.since, RealtimeNanos());
      if (!t.ok()) {
        std::fprintf(stderr, "ttyaudit verify: --since: %s\n",
                     EscapeControlChars(t.message()).c_str());
        return 2;
      }
      since = *t;
    }
    for (auto& s : ListSessions(cfg, opts.store_url, warnings, since, 0))
      if (!since || !s.meta.end_ns || s.meta.end_ns >= since) sessions.push_back(std::move(s));
  } else {
    auto s = FindSession(cfg, opts.store_url, opts.target);
    if (!s.ok()) {
      std::fprintf(stderr, "ttyaudit verify: %s\n", EscapeControlChars(s.message()).c_str());
      return 2;
    }
    sessions.push_back(std::move(s.value()));
  }
  for (const auto& w : warnings)
    std::fprintf(stderr, "ttyaudit verify: warning: %s\n", EscapeControlChars(w).c_str());
  std::vector<Verdict> verdicts;
  size_t failed = 0, pending = 0;
  for (auto& s : sessions) {
    Verdict v = s.store && !s.key.empty() ? VerifyStored(s, keys, cfg) : VerifyLocal(s, cfg, keys);
    Print(v, opts.json);
    failed += !v.ok();
    pending += v.ok() && v.pending;
    verdicts.push_back(std::move(v));
  }
  std::vector<std::string> gaps =
      opts.all ? SequenceProblems(verdicts) : std::vector<std::string>{};
  for (const auto& g : gaps) {
    if (opts.json) {
      JsonWriter w;
      w.BeginObject().Key("sequence_problem").String(g).EndObject();
      std::printf("%s\n", w.Take().c_str());
    } else {
      std::printf("FAILED   %s\n", EscapeControlChars(g).c_str());
    }
  }
  if (!opts.json)
    std::printf(
        "%zu session(s): %zu verified, %zu pending upload, %zu failed; %zu sequence "
        "problem(s)\n",
        verdicts.size(), verdicts.size() - failed - pending, pending, failed, gaps.size());
  return failed || !gaps.empty() ? 1 : 0;
}

}  // namespace ttyaudit
