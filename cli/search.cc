#include "cli/search.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <regex>
#include <set>

#include "base/ids.h"
#include "base/printable.h"
#include "catalog/catalog.h"
#include "catalog/filter.h"
#include "cli/live.h"
#include "cli/verify.h"
#include "record/asciicast.h"
#include "record/cast_reader.h"
#include "screen/screen_record.h"

namespace ttyaudit {
namespace {

std::string Duration(const SessionMeta& m) {
  if (!m.end_ns) return "live";
  int64_t s = (m.end_ns - m.start_ns) / 1000000000LL;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)s / 3600, (long long)s / 60 % 60);
  else
    std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)s / 60, (long long)s % 60);
  return buf;
}

void PrintTable(const std::vector<const SessionRecord*>& rows) {
  std::printf("%-36s  %-20s  %-8s  %-11s  %-4s  %-8s  %-10s  %-30s  %s\n", "ID", "START (UTC)",
              "LENGTH", "STATE", "EXIT", "EVIDENCE", "USER", "WHERE", "COMMAND");
  for (const SessionRecord* r : rows) {
    const SessionMeta& m = r->meta;
    std::string where =
        m.source == "host" ? "host " + m.node
                           : (m.k8s_namespace.empty() ? "" : m.k8s_namespace + "/") +
                                 (m.pod.empty() ? "" : m.pod + "/") +
                                 (m.container.empty() ? m.container_id.substr(0, 12) : m.container);
    std::string exit = m.state == "exited"     ? std::to_string(m.exit_code)
                       : m.state == "signaled" ? "sig" + std::to_string(m.signal)
                                               : "-";
    std::string start = FormatRfc3339(m.start_ns).substr(0, 19);
    start[10] = ' ';
    // Every field but the times is recorded data: a container's argv, a user name from its
    // /etc/passwd, names from annotations. Shown, never sent to the terminal as controls.
    std::printf("%-36s  %-20s  %-8s  %-11s  %-4s  %-8s  %-10s  %-30s  %s\n",
                EscapeControlChars(m.id).c_str(), start.c_str(), Duration(m).c_str(),
                EscapeControlChars(m.state).c_str(), exit.c_str(), r->evidence.c_str(),
                EscapeControlChars(m.user).c_str(), EscapeControlChars(where.substr(0, 30)).c_str(),
                EscapeControlChars(JoinArgv(m.argv).substr(0, 60)).c_str());
  }
}

}  // namespace

std::string StripEscapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != 0x1b) {
      if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t') out.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 1 >= s.size()) break;
    char k = s[++i];
    if (k == '[') {  // CSI: parameters then one final byte 0x40-0x7e
      while (i + 1 < s.size() && !(s[i + 1] >= 0x40 && s[i + 1] <= 0x7e)) ++i;
      ++i;
    } else if (k == ']' || k == 'P' || k == '_' || k == '^') {  // string until BEL or ST
      while (i + 1 < s.size() && s[i + 1] != '\a' && !(s[i + 1] == 0x1b)) ++i;
      ++i;
      if (i < s.size() && s[i] == 0x1b && i + 1 < s.size() && s[i + 1] == '\\') ++i;
    } else if (k == '(' || k == ')' || k == '#' || k == '%') {
      ++i;  // one more byte designates the charset
    }
  }
  return out;
}

Result<bool> ScreenTextMatches(const std::string& cast_path, const std::string& regex) {
  std::regex re;
  try {
    re = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Error{"--text: bad regular expression `" + regex + "`: " + e.what()};
  }
  auto reader = CastReader::Open(cast_path);
  if (!reader.ok()) return reader.error();
  CastEvent ev;
  std::string line;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (ev.code != "o") continue;
    for (char c : StripEscapes(ev.data)) {
      if (c == '\n' || c == '\r') {
        if (!line.empty() && std::regex_search(line, re)) return true;
        line.clear();
      } else if (line.size() < 16384) {
        line.push_back(c);
      }
    }
  }
  return !line.empty() && std::regex_search(line, re);
}

namespace {

// A whole number for an option, or an error naming it.
Result<int64_t> ParseInteger(const char* option, const std::string& text, int64_t min) {
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text.c_str(), &end, 10);
  if (text.empty() || *end || errno || v < min)
    return Error{std::string(option) + ": `" + text + "` is not " +
                 (min > 0 ? "a positive whole number" : "a whole number")};
  return static_cast<int64_t>(v);
}

Result<SessionFilter> FilterOf(const SearchQuery& q) {
  SessionFilter f;
  int64_t now = RealtimeNanos();
  if (!q.since.empty()) {
    auto t = ParseTime(q.since, now);
    if (!t.ok()) return Error{"--since: " + t.message()};
    f.since_ns = *t;
  }
  if (!q.until.empty()) {
    auto t = ParseTime(q.until, now);
    if (!t.ok()) return Error{"--until: " + t.message()};
    f.until_ns = *t;
  }
  if (!q.exit_code.empty()) {
    auto v = ParseInteger("--exit-code", q.exit_code, INT32_MIN);
    if (!v.ok()) return v.error();
    f.exit_code = static_cast<int>(*v);
  }
  if (!q.uid.empty()) {
    auto v = ParseInteger("--uid", q.uid, 0);
    if (!v.ok()) return v.error();
    f.uid = *v;
  }
  if (!q.limit.empty()) {
    auto v = ParseInteger("--limit", q.limit, 1);
    if (!v.ok()) return v.error();
    f.limit = static_cast<size_t>(*v);
  }
  f.user = q.user;
  f.command_re = q.command_re;
  f.k8s_namespace = q.k8s_namespace;
  f.pod = q.pod;
  f.container = q.container;
  f.node = q.node;
  f.image = q.image;
  f.escalated = q.escalated;
  f.state = q.state;
  f.live = q.live;
  return f;
}

// "keys listed, segments read, sessions indexed" on one rewritten line of a terminal, at most
// ten times a second, once the sync reads a segment (a repeated search that finds nothing new
// shows nothing).
class SyncProgressLine {
 public:
  SyncProgressLine(bool on, const char* what) : on_(on), what_(what) {}
  ~SyncProgressLine() {
    if (shown_) std::fputs("\n", stderr);
  }
  void operator()(const SyncProgress& p) {
    int64_t now = MonotonicNanos();
    if (!on_ || p.segments_read == 0 || (!p.done && now - last_ < 100000000)) return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "\r%s: %llu keys listed, %llu segments read, %llu sessions indexed", what_,
                 static_cast<unsigned long long>(p.keys_listed),
                 static_cast<unsigned long long>(p.segments_read),
                 static_cast<unsigned long long>(p.sessions_indexed));
  }

 private:
  bool on_;
  const char* what_;
  bool shown_ = false;
  int64_t last_ = 0;
};

SessionRecord RecordOf(CatalogEntry e, const std::shared_ptr<Store>& store) {
  SessionRecord r;
  r.meta = std::move(e.meta);
  r.commands_json = std::move(e.commands_json);
  r.escalated = e.escalated;
  r.key = std::move(e.key);
  SetSignedBy(r, std::move(e.signed_by));
  r.where = store->Url();
  if (!store->Remote()) r.path = store->Url().substr(7) + "/" + r.key;
  r.store = store;
  return r;
}

// A store that does not exist or cannot be read is an error, not an empty list; the local
// archive the config names may not exist yet (nothing was uploaded), which is an empty store.
Status CheckStore(const Store& store, bool configured) {
  const std::string url = store.Url();
  if (url.rfind("file://", 0) != 0) return Status::Ok();
  std::string dir = url.substr(7);
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT && configured) return Status::Ok();
    return Error{"store " + url + ": " + std::strerror(errno)};
  }
  if (!S_ISDIR(st.st_mode)) return Error{"store " + url + ": not a directory"};
  if (access(dir.c_str(), R_OK | X_OK) != 0)
    return Error{"store " + url + ": " + std::strerror(errno)};
  return Status::Ok();
}

// What --text found for a stored session: in its screen text, or that it has none (a session
// recorded before screen text existed), whose raw output is then searched instead.
enum class TextVerdict { kMatch, kNoMatch, kNoScreenText };

// --text over the screen text of the store's sessions `rows`: with the catalog, through its
// text index (filled from the store's screen segments, then from the screen text objects of
// sessions no segment held); with --scan, read one by one.
Result<std::map<std::string, TextVerdict>> StoreTextVerdicts(const SearchQuery& q, Store& store,
                                                             const StoreOpener& open_store,
                                                             Catalog* catalog,
                                                             const std::vector<SessionRecord>& rows,
                                                             std::vector<std::string>& warnings) {
  std::regex re(q.text_re, std::regex::ECMAScript);
  std::map<std::string, TextVerdict> out;
  if (!catalog) {
    for (const auto& r : rows) {
      auto text = FetchScreenText(store, r.key);
      if (!text.ok()) return text.error();
      out[r.meta.id] = !*text                       ? TextVerdict::kNoScreenText
                       : AnyLineMatches(**text, re) ? TextVerdict::kMatch
                                                    : TextVerdict::kNoMatch;
    }
    return out;
  }
  SyncProgressLine line(!q.json && isatty(STDERR_FILENO), "screen text");
  auto synced = catalog->SyncScreenText(store, std::ref(line), open_store);
  if (!synced.ok()) return synced.error();
  if (synced->bad_lines)
    warnings.push_back(store.Url() + ": " + std::to_string(synced->bad_lines) +
                       " screen segment line(s) are not screen texts; skipped");
  std::vector<std::pair<std::string, std::string>> sessions;
  std::vector<std::string> ids;
  for (const auto& r : rows) {
    sessions.emplace_back(r.meta.id, r.key);
    ids.push_back(r.meta.id);
  }
  if (auto filled = catalog->FillScreenText(store, sessions); !filled.ok()) return filled.error();
  auto found = catalog->MatchScreenText(ids, re, RequiredLiteral(q.text_re));
  if (!found.ok()) return found.error();
  for (const auto& id : ids)
    out[id] = found->matched.count(id)        ? TextVerdict::kMatch
              : found->without_text.count(id) ? TextVerdict::kNoScreenText
                                              : TextVerdict::kNoMatch;
  return out;
}

// The store's sessions that pass the filter: from its catalog, or with --scan from every
// per-session index entry. With --text, `verdicts` says what each one's screen text gave.
Result<std::vector<SessionRecord>> StoreSessions(const SearchQuery& q, const Config& cfg,
                                                 const FilterMatcher& matcher,
                                                 std::map<std::string, std::string>& identities,
                                                 std::map<std::string, TextVerdict>& verdicts,
                                                 std::vector<std::string>& warnings) {
  auto opened = OpenStore(cfg, q.store_url);
  if (!opened.ok()) return opened.error();
  std::shared_ptr<Store> store(std::move(opened.value()));
  if (Status s = CheckStore(*store, q.store_url.empty()); !s) return Error{s.message()};
  struct stat st;
  if (!store->Remote() && stat(store->Url().substr(7).c_str(), &st) != 0)
    return std::vector<SessionRecord>{};  // the configured archive, not made yet
  identities = q.snapshot ? q.snapshot->identities : LoadIdentities(*store);
  SessionFilter f = matcher.filter();
  if (!f.user.empty())
    for (const auto& [id, json] : identities)
      if (IdentityUser(json) == f.user) f.user_ids.push_back(id);
  auto m = FilterMatcher::Create(f);
  if (!m.ok()) return m.error();
  std::vector<SessionRecord> out;
  if (q.scan) {
    auto all = ListStoreSessions(store, f.since_ns, f.until_ns, warnings);
    if (!all.ok()) return all.error();
    for (auto& r : *all)
      if (m->Matches(r.meta, r.commands_json, r.escalated, "")) out.push_back(std::move(r));
    if (!q.text_re.empty()) {
      auto v = StoreTextVerdicts(q, *store, nullptr, nullptr, out, warnings);
      if (!v.ok()) return v.error();
      verdicts = std::move(v.value());
    }
  } else {
    const std::string url = store->Url();
    auto catalog = Catalog::Open(DefaultCatalogPath(url), url);
    if (!catalog.ok()) return catalog.error();
    StoreOpener open_store = [&cfg, &q]() { return OpenStore(cfg, q.store_url); };
    if (!q.snapshot) {
      SyncProgressLine line(!q.json && isatty(STDERR_FILENO), "catalog");
      auto synced = (*catalog)->Sync(*store, std::ref(line), open_store);
      if (!synced.ok()) return synced.error();
      if (synced->bad_lines)
        warnings.push_back(url + ": " + std::to_string(synced->bad_lines) +
                           " index segment line(s) are not sessions; skipped");
    }
    auto rows = (*catalog)->Query(*m);
    if (!rows.ok()) return rows.error();
    for (auto& e : *rows) out.push_back(RecordOf(std::move(e), store));
    if (!q.text_re.empty()) {
      auto v = StoreTextVerdicts(q, *store, open_store, catalog->get(), out, warnings);
      if (!v.ok()) return v.error();
      verdicts = std::move(v.value());
    }
  }
  for (auto& r : out)
    if (auto it = identities.find(r.meta.id); it != identities.end()) SetIdentity(r, it->second);
  return out;
}

std::string StorePrefix(const SearchQuery& q, const Config& cfg) {
  std::string url = q.store_url.empty() ? cfg.StoreUrl() : q.store_url;
  if (url.rfind("s3://", 0) != 0) return "";
  std::string rest = url.substr(5);
  size_t slash = rest.find('/');
  return slash == std::string::npos ? "" : rest.substr(slash + 1);
}

// The sessions the store is recording now: they have no index entry yet, only the live chunks
// their uploader ships (cli/live.h). They carry no store key: nothing is sealed to fetch.
std::vector<SessionRecord> LiveStoreSessions(const SearchQuery& q, const Config& cfg,
                                             std::vector<std::string>& warnings) {
  std::vector<SessionRecord> out;
  auto store = OpenStore(cfg, q.store_url);
  if (!store.ok() || !(*store)->Remote()) return out;
  for (auto& m : q.snapshot ? q.snapshot->live : ListLiveSessions(**store, warnings)) {
    SessionRecord r;
    r.meta = std::move(m);
    r.commands_json = "[]";
    r.where = (*store)->Url();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

Result<std::vector<SessionRecord>> SearchSessions(const SearchQuery& q, const Config& cfg,
                                                  std::vector<std::string>& warnings, int& status) {
  status = 2;
  auto filter = FilterOf(q);
  auto matcher =
      filter.ok() ? FilterMatcher::Create(*filter) : Result<FilterMatcher>(filter.error());
  if (!matcher.ok()) return matcher.error();
  if (!q.text_re.empty()) {
    try {
      std::regex(q.text_re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error{"--text: bad regular expression `" + q.text_re + "`: " + e.what()};
    }
  }
  status = 1;
  // The store is asked for enough rows to fill --limit after the spool's copies of the same
  // sessions are merged in, or for every row when --text must still look at each.
  SessionFilter wide = *filter;
  std::vector<SessionRecord> spool;
  if (q.store_url.empty()) spool = ListLocalSessions(cfg.spool_dir, "spool", warnings);
  wide.limit = q.text_re.empty() && filter->limit ? filter->limit + spool.size() : 0;
  auto store_matcher = FilterMatcher::Create(wide);
  std::map<std::string, std::string> identities;  // correlate's, by session id
  std::map<std::string, TextVerdict> verdicts;    // --text on stored sessions' screen text
  auto stored = StoreSessions(q, cfg, *store_matcher, identities, verdicts, warnings);
  if (!stored.ok()) return stored.error();
  // --text reads what a session showed, which a running one in a store has only in pieces.
  std::vector<SessionRecord> live;
  if (q.text_re.empty()) live = LiveStoreSessions(q, cfg, warnings);

  // A session still in the spool and already in the store is one session: the stored copy
  // is the sealed one.
  std::vector<SessionRecord> all = std::move(stored.value());
  std::set<std::string> ids;
  for (const auto& r : all) ids.insert(r.meta.id);
  for (auto& r : spool) {
    if (auto it = identities.find(r.meta.id); it != identities.end()) SetIdentity(r, it->second);
    if (!ids.insert(r.meta.id).second) continue;
    if (matcher->Matches(r.meta, r.commands_json, r.escalated, r.k8s_user))
      all.push_back(std::move(r));
  }
  for (auto& r : live) {
    if (auto it = identities.find(r.meta.id); it != identities.end()) SetIdentity(r, it->second);
    if (!ids.count(r.meta.id) && matcher->Matches(r.meta, r.commands_json, r.escalated, r.k8s_user))
      all.push_back(std::move(r));
  }
  std::sort(all.begin(), all.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.meta.start_ns != b.meta.start_ns ? a.meta.start_ns > b.meta.start_ns
                                              : a.meta.id > b.meta.id;
  });
  std::vector<SessionRecord> hits;
  for (auto& s : all) {
    if (filter->limit && hits.size() >= filter->limit) break;
    if (!q.text_re.empty()) {
      auto verdict = verdicts.find(s.meta.id);
      if (verdict != verdicts.end() && verdict->second != TextVerdict::kNoScreenText) {
        if (verdict->second == TextVerdict::kNoMatch) continue;
        hits.push_back(std::move(s));
        continue;
      }
      if (s.where == "spool") {  // not sealed yet: its screen as the uploader will see it
        auto rec = BuildScreenRecord(s.path, {});
        if (rec.ok()) {
          if (AnyLineMatches(rec->text, std::regex(q.text_re, std::regex::ECMAScript)))
            hits.push_back(std::move(s));
          continue;
        }
      }
      auto path = LocalCastPath(s);
      if (!path.ok()) {
        warnings.push_back(path.message());
        continue;
      }
      auto hit = ScreenTextMatches(*path, q.text_re);
      DropLocalCopy(s);  // one fetched copy at a time
      if (!hit.ok()) {
        warnings.push_back(hit.message());
        continue;
      }
      if (!*hit) continue;
    }
    hits.push_back(std::move(s));
  }
  status = 0;
  return hits;
}

int RunSearch(const SearchQuery& q, const Config& cfg) {
  std::vector<std::string> warnings;
  int status = 0;
  auto found = SearchSessions(q, cfg, warnings, status);
  for (const auto& w : warnings)
    std::fprintf(stderr, "ttyaudit search: warning: %s\n", EscapeControlChars(w).c_str());
  if (!found.ok())
    return std::fprintf(stderr, "ttyaudit search: %s\n",
                        EscapeControlChars(found.message()).c_str()),
           status;
  // --verify: each match's evidence is proven, not taken from what the uploader recorded.
  int failed = 0;
  if (q.verify) {
    VerifyOptions vo;
    vo.store_url = q.store_url;
    for (auto& s : *found) {
      EvidenceState e = EvidenceOf(s, VerifySession(s, vo, cfg));
      s.evidence = e.state;
      if (e.state != "failed") continue;
      ++failed;
      for (const auto& p : e.problems)
        std::fprintf(stderr, "ttyaudit search: %s: %s\n", EscapeControlChars(s.meta.id).c_str(),
                     EscapeControlChars(p).c_str());
    }
  }
  std::vector<const SessionRecord*> hits;
  for (const auto& s : *found) hits.push_back(&s);
  if (q.json) {
    std::string prefix = StorePrefix(q, cfg);
    for (const auto* s : hits) std::printf("%s\n", SessionJsonLine(*s, prefix).c_str());
  } else {
    PrintTable(hits);
  }
  return failed ? 1 : 0;
}

}  // namespace ttyaudit
