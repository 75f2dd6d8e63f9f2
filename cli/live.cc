#include "cli/live.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <optional>
#include <thread>
#include <utility>

#include "base/ids.h"
#include "base/unique_fd.h"
#include "base/utf8.h"
#include "cli/sessions.h"
#include "record/asciicast.h"
#include "record/session_meta_read.h"
#include "record/spool.h"
#include "store/keys.h"

namespace ttyaudit {
namespace {

// How much one Poll reads at most before it hands back what it has.
constexpr uint64_t kReadPerPoll = 4ULL << 20;
// A sealed recording is read in ranges of this size.
constexpr uint64_t kRange = 1ULL << 20;
// While no chunk is new, the seal is looked for in the index every this many listings (the
// uploader removes the chunks once the session is sealed, which the listing shows at once;
// this catches chunks it could not remove).
constexpr int kIndexCheckEvery = 20;
// How many listings a follower whose chunks are gone waits for the sealed index entry.
constexpr int kSealWaits = 20;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

bool EndsWith(const std::string& s, std::string_view tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// One line of a session, numbered from its header (line 1).
struct NumberedLine {
  uint64_t number = 0;
  std::string text;
};

// Cuts bytes into lines, holding at most LiveFollower::kMaxLine of one line.
class LineSplitter {
 public:
  void Feed(std::string_view bytes, std::vector<NumberedLine>& out,
            std::vector<std::string>& warnings, const std::string& origin) {
    for (size_t nl; !bytes.empty(); bytes.remove_prefix(nl + 1)) {
      nl = bytes.find('\n');
      std::string_view part = bytes.substr(0, nl);
      if (!too_long_ && pending_.size() + part.size() > LiveFollower::kMaxLine) {
        too_long_ = true;
        std::string().swap(pending_);
      }
      if (!too_long_) pending_.append(part);
      if (nl == std::string_view::npos) break;
      ++line_;
      if (std::exchange(too_long_, false))
        warnings.push_back(origin + ": line " + std::to_string(line_) + ": longer than " +
                           std::to_string(LiveFollower::kMaxLine >> 20) + " MiB; skipped");
      else
        out.push_back({line_, std::move(pending_)});
      pending_.clear();
    }
  }
  // Drops a line begun and not ended (before bytes that start on a line of their own).
  void Reset(std::vector<std::string>& warnings, const std::string& origin) {
    if (Partial())
      warnings.push_back(origin + ": line " + std::to_string(line_ + 1) + " cut short");
    pending_.clear();
    too_long_ = false;
  }
  bool Partial() const { return !pending_.empty() || too_long_; }
  uint64_t lines() const { return line_; }

 private:
  std::string pending_;
  bool too_long_ = false;
  uint64_t line_ = 0;
};

}  // namespace

// Where a follower reads its session from.
class LiveSource {
 public:
  virtual ~LiveSource() = default;
  // Appends the new whole lines; waits up to `timeout_ms` when nothing is new.
  virtual Status Read(int timeout_ms, std::vector<NumberedLine>& lines) = 0;
  virtual bool Done() const = 0;

  std::string header;
  SessionMeta meta;
  std::string where;
  std::vector<std::string> warnings;
  std::vector<NumberedLine> early;  // lines read with the header

 protected:
  // Takes the header from the first line of `early`.
  Status TakeHeader(const std::string& origin) {
    if (early.empty() || early.front().number != 1)
      return Error{origin + ": no asciicast header line"};
    header = std::move(early.front().text);
    early.erase(early.begin());
    while (!header.empty() && header.back() == ' ') header.pop_back();  // the spool's padding
    auto m = SessionMetaFromHeader(header);
    if (!m.ok()) return Error{origin + ": " + m.message()};
    meta = std::move(m.value());
    return Status::Ok();
  }
};

namespace {

// A .cast file being written (the spool) or written (an archive): read as it grows, until its
// recorder lets go of the lock.
class FileSource : public LiveSource {
 public:
  static Result<std::unique_ptr<FileSource>> Open(const std::string& path, std::string where,
                                                  const LiveTiming& timing) {
    auto s = std::unique_ptr<FileSource>(new FileSource);
    s->path_ = path;
    s->where = std::move(where);
    s->interval_ms_ = std::max(10, timing.spool_poll_interval_ms);
    s->fd_.reset(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!s->fd_) return SysError("open", path, errno);
    s->inotify_.reset(inotify_init1(IN_NONBLOCK | IN_CLOEXEC));
    if (s->inotify_ &&
        inotify_add_watch(s->inotify_.get(), path.c_str(), IN_MODIFY | IN_CLOSE_WRITE) < 0)
      s->inotify_.reset();
    // The recorder writes the header as it creates the file; wait a moment for a whole one.
    for (int waited = 0; s->early.empty(); waited += s->interval_ms_) {
      uint64_t got = 0;
      if (Status st = s->ReadSome(s->early, got); !st) return Error{st.message()};
      if (!s->early.empty() || waited >= 2000 || (got == 0 && s->done_)) break;
      if (got == 0) s->Wait(s->interval_ms_);
    }
    if (Status st = s->TakeHeader(path); !st) return Error{st.message()};
    return s;
  }

  Status Read(int timeout_ms, std::vector<NumberedLine>& lines) override {
    const int64_t deadline = NowMs() + std::max(0, timeout_ms);
    for (;;) {
      uint64_t got = 0;
      if (Status st = ReadSome(lines, got); !st) return st;
      if (!lines.empty() || done_) return Status::Ok();
      int64_t left = deadline - NowMs();
      if (left <= 0) return Status::Ok();
      Wait(static_cast<int>(std::min<int64_t>(left, interval_ms_)));
    }
  }

  bool Done() const override { return done_; }

 private:
  FileSource() = default;

  // Reads what is there (up to kReadPerPoll); at its end, finishes when the recorder is gone.
  Status ReadSome(std::vector<NumberedLine>& lines, uint64_t& got) {
    char buf[65536];
    while (got < kReadPerPoll && !done_) {
      ssize_t n = read(fd_.get(), buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return SysError("read", path_, errno);
      if (n == 0) {
        if (RecorderHoldsLock(fd_.get())) break;
        n = read(fd_.get(), buf, sizeof buf);  // whatever it wrote last
        if (n < 0) return SysError("read", path_, errno);
        if (n == 0) {
          Finish();
          break;
        }
      }
      got += static_cast<uint64_t>(n);
      split_.Feed(std::string_view(buf, static_cast<size_t>(n)), lines, warnings, path_);
    }
    return Status::Ok();
  }

  // The header as the recorder left it says how the session ended.
  void Finish() {
    done_ = true;
    if (split_.Partial())
      warnings.push_back(path_ + ": ends in the middle of line " +
                         std::to_string(split_.lines() + 1) + ": the session is truncated there");
    if (header.empty()) return;
    std::string first(std::min<size_t>(LiveFollower::kMaxLine, header.size() + 65536), '\0');
    ssize_t n = pread(fd_.get(), first.data(), first.size(), 0);
    if (n <= 0) return;
    first.resize(static_cast<size_t>(n));
    first.resize(std::min(first.size(), first.find('\n')));
    auto m = SessionMetaFromHeader(first);
    if (!m.ok()) return;
    meta = std::move(m.value());
    if (meta.state == "recording") meta.state = "interrupted";
  }

  void Wait(int ms) {
    if (!inotify_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
      return;
    }
    pollfd p{inotify_.get(), POLLIN, 0};
    if (poll(&p, 1, ms) > 0) {
      char events[4096];
      while (read(inotify_.get(), events, sizeof events) > 0) {
      }
    }
  }

  std::string path_;
  UniqueFd fd_;
  UniqueFd inotify_;
  LineSplitter split_;
  int interval_ms_ = 100;
  bool done_ = false;
};

// A session in a store: its live chunks while the uploader ships them, then the rest of the
// sealed recording from where the chunks ended.
class StoreSource : public LiveSource {
 public:
  // Follows the live chunks of `id`, whose first chunk `first` holds the header.
  static Result<std::unique_ptr<StoreSource>> FromChunks(std::shared_ptr<Store> store,
                                                         const std::string& id,
                                                         const LiveTiming& timing) {
    auto s = std::unique_ptr<StoreSource>(new StoreSource(std::move(store), id, timing));
    auto listed = s->store_->ListAfter(LiveChunkPrefix(id), s->cursor_.ListStart());
    if (!listed.ok()) return Error{s->where + ": " + listed.message()};
    auto step = s->cursor_.Take(*listed);
    if (step.fetch.empty() || s->cursor_.SeqOf(step.fetch.front().key) != 0)
      return Error{"session " + id + ": its first live chunk is gone"};
    uint64_t read = 0;
    if (Status st = s->Fetch(step.fetch.front(), s->early, read); !st) return Error{st.message()};
    if (Status st = s->TakeHeader(s->where + "/" + step.fetch.front().key); !st)
      return Error{st.message()};
    s->next_list_ms_ = NowMs();  // the other chunks listed come at the first Poll
    return s;
  }

  // Reads the sealed recording at `key` from its start.
  static Result<std::unique_ptr<StoreSource>> FromSealed(std::shared_ptr<Store> store,
                                                         const SessionRecord& r,
                                                         const LiveTiming& timing) {
    auto s = std::unique_ptr<StoreSource>(new StoreSource(std::move(store), r.meta.id, timing));
    s->phase_ = kSealed;
    s->cast_key_ = r.key;
    while (s->early.empty() && s->phase_ == kSealed)
      if (Status st = s->ReadSealed(s->early); !st) return Error{st.message()};
    if (Status st = s->TakeHeader(s->where + "/" + r.key); !st) return Error{st.message()};
    s->meta = r.meta;  // the index entry's, with the end state
    return s;
  }

  Status Read(int timeout_ms, std::vector<NumberedLine>& lines) override {
    const int64_t deadline = NowMs() + std::max(0, timeout_ms);
    for (;;) {
      if (phase_ == kSealed) return ReadSealed(lines);
      if (phase_ == kDone) return Status::Ok();
      int64_t wait = next_list_ms_ - NowMs();
      if (wait > 0) {
        if (NowMs() + wait > deadline) {
          int64_t left = deadline - NowMs();
          if (left > 0) std::this_thread::sleep_for(std::chrono::milliseconds(left));
          return Status::Ok();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(wait));
      }
      if (Status st = ListOnce(lines); !st) return st;
      if (!lines.empty() || phase_ != kChunks || NowMs() >= deadline) return Status::Ok();
    }
  }

  bool Done() const override { return phase_ == kDone; }

 private:
  enum Phase { kChunks, kFindSeal, kSealed, kDone };

  StoreSource(std::shared_ptr<Store> store, const std::string& id, const LiveTiming& timing)
      : store_(std::move(store)), id_(id), cursor_(id) {
    where = store_->Url();
    interval_ms_ = std::max(50, timing.store_list_interval_ms);
  }

  // One listing of the live prefix, and the new chunks it shows.
  Status ListOnce(std::vector<NumberedLine>& lines) {
    next_list_ms_ = NowMs() + interval_ms_;
    if (phase_ == kFindSeal) return FindSeal();
    auto listed = store_->ListAfter(LiveChunkPrefix(id_), cursor_.ListStart());
    if (!listed.ok()) return Error{where + ": " + listed.message()};
    auto step = cursor_.Take(*listed);
    for (auto& w : step.warnings) warnings.push_back(where + ": " + w);
    uint64_t read = 0;
    for (const auto& e : step.fetch) {
      if (read >= kReadPerPoll) {
        next_list_ms_ = NowMs();  // more to read at once
        return Status::Ok();
      }
      if (Status st = Fetch(e, lines, read); !st) {
        // A chunk listed and gone since: the uploader is removing them, the session is sealed.
        auto size = store_->Size(e.key);
        if (size.ok() && !*size) {
          step.gone = true;
          break;
        }
        return st;
      }
    }
    if (step.gone) {
      phase_ = kFindSeal;
      return FindSeal();
    }
    if (!step.fetch.empty()) {
      idle_lists_ = 0;
    } else if (++idle_lists_ % kIndexCheckEvery == 0) {
      auto size = store_->Size(IndexKey(meta));
      if (size.ok() && *size) {
        phase_ = kFindSeal;
        return FindSeal();
      }
    }
    return Status::Ok();
  }

  // Reads one live chunk (unless it is too big) into lines.
  Status Fetch(const StoreEntry& e, std::vector<NumberedLine>& lines, uint64_t& read) {
    const std::string origin = where + "/" + e.key;
    // A chunk holds whole lines: what comes after a skipped or short one starts a line.
    split_.Reset(warnings, origin);
    if (e.size > LiveFollower::kMaxChunk) {
      warnings.push_back(origin + ": " + std::to_string(e.size) + " bytes, over the " +
                         std::to_string(LiveFollower::kMaxChunk >> 20) + " MiB a chunk may hold; " +
                         "skipped");
      cursor_.Consumed(e);
      return Status::Ok();
    }
    auto body = store_->Get(e.key);
    if (!body.ok()) return Error{origin + ": " + body.message()};
    if (body->size() > LiveFollower::kMaxChunk) return Error{origin + ": grew past its listing"};
    split_.Feed(*body, lines, warnings, origin);
    read += body->size();
    cursor_.Consumed(StoreEntry{e.key, body->size()});
    return Status::Ok();
  }

  // The chunks are gone: the session is sealed. Its index entry names the recording, which goes
  // on from where the chunks ended.
  Status FindSeal() {
    auto entry = store_->Get(IndexKey(meta));
    if (!entry.ok()) {
      if (++seal_waits_ < kSealWaits) return Status::Ok();  // the next listing looks again
      warnings.push_back(where + ": session " + id_ +
                         ": its live chunks are gone and no sealed recording is indexed; "
                         "its end is not known");
      meta.state = "interrupted";
      phase_ = kDone;
      return Status::Ok();
    }
    auto r = ParseIndexEntry(*entry, store_);
    if (!r.ok() || r->meta.id != id_) {
      warnings.push_back(where + "/" + IndexKey(meta) + ": " +
                         (r.ok() ? "names another session" : r.message()));
      phase_ = kDone;
      return Status::Ok();
    }
    meta = r->meta;
    cast_key_ = r->key;
    phase_ = kSealed;
    if (!cursor_.contiguous()) {
      warnings.push_back(where + ": session " + id_ +
                         ": a live chunk was missing; the rest of the recording is not shown");
      phase_ = kDone;
      return Status::Ok();
    }
    offset_ = cursor_.offset();
    // The recording must go on where the chunks ended: at the start of a line.
    if (offset_ > 0) {
      auto before = store_->Get(cast_key_, offset_ - 1, 1);
      if (!before.ok()) return Error{where + "/" + cast_key_ + ": " + before.message()};
      if (*before != "\n") {
        warnings.push_back(where + "/" + cast_key_ +
                           ": the sealed recording does not go on from its live chunks");
        phase_ = kDone;
      }
    }
    split_.Reset(warnings, where + "/" + cast_key_);
    return Status::Ok();
  }

  // Reads the sealed recording onwards from offset_, up to kReadPerPoll.
  Status ReadSealed(std::vector<NumberedLine>& lines) {
    const std::string origin = where + "/" + cast_key_;
    for (uint64_t read = 0; read < kReadPerPoll && phase_ == kSealed;) {
      auto part = store_->Get(cast_key_, offset_, kRange);
      if (!part.ok()) return Error{origin + ": " + part.message()};
      split_.Feed(*part, lines, warnings, origin);
      offset_ += part->size();
      read += part->size();
      if (part->size() < kRange) {
        if (split_.Partial())
          warnings.push_back(origin + ": ends in the middle of line " +
                             std::to_string(split_.lines() + 1) +
                             ": the session is truncated there");
        phase_ = kDone;
      }
    }
    return Status::Ok();
  }

  std::shared_ptr<Store> store_;
  std::string id_;
  LiveChunkCursor cursor_;
  LineSplitter split_;
  Phase phase_ = kChunks;
  std::string cast_key_;
  uint64_t offset_ = 0;  // in the sealed recording
  int64_t next_list_ms_ = 0;
  int interval_ms_ = 500;
  int idle_lists_ = 0;
  int seal_waits_ = 0;
};

bool IsCastPath(const std::string& s) {
  return s.find('/') != std::string::npos || EndsWith(s, ".cast");
}

// The spool's session whose id is or starts with `id`: its .cast path, empty when none is
// there (or the spool cannot be read), an error when the prefix is ambiguous.
Result<std::string> SpoolPathOf(const std::string& spool_dir, const std::string& id) {
  auto spool = ScanSpool(spool_dir, nullptr);
  if (!spool.ok()) return std::string();
  std::vector<const SpoolEntry*> hits;
  for (const auto& e : *spool) {
    if (e.id == id) return e.cast_path;
    if (e.id.rfind(id, 0) == 0) hits.push_back(&e);
  }
  if (hits.size() > 1) return Error{"session id `" + id + "` is ambiguous: give more characters"};
  return hits.empty() ? std::string() : hits[0]->cast_path;
}

// The id of the session with live chunks whose id is or starts with `id`: empty when none,
// an error when the prefix is ambiguous.
Result<std::string> LiveIdOf(Store& store, const std::string& id) {
  const std::string exact = LiveChunkPrefix(id);
  auto listed = store.List(exact.substr(0, exact.size() - 1));
  if (!listed.ok()) return Error{store.Url() + ": " + listed.message()};
  std::vector<std::string> ids;
  for (const auto& e : *listed) {
    if (e.key.rfind(exact, 0) == 0) return id;
    size_t slash = e.key.find('/', 5);
    if (slash == std::string::npos) continue;
    std::string other = e.key.substr(5, slash - 5);
    if (ids.empty() || ids.back() != other) ids.push_back(other);
  }
  if (ids.size() > 1) return Error{"session id `" + id + "` is ambiguous: give more characters"};
  return ids.empty() ? std::string() : ids[0];
}

}  // namespace

Result<std::unique_ptr<LiveFollower>> LiveFollower::Open(const Config& cfg,
                                                         const std::string& store_url,
                                                         const std::string& id,
                                                         const LiveTiming& timing) {
  auto f = std::unique_ptr<LiveFollower>(new LiveFollower);
  auto from_file = [&](const std::string& path,
                       const std::string& where) -> Result<std::unique_ptr<LiveFollower>> {
    auto src = FileSource::Open(path, where, timing);
    if (!src.ok()) return src.error();
    f->source_ = std::move(src.value());
    return std::move(f);
  };
  if (IsCastPath(id)) return from_file(id, "file");
  if (id.size() < 8) return Error{"session id `" + id + "`: give at least 8 characters of the id"};
  std::optional<Error> spool_error;
  if (store_url.empty()) {
    auto path = SpoolPathOf(cfg.spool_dir, id);
    if (!path.ok()) return path.error();
    if (!path->empty()) {
      auto opened = from_file(*path, "spool");
      if (opened.ok()) return opened;
      // Gone since the scan (uploaded), or not ours to read: the store may have it.
      spool_error = opened.error();
      f = std::unique_ptr<LiveFollower>(new LiveFollower);
    }
  }
  auto opened = OpenStore(cfg, store_url);
  if (!opened.ok()) return opened.error();
  std::shared_ptr<Store> store(std::move(opened.value()));
  if (store->Remote()) {
    auto live = LiveIdOf(*store, id);
    if (!live.ok()) return live.error();
    if (!live->empty()) {
      auto src = StoreSource::FromChunks(store, *live, timing);
      if (src.ok()) {
        f->source_ = std::move(src.value());
        return f;
      }
      // The chunks went while we looked: sealed since.
    }
  }
  auto sealed = FindSession(cfg, store_url, id);
  if (!sealed.ok()) return spool_error ? *spool_error : sealed.error();
  if (!sealed->path.empty()) return from_file(sealed->path, sealed->where);
  if (!sealed->store) return Error{"session " + sealed->meta.id + ": no file and no store"};
  auto src = StoreSource::FromSealed(sealed->store, *sealed, timing);
  if (!src.ok()) return src.error();
  f->source_ = std::move(src.value());
  return f;
}

LiveFollower::~LiveFollower() = default;

const std::string& LiveFollower::Header() const { return source_->header; }
const SessionMeta& LiveFollower::Meta() const { return source_->meta; }
const std::string& LiveFollower::Where() const { return source_->where; }

bool LiveFollower::Ended() const { return source_->Done() && source_->early.empty(); }

std::vector<std::string> LiveFollower::TakeWarnings() {
  return std::exchange(source_->warnings, {});
}

Result<std::vector<CastEvent>> LiveFollower::PollEvents(int timeout_ms) {
  std::vector<NumberedLine> lines = std::exchange(source_->early, {});
  if (lines.empty() && !source_->Done())
    if (Status st = source_->Read(timeout_ms, lines); !st) return Error{st.message()};
  std::vector<CastEvent> out;
  CastEvent ev;
  for (auto& l : lines) {
    auto got = parser_.Parse(l.text, ev, source_->where);
    if (!got.ok())
      source_->warnings.push_back(source_->where + ": line " + std::to_string(l.number) + ": " +
                                  got.message() + "; skipped");
    else if (*got)
      out.push_back(std::move(ev));
  }
  return out;
}

Result<std::vector<std::string>> LiveFollower::Poll(int timeout_ms) {
  auto events = PollEvents(timeout_ms);
  if (!events.ok()) return events.error();
  std::vector<std::string> out;
  out.reserve(events->size());
  std::string line;
  for (const auto& ev : *events) {
    line.clear();
    AppendEventLine(line, ev.time, ToValidUtf8Lossy(ev.code), ToValidUtf8Lossy(ev.data));
    if (!line.empty() && line.back() == '\n') line.pop_back();
    out.push_back(std::move(line));
  }
  return out;
}

LiveChunkCursor::LiveChunkCursor(std::string id) : prefix_(LiveChunkPrefix(id)) {}

std::string LiveChunkCursor::ListStart() const {
  // The prefix itself sorts before every chunk of it.
  return last_seq_ <= 0 ? prefix_
                        : LiveChunkKey(prefix_.substr(5, prefix_.size() - 6),
                                       static_cast<uint64_t>(last_seq_ - 1));
}

int64_t LiveChunkCursor::SeqOf(const std::string& key) const {
  constexpr std::string_view kPart = ".part";
  if (key.size() != prefix_.size() + 8 + kPart.size() || key.rfind(prefix_, 0) != 0 ||
      !EndsWith(key, kPart))
    return -1;
  int64_t seq = 0;
  for (size_t i = prefix_.size(); i < prefix_.size() + 8; ++i) {
    if (key[i] < '0' || key[i] > '9') return -1;
    seq = seq * 10 + (key[i] - '0');
  }
  return seq;
}

LiveChunkCursor::Step LiveChunkCursor::Take(const std::vector<StoreEntry>& listed) const {
  Step step;
  bool last_seen = last_key_.empty();
  int64_t expect = last_seq_ + 1;
  for (const auto& e : listed) {
    if (e.key == last_key_) last_seen = true;
    int64_t seq = SeqOf(e.key);
    if (seq < 0) {
      if (e.key.rfind(prefix_, 0) == 0) step.warnings.push_back(e.key + ": not a live chunk key");
      continue;
    }
    if (seq <= last_seq_) continue;
    if (seq != expect)
      step.warnings.push_back(e.key + ": chunk(s) " + std::to_string(expect) + " to " +
                              std::to_string(seq - 1) + " are missing");
    expect = seq + 1;
    step.fetch.push_back(e);
  }
  // The chunks are removed in order once the session is sealed: the last one taken goes
  // before any that follow it.
  step.gone = !last_seen;
  if (step.gone) step.fetch.clear();
  return step;
}

void LiveChunkCursor::Consumed(const StoreEntry& e) {
  int64_t seq = SeqOf(e.key);
  if (seq < 0) return;
  if (seq != last_seq_ + 1) contiguous_ = false;
  last_seq_ = seq;
  last_key_ = e.key;
  offset_ += e.size;
}

std::vector<SessionMeta> ListLiveSessions(Store& store, std::vector<std::string>& warnings,
                                          std::map<std::string, SessionMeta>* known) {
  constexpr size_t kMaxLive = 10000;
  constexpr uint64_t kHeaderBytes = 1 << 20;
  std::vector<SessionMeta> out;
  if (!store.Remote()) return out;
  auto listed = store.List("live/");
  if (!listed.ok()) {
    warnings.push_back(store.Url() + ": " + listed.message());
    return out;
  }
  std::string last_id;
  for (const auto& e : *listed) {
    size_t slash = e.key.find('/', 5);
    if (slash == std::string::npos) continue;
    std::string id = e.key.substr(5, slash - 5);
    if (id == last_id) continue;
    last_id = id;
    if (e.key != LiveChunkKey(id, 0)) continue;  // its first chunk is gone: being sealed
    if (out.size() >= kMaxLive) {
      warnings.push_back(store.Url() + ": more than " + std::to_string(kMaxLive) +
                         " sessions with live chunks; only the first are listed");
      break;
    }
    if (known)
      if (auto it = known->find(id); it != known->end()) {
        out.push_back(it->second);
        continue;
      }
    auto head = store.Get(e.key, 0, kHeaderBytes);
    if (!head.ok()) continue;  // removed since the listing
    size_t nl = head->find('\n');
    if (nl == std::string::npos) {
      warnings.push_back(store.Url() + "/" + e.key + ": no header line in its first MiB");
      continue;
    }
    head->resize(nl);
    auto meta = SessionMetaFromHeader(*head);
    if (!meta.ok() || meta->id != id) {
      warnings.push_back(store.Url() + "/" + e.key + ": " +
                         (meta.ok() ? "its header names another session" : meta.message()));
      continue;
    }
    out.push_back(std::move(meta.value()));
  }
  if (known) {
    known->clear();
    for (const auto& m : out) known->emplace(m.id, m);
  }
  return out;
}

}  // namespace ttyaudit
