#include "uploader/uploader.h"

#include <fcntl.h>
#include <signal.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "base/files.h"
#include "base/host_info.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/json_read.h"
#include "base/printable.h"
#include "base/unique_fd.h"
#include "config/trust.h"
#include "record/asciicast.h"
#include "record/chain.h"
#include "record/session_meta_read.h"
#include "record/spool_writer.h"
#include "store/keys.h"
#include "uploader/screen_files.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

namespace {

constexpr uint64_t kMaxLiveChunk = 32ULL << 20;
constexpr double kTick = 0.2;           // seconds between spool scans
constexpr double kStatusEvery = 2.0;    // seconds between status file writes
constexpr double kCapWarnEvery = 60.0;  // seconds between spool cap warnings
constexpr double kRetryLogEvery = 5.0;  // seconds between lines about retries

double MonoSeconds() { return MonotonicNanos() / 1e9; }

// The SessionMeta of a manifest ({"manifest_version":1,"session":{...},...}); a manifest that
// is a bare SessionMeta object also works.
Result<SessionMeta> MetaFromManifest(const std::string& manifest) {
  JsonObjectText text;
  if (auto st = text.Open(manifest, "manifest"); !st) return Error{st.message()};
  od::object& obj = text.object();
  od::value session;
  if (obj.find_field_unordered("session").get(session) == simdjson::SUCCESS) {
    od::object so;
    std::string_view raw;
    if (session.get_object().get(so) || so.raw_json().get(raw))
      return Error{"manifest: \"session\" is not an object"};
    return ParseSessionMeta(std::string(raw));
  }
  return ParseSessionMeta(manifest);
}

Result<std::string> FirstLine(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("open", path, errno);
  std::string line;
  char buf[8192];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path, errno);
    if (n == 0) break;
    std::string_view chunk(buf, static_cast<size_t>(n));
    size_t nl = chunk.find('\n');
    line.append(chunk.substr(0, nl));
    if (nl != std::string_view::npos) break;
    if (line.size() > (16 << 20)) return Error{"`" + path + "`: header line over 16 MiB"};
  }
  return line;
}

// The manifest of a session whose recorder died without sealing it.
Result<std::string> InterruptedManifest(const SpoolEntry& e) {
  auto header = FirstLine(e.cast_path);
  if (!header.ok()) return header.error();
  auto meta = SessionMetaFromHeader(*header);
  if (!meta.ok()) return Error{"`" + e.cast_path + "`: " + meta.message()};
  meta->state = "interrupted";
  meta->end_ns = e.mtime_ns;
  return "{\"manifest_version\":1,\"session\":" + meta->ToJson() +
         ",\"commands\":[],\"sealed_by\":\"ttyaudit-uploader\"}\n";
}

// The index entry: the manifest plus where the recording is, what it hashes to, and the key
// that signed the manifest once the recording's chain had been checked against it (search
// shows that as the session's evidence; `ttyaudit verify` checks it all again).
Result<std::string> IndexEntry(const std::string& manifest, const std::string& cast_key,
                               const std::string& cast_path, const std::string& signed_by) {
  UniqueFd fd(open(cast_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("open", cast_path, errno);
  Digest sha(Digest::kSha256);
  uint64_t size = 0;
  std::string buf(1 << 20, '\0');
  for (;;) {
    ssize_t n = read(fd.get(), buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", cast_path, errno);
    if (n == 0) break;
    sha.Update(std::string_view(buf.data(), static_cast<size_t>(n)));
    size += static_cast<uint64_t>(n);
  }
  std::string m = manifest;
  while (!m.empty() && std::isspace(static_cast<unsigned char>(m.back()))) m.pop_back();
  if (m.empty() || m.back() != '}') return Error{"manifest: does not end with '}'"};
  m.pop_back();
  std::string extra;
  AppendJsonString(extra, cast_key);
  m += ",\"key\":" + extra + ",\"cast_size\":" + std::to_string(size) + ",\"cast_sha256\":\"" +
       HexEncode(sha.Final()) + "\",\"signed_by\":";
  AppendJsonString(m, signed_by);
  m += "}\n";
  return m;
}

// Through an outage every request retries with backoff: one line per backoff step, with its
// error, at most one every kRetryLogEvery seconds (with a count of the steps not shown).
std::function<void(int, double, const std::string&)> RetryLogger(LogSink log, int max_attempts) {
  struct Limit {
    std::mutex mu;
    double last = -1e9;
    uint64_t unshown = 0;
  };
  auto limit = std::make_shared<Limit>();
  return [log = std::move(log), max_attempts, limit](int attempt, double wait_s,
                                                     const std::string& error) {
    uint64_t unshown;
    {
      std::lock_guard<std::mutex> lock(limit->mu);
      double now = MonoSeconds();
      if (now - limit->last < kRetryLogEvery) {
        ++limit->unshown;
        return;
      }
      limit->last = now;
      unshown = std::exchange(limit->unshown, 0);
    }
    char wait[32];
    std::snprintf(wait, sizeof wait, "%.1f", wait_s);
    log(LogLevel::kWarning,
        "store unreachable or failing, retrying in " + std::string(wait) + " s (attempt " +
            std::to_string(attempt) + " of " + std::to_string(max_attempts) + "): " + error +
            (unshown ? " (" + std::to_string(unshown) + " more retries since the last line)" : ""));
  };
}

}  // namespace

Uploader::Uploader(UploaderOptions opts, LogSink log)
    : opts_(std::move(opts)), log_(std::move(log)) {}

UploaderStats Uploader::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

PutOptions Uploader::SealedPutOptions(const std::string& content_type) const {
  PutOptions o;
  o.content_type = content_type;
  const auto& lock = opts_.config.s3.object_lock;
  if (!lock.mode.empty() && lock.days > 0) {
    o.object_lock_mode = lock.mode;
    o.object_lock_retain_until =
        FormatRfc3339(RealtimeNanos() + static_cast<int64_t>(lock.days) * 86400 * 1000000000LL);
  }
  return o;
}

Status Uploader::Run(const std::atomic<bool>& stop, const std::function<void()>& on_ready) {
  const std::string url = opts_.store_url.empty() ? opts_.config.StoreUrl() : opts_.store_url;
  S3RetryPolicy retry = opts_.retry;
  if (!retry.on_retry) retry.on_retry = RetryLogger(log_, retry.max_attempts);
  if (Status s = EnsurePrivateDir(opts_.config.spool_dir, "spool_dir"); !s) return s;
  if (url.rfind("file://", 0) == 0)
    if (Status s = EnsurePrivateDir(url.substr(7), "archive"); !s) return s;
  auto key = NodeKey::LoadOrCreate(opts_.config.NodeKeyPath(), NodeName(opts_.config.node_name));
  if (!key.ok()) return Error{"cannot sign sessions: " + key.message()};
  key_ = std::make_unique<NodeKey>(std::move(key.value()));
  std::vector<std::unique_ptr<Store>> stores;
  for (int i = 0; i < std::max(1, opts_.jobs); ++i) {
    auto s = OpenStore(opts_.config, url, retry);
    if (!s.ok()) return s.status();
    stores.push_back(std::move(s.value()));
  }
  remote_ = stores[0]->Remote();
  {
    // One try now, so that a node with nothing to ship has its key where `verify` and `doctor`
    // look; through an outage the retries (and their log lines) are the sessions' own, and the
    // key goes up before the first signature.
    S3RetryPolicy once = retry;
    once.max_attempts = 1;
    once.on_retry = nullptr;
    auto key_store = OpenStore(opts_.config, url, once);
    Status s = key_store.ok() ? PublishKey(**key_store) : key_store.status();
    if (!s)
      Log(LogLevel::kWarning,
          "publishing the node key: " + s.message() + " (tried again before the next signature)");
  }
  segments_ = std::make_unique<SegmentJournal>(opts_.config.spool_dir);
  screen_segments_ =
      std::make_unique<SegmentJournal>(opts_.config.spool_dir, 60, 5000, SegmentKind::kScreen);
  auto segment_store = OpenStore(opts_.config, url, opts_.retry);
  if (!segment_store.ok()) return segment_store.status();
  // The screen segment first: a reader that finds a session in an index segment then mostly
  // finds its text too, rather than reading the session's own screen text object.
  auto flush_segments = [&](bool force) {
    Status screen = screen_segments_->Flush(**segment_store, force);
    if (!screen) Log(LogLevel::kError, "screen segment: " + screen.message());
    Status s = segments_->Flush(**segment_store, force);
    if (!s) Log(LogLevel::kError, "index segment: " + s.message());
    return s ? screen : s;
  };
  Log(LogLevel::kInfo, "uploading " + opts_.config.spool_dir + " to " + stores[0]->Url() +
                           " with " + std::to_string(stores.size()) + " workers" +
                           (opts_.once ? " (once)" : ""));

  std::vector<std::thread> workers;
  for (auto& s : stores) workers.emplace_back([this, &s] { Worker(*s); });

  bool first_pass = true;
  double last_status = -1e9, last_cap_warn = -1e9, last_tidy = -1e9;
  for (;;) {
    double now = MonoSeconds();
    uint64_t spool_bytes = 0;
    auto spool = ScanSpool(opts_.config.spool_dir, &spool_bytes);
    if (!spool.ok()) {
      Log(LogLevel::kError, spool.message());
    } else {
      if (spool_bytes > opts_.config.spool_max_bytes && now - last_cap_warn >= kCapWarnEvery) {
        Log(LogLevel::kError,
            "spool " + opts_.config.spool_dir + " holds " + std::to_string(spool_bytes) +
                " bytes, over spool_max_bytes " + std::to_string(opts_.config.spool_max_bytes) +
                ": the store is not keeping up or unreachable; recorders apply their "
                "fail_closed policy");
        last_cap_warn = now;
      }
      Schedule(*spool, now, first_pass);
      (void)flush_segments(false);
      if (now - last_tidy >= 10) {
        CleanOrphanStates(opts_.config.spool_dir);
        last_tidy = now;
      }
      if (now - last_status >= kStatusEvery) {
        WriteStatus(spool_bytes, spool->size());
        last_status = now;
      }
    }
    if (first_pass && on_ready) on_ready();
    first_pass = false;
    std::unique_lock<std::mutex> lock(mu_);
    if (opts_.once) {
      // A long pass still writes its segments as they fall due: a screen journal refuses
      // lines at twice its bound.
      while (!cv_.wait_for(lock, std::chrono::duration<double>(kTick),
                           [&] { return busy_ == 0 || stop.load(); })) {
        lock.unlock();
        (void)flush_segments(false);
        lock.lock();
      }
      break;
    }
    cv_.wait_for(lock, std::chrono::duration<double>(kTick), [&] { return stop.load(); });
    if (stop.load()) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    busy_ -= static_cast<int>(queue_.size());
    queue_.clear();
  }
  cv_.notify_all();
  for (auto& t : workers) t.join();
  Status flushed = flush_segments(true);
  uint64_t spool_bytes = 0;
  auto spool = ScanSpool(opts_.config.spool_dir, &spool_bytes);
  WriteStatus(spool_bytes, spool.ok() ? spool->size() : 0);
  if (opts_.once && failed_once_ > 0)
    return Error{std::to_string(failed_once_) +
                 " session(s) could not be uploaded; last: " + stats_.last_error};
  if (opts_.once && !flushed) return Error{"index segment: " + flushed.message()};
  return Status::Ok();
}

void Uploader::Schedule(const std::vector<SpoolEntry>& spool, double now, bool first_pass) {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<std::string, Sched> kept;
  for (const auto& e : spool) {
    Sched& s = sched_[e.id];
    kept[e.id] = s;
    if (s.busy || now < s.next_due || stopping_) continue;
    JobKind kind;
    if (e.sealed) {
      kind = JobKind::kSeal;
    } else {
      bool locked = RecorderHoldsLock(e.cast_path);
      double idle = (RealtimeNanos() - e.mtime_ns) / 1e9;
      if (!locked && idle >= opts_.interrupted_after_s)
        kind = JobKind::kSeal;
      else if (remote_)
        kind = JobKind::kLive;
      else
        continue;
    }
    kept[e.id].busy = true;
    ++busy_;
    queue_.push_back(Job{e, kind});
  }
  // Forget sessions that left the spool, unless a worker still has them.
  for (auto& [id, s] : sched_)
    if (s.busy && !kept.count(id)) kept[id] = s;
  sched_ = std::move(kept);
  (void)first_pass;
  cv_.notify_all();
}

void Uploader::Worker(Store& store) {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    double start = MonoSeconds();
    // A scan from before the last job on this session finished may list it once more.
    struct stat gone;
    Status st = stat(job.entry.cast_path.c_str(), &gone) != 0 && errno == ENOENT ? Status::Ok()
                : job.kind == JobKind::kLive ? DoLive(store, job.entry)
                                             : DoSeal(store, job.entry);
    {
      std::lock_guard<std::mutex> lock(mu_);
      Sched& s = sched_[job.entry.id];
      s.busy = false;
      --busy_;
      if (st) {
        s.failures = 0;
        s.next_due = job.kind == JobKind::kLive ? start + opts_.config.live_interval_s : 0;
      } else {
        ++s.failures;
        s.next_due = MonoSeconds() + std::min(60.0, 0.5 * std::pow(2.0, s.failures));
        ++stats_.errors;
        ++failed_once_;
        stats_.last_error = st.message();
      }
    }
    cv_.notify_all();
    if (!st) Log(LogLevel::kError, "session " + job.entry.id + ": " + st.message());
  }
}

Status Uploader::DoLive(Store& store, const SpoolEntry& e) {
  struct stat st;
  const bool had_state = stat(e.state_path.c_str(), &st) == 0;
  auto state = LoadUploadState(e.state_path);
  if (!state.ok()) return state.status();
  if (state->phase != UploadState::kLive) return Status::Ok();
  UniqueFd fd(open(e.cast_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno == ENOENT ? Status::Ok() : Status(SysError("open", e.cast_path, errno));
  if (fstat(fd.get(), &st) != 0) return SysError("stat", e.cast_path, errno);
  if (!S_ISREG(st.st_mode) || st.st_uid != geteuid()) {
    Quarantine(e, "`" + e.cast_path + "` is not a regular file owned by uid " +
                      std::to_string(geteuid()) + " as the recorder's files are");
    return Status::Ok();
  }
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  // The state file exists before the first chunk does, so that sealing a session without one
  // can skip looking for chunks.
  if (!had_state)
    if (Status s = SaveUploadState(e.state_path, *state); !s) return s;
  PutOptions chunk_opts;
  chunk_opts.content_type = "application/x-asciicast";
  std::string buf;
  while (state->live_offset < size) {
    buf.resize(std::min<uint64_t>(kMaxLiveChunk, size - state->live_offset));
    ssize_t n = pread(fd.get(), buf.data(), buf.size(), static_cast<off_t>(state->live_offset));
    if (n < 0) return SysError("read", e.cast_path, errno);
    size_t whole = WholeLines(std::string_view(buf.data(), static_cast<size_t>(n)));
    if (whole == 0) break;
    std::string_view chunk(buf.data(), whole);
    if (Status s = store.Put(LiveChunkKey(e.id, state->live_seq), chunk, chunk_opts); !s) return s;
    state->live_offset += whole;
    ++state->live_seq;
    if (Status s = SaveUploadState(e.state_path, *state); !s) return s;
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.live_chunks;
    stats_.bytes_sent += whole;
  }
  return Status::Ok();
}

Status Uploader::PublishKey(Store& store) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (key_published_) return Status::Ok();
  }
  const PublicKey& pub = key_->public_key();
  if (Status s = store.Put(PublicKeyObjectKey(pub), PublicKeyLine(pub)); !s) return s;
  std::lock_guard<std::mutex> lock(mu_);
  if (!key_published_)
    Log(LogLevel::kInfo, "node key " + pub.key_id + " is published at " + store.Url() + "/" +
                             PublicKeyObjectKey(pub));
  key_published_ = true;
  return Status::Ok();
}

std::string Uploader::Distrust(const SpoolEntry& e, std::string& manifest) const {
  for (const std::string& path : {e.cast_path, e.sealed ? e.manifest_path : std::string()}) {
    if (path.empty()) continue;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) return "`" + path + "`: " + std::strerror(errno);
    if (!S_ISREG(st.st_mode)) return "`" + path + "` is not a regular file";
    if (st.st_uid != geteuid())
      return "`" + path + "` is owned by uid " + std::to_string(st.st_uid) + ", not by uid " +
             std::to_string(geteuid()) + " as the recorder's files are";
    if (st.st_nlink != 1) return "`" + path + "` has other hard links";
  }
  auto check = CheckCastFile(e.cast_path, e.id, false);
  if (!check.ok()) return check.message();
  if (!e.sealed) {  // the uploader seals it: the chain as found is the manifest's
    if (!check->chain_ok) return "the recording's hash chain is broken: " + check->problem;
    while (!manifest.empty() && manifest.back() == '\n') manifest.pop_back();
    if (manifest.empty() || manifest.back() != '}') return "the manifest made for it is not JSON";
    manifest.pop_back();
    manifest += "," + ChainManifestMember(*check) + "}\n";
    return "";
  }
  auto claimed = ReadManifestChain(manifest);
  if (!claimed.ok()) return claimed.message();
  std::string diff = CompareChain(*check, *claimed);
  if (!diff.empty()) return "the recording does not match its manifest: " + diff;
  return "";
}

void Uploader::Quarantine(const SpoolEntry& e, const std::string& why) {
  const std::string dir = SpoolQuarantineDir(opts_.config.spool_dir);
  if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
    Log(LogLevel::kError, "mkdir `" + dir + "`: " + std::strerror(errno));
  for (const std::string& path : {e.cast_path, e.manifest_path, e.state_path}) {
    std::string to = dir + "/" + path.substr(path.rfind('/') + 1);
    if (Status s = ReleaseImmutable(path); !s) Log(LogLevel::kError, s.message());
    if (rename(path.c_str(), to.c_str()) != 0 && errno != ENOENT)
      Log(LogLevel::kError, "rename `" + path + "` to `" + to + "`: " + std::strerror(errno));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.quarantined;
    ++stats_.errors;
    stats_.last_error = "session " + EscapeControlChars(e.id) + " quarantined: " + why;
  }
  Log(LogLevel::kError, "QUARANTINED session " + EscapeControlChars(e.id) + ", not uploaded: " +
                            why + "; its files are in " + dir + " for inspection");
}

Status Uploader::DoSeal(Store& store, const SpoolEntry& e) {
  struct stat st;
  const bool had_state = stat(e.state_path.c_str(), &st) == 0;
  auto loaded = LoadUploadState(e.state_path);
  if (!loaded.ok()) return loaded.status();
  UploadState state = std::move(loaded.value());
  auto manifest = e.sealed ? ReadFile(e.manifest_path) : InterruptedManifest(e);
  if (!manifest.ok()) return manifest.status();
  if (std::string why = Distrust(e, *manifest); !why.empty()) {
    Quarantine(e, why);
    return Status::Ok();
  }
  auto meta = MetaFromManifest(*manifest);
  if (!meta.ok()) return Error{"`" + e.manifest_path + "`: " + meta.message()};
  if (meta->id.empty()) meta->id = e.id;
  if (meta->id != e.id)
    return Error{"`" + e.manifest_path + "`: session id `" + meta->id + "` is not the file's name"};
  const std::string cast_key = SessionKey(*meta);
  const std::string manifest_key = SessionManifestKey(*meta);
  const std::string index_key = IndexKey(*meta);
  auto save = [&]() { return SaveUploadState(e.state_path, state); };
  auto stopping = [&]() {
    std::lock_guard<std::mutex> lock(mu_);
    return stopping_;
  };

  if (state.phase <= UploadState::kCast) {
    state.phase = UploadState::kCast;
    PutFileOptions o;
    o.put = SealedPutOptions("application/x-asciicast");
    o.progress = &state.cast_upload;
    Status saved;
    o.on_progress = [&] {
      if (Status s = save(); !s) saved = s;
    };
    if (Status s = store.PutFile(cast_key, e.cast_path, o); !s) return s;
    if (!saved) return saved;
    state.phase = UploadState::kManifest;
    state.cast_upload = UploadProgress{};
    if (Status s = save(); !s) return s;
    std::lock_guard<std::mutex> lock(mu_);
    stats_.bytes_sent += e.cast_size;
  }
  if (stopping()) return Status::Ok();  // the rest resumes from the state file
  if (state.phase == UploadState::kManifest) {
    if (Status s = ShipScreenFiles(store, opts_.config.spool_dir, e, *manifest, cast_key,
                                   [this](LogLevel l, std::string_view m) { Log(l, m); });
        !s)
      return s;
    if (Status s = store.Put(manifest_key, *manifest, SealedPutOptions("application/json")); !s)
      return s;
    if (Status s = PublishKey(store); !s) return s;  // before anything it signs
    auto sig = key_->SignManifest(*manifest);
    if (!sig.ok()) return sig.status();
    if (Status s = store.Put(SignatureKeyFor(cast_key), *sig, SealedPutOptions("application/json"));
        !s)
      return s;
    state.phase = UploadState::kIndex;
    if (Status s = save(); !s) return s;
  }
  if (stopping()) return Status::Ok();
  if (state.phase == UploadState::kIndex) {
    auto index = IndexEntry(*manifest, cast_key, e.cast_path, key_->public_key().key_id);
    if (!index.ok()) return index.status();
    if (Status s = store.Put(index_key, *index, SealedPutOptions("application/json")); !s) return s;
    auto added = segments_->Add(*index);
    if (!added.ok()) return added.status();
    if (!*added)
      Log(LogLevel::kWarning, "session " + e.id + ": not a catalog line; not in segments");
    if (Status s = JournalScreenText(*screen_segments_, opts_.config.spool_dir, e, meta->node); !s)
      return s;
    state.phase = UploadState::kCleanup;
    if (Status s = save(); !s) return s;
  }
  if (state.phase == UploadState::kCleanup) {
    if (store.Remote() && had_state) {
      auto chunks = store.List(LiveChunkPrefix(e.id));
      if (!chunks.ok()) return chunks.status();
      for (const auto& c : *chunks)
        if (Status s = store.Delete(c.key); !s) return s;
    }
    // The .cast goes first: a leftover manifest or state file without it is only litter
    // (CleanOrphans), whereas a .cast without its manifest would look interrupted.
    for (const std::string& path :
         {e.cast_path, e.manifest_path, SpoolScreenTextPath(opts_.config.spool_dir, e.id),
          SpoolKeyframesPath(opts_.config.spool_dir, e.id), e.state_path}) {
      if (Status s = ReleaseImmutable(path); !s) return s;
      if (unlink(path.c_str()) != 0 && errno != ENOENT) return SysError("unlink", path, errno);
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++stats_.sessions_sealed;
  }
  Log(LogLevel::kInfo, "session " + e.id + " (" + meta->state + ", " + std::to_string(e.cast_size) +
                           " bytes) is in " + store.Url() + "/" + cast_key);
  return Status::Ok();
}

void Uploader::WriteStatus(uint64_t spool_bytes, size_t sessions) {
  struct stat st;
  if (stat(opts_.config.spool_dir.c_str(), &st) != 0) return;
  UploaderStats s = stats();
  JsonWriter w;
  w.BeginObject();
  w.Key("pid").Int(getpid());
  w.Key("updated").String(FormatRfc3339(RealtimeNanos()));
  w.Key("store").String(opts_.store_url.empty() ? opts_.config.StoreUrl() : opts_.store_url);
  w.Key("spool_sessions").Uint(sessions);
  w.Key("spool_bytes").Uint(spool_bytes);
  w.Key("spool_max_bytes").Uint(opts_.config.spool_max_bytes);
  w.Key("over_cap").Bool(spool_bytes > opts_.config.spool_max_bytes);
  w.Key("sessions_sealed").Uint(s.sessions_sealed);
  w.Key("live_chunks").Uint(s.live_chunks);
  w.Key("bytes_sent").Uint(s.bytes_sent);
  w.Key("errors").Uint(s.errors);
  w.Key("quarantined").Uint(s.quarantined);
  w.Key("last_error").String(s.last_error);
  w.EndObject();
  const std::string path = SpoolUploaderStatusPath(opts_.config.spool_dir);
  if (Status st2 = ReplaceFile(path, w.str() + "\n", Durability::kFile); !st2)
    Log(LogLevel::kWarning, st2.message());
}

Result<std::string> UploaderStatusReport(const Config& cfg, bool json) {
  uint64_t spool_bytes = 0;
  auto spool = ScanSpool(cfg.spool_dir, &spool_bytes);
  if (!spool.ok()) return spool.error();
  std::string daemon;
  bool running = false;
  if (auto text = ReadFile(SpoolUploaderStatusPath(cfg.spool_dir), 1 << 20); text.ok()) {
    daemon = *text;
    while (!daemon.empty() && daemon.back() == '\n') daemon.pop_back();
    size_t at = daemon.find("\"pid\":");
    if (at != std::string::npos) {
      int pid = std::atoi(daemon.c_str() + at + 6);
      running = pid > 0 && (kill(pid, 0) == 0 || errno == EPERM);
    }
  }
  JsonWriter w;
  std::string text;
  uint64_t backlog = 0;
  w.BeginObject().Key("spool_dir").String(cfg.spool_dir).Key("sessions").BeginArray();
  for (const auto& e : *spool) {
    auto st = LoadUploadState(e.state_path);
    uint64_t live = st.ok() ? st->live_offset : 0;
    const char* state = e.sealed                         ? "sealed"
                        : RecorderHoldsLock(e.cast_path) ? "recording"
                                                         : "unlocked";
    const char* phase = st.ok() ? UploadPhaseName(st->phase) : "?";
    backlog += e.sealed ? e.cast_size : e.cast_size - std::min(e.cast_size, live);
    w.BeginObject().Key("id").String(e.id).Key("state").String(state);
    w.Key("bytes").Uint(e.cast_size).Key("live_bytes_sent").Uint(live);
    w.Key("phase").String(phase).EndObject();
    text += "  " + EscapeControlChars(e.id) + "  " + state + "  " + std::to_string(e.cast_size) +
            " bytes, " + std::to_string(live) + " sent live, phase " + phase + "\n";
  }
  w.EndArray();
  w.Key("spool_bytes").Uint(spool_bytes).Key("backlog_bytes").Uint(backlog);
  w.Key("spool_max_bytes").Uint(cfg.spool_max_bytes);
  w.Key("daemon_running").Bool(running);
  w.Key("daemon");
  if (daemon.empty())
    w.Null();
  else
    w.Raw(daemon);
  w.EndObject();
  if (json) return w.str() + "\n";
  std::string head = "spool " + cfg.spool_dir + ": " + std::to_string(spool->size()) +
                     " session(s), " + std::to_string(spool_bytes) + " bytes (cap " +
                     std::to_string(cfg.spool_max_bytes) + "), backlog " + std::to_string(backlog) +
                     " bytes" + (spool_bytes > cfg.spool_max_bytes ? "  OVER CAP" : "") + "\n";
  head += std::string("uploader: ") + (running ? "running" : "not running") +
          (daemon.empty() ? "" : ", last status " + daemon) + "\n";
  return head + text;
}

}  // namespace ttyaudit
