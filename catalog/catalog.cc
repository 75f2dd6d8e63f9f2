#include "catalog/catalog.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_set>

#include "base/files.h"
#include "base/ids.h"
#include "base/unique_fd.h"
#include "store/keys.h"
#include "store/sigv4.h"

namespace ttyaudit {
namespace {

// Bump when the tables change: an older cache is then emptied and filled again.
constexpr const char* kSchemaVersion = "3";
constexpr int kSegmentsPerTransaction = 20;
// A segment holds at most a few thousand lines (SegmentJournal, RebuildSegments); one far
// larger is not read into memory but skipped, as a line that is not a session is.
constexpr uint64_t kMaxSegmentBytes = 256ULL << 20;
// What `reindex` puts into one screen segment (the uploader's journal flushes at the same).
constexpr size_t kMaxScreenSegmentBytes = 64 << 20;

// WAL, so that a search reads while another syncs. synchronous=OFF: the cache is derived
// data, rebuilt from the store when lost, so it need not wait for the disk (Open throws away a
// cache a machine crash left unreadable). A larger page cache for the first fill; reads
// through mmap, not a system call per page.
constexpr const char* kPragmas =
    "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; PRAGMA cache_size=-65536; "
    "PRAGMA temp_store=MEMORY; PRAGMA mmap_size=4294967296;";

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
CREATE TABLE IF NOT EXISTS screen_seen(id TEXT PRIMARY KEY, has INTEGER NOT NULL) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS screen USING fts5(id UNINDEXED, text, tokenize='trigram',
  detail=none);
)sql";

// Session ids as a JSON array for json_each. Ids are UUIDs: one that is not (from a hostile
// index) cannot be quoted by accident, and is left out.
Result<std::string> IdArray(const std::vector<std::string>& ids) {
  std::string out = "[";
  for (const auto& id : ids) {
    if (id.empty() || id.find_first_not_of("0123456789abcdef-") != std::string::npos) continue;
    if (out.size() > 1) out += ",";
    out += "\"" + id + "\"";
  }
  return out + "]";
}

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
  /// Text that stays where it is until the next Step: not copied.
  Stmt& TextRef(int i, std::string_view v) {
    sqlite3_bind_text(st_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
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

constexpr const char* kStartIndex =
    "CREATE INDEX IF NOT EXISTS sessions_by_start ON sessions(start_ns, id)";

// BEGIN IMMEDIATE ... COMMIT, rolled back when it goes out of scope uncommitted.
class Transaction {
 public:
  explicit Transaction(sqlite3* db) : db_(db) {}
  ~Transaction() {
    if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  bool open() const { return open_; }
  Status Begin() { return Run("BEGIN IMMEDIATE", true); }
  Status Commit() { return Run("COMMIT", false); }

 private:
  Status Run(const char* sql, bool open_after) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      return DbError(db_, std::string(sql));
    open_ = open_after;
    return Status::Ok();
  }
  sqlite3* db_;
  bool open_ = false;
};

// A segment read and parsed off the main thread: its rows ready to bind.
struct ParsedSegment {
  std::string error;  // the read failed: the message
  std::string body;
  struct Row {
    CatalogEntry entry;
    std::string cmd;    // CommandBlob
    size_t at, length;  // the line in `body`
  };
  std::vector<Row> rows;
  uint64_t bad_lines = 0;
};

ParsedSegment ParseSegment(Result<std::string>&& body) {
  ParsedSegment seg;
  if (!body.ok()) {
    seg.error = body.message();
    return seg;
  }
  seg.body = std::move(body.value());
  std::string_view rest = seg.body;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty()) continue;
    auto e = ParseSegmentLine(line);
    if (!e.ok()) {
      ++seg.bad_lines;
      continue;
    }
    std::string cmd = CommandBlob(*e);
    seg.rows.push_back({std::move(e.value()), std::move(cmd),
                        static_cast<size_t>(line.data() - seg.body.data()), line.size()});
  }
  return seg;
}

// A screen segment read and parsed off the main thread.
struct ParsedScreenSegment {
  std::string error;
  std::vector<ScreenSegmentEntry> entries;
  uint64_t bad_lines = 0;
};

ParsedScreenSegment ParseScreenSegment(Result<std::string>&& body) {
  ParsedScreenSegment seg;
  if (!body.ok()) {
    seg.error = body.message();
    return seg;
  }
  std::string_view rest = *body;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    std::string_view line = rest.substr(0, nl);
    rest.remove_prefix(nl == std::string_view::npos ? rest.size() : nl + 1);
    if (line.empty()) continue;
    auto e = ParseScreenSegmentLine(line);
    if (e.ok())
      seg.entries.push_back(std::move(e.value()));
    else
      ++seg.bad_lines;
  }
  return seg;
}

// Reads `keys` with parallel readers and hands what `prepare` made of each (in the reader's
// thread, with the reader's store) to `use` (in the caller's), in the keys' order, at most a
// few objects ahead. The readers are stores from `open_store` (S3: 8, a local archive: 2);
// without an opener, or when it fails, the caller's thread reads through `store`. Stops at the
// first error `use` returns.
template <class T>
Status FetchInOrder(Store& store, const StoreOpener& open_store,
                    const std::vector<std::string>& keys,
                    const std::function<T(Store&, const std::string&)>& prepare,
                    const std::function<Status(T&&)>& use) {
  if (keys.empty()) return Status::Ok();
  const size_t want = std::min<size_t>(keys.size(), store.Remote() ? 8 : 2);
  std::vector<std::unique_ptr<Store>> owned;
  std::vector<Store*> readers;
  for (size_t i = 0; open_store && i < want; ++i) {
    auto s = open_store();
    if (!s.ok()) break;
    owned.push_back(std::move(s.value()));
    readers.push_back(owned.back().get());
  }
  if (readers.empty()) {  // `store` is the caller's: read in its thread, one at a time
    for (const auto& key : keys)
      if (Status s = use(prepare(store, key)); !s) return s;
    return Status::Ok();
  }
  const size_t window = readers.size() * 2;
  std::vector<std::optional<T>> slots(keys.size());
  std::mutex mu;
  std::condition_variable cv;
  size_t next = 0, consumed = 0;
  bool stop = false;
  auto reader = [&](Store* s) {
    for (;;) {
      size_t i;
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return stop || next >= keys.size() || next < consumed + window; });
        if (stop || next >= keys.size()) return;
        i = next++;
      }
      T made = prepare(*s, keys[i]);
      std::lock_guard<std::mutex> lock(mu);
      slots[i] = std::move(made);
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (Store* s : readers) threads.emplace_back(reader, s);
  Status result;
  for (size_t i = 0; i < keys.size() && result; ++i) {
    std::optional<T> item;
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return slots[i].has_value(); });
      item = std::move(slots[i]);
      slots[i].reset();
      consumed = i + 1;
      cv.notify_all();
    }
    result = use(std::move(*item));
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    stop = true;
    cv.notify_all();
  }
  for (auto& t : threads) t.join();
  return result;
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
  bool unreadable = false;
  auto c = OpenOnce(path, store_url, unreadable);
  if (c.ok() || !unreadable) return c;
  // The cache is derived data: one SQLite cannot read (a machine crash with synchronous=OFF,
  // a stray file) is thrown away and filled again from the store.
  for (const char* suffix : {"", "-wal", "-shm"})
    if (unlink((path + suffix).c_str()) != 0 && errno != ENOENT)
      return SysError("unlink", path + suffix, errno);
  return OpenOnce(path, store_url, unreadable);
}

Result<std::unique_ptr<Catalog>> Catalog::OpenOnce(const std::string& path,
                                                   const std::string& store_url, bool& unreadable) {
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
  auto failed = [&](const Status& s) {
    int code = sqlite3_errcode(db);
    unreadable = code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
    return Error{path + ": " + s.message()};
  };
  if (Status s = c->Exec(kPragmas); !s) return failed(s);
  if (Status s = c->Exec(kSchema); !s) return failed(s);
  std::map<std::string, std::string> meta;
  {
    Stmt q(db, "SELECT k, v FROM meta");
    while (q.Step() == SQLITE_ROW) meta[q.ColumnText(0)] = q.ColumnText(1);
  }
  if (meta["schema"] != kSchemaVersion || meta["store"] != store_url) {
    // Dropped rather than emptied: a table of an older schema may differ in more than rows.
    if (Status s = c->Exec("BEGIN IMMEDIATE; DROP TABLE IF EXISTS sessions; "
                           "DROP TABLE IF EXISTS segments; DROP TABLE IF EXISTS meta; "
                           "DROP TABLE IF EXISTS screen_seen; DROP TABLE IF EXISTS screen;");
        !s)
      return Error{s.message()};
    if (Status s = c->Exec(kSchema); !s) return Error{path + ": " + s.message()};
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

Result<SyncProgress> Catalog::Sync(Store& store, const ProgressFn& progress,
                                   const StoreOpener& open_store) {
  SyncProgress p;
  auto listed = ListNewSegments(store, kSegmentPrefix, "watermark_ms", p);
  if (!listed.ok()) return listed.error();
  if (progress) progress(p);
  int64_t watermark = listed->watermark;
  const std::vector<std::string>& todo = listed->keys;
  const std::vector<int64_t>& todo_ms = listed->ms;

  Stmt put(db_,
           "INSERT OR REPLACE INTO sessions(id, start_ns, end_ns, node, namespace, pod, container, "
           "container_id, image, user, uid, state, exit_code, escalated, cmd, line) VALUES "
           "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)");
  Stmt done(db_, "INSERT OR IGNORE INTO segments(key, ms, lines) VALUES (?1, ?2, ?3)");
  Stmt mark(db_, "INSERT OR REPLACE INTO meta(k, v) VALUES ('watermark_ms', ?1)");
  if (!put.ok() || !done.ok() || !mark.ok()) return DbError(db_, "prepare");
  // A node whose clock runs ahead must not move the mark past what others are still writing.
  const int64_t now_ms = RealtimeNanos() / 1000000;
  // Filling an empty cache: the index on start goes and is built once at the end, which costs
  // far less than keeping it in order row by row (Open builds it again if this one dies).
  auto count = Count();
  if (!count.ok()) return count.error();
  const bool bulk = *count == 0 && !todo.empty();
  if (bulk)
    if (Status s = Exec("DROP INDEX IF EXISTS sessions_by_start"); !s) return Error{s.message()};
  Transaction tx(db_);
  auto commit = [&]() -> Status {
    if (!tx.open()) return Status::Ok();
    mark.Text(1, std::to_string(std::min(watermark, now_ms)));
    if (mark.Step() != SQLITE_DONE) return DbError(db_, "mark");
    mark.Reset();
    return tx.Commit();
  };
  size_t in_tx = 0, at = 0;
  Status fetched = FetchInOrder<ParsedSegment>(
      store, open_store, todo,
      [](Store& s, const std::string& key) { return ParseSegment(s.Get(key)); },
      [&](ParsedSegment&& seg) -> Status {
        const std::string& key = todo[at];
        const int64_t ms = todo_ms[at++];
        if (!seg.error.empty()) return Error{store.Url() + "/" + key + ": " + seg.error};
        if (!tx.open())
          if (Status s = tx.Begin(); !s) return s;
        for (const auto& r : seg.rows) {
          const SessionMeta& m = r.entry.meta;
          put.TextRef(1, m.id).Int(2, m.start_ns).Int(3, m.end_ns).TextRef(4, m.node);
          put.TextRef(5, m.k8s_namespace).TextRef(6, m.pod).TextRef(7, m.container);
          put.TextRef(8, m.container_id).TextRef(9, m.image).TextRef(10, m.user).Int(11, m.uid);
          put.TextRef(12, m.state).Int(13, m.exit_code).Int(14, r.entry.escalated ? 1 : 0);
          sqlite3_bind_blob(put.get(), 15, r.cmd.data(), static_cast<int>(r.cmd.size()),
                            SQLITE_STATIC);
          put.TextRef(16, std::string_view(seg.body).substr(r.at, r.length));
          if (put.Step() != SQLITE_DONE) return DbError(db_, "insert " + m.id);
          put.Reset();
        }
        done.Text(1, key).Int(2, ms).Int(3, static_cast<int64_t>(seg.rows.size()));
        if (done.Step() != SQLITE_DONE) return DbError(db_, "segment " + key);
        done.Reset();
        watermark = std::max(watermark, ms);
        ++p.segments_read;
        p.sessions_indexed += seg.rows.size();
        p.bad_lines += seg.bad_lines;
        if (++in_tx >= kSegmentsPerTransaction) {
          in_tx = 0;
          if (Status s = commit(); !s) return s;
        }
        if (progress) progress(p);
        return Status::Ok();
      });
  // What was read before a failure stays: the next sync goes on from there.
  if (!fetched) {
    (void)commit();
    if (bulk) (void)Exec(kStartIndex);
    return Error{fetched.message()};
  }
  if (watermark >= 0 && !tx.open())
    if (Status s = tx.Begin(); !s) return Error{s.message()};
  if (Status s = commit(); !s) return Error{s.message()};
  if (bulk)
    if (Status s = Exec(kStartIndex); !s) return Error{s.message()};
  p.done = true;
  if (progress) progress(p);
  return p;
}

Result<Catalog::NewSegments> Catalog::ListNewSegments(Store& store, std::string_view prefix,
                                                      const char* mark_key, SyncProgress& p) {
  NewSegments out;
  {
    Stmt q(db_, "SELECT v FROM meta WHERE k = ?1");
    q.Text(1, mark_key);
    if (q.Step() == SQLITE_ROW) out.watermark = std::atoll(q.ColumnText(0).c_str());
  }
  const int64_t from = out.watermark < 0 ? 0 : out.watermark - kSegmentGraceMs;
  auto keys =
      store.ListAfter(std::string(prefix), out.watermark < 0 ? "" : SegmentListStart(from, prefix));
  if (!keys.ok()) return Error{store.Url() + ": " + keys.message()};
  p.keys_listed += keys->size();
  std::unordered_set<std::string> known;
  {
    Stmt q(db_, "SELECT key FROM segments WHERE ms >= ?1 AND substr(key, 1, ?2) = ?3");
    if (!q.ok()) return DbError(db_, "segments");
    q.Int(1, from).Int(2, static_cast<int64_t>(prefix.size())).Text(3, prefix);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) known.insert(q.ColumnText(0));
    if (rc != SQLITE_DONE) return DbError(db_, "segments");
  }
  for (const auto& k : *keys) {
    auto ms = SegmentKeyMillis(k.key, prefix);
    if (!ms) continue;  // not a segment of ours
    if (known.count(k.key)) {
      out.watermark = std::max(out.watermark, *ms);
      continue;
    }
    if (k.size > kMaxSegmentBytes) {
      ++p.bad_lines;
      continue;
    }
    out.keys.push_back(k.key);
    out.ms.push_back(*ms);
  }
  return out;
}

Result<SyncProgress> Catalog::SyncScreenText(Store& store, const ProgressFn& progress,
                                             const StoreOpener& open_store) {
  SyncProgress p;
  auto listed = ListNewSegments(store, kScreenSegmentPrefix, "screen_watermark_ms", p);
  if (!listed.ok()) return listed.error();
  if (progress) progress(p);
  int64_t watermark = listed->watermark;
  Stmt seen(db_, "SELECT has FROM screen_seen WHERE id = ?1");
  Stmt put(db_, "INSERT INTO screen(id, text) VALUES (?1, ?2)");
  Stmt has(db_, "INSERT OR REPLACE INTO screen_seen(id, has) VALUES (?1, ?2)");
  Stmt done(db_, "INSERT OR IGNORE INTO segments(key, ms, lines) VALUES (?1, ?2, ?3)");
  Stmt mark(db_, "INSERT OR REPLACE INTO meta(k, v) VALUES ('screen_watermark_ms', ?1)");
  if (!seen.ok() || !put.ok() || !has.ok() || !done.ok() || !mark.ok())
    return DbError(db_, "prepare");
  const int64_t now_ms = RealtimeNanos() / 1000000;
  Transaction tx(db_);
  auto commit = [&]() -> Status {
    if (!tx.open()) return Status::Ok();
    mark.Text(1, std::to_string(std::min(watermark, now_ms)));
    if (mark.Step() != SQLITE_DONE) return DbError(db_, "mark");
    mark.Reset();
    return tx.Commit();
  };
  size_t at = 0, in_tx = 0;
  Status fetched = FetchInOrder<ParsedScreenSegment>(
      store, open_store, listed->keys,
      [](Store& s, const std::string& key) { return ParseScreenSegment(s.Get(key)); },
      [&](ParsedScreenSegment&& seg) -> Status {
        const std::string& key = listed->keys[at];
        const int64_t ms = listed->ms[at++];
        if (!seg.error.empty()) return Error{store.Url() + "/" + key + ": " + seg.error};
        if (!tx.open())
          if (Status s = tx.Begin(); !s) return s;
        for (const auto& e : seg.entries) {
          // A session's screen text never changes: one read twice (a second segment) is kept
          // once. Only a text where none was known before is taken.
          seen.Text(1, e.id);
          bool known = seen.Step() == SQLITE_ROW && (sqlite3_column_int(seen.get(), 0) || !e.text);
          seen.Reset();
          if (known) continue;
          if (e.text) {
            put.Text(1, e.id).Text(2, *e.text);
            if (put.Step() != SQLITE_DONE) return DbError(db_, "screen " + e.id);
            put.Reset();
          }
          has.Text(1, e.id).Int(2, e.text ? 1 : 0);
          if (has.Step() != SQLITE_DONE) return DbError(db_, "screen " + e.id);
          has.Reset();
        }
        done.Text(1, key).Int(2, ms).Int(3, static_cast<int64_t>(seg.entries.size()));
        if (done.Step() != SQLITE_DONE) return DbError(db_, "segment " + key);
        done.Reset();
        watermark = std::max(watermark, ms);
        ++p.segments_read;
        p.sessions_indexed += seg.entries.size();
        p.bad_lines += seg.bad_lines;
        if (++in_tx >= kSegmentsPerTransaction) {
          in_tx = 0;
          if (Status s = commit(); !s) return s;
        }
        if (progress) progress(p);
        return Status::Ok();
      });
  if (!fetched) {
    (void)commit();
    return Error{fetched.message()};
  }
  if (watermark >= 0 && !tx.open())
    if (Status s = tx.Begin(); !s) return Error{s.message()};
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
  // With --limit, the index on start gives the newest rows first and stops early; without,
  // every row is looked at anyway, and reading the table in its order, then sorting what
  // passed, beats reading it in the index's (`+ 0` keeps the index out of the ORDER BY only).
  if (f.limit)
    sql += " ORDER BY start_ns DESC, id DESC LIMIT " + std::to_string(f.limit);
  else
    sql += " ORDER BY start_ns + 0 DESC, id DESC";
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

Result<std::optional<std::string>> FetchScreenText(Store& store, const std::string& cast_key,
                                                   uint64_t max_bytes) {
  const std::string key = ScreenTextKeyFor(cast_key);
  auto body = store.Get(key, 0, max_bytes);
  if (body.ok()) return std::optional<std::string>(std::move(body.value()));
  auto size = store.Size(key);
  if (!size.ok()) return size.error();
  if (!*size) return std::optional<std::string>();
  if (**size == 0) return std::optional<std::string>(std::string());  // S3: no range of nothing
  return Error{store.Url() + "/" + key + ": " + body.message()};
}

bool AnyLineMatches(std::string_view text, const std::regex& re) {
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    if (std::regex_search(line.begin(), line.end(), re)) return true;
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  }
  return false;
}

Result<uint64_t> Catalog::FillScreenText(
    Store& store, const std::vector<std::pair<std::string, std::string>>& sessions) {
  Stmt seen(db_, "SELECT 1 FROM screen_seen WHERE id = ?1");
  Stmt mark(db_, "INSERT OR REPLACE INTO screen_seen(id, has) VALUES (?1, ?2)");
  Stmt drop(db_, "DELETE FROM screen WHERE id = ?1");
  Stmt put(db_, "INSERT INTO screen(id, text) VALUES (?1, ?2)");
  if (!seen.ok() || !mark.ok() || !drop.ok() || !put.ok()) return DbError(db_, "prepare");
  uint64_t read = 0;
  int in_tx = 0;
  for (const auto& [id, key] : sessions) {
    seen.Text(1, id);
    bool known = seen.Step() == SQLITE_ROW;
    seen.Reset();
    if (known) continue;
    auto text = FetchScreenText(store, key);
    if (!text.ok()) {
      if (in_tx) (void)Exec("COMMIT");
      return text.error();
    }
    ++read;
    if (in_tx == 0)
      if (Status s = Exec("BEGIN IMMEDIATE"); !s) return Error{s.message()};
    ++in_tx;
    drop.Text(1, id);
    if (drop.Step() != SQLITE_DONE) return DbError(db_, "screen " + id);
    drop.Reset();
    if (*text) {
      put.Text(1, id).Text(2, **text);
      if (put.Step() != SQLITE_DONE) return DbError(db_, "screen " + id);
      put.Reset();
    }
    mark.Text(1, id).Int(2, *text ? 1 : 0);
    if (mark.Step() != SQLITE_DONE) return DbError(db_, "screen " + id);
    mark.Reset();
    if (in_tx >= 500) {
      if (Status s = Exec("COMMIT"); !s) return Error{s.message()};
      in_tx = 0;
    }
  }
  if (in_tx)
    if (Status s = Exec("COMMIT"); !s) return Error{s.message()};
  return read;
}

Result<Catalog::TextMatches> Catalog::MatchScreenText(const std::vector<std::string>& ids,
                                                      const std::regex& re,
                                                      const std::string& literal) {
  auto array = IdArray(ids);
  if (!array.ok()) return array.error();
  TextMatches out;
  // A trigram index finds substrings of three characters or more (UTF-8: not bytes). Without
  // positions in the index (detail=none: smaller, and faster to fill), a substring is asked with
  // LIKE, which the index answers; its '%' and '_' in the literal, and its folding of ASCII
  // case, only let more rows through to the regular expression, never fewer.
  size_t chars = 0;
  for (char c : literal) chars += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  Stmt q(db_, chars < 3
                  ? "SELECT id, text FROM screen WHERE id IN (SELECT value FROM json_each(?1))"
                  : "SELECT id, text FROM screen WHERE text LIKE ?2 AND id IN "
                    "(SELECT value FROM json_each(?1))");
  if (!q.ok()) return DbError(db_, "query screen text");
  q.Text(1, *array);
  if (chars >= 3) q.Text(2, "%" + literal + "%");
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    const char* t = reinterpret_cast<const char*>(sqlite3_column_text(q.get(), 1));
    std::string_view text(t ? t : "",
                          t ? static_cast<size_t>(sqlite3_column_bytes(q.get(), 1)) : 0);
    if (AnyLineMatches(text, re)) out.matched.insert(q.ColumnText(0));
  }
  if (rc != SQLITE_DONE) return DbError(db_, "query screen text");
  Stmt none(db_,
            "SELECT id FROM screen_seen WHERE has = 0 AND id IN "
            "(SELECT value FROM json_each(?1))");
  if (!none.ok()) return DbError(db_, "query screen text");
  none.Text(1, *array);
  while ((rc = none.Step()) == SQLITE_ROW) out.without_text.insert(none.ColumnText(0));
  if (rc != SQLITE_DONE) return DbError(db_, "query screen text");
  return out;
}

namespace {

// A session whose screen text goes into a screen segment.
struct ScreenSource {
  std::string id, node, cast_key;
};

// Screen segments of `sessions` (in their order), each at most `max_bytes` (or one session's
// line), their texts read from beside each recording; their keys go into `written`.
Status WriteScreenSegments(Store& store, const StoreOpener& open_store,
                           const std::vector<ScreenSource>& sessions, size_t max_bytes,
                           std::set<std::string>& written) {
  std::vector<std::string> keys;
  for (const auto& s : sessions) keys.push_back(s.cast_key);
  PutOptions opts;
  opts.content_type = "application/x-ndjson";
  std::string body, first;
  auto put = [&]() -> Status {
    if (body.empty()) return Status::Ok();
    std::string key = SegmentKey(RealtimeNanos(), "reindex", first, kScreenSegmentPrefix);
    if (Status s = store.Put(key, body, opts); !s) return s;
    written.insert(key);
    body.clear();
    return Status::Ok();
  };
  size_t at = 0;
  Status fetched = FetchInOrder<Result<std::optional<std::string>>>(
      store, open_store, keys,
      [](Store& s, const std::string& cast_key) { return FetchScreenText(s, cast_key); },
      [&](Result<std::optional<std::string>>&& text) -> Status {
        const ScreenSource& src = sessions[at++];
        if (!text.ok()) return text.status();
        std::string line = ScreenSegmentLine(src.id, src.node, *text);
        if (!body.empty() && body.size() + line.size() + 1 > max_bytes)
          if (Status s = put(); !s) return s;
        if (body.empty()) first = src.id;
        body.append(line).push_back('\n');
        return Status::Ok();
      });
  if (!fetched) return fetched;
  return put();
}

}  // namespace

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
  std::vector<ScreenSource> screens;
  for (const auto& [id, line] : by_id) {
    auto e = ParseSegmentLine(line);
    if (e.ok()) screens.push_back({id, e->meta.node, e->key});
  }
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
  auto old_screens = store.List(std::string(kScreenSegmentPrefix));
  if (!old_screens.ok()) return Error{store.Url() + ": " + old_screens.message()};
  if (Status s = WriteScreenSegments(store, open_store, screens, kMaxScreenSegmentBytes, written);
      !s)
    return Error{s.message()};
  for (const auto& e : *old)
    if (SegmentKeyMillis(e.key) && !written.count(e.key))
      if (Status s = store.Delete(e.key); !s) return Error{s.message()};
  for (const auto& e : *old_screens)
    if (SegmentKeyMillis(e.key, kScreenSegmentPrefix) && !written.count(e.key))
      if (Status s = store.Delete(e.key); !s) return Error{s.message()};
  p.done = true;
  if (progress) progress(p);
  return p;
}

}  // namespace ttyaudit
