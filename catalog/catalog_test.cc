#include "catalog/catalog.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "base/files.h"
#include "base/json.h"
#include "catalog/segment_journal.h"
#include "store/keys.h"
#include "tests/unit/s3_client_testing.h"

namespace ttyaudit {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/ttyaudit-catalog-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

// A UUIDv7 for a given millisecond, its random bits from `rng`.
std::string Uuid7(int64_t ms, std::mt19937_64& rng) {
  char buf[40];
  uint64_t r1 = rng(), r2 = rng();
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-7%03llx-%04llx-%012llx",
                static_cast<unsigned long long>(ms >> 16),
                static_cast<unsigned long long>(ms & 0xffff),
                static_cast<unsigned long long>(r1 & 0xfff),
                static_cast<unsigned long long>(0x8000 | ((r1 >> 12) & 0x3fff)),
                static_cast<unsigned long long>(r2 & 0xffffffffffffULL));
  return buf;
}

// The index entry of a made-up session, varied in every field search filters on, as the
// uploader writes it (the manifest plus key, cast_size, cast_sha256).
std::string MakeEntry(int i, int64_t start_ns, std::mt19937_64& rng, SessionMeta& m) {
  auto pick = [&](std::initializer_list<const char*> v) {
    return std::string(v.begin()[rng() % v.size()]);
  };
  m = SessionMeta{};
  m.start_ns = start_ns;
  m.id = Uuid7(start_ns / 1000000, rng);
  m.source = i % 5 == 0 ? "host" : "runtime";
  m.node = pick({"node-1", "node-2", "node-3"});
  m.k8s_namespace = m.source == "host" ? "" : pick({"team-a", "team-b", "kube-system"});
  m.pod = m.source == "host" ? "" : "web-" + std::to_string(rng() % 6);
  m.container = m.source == "host" ? "" : pick({"app", "sidecar"});
  char cid[20];
  std::snprintf(cid, sizeof cid, "%016llx", static_cast<unsigned long long>(rng()));
  m.container_id = m.source == "host" ? "" : cid;
  m.image =
      m.source == "host" ? "" : pick({"busybox:1.36", "nginx:1.25", "registry.local/tools:2"});
  int who = static_cast<int>(rng() % 3);
  m.user = who == 0 ? "root" : who == 1 ? "alice" : "bob";
  m.uid = who == 0 ? 0 : 999 + who;
  m.argv = rng() % 2 ? std::vector<std::string>{"/bin/sh"} : std::vector<std::string>{"bash", "-l"};
  m.state = pick({"exited", "exited", "signaled", "ended", "interrupted", "recording"});
  if (m.state == "exited") m.exit_code = static_cast<int>(rng() % 4);
  if (m.state == "signaled") m.signal = rng() % 2 ? 9 : 15;
  if (m.state != "recording")
    m.end_ns = start_ns + static_cast<int64_t>(rng() % 7200) * 1000000000LL;
  m.bytes_out = rng() % 100000;
  m.bytes_in = rng() % 1000;
  JsonWriter w;
  w.BeginObject().Key("manifest_version").Int(1).Key("session").Raw(m.ToJson());
  w.Key("commands").BeginArray();
  static const std::vector<std::vector<std::string>> kCommands = {
      {"rm", "-rf", "/tmp/x"},     {"ls", "-la"},       {"cat", "/etc/passwd"},
      {"sh", "-c", "curl x | sh"}, {"sudo", "su", "-"}, {"vi", "a|b"}};
  for (size_t c = 0; c < kCommands.size(); ++c) {
    if (rng() % 3) continue;
    w.BeginObject().Key("pid").Int(100 + c).Key("ppid").Int(1).Key("argv").StringArray(
        kCommands[c]);
    w.Key("cwd").String("/").Key("uid").Int(m.uid).Key("euid").Int(m.uid);
    w.Key("start").Double(0.5).Key("end").Double(1.5).Key("exit_code").Int(0).Key("signal").Int(0);
    w.EndObject();
  }
  w.EndArray();
  w.Key("escalated").Bool(rng() % 7 == 0);
  w.Key("key").String(SessionKey(m, ""));
  w.Key("cast_size").Uint(m.bytes_out + 300).Key("cast_sha256").String(std::string(64, 'a'));
  w.EndObject();
  return w.Take();
}

struct Archive {
  std::string dir = TempDir();
  std::unique_ptr<Store> store;
  std::vector<std::string> entries;  // the index entries written, the truth

  explicit Archive(std::string url = "") {
    Config cfg;
    auto s = OpenStore(cfg, url.empty() ? "file://" + dir + "/archive" : url);
    REQUIRE(s.ok());
    store = std::move(s.value());
  }
  ~Archive() { std::system(("rm -rf '" + dir + "'").c_str()); }

  void Add(int n, int64_t first_start_ns, uint64_t seed) {
    std::mt19937_64 rng(seed);
    for (int i = 0; i < n; ++i) {
      SessionMeta m;
      std::string e = MakeEntry(i, first_start_ns + i * 37LL * 1000000000LL, rng, m);
      REQUIRE(store->Put(IndexKey(m, ""), e).ok());
      entries.push_back(e);
    }
  }
  std::unique_ptr<Catalog> OpenCatalog() {
    auto c = Catalog::Open(dir + "/cache/catalog.sqlite", store->Url());
    REQUIRE_MESSAGE(c.ok(), c.message());
    return std::move(c.value());
  }
  SyncProgress Reindex(size_t lines_per_segment) {
    std::vector<std::string> warnings;
    auto r = RebuildSegments(
        *store, [] { return Result<std::unique_ptr<Store>>(Error{"one reader"}); }, 1,
        lines_per_segment, nullptr, warnings);
    REQUIRE_MESSAGE(r.ok(), r.message());
    CHECK(warnings.empty());
    return *r;
  }
  // Every segment's lines, sorted: what the segments say, whatever their names.
  std::vector<std::string> SegmentLines() {
    std::vector<std::string> lines;
    auto keys = store->List(std::string(kSegmentPrefix));
    REQUIRE(keys.ok());
    for (const auto& e : *keys) {
      std::string body = store->Get(e.key).value();
      for (size_t at = 0, nl; (nl = body.find('\n', at)) != std::string::npos; at = nl + 1)
        lines.push_back(body.substr(at, nl - at));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }
};

// What a scan of the per-session entries finds: every entry that passes, newest first.
std::vector<std::string> BruteForce(const std::vector<std::string>& entries,
                                    const FilterMatcher& m) {
  std::vector<CatalogEntry> hits;
  for (const auto& e : entries) {
    auto parsed = ParseSegmentLine(SegmentLine(e).value());
    REQUIRE(parsed.ok());
    if (m.Matches(parsed->meta, parsed->commands_json, parsed->escalated, ""))
      hits.push_back(*parsed);
  }
  std::sort(hits.begin(), hits.end(), [](const CatalogEntry& a, const CatalogEntry& b) {
    return a.meta.start_ns != b.meta.start_ns ? a.meta.start_ns > b.meta.start_ns
                                              : a.meta.id > b.meta.id;
  });
  std::vector<std::string> ids;
  for (const auto& h : hits)
    if (!m.filter().limit || ids.size() < m.filter().limit) ids.push_back(h.meta.id);
  return ids;
}

std::vector<std::string> Ids(const std::vector<CatalogEntry>& rows) {
  std::vector<std::string> ids;
  for (const auto& r : rows) ids.push_back(r.meta.id);
  return ids;
}

constexpr int64_t kT0 = 1795610184LL * 1000000000LL;

std::vector<SessionFilter> SingleFilters(const std::vector<std::string>& some_ids) {
  std::vector<SessionFilter> out;
  auto add = [&](auto set) {
    SessionFilter f;
    set(f);
    out.push_back(f);
  };
  add([](SessionFilter&) {});
  add([](SessionFilter& f) { f.since_ns = kT0 + 3600LL * 1000000000LL; });
  add([](SessionFilter& f) { f.until_ns = kT0 + 7200LL * 1000000000LL; });
  add([](SessionFilter& f) { f.user = "alice"; });
  add([](SessionFilter& f) { f.user = "1001"; });
  add([&](SessionFilter& f) {
    f.user = "system:admin";  // a Kubernetes user, by the ids correlate recorded
    f.user_ids = some_ids;
  });
  add([](SessionFilter& f) { f.k8s_namespace = "team-b"; });
  add([](SessionFilter& f) { f.pod = "web-3"; });
  add([](SessionFilter& f) { f.container = "sidecar"; });
  add([](SessionFilter& f) { f.container = "a"; });  // an id prefix
  add([](SessionFilter& f) { f.node = "node-2"; });
  add([](SessionFilter& f) { f.image = "nginx"; });
  add([](SessionFilter& f) { f.escalated = true; });
  add([](SessionFilter& f) { f.exit_code = 0; });
  add([](SessionFilter& f) { f.exit_code = 2; });
  for (const char* s : kSessionStates) add([&](SessionFilter& f) { f.state = s; });
  add([](SessionFilter& f) { f.uid = 1000; });
  add([](SessionFilter& f) { f.live = true; });
  for (const char* re : {"rm -rf", "^ls", "cat .*passwd", "curl x \\| sh", "a\\|b", "sudo|vi",
                         "^bash -l$", "r[m]+ -r"})
    add([&](SessionFilter& f) { f.command_re = re; });
  add([](SessionFilter& f) { f.limit = 7; });
  add([](SessionFilter& f) { f.limit = 1; });
  return out;
}

// `a` with every filter `b` sets (limit: the smaller).
SessionFilter Combine(SessionFilter a, const SessionFilter& b) {
  if (b.since_ns) a.since_ns = b.since_ns;
  if (b.until_ns) a.until_ns = b.until_ns;
  if (!b.user.empty()) a.user = b.user, a.user_ids = b.user_ids;
  if (!b.k8s_namespace.empty()) a.k8s_namespace = b.k8s_namespace;
  if (!b.pod.empty()) a.pod = b.pod;
  if (!b.container.empty()) a.container = b.container;
  if (!b.node.empty()) a.node = b.node;
  if (!b.image.empty()) a.image = b.image;
  a.escalated = a.escalated || b.escalated;
  if (b.exit_code) a.exit_code = b.exit_code;
  if (!b.state.empty()) a.state = b.state;
  if (b.uid) a.uid = b.uid;
  a.live = a.live || b.live;
  if (!b.command_re.empty()) a.command_re = b.command_re;
  if (b.limit) a.limit = a.limit ? std::min(a.limit, b.limit) : b.limit;
  return a;
}

}  // namespace

TEST_CASE("catalog: each filter alone and combined finds what a scan of the index entries finds") {
  Archive a;
  a.Add(700, kT0, 7);
  a.Reindex(128);
  auto catalog = a.OpenCatalog();
  auto synced = catalog->Sync(*a.store, nullptr);
  REQUIRE(synced.ok());
  CHECK(synced->sessions_indexed == 700);
  CHECK(synced->segments_read == 6);
  CHECK(catalog->Count().value() == 700);

  std::vector<std::string> some_ids;
  for (size_t i = 0; i < a.entries.size(); i += 11)
    some_ids.push_back(ParseSegmentLine(SegmentLine(a.entries[i]).value()).value().meta.id);
  auto singles = SingleFilters(some_ids);
  std::vector<SessionFilter> all = singles;
  for (size_t i = 1; i < singles.size(); ++i)
    for (size_t j = i + 1; j < singles.size(); j += 3)
      all.push_back(Combine(singles[i], singles[j]));
  std::mt19937_64 rng(3);
  for (int k = 0; k < 150; ++k)
    all.push_back(Combine(Combine(singles[rng() % singles.size()], singles[rng() % singles.size()]),
                          singles[rng() % singles.size()]));
  size_t nonempty = 0;
  for (const auto& f : all) {
    auto m = FilterMatcher::Create(f);
    if (!m.ok()) continue;  // since after until
    auto got = catalog->Query(*m);
    REQUIRE_MESSAGE(got.ok(), got.message());
    auto want = BruteForce(a.entries, *m);
    CHECK_MESSAGE(Ids(*got) == want, "filter ", &f - all.data());
    nonempty += !want.empty();
  }
  CHECK(nonempty > all.size() / 3);  // the filters are not vacuous
}

TEST_CASE("catalog: a repeated sync reads only segments written since; a session twice is one") {
  Archive a;
  a.Add(50, kT0, 11);
  a.Reindex(20);
  auto catalog = a.OpenCatalog();
  REQUIRE(catalog->Sync(*a.store, nullptr).value().segments_read == 3);
  auto again = catalog->Sync(*a.store, nullptr);
  REQUIRE(again.ok());
  CHECK(again->segments_read == 0);
  CHECK(again->keys_listed == 3);  // within the grace period of the newest

  // An uploader seals three more sessions, and one of the old ones again (a crash between
  // its segment landing and its journal being cleared).
  std::string spool = a.dir + "/spool";
  REQUIRE(mkdir(spool.c_str(), 0700) == 0);
  SegmentJournal journal(spool);
  std::mt19937_64 rng(12);
  for (int i = 0; i < 3; ++i) {
    SessionMeta m;
    CHECK(journal.Add(MakeEntry(i, kT0 + 86400LL * 1000000000LL + i, rng, m)).value());
  }
  CHECK(journal.Add(a.entries[4]).value());
  CHECK_FALSE(journal.Add("{\"not\": \"an entry\"}").value());
  REQUIRE(journal.Flush(*a.store, false).ok());  // not due yet
  CHECK(journal.pending() == 4);
  REQUIRE(journal.Flush(*a.store, true).ok());
  CHECK(journal.pending() == 0);
  auto more = catalog->Sync(*a.store, nullptr);
  REQUIRE(more.ok());
  CHECK(more->segments_read == 1);
  CHECK(more->sessions_indexed == 4);
  CHECK(catalog->Count().value() == 53);
  CHECK(catalog->Sync(*a.store, nullptr).value().segments_read == 0);
}

TEST_CASE("catalog: --text through the text index finds what reading each screen text finds") {
  Archive a;
  a.Add(60, kT0, 21);
  a.Reindex(25);
  auto catalog = a.OpenCatalog();
  REQUIRE(catalog->Sync(*a.store, nullptr).ok());
  auto rows = catalog->Query(FilterMatcher::Create(SessionFilter{}).value());
  REQUIRE(rows.ok());
  REQUIRE(rows->size() == 60);
  std::vector<std::pair<std::string, std::string>> sessions;
  std::vector<std::string> ids;
  const char* words[] = {"rm -rf /var/lib", "kubectl get secrets", "Hällo wörld", "top - 12:00"};
  for (size_t i = 0; i < rows->size(); ++i) {
    const CatalogEntry& e = (*rows)[i];
    sessions.emplace_back(e.meta.id, e.key);
    ids.push_back(e.meta.id);
    if (i % 7 == 6) continue;  // recorded before screen text: none beside the recording
    std::string text = "$ prompt " + std::to_string(i) + "\n";
    for (size_t w = 0; w < 4; ++w)
      if ((i >> w) & 1) text += std::string(words[w]) + " line\n";
    REQUIRE(a.store->Put(ScreenTextKeyFor(e.key), i % 11 == 0 ? "" : text).ok());
  }
  CHECK(catalog->FillScreenText(*a.store, sessions).value() == 60);
  CHECK(catalog->FillScreenText(*a.store, sessions).value() == 0);  // each read once, ever
  for (const char* re : {"rm -rf", "^kubectl get s[a-z]+ line$", "wörld", "xyz", "t", "12:0[0-9]",
                         "prompt 1[0-9]$"}) {
    std::regex compiled(re, std::regex::ECMAScript);
    auto found = catalog->MatchScreenText(ids, compiled, RequiredLiteral(re));
    REQUIRE(found.ok());
    std::set<std::string> want, none;
    for (const auto& [id, key] : sessions) {
      auto text = FetchScreenText(*a.store, key);
      REQUIRE(text.ok());
      if (!*text)
        none.insert(id);
      else if (AnyLineMatches(**text, compiled))
        want.insert(id);
    }
    CHECK_MESSAGE(found->matched == want, re);
    CHECK(found->without_text == none);
    CHECK(none.size() == 8);
  }
  // Only the sessions asked about.
  std::vector<std::string> few(ids.begin(), ids.begin() + 5);
  auto found = catalog->MatchScreenText(few, std::regex("prompt"), "prompt");
  REQUIRE(found.ok());
  for (const auto& id : found->matched) CHECK(std::find(few.begin(), few.end(), id) != few.end());
}

TEST_CASE("catalog: a first sync through parallel readers holds what a scan finds, once each") {
  Archive a;
  a.Add(300, kT0, 41);
  a.Reindex(7);  // 43 segments
  auto catalog = a.OpenCatalog();
  Config cfg;
  const std::string url = a.store->Url();
  int opened = 0;
  StoreOpener open_store = [&]() {
    ++opened;
    return OpenStore(cfg, url);
  };
  auto synced = catalog->Sync(*a.store, nullptr, open_store);
  REQUIRE_MESSAGE(synced.ok(), synced.message());
  CHECK(opened == 2);
  CHECK(synced->segments_read == 43);
  CHECK(synced->sessions_indexed == 300);
  CHECK(catalog->Count().value() == 300);
  for (const auto& f : SingleFilters({})) {
    auto m = FilterMatcher::Create(f).value();
    CHECK(Ids(catalog->Query(m).value()) == BruteForce(a.entries, m));
  }
  CHECK(catalog->Sync(*a.store, nullptr, open_store).value().segments_read == 0);
}

TEST_CASE("catalog: a cache file SQLite cannot read is thrown away and filled again") {
  Archive a;
  a.Add(20, kT0, 43);
  a.Reindex(5);
  REQUIRE(MakeDirs(a.dir + "/cache", 0700).ok());
  REQUIRE(
      ReplaceFile(a.dir + "/cache/catalog.sqlite", std::string(8192, 'x'), Durability::kNone).ok());
  auto catalog = a.OpenCatalog();
  CHECK(catalog->Sync(*a.store, nullptr).value().sessions_indexed == 20);
  CHECK(catalog->Count().value() == 20);
}

// Screen text for the sessions of `rows`: some with none beside the recording (recorded before
// screen text existed), some empty. Returns the texts put, by session id.
std::map<std::string, std::string> PutScreenTexts(Store& store,
                                                  const std::vector<CatalogEntry>& rows) {
  const char* words[] = {"rm -rf /var/lib", "kubectl get secrets", "Hällo wörld", "top - 12:00"};
  std::map<std::string, std::string> put;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i % 7 == 6) continue;
    std::string text = "$ prompt " + std::to_string(i) + "\n";
    for (size_t w = 0; w < 4; ++w)
      if ((i >> w) & 1) text += std::string(words[w]) + " line\n";
    if (i % 11 == 0) text.clear();
    REQUIRE(store.Put(ScreenTextKeyFor(rows[i].key), text).ok());
    put[rows[i].meta.id] = text;
  }
  return put;
}

// --text through `catalog` agrees with reading each session's screen text from the store.
void CheckTextMatches(Catalog& catalog, Store& store, const std::vector<CatalogEntry>& rows) {
  std::vector<std::string> ids = Ids(rows);
  for (const char* re :
       {"rm -rf", "^kubectl get s[a-z]+ line$", "wörld", "xyz", "prompt 1[0-9]$"}) {
    std::regex compiled(re, std::regex::ECMAScript);
    auto found = catalog.MatchScreenText(ids, compiled, RequiredLiteral(re));
    REQUIRE(found.ok());
    std::set<std::string> want, none;
    for (const auto& e : rows) {
      auto text = FetchScreenText(store, e.key);
      REQUIRE(text.ok());
      if (!*text)
        none.insert(e.meta.id);
      else if (AnyLineMatches(**text, compiled))
        want.insert(e.meta.id);
    }
    CHECK_MESSAGE(found->matched == want, re);
    CHECK(found->without_text == none);
  }
}

TEST_CASE(
    "screen segments: the uploader's and reindex's fill the text index without a read per "
    "session") {
  Archive a;
  a.Add(60, kT0, 23);
  a.Reindex(25);
  // A store from before screen segments: the index segments alone.
  auto first_screens = a.store->List(std::string(kScreenSegmentPrefix)).value();
  for (const auto& e : first_screens) REQUIRE(a.store->Delete(e.key).ok());
  auto catalog = a.OpenCatalog();
  REQUIRE(catalog->Sync(*a.store, nullptr).ok());
  auto rows = catalog->Query(FilterMatcher::Create(SessionFilter{}).value()).value();
  REQUIRE(rows.size() == 60);
  auto texts = PutScreenTexts(*a.store, rows);
  // The uploader journals each session's text as it seals it (none: null); the last 10 sessions
  // are not in a segment yet, and one session's line went out twice.
  std::string spool = a.dir + "/spool";
  REQUIRE(mkdir(spool.c_str(), 0700) == 0);
  SegmentJournal journal(spool, 3600, 5000, SegmentKind::kScreen, 1000);
  std::vector<std::pair<std::string, std::string>> sessions;
  for (size_t i = 0; i < rows.size(); ++i) {
    const CatalogEntry& e = rows[i];
    sessions.emplace_back(e.meta.id, e.key);
    if (i >= 50) continue;
    auto it = texts.find(e.meta.id);
    std::optional<std::string> text;
    if (it != texts.end()) text = it->second;
    REQUIRE(journal.AddLine(ScreenSegmentLine(e.meta.id, e.meta.node, text)).ok());
    REQUIRE(journal.Flush(*a.store, false).ok());  // due at 1,000 bytes
  }
  REQUIRE(
      journal.AddLine(ScreenSegmentLine(rows[3].meta.id, rows[3].meta.node, texts[rows[3].meta.id]))
          .ok());
  REQUIRE(journal.Flush(*a.store, true).ok());
  CHECK(a.store->List(std::string(kScreenSegmentPrefix)).value().size() > 2);
  auto synced = catalog->SyncScreenText(*a.store, nullptr);
  REQUIRE_MESSAGE(synced.ok(), synced.message());
  CHECK(synced->bad_lines == 0);
  CHECK(catalog->SyncScreenText(*a.store, nullptr).value().segments_read == 0);
  CHECK(catalog->FillScreenText(*a.store, sessions).value() == 10);  // only those not in one
  CheckTextMatches(*catalog, *a.store, rows);

  // reindex writes screen segments for every session, from the texts beside the recordings.
  catalog.reset();
  std::system(("rm -rf '" + a.dir + "/cache'").c_str());
  a.Reindex(25);
  auto screens = a.store->List(std::string(kScreenSegmentPrefix)).value();
  REQUIRE(screens.size() == 1);
  CHECK(std::count(screens[0].key.begin(), screens[0].key.end(), '/') == 3);
  auto fresh = a.OpenCatalog();
  REQUIRE(fresh->Sync(*a.store, nullptr).ok());
  CHECK(fresh->SyncScreenText(*a.store, nullptr).value().sessions_indexed == 60);
  CHECK(fresh->FillScreenText(*a.store, sessions).value() == 0);
  CheckTextMatches(*fresh, *a.store, rows);
}

TEST_CASE(
    "segment journal: one whose segments cannot go out stops taking lines at twice its bound") {
  Archive a;
  std::string spool = a.dir + "/spool";
  REQUIRE(mkdir(spool.c_str(), 0700) == 0);
  SegmentJournal journal(spool, 3600, 5000, SegmentKind::kScreen, 1000);
  std::string id = "0193a000-0000-7000-8000-000000000001";
  std::string line = ScreenSegmentLine(id, "n", std::string(400, 'x'));
  int taken = 0;
  while (journal.AddLine(line).ok()) REQUIRE(++taken < 10);
  CHECK(taken == 5);  // 5 lines of 400+ bytes reach 2,000
  REQUIRE(journal.Flush(*a.store, false).ok());
  CHECK(journal.AddLine(line).ok());
  auto segments = a.store->List(std::string(kScreenSegmentPrefix)).value();
  REQUIRE(segments.size() == 1);
  CHECK(a.store->Get(segments[0].key).value() == line + "\n");  // the same session once
}

TEST_CASE("screen segment lines: a session's text, or null; anything else is not one") {
  std::string id = "0193a000-0000-7000-8000-000000000001";
  auto line = ScreenSegmentLine(id, "node-1", std::string("a \"b\"\nc"));
  auto e = ParseScreenSegmentLine(line);
  REQUIRE(e.ok());
  CHECK(e->id == id);
  CHECK(e->node == "node-1");
  CHECK(e->text == std::optional<std::string>("a \"b\"\nc"));
  auto none = ParseScreenSegmentLine(ScreenSegmentLine(id, "n", std::nullopt));
  REQUIRE(none.ok());
  CHECK_FALSE(none->text);
  CHECK_FALSE(ParseScreenSegmentLine("{\"v\":1,\"id\":\"x\",\"node\":\"n\",\"text\":\"\"}").ok());
  CHECK_FALSE(
      ParseScreenSegmentLine("{\"v\":2,\"id\":\"" + id + "\",\"node\":\"n\",\"text\":\"\"}").ok());
  CHECK_FALSE(
      ParseScreenSegmentLine("{\"v\":1,\"id\":\"" + id + "\",\"node\":\"n\",\"text\":3}").ok());
  CHECK_FALSE(ParseScreenSegmentLine("{\"v\":1,\"id\":\"" + id + "\",\"node\":\"n\"").ok());
}

TEST_CASE("segment journal: an uploader that dies before its segment loses no session") {
  Archive a;
  std::string spool = a.dir + "/spool";
  REQUIRE(mkdir(spool.c_str(), 0700) == 0);
  std::mt19937_64 rng(5);
  std::vector<std::string> ids;
  {
    SegmentJournal dying(spool, 3600);
    for (int i = 0; i < 2; ++i) {
      SessionMeta m;
      REQUIRE(dying.Add(MakeEntry(i, kT0 + i, rng, m)).value());
      ids.push_back(m.id);
    }
  }  // killed: nothing flushed
  CHECK(a.store->List(std::string(kSegmentPrefix)).value().empty());
  // A torn last line (killed mid-append) is not a session; the upload state brings it again.
  FILE* f = std::fopen(SegmentJournalPath(spool).c_str(), "a");
  std::fputs("{\"v\":1,\"id\":\"0193", f);
  std::fclose(f);
  SegmentJournal next(spool, 3600);
  REQUIRE(next.Flush(*a.store, false).ok());  // an earlier process's lines are due at once
  auto catalog = a.OpenCatalog();
  auto synced = catalog->Sync(*a.store, nullptr);
  REQUIRE(synced.ok());
  CHECK(synced->sessions_indexed == 2);
  CHECK(synced->bad_lines == 0);
  auto all = catalog->Query(FilterMatcher::Create({}).value()).value();
  std::set<std::string> found;
  for (const auto& e : all) found.insert(e.meta.id);
  CHECK(found == std::set<std::string>(ids.begin(), ids.end()));

  // A crash after the journal was set aside for its segment: the next flush writes it.
  SessionMeta m;
  REQUIRE(next.Add(MakeEntry(9, kT0 + 9, rng, m)).value());
  REQUIRE(rename(SegmentJournalPath(spool).c_str(),
                 (SegmentJournalPath(spool) + ".flushing").c_str()) == 0);
  SegmentJournal third(spool, 3600);
  REQUIRE(third.Flush(*a.store, false).ok());
  CHECK(catalog->Sync(*a.store, nullptr).value().sessions_indexed == 1);
  CHECK(catalog->Count().value() == 3);
}

TEST_CASE("reindex: segments rebuilt from the index entries hold the same lines, every time") {
  Archive a;
  a.Add(230, kT0, 21);
  // An uploader's segments, with one session twice and one missing (lost with its spool).
  std::string spool = a.dir + "/spool";
  REQUIRE(mkdir(spool.c_str(), 0700) == 0);
  SegmentJournal journal(spool);
  for (size_t i = 1; i < a.entries.size(); ++i) REQUIRE(journal.Add(a.entries[i]).value());
  REQUIRE(journal.Flush(*a.store, true).ok());
  REQUIRE(journal.Add(a.entries[7]).value());
  REQUIRE(journal.Flush(*a.store, true).ok());
  std::vector<std::string> want;
  for (const auto& e : a.entries) want.push_back(SegmentLine(e).value());
  std::sort(want.begin(), want.end());
  CHECK(a.SegmentLines().size() == 230);  // 229 + one twice

  auto first = a.Reindex(100);
  CHECK(first.segments_read == 230);
  CHECK(first.sessions_indexed == 230);
  CHECK(a.SegmentLines() == want);
  CHECK(a.store->List(std::string(kSegmentPrefix)).value().size() == 3);
  auto c1 = a.OpenCatalog();
  REQUIRE(c1->Sync(*a.store, nullptr).ok());
  auto rows1 = c1->Query(FilterMatcher::Create({}).value()).value();
  c1.reset();
  std::system(("rm -rf '" + a.dir + "/cache'").c_str());

  a.Reindex(100);
  CHECK(a.SegmentLines() == want);
  auto c2 = a.OpenCatalog();
  REQUIRE(c2->Sync(*a.store, nullptr).ok());
  auto rows2 = c2->Query(FilterMatcher::Create({}).value()).value();
  REQUIRE(rows1.size() == 230);
  REQUIRE(rows2.size() == rows1.size());
  for (size_t i = 0; i < rows1.size(); ++i) {
    CHECK(rows1[i].meta.ToJson() == rows2[i].meta.ToJson());
    CHECK(rows1[i].commands_json == rows2[i].commands_json);
  }
}

TEST_CASE("catalog: syncs from an S3 bucket, listing after its last segment") {
  testing::TestS3rver s3("tb");
  if (!s3.ok()) {
    MESSAGE("skipped: s3rver is not installed (make deps)");
    return;
  }
  Config cfg;
  cfg.s3.endpoint = s3.endpoint();
  cfg.s3.access_key_id = "S3RVER";
  cfg.s3.secret_access_key = "S3RVER";
  auto store = OpenStore(cfg, "s3://tb/audit");
  REQUIRE(store.ok());
  Archive a;
  a.store = std::move(store.value());
  a.Add(40, kT0, 31);
  a.Reindex(15);
  auto catalog = a.OpenCatalog();
  CHECK(catalog->Sync(*a.store, nullptr).value().sessions_indexed == 40);
  SessionFilter f;
  f.command_re = "rm -rf";
  auto m = FilterMatcher::Create(f).value();
  CHECK(Ids(catalog->Query(m).value()) == BruteForce(a.entries, m));
  // Segments far older than the newest are not listed again.
  REQUIRE(a.store->Put(SegmentKey(kT0, "old", "x"), SegmentLine(a.entries[0]).value() + "\n").ok());
  auto again = catalog->Sync(*a.store, nullptr).value();
  CHECK(again.keys_listed == 3);
  CHECK(again.segments_read == 0);
}

TEST_CASE("segment keys: the write time sorts them and partitions them; other keys are not ones") {
  std::string k = SegmentKey(kT0 + 123456789, "node/../x", "0193a");
  CHECK(k == "index-segments/date=2026-11-25/hour=12/1795610184123-node_.._x-0193a.jsonl");
  CHECK(SegmentKeyMillis(k) == std::optional<int64_t>(1795610184123LL));
  CHECK(SegmentKey(kT0, "n", "a") < SegmentKey(kT0 + 1000000, "a", "a"));
  CHECK(SegmentListStart(1795610184123LL) < k);
  CHECK_FALSE(SegmentKeyMillis("index-segments/date=2026-11-25/hour=13/1795610184123-n-a.jsonl"));
  CHECK_FALSE(SegmentKeyMillis("index-segments/date=2026-11-25/hour=12/179561018412x-n-a.jsonl"));
  CHECK_FALSE(SegmentKeyMillis("index-segments/notes.txt"));
  CHECK_FALSE(SegmentKeyMillis("index/date=2026-11-25/node=n/0193a.json"));
  // Screen segments: the same names under their own prefix, and only there.
  std::string screen = SegmentKey(kT0 + 123456789, "n", "0193a", kScreenSegmentPrefix);
  CHECK(screen == "screen-segments/date=2026-11-25/hour=12/1795610184123-n-0193a.jsonl");
  CHECK(SegmentKeyMillis(screen, kScreenSegmentPrefix) == std::optional<int64_t>(1795610184123LL));
  CHECK_FALSE(SegmentKeyMillis(screen));
  CHECK_FALSE(SegmentKeyMillis(k, kScreenSegmentPrefix));
  CHECK(SegmentListStart(1795610184123LL, kScreenSegmentPrefix) < screen);
}

TEST_CASE("segment lines: a line is the entry's, and a hostile line is refused") {
  std::mt19937_64 rng(1);
  SessionMeta m;
  std::string entry = MakeEntry(1, kT0, rng, m);
  auto line = SegmentLine(entry);
  REQUIRE(line.ok());
  CHECK(line->find('\n') == std::string::npos);
  auto e = ParseSegmentLine(*line);
  REQUIRE(e.ok());
  CHECK(e->meta.ToJson() == [&] {
    SessionMeta want = m;
    want.env.clear();
    return want.ToJson();
  }());
  CHECK(e->key == SessionKey(m, ""));
  CHECK(SegmentLine(entry).value() == *line);
  CHECK_FALSE(ParseSegmentLine("").ok());
  CHECK_FALSE(ParseSegmentLine("[1]").ok());
  std::string bad = *line;
  bad.replace(bad.find("\"v\":1"), 5, "\"v\":9");
  CHECK_FALSE(ParseSegmentLine(bad).ok());
  bad = *line;
  bad.replace(bad.find("\"key\":\"sessions/"), 16, "\"key\":\"../../etc");
  CHECK_FALSE(ParseSegmentLine(bad).ok());
  bad = *line;
  bad.replace(bad.find("\"uid\":"), 6, "\"uid\":\"0\",\"x\":");
  CHECK_FALSE(ParseSegmentLine(bad).ok());
  CHECK_FALSE(SegmentLine("{\"session\":{\"id\":\"../x\"},\"key\":\"sessions/x\"}").ok());
}

TEST_CASE("segment lines: the key that signed the session, and none for an unsigned one") {
  std::mt19937_64 rng(2);
  SessionMeta m;
  std::string entry = MakeEntry(1, kT0, rng, m);
  auto unsigned_line = SegmentLine(entry);
  REQUIRE(unsigned_line.ok());
  CHECK(ParseSegmentLine(*unsigned_line).value().signed_by.empty());
  // The uploader adds "signed_by" at the end of the index entry, after the hash.
  entry.insert(entry.size() - 1, ",\"signed_by\":\"0123456789abcdef\"");
  auto line = SegmentLine(entry);
  REQUIRE(line.ok());
  CHECK(line->size() > 30);
  CHECK(line->substr(line->size() - 31) == "\"signed_by\":\"0123456789abcdef\"}");
  CHECK(ParseSegmentLine(*line).value().signed_by == "0123456789abcdef");
  // A line written before the member existed still reads, as unsigned.
  std::string old = *line;
  old.erase(old.rfind(",\"signed_by\""), 31);
  auto e = ParseSegmentLine(old);
  REQUIRE(e.ok());
  CHECK(e->signed_by.empty());
}

TEST_CASE("filters: a literal every match must contain, or none when unsure") {
  CHECK(RequiredLiteral("rm -rf") == "rm -rf");
  CHECK(RequiredLiteral("^ls") == "ls");
  CHECK(RequiredLiteral("cat .*passwd") == "passwd");
  CHECK(RequiredLiteral("sudo|vi") == "");
  CHECK(RequiredLiteral("colou?r") == "colo");
  CHECK(RequiredLiteral("(foo)?barx") == "barx");
  CHECK(RequiredLiteral("\\.conf") == ".conf");
  CHECK(RequiredLiteral("[abc]def") == "def");
  CHECK(RequiredLiteral("r[m]+ -r") == " -r");
  CHECK(RequiredLiteral("ab+cde") == "cde");
  CHECK(RequiredLiteral("x{0,3}yz") == "yz");
  CHECK(RequiredLiteral("\\d+") == "");
  CHECK(RequiredLiteral("a\\") == "");
  CHECK(FilterMatcher::Create([] {
          SessionFilter f;
          f.state = "sealed";
          return f;
        }())
            .message()
            .find("--state: `sealed`") == 0);
  CHECK(FilterMatcher::Create([] {
          SessionFilter f;
          f.command_re = "(";
          return f;
        }())
            .message()
            .find("--command: bad regular expression") == 0);
}

}  // namespace ttyaudit
