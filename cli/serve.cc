#include "cli/serve.h"

#include <fcntl.h>
#include <httplib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/printable.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "base/utf8.h"
#include "cli/serve_api.h"
#include "cli/serve_live.h"
#include "cli/serve_snapshot.h"
#include "cli/verify.h"
#include "cli/web_assets.h"
#include "record/spool.h"
#include "sandbox/profiles.h"
#include "screen/keyframes.h"
#include "store/keys.h"

namespace ttyaudit {
namespace {

// What the page may do: its own scripts and styles only, nothing inline, nothing remote. The
// player compiles its terminal emulator from WebAssembly ('wasm-unsafe-eval' allows only
// that); xterm.js and the player set element styles ('unsafe-inline' for styles only).
constexpr const char* kCsp =
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
constexpr const char* kCookie = "ttyaudit_token";
constexpr size_t kPerPageDefault = 50, kPerPageMax = 500;
// A recording larger than this plays in parts of this size, each read with ranged GETs.
constexpr uint64_t kPartSize = 2ULL << 20;
constexpr uint64_t kReadPiece = 1ULL << 20;

struct ServeContext {
  const Config* cfg = nullptr;
  std::string store_url;
  std::string token;  // empty: no token asked (loopback without --token-file)
  bool tls = false;
  // The catalog's sync and the listings of identity/ and live/, shared by the requests of
  // each second.
  std::unique_ptr<ServeStoreReader> reader;
  // Sessions looked up in the last seconds (a replay asks for its metadata, then its
  // recording): sealed sessions only, which do not change.
  std::mutex cache_mu;
  std::map<std::string, std::pair<int64_t, SessionRecord>> recent;
  // The layout's counts read every session of the place chosen: one count at a time, and
  // each kept while the store has not changed (and at most kBrowseKeepNs, for the spool).
  std::mutex browse_mu;
  struct BrowseCounts {
    uint64_t generation = 0;
    int64_t at = 0;
    std::string json;
  };
  std::map<std::string, BrowseCounts> browse;
  // Verdicts of `ttyaudit verify`'s checks, by session id: when made, and the JSON.
  std::mutex verify_mu;  // one verification at a time: each reads a whole recording
  std::mutex verdicts_mu;
  std::map<std::string, std::pair<int64_t, std::string>> verdicts;
  // Sessions' keyframes (docs/SCREEN.md), for parts that start after the first byte.
  std::mutex keyframes_mu;
  std::map<std::string, std::shared_ptr<const KeyframesFile>> keyframes;
};

// A part may start this far after its keyframe: the bytes between are read and played at its
// time 0. Past it, the part starts from the keyframe's screen alone.
constexpr uint64_t kMaxLeadBytes = 16ULL << 20;

// The keyframes stored beside a session's recording, or null when it has none (recorded before
// keyframes, still in the spool) or they do not read.
std::shared_ptr<const KeyframesFile> SessionKeyframes(ServeContext& ctx, const SessionRecord& s) {
  {
    std::lock_guard<std::mutex> lock(ctx.keyframes_mu);
    if (auto it = ctx.keyframes.find(s.meta.id); it != ctx.keyframes.end()) return it->second;
  }
  constexpr size_t kMaxBytes = 64 << 20;
  std::optional<std::string> text;
  if (s.store && s.store->Remote() && !s.key.empty()) {
    const std::string key = KeyframesKeyFor(s.key);
    if (auto size = s.store->Size(key); size.ok() && *size && **size <= kMaxBytes)
      if (auto body = s.store->Get(key, 0, kMaxBytes); body.ok()) text = std::move(body.value());
  } else if (!s.path.empty()) {
    if (auto body = ReadFileIfExists(KeyframesPathFor(s.path), kMaxBytes + 1); body.ok())
      text = std::move(body.value());  // nullopt: none
  }
  std::shared_ptr<const KeyframesFile> frames;
  if (text)
    if (auto parsed = ParseKeyframes(*text, s.meta.id, kMaxBytes); parsed.ok())
      frames = std::make_shared<const KeyframesFile>(std::move(parsed.value()));
  std::lock_guard<std::mutex> lock(ctx.keyframes_mu);
  if (ctx.keyframes.size() >= 64) ctx.keyframes.clear();
  ctx.keyframes[s.meta.id] = frames;
  return frames;
}

constexpr int64_t kBrowseKeepNs = 10LL * 1000000000LL;

// A search of ctx's store over its shared snapshot (ServeStoreReader).
Result<std::vector<SessionRecord>> Search(ServeContext& ctx, SearchQuery q,
                                          std::vector<std::string>& warnings, int& status) {
  auto snapshot = ctx.reader->Fresh();
  if (!snapshot.ok()) {
    status = 1;
    return snapshot.error();
  }
  q.snapshot = *snapshot;
  return SearchSessions(q, *ctx.cfg, warnings, status);
}

// Reads ranges of a session's recording: ranged GETs from its store, or pread of its file.
class CastSource {
 public:
  static Result<std::shared_ptr<CastSource>> Open(const SessionRecord& s) {
    auto src = std::make_shared<CastSource>();
    if (s.store && s.store->Remote() && s.path.empty()) {
      src->store_ = s.store;
      src->key_ = s.key;
      auto size = s.store->Size(s.key);
      if (!size.ok()) return size.error();
      if (!*size) return Error{"no object " + s.key};
      src->size_ = **size;
      return src;
    }
    src->fd_.reset(open(s.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!src->fd_) return SysError("open", s.path, errno);
    struct stat st;
    if (fstat(src->fd_.get(), &st) != 0) return SysError("stat", s.path, errno);
    src->size_ = static_cast<uint64_t>(st.st_size);
    return src;
  }
  uint64_t size() const { return size_; }
  Result<std::string> Read(uint64_t off, uint64_t len) {
    if (store_) return store_->Get(key_, off, len);
    std::string out(len, '\0');
    ssize_t n;
    do n = pread(fd_.get(), out.data(), len, static_cast<off_t>(off));
    while (n < 0 && errno == EINTR);
    if (n < 0) return Error{std::string("read: ") + std::strerror(errno)};
    out.resize(static_cast<size_t>(n));
    return out;
  }

 private:
  std::shared_ptr<Store> store_;
  std::string key_;
  UniqueFd fd_;
  uint64_t size_ = 0;
};

std::multimap<std::string, std::string> Params(const httplib::Request& req) {
  return {req.params.begin(), req.params.end()};
}

void Json(httplib::Response& res, const std::string& body, int status = 200) {
  res.status = status;
  res.set_content(body, "application/json; charset=utf-8");
}

void JsonError(httplib::Response& res, int status, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(ToValidUtf8Lossy(message)).EndObject();
  Json(res, w.Take(), status);
}

bool IsSessionId(const std::string& id) {
  if (id.size() != 36) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return false;
  return true;
}

Result<SessionRecord> LookUpUncached(ServeContext& ctx, const std::string& id);

// The session `id`, looked up with the search engine: first in the seconds around the time its
// id (a UUIDv7) carries, then, should its clock have differed, among all sessions.
Result<SessionRecord> LookUp(ServeContext& ctx, const std::string& id) {
  if (!IsSessionId(id)) return Error{"not a session id"};
  constexpr int64_t kKeepNs = 30LL * 1000000000LL;
  const int64_t now = MonotonicNanos();
  {
    std::lock_guard<std::mutex> lock(ctx.cache_mu);
    if (auto it = ctx.recent.find(id); it != ctx.recent.end() && now - it->second.first < kKeepNs)
      return it->second.second;
  }
  auto found = LookUpUncached(ctx, id);
  if (found.ok() && found->meta.state != "recording") {
    std::lock_guard<std::mutex> lock(ctx.cache_mu);
    std::erase_if(ctx.recent, [&](const auto& e) { return now - e.second.first >= kKeepNs; });
    if (ctx.recent.size() < 1000) ctx.recent[id] = {now, *found};
  }
  return found;
}

Result<SessionRecord> LookUpUncached(ServeContext& ctx, const std::string& id) {
  SearchQuery q;
  q.json = true;
  q.store_url = ctx.store_url;
  auto ms = UuidV7Millis(id);
  for (int attempt = ms.ok() ? 0 : 1; attempt < 2; ++attempt) {
    if (attempt == 0) {
      q.since = std::to_string(*ms / 1000 - 2);
      q.until = std::to_string(*ms / 1000 + 2);
    } else {
      q.since.clear();
      q.until.clear();
    }
    std::vector<std::string> warnings;
    int status = 0;
    auto found = Search(ctx, q, warnings, status);
    if (!found.ok()) return found.error();
    for (auto& s : *found)
      if (s.meta.id == id) return std::move(s);
  }
  // Sealed a moment ago: its index entry is in the store before a segment lists it.
  if (ms.ok()) {
    auto opened = OpenStore(*ctx.cfg, ctx.store_url);
    if (!opened.ok()) return opened.error();
    std::shared_ptr<Store> store(std::move(opened.value()));
    auto keys = store->List(IndexDayPrefix(*ms * 1000000));
    if (!keys.ok()) return keys.error();
    const std::string tail = "/" + id + ".json";
    for (const auto& e : *keys) {
      if (e.key.size() < tail.size() ||
          e.key.compare(e.key.size() - tail.size(), tail.size(), tail) != 0)
        continue;
      auto body = store->Get(e.key);
      if (!body.ok()) return body.error();
      return ParseIndexEntry(*body, store);
    }
  }
  return Error{"no session with id " + id};
}

void ListSessionsRoute(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto params = Params(req);
  SearchQuery q = QueryFromParams(params, ctx.store_url);
  size_t page = 0, per = kPerPageDefault;
  if (auto it = params.find("page"); it != params.end())
    page = std::strtoul(it->second.c_str(), nullptr, 10);
  if (auto it = params.find("per_page"); it != params.end())
    per = std::clamp<size_t>(std::strtoul(it->second.c_str(), nullptr, 10), 1, kPerPageMax);
  page = std::min<size_t>(page, 100000);
  q.limit = std::to_string((page + 1) * per + 1);  // one more: is there a next page
  std::vector<std::string> warnings;
  int status = 0;
  auto found = Search(ctx, q, warnings, status);
  if (!found.ok()) return JsonError(res, status == 2 ? 400 : 502, found.message());
  std::vector<SessionRecord>& all = *found;
  bool more = all.size() > (page + 1) * per;
  std::vector<SessionRecord> slice;
  for (size_t i = page * per; i < all.size() && i < (page + 1) * per; ++i)
    slice.push_back(std::move(all[i]));
  Json(res, SessionPageJson(slice, page, per, more, warnings));
}

void BrowseRoute(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto params = Params(req);
  SearchQuery q = QueryFromParams(params, ctx.store_url);
  std::map<std::string, std::string> at;
  for (const char* level : {"date", "namespace", "pod"}) {
    auto it = params.find(std::string("at_") + level);
    if (it == params.end()) break;
    at[level] = it->second;
  }
  if (auto it = at.find("date"); it != at.end()) {  // the day's partition, and the one before
    q.since = it->second;
    auto day = ParseTime(it->second, RealtimeNanos());
    if (day.ok()) q.until = std::to_string(*day / 1000000000LL + 86400);
  }
  std::string cache_key;
  for (const auto& [k, v] : params) cache_key += k + "=" + v + "&";
  std::lock_guard<std::mutex> lock(ctx.browse_mu);
  auto snapshot = ctx.reader->Fresh();
  if (!snapshot.ok()) return JsonError(res, 502, snapshot.message());
  const uint64_t generation = ctx.reader->generation();
  const int64_t now = MonotonicNanos();
  if (auto it = ctx.browse.find(cache_key); it != ctx.browse.end() &&
                                            it->second.generation == generation &&
                                            now - it->second.at < kBrowseKeepNs)
    return Json(res, it->second.json);
  q.snapshot = *snapshot;
  std::vector<std::string> warnings;
  int status = 0;
  auto found = SearchSessions(q, *ctx.cfg, warnings, status);
  if (!found.ok()) return JsonError(res, status == 2 ? 400 : 502, found.message());
  if (ctx.browse.size() >= 256) ctx.browse.clear();
  auto& kept = ctx.browse[cache_key];
  kept = {generation, now, BrowseJson(*found, at)};
  Json(res, kept.json);
}

void SessionRoute(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto s = LookUp(ctx, req.matches[1]);
  if (!s.ok()) return JsonError(res, 404, s.message());
  // A session a bucket is still recording has live chunks only: nothing sealed to read yet.
  uint64_t size = 0;
  if (!s->path.empty() || s->store) {
    auto src = CastSource::Open(*s);
    if (!src.ok()) return JsonError(res, 502, src.message());
    size = (*src)->size();
  }
  std::string detail = SessionDetailJson(*s, size);
  uint64_t parts = size == 0 ? 1 : (size + kPartSize - 1) / kPartSize;
  detail.insert(detail.size() - 1, ",\"parts\":" + std::to_string(parts));
  Json(res, detail);
}

// Streams bytes [begin, end) of a recording through `transform` (PlayerStream's Feed), reading
// a piece at a time: the first lines reach the page before the rest is read.
void StreamCast(httplib::Response& res, std::shared_ptr<CastSource> src, uint64_t begin,
                uint64_t end, std::shared_ptr<PlayerStream> stream, const std::string& type) {
  auto pos = std::make_shared<uint64_t>(begin);
  res.set_chunked_content_provider(type, [src, pos, end, stream](size_t, httplib::DataSink& sink) {
    std::string out;
    if (*pos >= end) {
      stream->Finish(out);
      if (!out.empty()) sink.write(out.data(), out.size());
      sink.done();
      return true;
    }
    auto bytes = src->Read(*pos, std::min(kReadPiece, end - *pos));
    if (!bytes.ok() || bytes->empty()) return false;  // the client sees a cut-off stream
    *pos += bytes->size();
    stream->Feed(*bytes, out);
    return out.empty() || sink.write(out.data(), out.size());
  });
}

void CastRoute(ServeContext& ctx, const httplib::Request& req, httplib::Response& res,
               bool download) {
  auto s = LookUp(ctx, req.matches[1]);
  if (!s.ok()) return JsonError(res, 404, s.message());
  if (s->path.empty() && !s->store)
    return JsonError(res, 404, "the session is still recording: follow it live");
  auto src = CastSource::Open(*s);
  if (!src.ok()) return JsonError(res, 502, src.message());
  uint64_t size = (*src)->size();
  if (download) {
    auto stream = std::make_shared<PlayerStream>(s->meta, PlayerStream::Mode::kExport);
    res.set_header("Content-Disposition",
                   "attachment; filename=\"" + s->meta.id + ".cast\"");  // id: [0-9a-f-]
    return StreamCast(res, *src, 0, size, stream, "application/x-asciicast");
  }
  uint64_t index = 0;
  if (req.has_param("part"))
    index = std::strtoull(req.get_param_value("part").c_str(), nullptr, 10);
  std::shared_ptr<CastSource> shared = *src;
  auto part = FindCastPart(size, kPartSize, index,
                           [&](uint64_t off, uint64_t len) { return shared->Read(off, len); });
  if (!part.ok()) return JsonError(res, 404, part.message());
  // A part after the first starts in the middle of the session: from the last keyframe at or
  // before its first byte, whose screen is its first event, the events between played at once.
  auto stream = std::make_shared<PlayerStream>(
      s->meta, index == 0 ? PlayerStream::Mode::kPlayer : PlayerStream::Mode::kPlayerPart);
  uint64_t begin = part->begin;
  if (index > 0)
    if (auto frames = SessionKeyframes(ctx, *s)) {
      const Keyframe* from = nullptr;
      for (const auto& k : frames->keyframes)
        if (k.offset <= part->begin) from = &k;
      if (from) {
        const uint64_t lead = part->begin - from->offset;
        stream->StartFrom(from->screen, from->cols, from->rows, lead <= kMaxLeadBytes ? lead : 0);
        if (lead <= kMaxLeadBytes) begin = from->offset;
      }
    }
  StreamCast(res, shared, begin, part->end, stream, "application/x-asciicast");
}

// A verdict is kept this long; a recording larger than kAutoVerifyMax is checked only when
// asked for (`full=1`): it reads the whole object.
constexpr int64_t kVerdictKeepNs = 60LL * 1000000000LL;
constexpr uint64_t kAutoVerifyMax = 256ULL << 20;
constexpr int64_t kVerifyBudgetNs = 4LL * 1000000000LL;

// The evidence of one session as JSON: a kept verdict, or `ttyaudit verify`'s checks now.
std::string VerifyOneJson(ServeContext& ctx, const std::string& id, bool full) {
  const int64_t now = MonotonicNanos();
  {
    std::lock_guard<std::mutex> lock(ctx.verdicts_mu);
    if (auto it = ctx.verdicts.find(id);
        it != ctx.verdicts.end() && now - it->second.first < kVerdictKeepNs)
      return it->second.second;
  }
  auto s = LookUp(ctx, id);
  if (!s.ok()) {
    EvidenceState e;
    e.state = "failed";
    e.problems.push_back(s.message());
    return EvidenceJson(id, e);
  }
  if (s->path.empty() && !s->store) return EvidenceJson(id, PendingEvidence());
  if (!full && s->store && s->store->Remote()) {
    auto size = s->store->Size(s->key);
    if (size.ok() && *size && **size > kAutoVerifyMax) {
      EvidenceState e;
      e.state = "unchecked";
      e.problems.push_back("the recording is " + std::to_string(**size >> 20) +
                           " MiB: check it with full=1 or `ttyaudit verify " + id + "`");
      return EvidenceJson(id, e);
    }
  }
  VerifyOptions opts;
  opts.store_url = ctx.store_url;
  Verdict v;
  {
    std::lock_guard<std::mutex> lock(ctx.verify_mu);
    v = VerifySession(*s, opts, *ctx.cfg);
  }
  std::string json = EvidenceJson(id, EvidenceOf(*s, v));
  if (s->meta.state != "recording") {
    std::lock_guard<std::mutex> lock(ctx.verdicts_mu);
    if (ctx.verdicts.size() >= 4096) ctx.verdicts.clear();
    ctx.verdicts[id] = {MonotonicNanos(), json};
  }
  return json;
}

// GET /api/verify?ids=ID,ID...&full=1: {"verdicts": [...]} for the sessions checked within a
// few seconds, in order; those left out are asked for again by the page.
void VerifyRoute(ServeContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string ids = req.get_param_value("ids");
  const bool full = req.get_param_value("full") == "1";
  const int64_t start = MonotonicNanos();
  std::string out = "{\"verdicts\":[";
  bool first = true;
  size_t at = 0, n = 0;
  while (at <= ids.size() && n < 100) {
    size_t comma = ids.find(',', at);
    std::string id = ids.substr(at, comma == std::string::npos ? std::string::npos : comma - at);
    at = comma == std::string::npos ? ids.size() + 1 : comma + 1;
    if (!IsSessionId(id)) continue;
    ++n;
    if (!first && MonotonicNanos() - start > kVerifyBudgetNs) break;
    out += (first ? "" : ",") + VerifyOneJson(ctx, id, full);
    first = false;
  }
  Json(res, out + "]}");
}

// A running session, followed by the live engine (cli/live.h) for as long as the page stays:
// from this node's spool when the session is recorded here (and no --store was given), else
// from the bucket's live chunks.
void AddLiveRoute(httplib::Server& srv, ServeContext& ctx) {
  srv.Get(R"(/api/sessions/([0-9a-f-]{36})/live)",
          [&ctx](const httplib::Request& req, httplib::Response& res) {
            auto stream = std::make_shared<LiveEventStream>(*ctx.cfg, ctx.store_url,
                                                            std::string(req.matches[1]));
            res.set_header("X-Accel-Buffering", "no");
            res.set_chunked_content_provider("text/event-stream",
                                             [stream](size_t, httplib::DataSink& sink) {
                                               std::string out;
                                               if (!stream->Next(250, out)) {
                                                 sink.done();
                                                 return true;
                                               }
                                               return sink.write(out.data(), out.size());
                                             });
          });
}

void AssetRoute(const httplib::Request& req, httplib::Response& res) {
  const WebAsset* a = FindWebAsset(req.path);
  if (!a) {
    res.status = 404;
    res.set_content("not found\n", "text/plain; charset=utf-8");
    return;
  }
  // The pages and the player are built into this binary: the browser keeps them and asks
  // whether they changed (a new binary), instead of fetching and compiling them per page.
  const std::string etag = "\"" + ToHex(Sha256Of(a->bytes)).substr(0, 32) + "\"";
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", etag);
  if (req.get_header_value("If-None-Match") == etag) {
    res.status = 304;
    return;
  }
  res.set_content(std::string(a->bytes), std::string(a->content_type));
}

std::string CookieToken(const httplib::Request& req) {
  std::string cookies = req.get_header_value("Cookie");
  std::string want = std::string(kCookie) + "=";
  size_t at = 0;
  while (at < cookies.size()) {
    while (at < cookies.size() && (cookies[at] == ' ' || cookies[at] == ';')) ++at;
    size_t end = cookies.find(';', at);
    std::string one = cookies.substr(at, end == std::string::npos ? end : end - at);
    if (one.rfind(want, 0) == 0) return one.substr(want.size());
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return "";
}

// Lets a request through when it carries the token (Authorization: Bearer, or the cookie a
// ?token= login set); answers 401 otherwise. A ?token= that matches sets the cookie and sends
// the browser to the same page without the token in its address.
httplib::Server::HandlerResponse Authorize(ServeContext& ctx, const httplib::Request& req,
                                           httplib::Response& res) {
  if (ctx.token.empty()) return httplib::Server::HandlerResponse::Unhandled;
  std::string auth = req.get_header_value("Authorization");
  if (auth.rfind("Bearer ", 0) == 0 && TokenEquals(ctx.token, auth.substr(7)))
    return httplib::Server::HandlerResponse::Unhandled;
  if (TokenEquals(ctx.token, CookieToken(req))) return httplib::Server::HandlerResponse::Unhandled;
  if (req.has_param("token") && TokenEquals(ctx.token, req.get_param_value("token"))) {
    std::string cookie = std::string(kCookie) + "=" + ctx.token +
                         "; Path=/; HttpOnly; SameSite=Strict" + (ctx.tls ? "; Secure" : "");
    res.set_header("Set-Cookie", cookie);
    std::string query;
    for (const auto& [k, v] : req.params)
      if (k != "token")
        query += (query.empty() ? "?" : "&") + httplib::detail::encode_query_param(k) + "=" +
                 httplib::detail::encode_query_param(v);
    // Only a path of this server: "//host" would send the browser elsewhere.
    std::string path = req.path.size() > 1 && req.path[1] == '/' ? "/" : req.path;
    res.set_redirect(path + query, 303);
    return httplib::Server::HandlerResponse::Handled;
  }
  res.status = 401;
  res.set_header("WWW-Authenticate", "Bearer");
  res.set_content(
      "401: this viewer needs its token: open it once as /?token=TOKEN, or send "
      "Authorization: Bearer TOKEN\n",
      "text/plain; charset=utf-8");
  return httplib::Server::HandlerResponse::Handled;
}

void AddRoutes(httplib::Server& srv, ServeContext& ctx) {
  srv.set_pre_routing_handler([&ctx](const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD") {
      res.status = 405;
      res.set_content("read-only\n", "text/plain; charset=utf-8");
      return httplib::Server::HandlerResponse::Handled;
    }
    // What the API answers changes as sessions come; the assets say otherwise (AssetRoute).
    if (req.path.rfind("/api/", 0) == 0) res.set_header("Cache-Control", "no-store");
    return Authorize(ctx, req, res);
  });
  srv.Get("/api/sessions", [&ctx](const httplib::Request& q, httplib::Response& r) {
    ListSessionsRoute(ctx, q, r);
  });
  srv.Get("/api/browse",
          [&ctx](const httplib::Request& q, httplib::Response& r) { BrowseRoute(ctx, q, r); });
  srv.Get(R"(/api/sessions/([0-9a-f-]{36}))",
          [&ctx](const httplib::Request& q, httplib::Response& r) { SessionRoute(ctx, q, r); });
  srv.Get(R"(/api/sessions/([0-9a-f-]{36})/cast)",
          [&ctx](const httplib::Request& q, httplib::Response& r) { CastRoute(ctx, q, r, false); });
  srv.Get(R"(/api/sessions/([0-9a-f-]{36})/download)",
          [&ctx](const httplib::Request& q, httplib::Response& r) { CastRoute(ctx, q, r, true); });
  srv.Get("/api/verify",
          [&ctx](const httplib::Request& q, httplib::Response& r) { VerifyRoute(ctx, q, r); });
  AddLiveRoute(srv, ctx);
  srv.Get(R"(/.*)", [](const httplib::Request& q, httplib::Response& r) { AssetRoute(q, r); });
}

// Everything serve opens before it reads a request: the token, the TLS certificate and key,
// the listening socket.
struct Prepared {
  std::unique_ptr<httplib::Server> server;
  std::string url;
};

Result<Prepared> PrepareServe(const ServeOptions& opts, ServeContext& ctx, int& status) {
  status = 2;
  auto addr = ParseListen(opts.listen);
  if (!addr.ok()) return addr.error();
  if (!IsLoopback(addr->host) && opts.token_file.empty())
    return Error{"--listen " + opts.listen +
                 " is reachable from other machines: give --token-file with a secret token "
                 "(or listen on 127.0.0.1)"};
  if (!opts.token_file.empty()) {
    auto token = ReadTokenFile(opts.token_file);
    if (!token.ok()) return token.error();
    ctx.token = std::move(token.value());
  }
  if (opts.cert.empty() != opts.key.empty()) return Error{"--cert and --key go together"};
  Prepared p;
  if (!opts.cert.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(opts.cert.c_str(), opts.key.c_str());
    if (!ssl->is_valid())
      return Error{"--cert " + opts.cert + " / --key " + opts.key +
                   ": not a certificate and its key that OpenSSL can load"};
    p.server = std::move(ssl);
    ctx.tls = true;
  } else {
    p.server = std::make_unique<httplib::Server>();
  }
  httplib::Server& srv = *p.server;
  srv.set_read_timeout(10, 0);
  srv.set_write_timeout(30, 0);
  srv.set_idle_interval(0, 200000);
  srv.set_payload_max_length(64 << 10);
  srv.set_default_headers({{"Content-Security-Policy", kCsp},
                           {"X-Content-Type-Options", "nosniff"},
                           {"Referrer-Policy", "no-referrer"},
                           {"X-Frame-Options", "DENY"}});
  AddRoutes(srv, ctx);
  status = 1;
  int port = addr->port;
  if (port == 0) {
    port = srv.bind_to_any_port(addr->host);
    if (port < 0) return Error{"bind " + opts.listen + ": " + std::strerror(errno)};
  } else if (!srv.bind_to_port(addr->host, port)) {
    return Error{"bind " + opts.listen + ": " + std::strerror(errno)};
  }
  std::string host =
      addr->host.find(':') != std::string::npos ? "[" + addr->host + "]" : addr->host;
  p.url = std::string(ctx.tls ? "https" : "http") + "://" + host + ":" + std::to_string(port) + "/";
  status = 0;
  return p;
}

}  // namespace

int RunServe(const ServeOptions& opts, const std::string& store_url, const Config& cfg) {
  ServeContext ctx;
  ctx.cfg = &cfg;
  ctx.store_url = store_url;
  ctx.reader = std::make_unique<ServeStoreReader>(cfg, store_url);
  int status = 0;
  auto prepared = PrepareServe(opts, ctx, status);
  if (!prepared.ok()) {
    std::fprintf(stderr, "ttyaudit serve: %s\n", EscapeControlChars(prepared.message()).c_str());
    return status;
  }
  // Least privilege once the socket is bound and the token and TLS key read, before the
  // request threads start (sandbox/profiles.h). A failure is said and serve goes on.
  if (SandboxWanted(cfg.sandbox.enabled))
    if (Status sb = EnterSandbox(ServeProfile()); !sb)
      std::fprintf(stderr, "ttyaudit serve: runs with all its privileges: %s\n",
                   EscapeControlChars(sb.message()).c_str());
  std::fprintf(stderr, "ttyaudit serve: listening on %s\n", prepared->url.c_str());
  std::fflush(stderr);
  return prepared->server->listen_after_bind() ? 0 : 1;
}

}  // namespace ttyaudit
