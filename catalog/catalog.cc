#include "catalog/catalog.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "base/files.h"
#include "base/ids.h"
#include "base/unique_fd.h"
#include "store/keys.h"
#include "store/sigv4.h"

namespace ttyaudit {
namespace {

// Bump when the tables change: an older cache is then emptied and filled again.
constexpr const char* kSchemaVersion = "1";
constexpr int kSegmentsPerTransaction = 20;
// A segment holds at most a few thousand lines (SegmentJournal, RebuildSegments); one far
// larger is not read into memory but skipped, as a line that is not a session is.
constexpr uint64_t kMaxSegmentBytes = 256ULL << 20;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS segments(key TEXT PRIMARY KEY, ms INTEGER NOT NULL,
  lines INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS sessions(
  id TEXT PRIMARY KEY, start_ns INTEGER NOT NULL, end_ns INTEGER NOT NULL,
  node TEXT NOT NULL, namespace TEXT NOT NULL, pod TEXT NOT NULL, container TEXT NOT NULL,
  container_id TEXT NOT NULL, image TEXT NOT NULL, user TEXT NOT NULL, uid INTEGER NOT NULL,
  state TEXT NOT NULL, exit_code INTEGER NOT NULL, escalated INTEGER NOT NULL,
  cmd BLOB NOT NULL, line TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions(start_ns, id);
)sql";

// A prepared statement, finalized when it goes out of scope.
class Stmt {
 public:
  Stmt(sqlite3* db, const std::string& sql) {
    rc_ = sqlite3_prepare_v2(db, sql.c_str(), -1, &st_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(st_); }
  bool ok() const { return rc_ == SQLITE_OK; }
  sqlite3_stmt* get() { return st_; }
  Stmt& Text(int i, std::string_view v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Blob(int i, std::string_view v) {
    sqlite3_bind_blob(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& Int(int i, int64_t v) {
    sqlite3_bind_int64(st_, i, v);
    return *this;
  }
  int Step() { return sqlite3_step(st_); }
  void Reset() {
    sqlite3_reset(st_);
    sqlite3_clear_bindings(st_);
  }
  std::string ColumnText(int i) {
    const unsigned char* t = sqlite3_column_text(st_, i);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           static_cast<size_t>(sqlite3_column_bytes(st_, i)))
             : std::string();
  }

 private:
  sqlite3_stmt* st_ = nullptr;
  int rc_;
};

Error DbError(sqlite3* db, const std::string& what) {
  return Error{"catalog: " + what + ": " + sqlite3_errmsg(db)};
}

std::string CommandBlob(const CatalogEntry& e) {
  std::string blob;
  for (const auto& l : CommandLines(e.meta.argv, e.commands_json)) {
    if (!blob.empty()) blob.push_back('\0');
    blob += l;
  }
  return blob;
}

// ttyaudit_command(cmd): whether a row's command lines (NUL-separated) match --command.
void CommandFunction(sqlite3_context* ctx, int, sqlite3_value** argv) {
  const auto* m = static_cast<const FilterMatcher*>(sqlite3_user_data(ctx));
  const char* p = static_cast<const char*>(sqlite3_value_blob(argv[0]));
  size_t n = static_cast<size_t>(sqlite3_value_bytes(argv[0]));
  std::vector<std::string> lines;
  std::string_view rest(p ? p : "", p ? n : 0);
  for (;;) {
    size_t z = rest.find('\0');
    lines.emplace_back(rest.substr(0, z));
    if (z == std::string_view::npos) break;
    rest.remove_prefix(z + 1);
  }
  sqlite3_result_int(ctx, m->CommandMatches(lines) ? 1 : 0);
}

}  // namespace

std::string DefaultCatalogPath(const std::string& store_url) {
  std::string dir;
  if (const char* d = std::getenv("TTYAUDIT_CACHE_DIR"); d && *d)
    dir = d;
  else if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x)
    dir = std::string(x) + "/ttyaudit";
  else if (const char* h = std::getenv("HOME"); h && *h)
    dir = std::string(h) + "/.cache/ttyaudit";
  else
    dir = "/var/cache/ttyaudit";
  Digest sha(Digest::kSha256);
  sha.Update(store_url);
  return dir + "/catalog-" + HexEncode(sha.Final()).substr(0, 16) + ".sqlite";
}

Result<std::unique_ptr<Catalog>> Catalog::Open(const std::string& path,
                                               const std::string& store_url) {
  if (Status s = MakeDirs(path.substr(0, path.rfind('/')), 0700); !s) return Error{s.message()};
  {
    // The cache holds what sessions ran: readable by its owner only.
    UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
    if (!fd) return SysError("open", path, errno);
  }
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, nullptr);
  std::unique_ptr<Catalog> c(new Catalog(db));
  if (rc != SQLITE_OK) return DbError(db, "open " + path);
  sqlite3_busy_timeout(db, 30000);
  if (Status s = c->Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"); !s)
    return Error{s.message()};
  if (Status s = c->Exec(kSchema); !s) return Error{path + ": " + s.message()};
  std::map<std::string, std::string> meta;
  {
    Stmt q(db, "SELECT k, v FROM meta");
    while (q.Step() == SQLITE_ROW) meta[q.ColumnText(0)] = q.ColumnText(1);
  }
  if (meta["schema"] != kSchemaVersion || meta["store"] != store_url) {
    if (Status s = c->Exec("BEGIN IMMEDIATE; DELETE FROM sessions; DELETE FROM segments; "
                           "DELETE FROM meta;");
        !s)
      return Error{s.message()};
    Stmt ins(db, "INSERT INTO meta(k, v) VALUES ('schema', ?1), ('store', ?2)");
    ins.Text(1, kSchemaVersion).Text(2, store_url);
    if (ins.Step() != SQLITE_DONE) return DbError(db, "meta");
    if (Status s = c->Exec("COMMIT"); !s) return Error{s.message()};
  }
  return c;
}

Catalog::~Catalog() { sqlite3_close_v2(db_); }

Status Catalog::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Error{"catalog: " + msg};
  }
  return Status::Ok();
}

Result<SyncProgress> Catalog::Sync(Store& store, const ProgressFn& progress) {
  SyncProgress p;
  int64_t watermark = -1;
  {
    Stmt q(db_, "SELECT v FROM meta WHERE k = 'watermark_ms'");
    if (q.Step() == SQLITE_ROW) watermark = std::atoll(q.ColumnText(0).c_str());
  }
  std::string after = watermark < 0 ? "" : SegmentListStart(watermark - kSegmentGraceMs);
  auto keys = store.ListAfter(std::string(kSegmentPrefix), after);
  if (!keys.ok()) return Error{store.Url() + ": " + keys.message()};
  p.keys_listed = keys->size();
  if (progress) progress(p);

  Stmt seen(db_, "SELECT 1 FROM segments WHERE key = ?1");
  Stmt put(db_,
           "INSERT OR REPLACE INTO sessions(id, start_ns, end_ns, node, namespace, pod, container, "
           "container_id, image, user, uid, state, exit_code, escalated, cmd, line) VALUES "
           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  Stmt done(db_, "INSERT OR IGNORE INTO segments(key, ms, lines) VALUES (?1, ?2, ?3)");
  Stmt mark(db_, "INSERT OR REPLACE INTO meta(k, v) VALUES ('watermark_ms', ?1)");
  if (!seen.ok() || !put.ok() || !done.ok() || !mark.ok()) return DbError(db_, "prepare");
  // A node whose clock runs ahead must not move the mark past what others are still writing.
  const int64_t now_ms = RealtimeNanos() / 1000000;
  int in_tx = 0;
  auto commit = [&]() -> Status {
    if (in_tx == 0) return Status::Ok();
    mark.Text(1, std::to_string(std::min(watermark, now_ms)));
    if (mark.Step() != SQLITE_DONE) return DbError(db_, "mark");
    mark.Reset();
    in_tx = 0;
    return Exec("COMMIT");
  };
  for (const auto& k : *keys) {
    auto ms = SegmentKeyMillis(k.key);
    if (!ms) continue;  // not a segment of ours
    seen.Text(1, k.key);
    bool known = seen.Step() == SQLITE_ROW;
    seen.Reset();
    if (known) {
      watermark = std::max(watermark, *ms);
      continue;
    }
    if (k.size > kMaxSegmentBytes) {
      ++p.bad_lines;
      continue;
    }
    auto body = store.Get(k.key);
    if (!body.ok()) {
      (void)commit();
      return Error{store.Url() + "/" + k.key + ": " + body.message()};
    }
    if (in_tx == 0)
      if (Status s = Exec("BEGIN IMMEDIATE"); !s) return Error{s.message()};
    ++in_tx;
    std::string_view rest = *body;
    int64_t lines = 0;
    while (!rest.empty()) {
      size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
      if (line.empty()) continue;
      auto e = ParseSegmentLine(line);
      if (!e.ok()) {
        ++p.bad_lines;
        continue;
      }
      const SessionMeta& m = e->meta;
      put.Text(1, m.id).Int(2, m.start_ns).Int(3, m.end_ns).Text(4, m.node);
      put.Text(5, m.k8s_namespace).Text(6, m.pod).Text(7, m.container).Text(8, m.container_id);
      put.Text(9, m.image).Text(10, m.user).Int(11, m.uid).Text(12, m.state);
      put.Int(13, m.exit_code).Int(14, e->escalated ? 1 : 0).Blob(15, CommandBlob(*e));
      put.Text(16, line);
      if (put.Step() != SQLITE_DONE) return DbError(db_, "insert " + m.id);
      put.Reset();
      ++lines;
    }
    done.Text(1, k.key).Int(2, *ms).Int(3, lines);
    if (done.Step() != SQLITE_DONE) return DbError(db_, "segment " + k.key);
    done.Reset();
    watermark = std::max(watermark, *ms);
    ++p.segments_read;
    p.sessions_indexed += static_cast<uint64_t>(lines);
    if (in_tx >= kSegmentsPerTransaction)
      if (Status s = commit(); !s) return Error{s.message()};
    if (progress) progress(p);
  }
  if (watermark >= 0 && in_tx == 0) {
    if (Status s = Exec("BEGIN IMMEDIATE"); !s) return Error{s.message()};
    in_tx = 1;
  }
  if (Status s = commit(); !s) return Error{s.message()};
  p.done = true;
  if (progress) progress(p);
  return p;
}

Result<std::vector<CatalogEntry>> Catalog::Query(const FilterMatcher& m) {
  const SessionFilter& f = m.filter();
  std::string sql = "SELECT line FROM sessions WHERE 1";
  std::vector<std::function<void(Stmt&, int)>> binds;
  auto cond = [&](const std::string& c, std::function<void(Stmt&, int)> bind) {
    sql += " AND " + c;
    binds.push_back(std::move(bind));
  };
  auto text = [](std::string v) { return [v](Stmt& s, int i) { s.Text(i, v); }; };
  auto num = [](int64_t v) { return [v](Stmt& s, int i) { s.Int(i, v); }; };
  // Each condition names its parameter ?N, N being its place in `binds` (1-based).
  auto p = [&]() { return "?" + std::to_string(binds.size() + 1); };
  if (f.since_ns) cond("(end_ns = 0 OR end_ns >= " + p() + ")", num(f.since_ns));
  if (f.until_ns) cond("start_ns <= " + p(), num(f.until_ns));
  if (!f.user.empty()) {
    std::string ids = "[";
    for (const auto& id : f.user_ids) {
      if (ids.size() > 1) ids += ",";
      ids += "\"" + id + "\"";  // ids are UUIDs: no quoting needed, and checked below
    }
    for (const auto& id : f.user_ids)
      if (id.find_first_not_of("0123456789abcdef-") != std::string::npos)
        return Error{"catalog: bad session id `" + id + "`"};
    std::string n = p();
    cond("(user = " + n + " OR CAST(uid AS TEXT) = " + n +
             " OR id IN (SELECT value FROM json_each(?" + std::to_string(binds.size() + 2) + ")))",
         text(f.user));
    binds.push_back(text(ids + "]"));
  }
  if (!f.k8s_namespace.empty()) cond("namespace = " + p(), text(f.k8s_namespace));
  if (!f.pod.empty()) cond("pod = " + p(), text(f.pod));
  if (!f.container.empty()) {
    std::string n = p();
    cond("(container = " + n + " OR substr(container_id, 1, length(" + n + ")) = " + n + ")",
         text(f.container));
  }
  if (!f.node.empty()) cond("node = " + p(), text(f.node));
  if (!f.image.empty()) cond("instr(image, " + p() + ") > 0", text(f.image));
  if (f.escalated) sql += " AND escalated = 1";
  if (f.exit_code) cond("state = 'exited' AND exit_code = " + p(), num(*f.exit_code));
  if (!f.state.empty()) cond("state = " + p(), text(f.state));
  if (f.uid) cond("uid = " + p(), num(*f.uid));
  if (f.live) sql += " AND state = 'recording'";
  if (!f.command_re.empty()) {
    std::string lit = RequiredLiteral(f.command_re);
    if (!lit.empty())
      cond("instr(cmd, " + p() + ") > 0", [lit](Stmt& s, int i) { s.Blob(i, lit); });
    sql += " AND ttyaudit_command(cmd)";
    if (sqlite3_create_function_v2(db_, "ttyaudit_command", 1, SQLITE_UTF8 | SQLITE_DETERMINISTIC,
                                   const_cast<FilterMatcher*>(&m), CommandFunction, nullptr,
                                   nullptr, nullptr) != SQLITE_OK)
      return DbError(db_, "register ttyaudit_command");
  }
  sql += " ORDER BY start_ns DESC, id DESC";
  if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
  Stmt q(db_, sql);
  if (!q.ok()) return DbError(db_, "query");
  for (size_t i = 0; i < binds.size(); ++i) binds[i](q, static_cast<int>(i + 1));
  std::vector<CatalogEntry> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    auto e = ParseSegmentLine(q.ColumnText(0));
    if (e.ok()) out.push_back(std::move(e.value()));
  }
  if (rc != SQLITE_DONE) return DbError(db_, "query");
  return out;
}

Result<uint64_t> Catalog::Count() {
  Stmt q(db_, "SELECT count(*) FROM sessions");
  if (q.Step() != SQLITE_ROW) return DbError(db_, "count");
  return static_cast<uint64_t>(sqlite3_column_int64(q.get(), 0));
}

Result<SyncProgress> RebuildSegments(
    Store& store, const std::function<Result<std::unique_ptr<Store>>()>& open_store, int jobs,
    size_t lines_per_segment, const ProgressFn& progress, std::vector<std::string>& warnings) {
  SyncProgress p;
  auto old = store.List(std::string(kSegmentPrefix));
  if (!old.ok()) return Error{store.Url() + ": " + old.message()};
  auto listed = store.List(IndexPrefix());
  if (!listed.ok()) return Error{store.Url() + ": " + listed.message()};
  std::vector<std::string> keys;
  for (const auto& e : *listed)
    if (IsIndexEntryKey(e.key)) keys.push_back(e.key);
  p.keys_listed = keys.size();
  if (progress) progress(p);

  std::vector<std::string> lines(keys.size());
  std::atomic<size_t> next{0}, read{0};
  std::mutex mu;
  Status failed;
  auto reader = [&](Store* s) {
    for (size_t i; (i = next++) < keys.size();) {
      auto body = s->Get(keys[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!body.ok()) {
        if (failed) failed = Error{store.Url() + "/" + keys[i] + ": " + body.message()};
        return;
      }
      auto line = SegmentLine(*body);
      if (line.ok())
        lines[i] = std::move(line.value());
      else
        warnings.push_back(store.Url() + "/" + keys[i] + ": " + line.message());
      p.segments_read = ++read;
      if (progress && p.segments_read % 256 == 0) progress(p);
    }
  };
  std::vector<std::unique_ptr<Store>> readers;
  for (int j = 1; j < std::max(1, jobs); ++j) {
    auto s = open_store();
    if (!s.ok()) return s.error();
    readers.push_back(std::move(s.value()));
  }
  std::vector<std::thread> threads;
  for (auto& s : readers) threads.emplace_back(reader, s.get());
  reader(&store);
  for (auto& t : threads) t.join();
  if (!failed) return Error{failed.message()};

  // One line per session id, in id order: the same entries always give the same segments.
  std::map<std::string, std::string> by_id;
  for (auto& l : lines) {
    if (l.empty()) {
      ++p.bad_lines;
      continue;
    }
    auto e = ParseSegmentLine(l);
    if (e.ok()) by_id[e->meta.id] = std::move(l);
  }
  std::set<std::string> written;
  PutOptions opts;
  opts.content_type = "application/x-ndjson";
  for (auto it = by_id.begin(); it != by_id.end();) {
    std::string first = it->first, body;
    for (size_t n = 0; n < std::max<size_t>(1, lines_per_segment) && it != by_id.end(); ++n, ++it)
      body += it->second + "\n";
    std::string key = SegmentKey(RealtimeNanos(), "reindex", first);
    if (Status s = store.Put(key, body, opts); !s) return Error{s.message()};
    written.insert(key);
    p.sessions_indexed += static_cast<uint64_t>(std::count(body.begin(), body.end(), '\n'));
    if (progress) progress(p);
  }
  for (const auto& e : *old)
    if (SegmentKeyMillis(e.key) && !written.count(e.key))
      if (Status s = store.Delete(e.key); !s) return Error{s.message()};
  p.done = true;
  if (progress) progress(p);
  return p;
}

}  // namespace ttyaudit
