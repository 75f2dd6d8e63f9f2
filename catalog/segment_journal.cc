#include "catalog/segment_journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "base/files.h"
#include "base/ids.h"
#include "catalog/segment.h"
#include "record/spool.h"

namespace ttyaudit {
namespace {

// The journal renamed aside while its segment is written; a leftover one (a crash mid-flush)
// is written first.
std::string FlushingPath(const std::string& path) { return path + ".flushing"; }

Status SyncDir(const std::string& path) {
  std::string dir = path.substr(0, path.rfind('/'));
  UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return SysError("open", dir, errno);
  if (fsync(fd.get()) != 0) return SysError("fsync", dir, errno);
  return Status::Ok();
}

// The session id and node a line of `kind` is about, or nullopt when it is not a line of ours.
std::optional<std::pair<std::string, std::string>> LineSession(SegmentKind kind,
                                                               std::string_view line) {
  if (kind == SegmentKind::kScreen) {
    auto e = ParseScreenSegmentLine(line);
    if (!e.ok()) return std::nullopt;
    return std::make_pair(std::move(e->id), std::move(e->node));
  }
  auto e = ParseSegmentLine(line);
  if (!e.ok()) return std::nullopt;
  return std::make_pair(std::move(e->meta.id), std::move(e->meta.node));
}

// The whole lines of a journal, each session once (its last line): a torn last line is a
// session whose upload state was not yet saved past its index entry, so it comes again.
std::vector<std::string_view> JournalLines(SegmentKind kind, std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    if (nl == std::string_view::npos) break;
    if (nl > 0) lines.push_back(text.substr(0, nl));
    text.remove_prefix(nl + 1);
  }
  std::set<std::string> seen;
  std::vector<std::string_view> out;
  for (auto it = lines.rbegin(); it != lines.rend(); ++it) {
    auto session = LineSession(kind, *it);
    if (!session || !seen.insert(session->first).second) continue;
    out.insert(out.begin(), *it);
  }
  return out;
}

}  // namespace

std::string SegmentJournalPath(const std::string& spool_dir) {
  return SpoolSegmentJournalPath(spool_dir);
}

SegmentJournal::SegmentJournal(std::string spool_dir, double interval_s, size_t max_lines,
                               SegmentKind kind, uint64_t max_bytes)
    : kind_(kind),
      path_(kind == SegmentKind::kScreen ? SpoolScreenSegmentJournalPath(spool_dir)
                                         : SegmentJournalPath(spool_dir)),
      interval_s_(interval_s),
      max_lines_(max_lines),
      max_bytes_(max_bytes) {
  struct stat st;
  if (stat(path_.c_str(), &st) == 0 && st.st_size > 0) {
    lines_ = 1;  // an earlier process's lines: due at once
    bytes_ = static_cast<uint64_t>(st.st_size);
    oldest_ns_ = 1;
  }
}

size_t SegmentJournal::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

Result<bool> SegmentJournal::Add(std::string_view index_entry) {
  auto line = SegmentLine(index_entry);
  if (!line.ok()) return false;
  if (Status s = Append(std::move(line.value())); !s) return Error{s.message()};
  return true;
}

Status SegmentJournal::AddLine(std::string line) { return Append(std::move(line)); }

Status SegmentJournal::Append(std::string line) {
  line.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  // Twice the bound: its segments are not going out. The session's seal fails and comes again
  // once they do, rather than the journal growing past what WriteSegment reads.
  if (bytes_ >= 2 * max_bytes_)
    return Error{path_ + ": " + std::to_string(bytes_) +
                 " bytes wait for a segment that could not be written"};
  if (!fd_) {
    fd_.reset(open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
    if (!fd_) return SysError("open", path_, errno);
  }
  // A failed write is cut off again, so that the next line does not continue a torn one.
  off_t before = lseek(fd_.get(), 0, SEEK_END);
  std::string_view rest = line;
  while (!rest.empty()) {
    ssize_t n = write(fd_.get(), rest.data(), rest.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      if (before >= 0) (void)ftruncate(fd_.get(), before);
      return SysError("write", path_, err);
    }
    rest.remove_prefix(static_cast<size_t>(n));
  }
  if (fdatasync(fd_.get()) != 0) return SysError("fdatasync", path_, errno);
  if (lines_++ == 0) oldest_ns_ = MonotonicNanos();
  bytes_ += line.size();
  return Status::Ok();
}

Status SegmentJournal::Flush(Store& store, bool force) {
  const std::string flushing = FlushingPath(path_);
  struct stat st;
  if (stat(flushing.c_str(), &st) == 0) {
    if (Status s = WriteSegment(store, flushing); !s) return s;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (lines_ == 0) return Status::Ok();
    bool due = lines_ >= max_lines_ || bytes_ >= max_bytes_ ||
               (MonotonicNanos() - oldest_ns_) / 1e9 >= interval_s_ || oldest_ns_ == 1;
    if (!force && !due) return Status::Ok();
    if (rename(path_.c_str(), flushing.c_str()) != 0 && errno != ENOENT)
      return SysError("rename", path_, errno);
    fd_.reset();
    lines_ = 0;
    bytes_ = 0;
    oldest_ns_ = 0;
  }
  if (Status s = SyncDir(path_); !s) return s;
  return WriteSegment(store, flushing);
}

Status SegmentJournal::WriteSegment(Store& store, const std::string& path) {
  // At most twice max_bytes_ and a last line (Append), which JSON escaping may have made a few
  // times a session's 4 MiB of text.
  auto text = ReadFile(path, static_cast<size_t>(2 * max_bytes_) + (32 << 20));
  if (!text.ok()) return text.status();
  auto lines = JournalLines(kind_, *text);
  if (!lines.empty()) {
    std::string body;
    for (auto l : lines) body.append(l).push_back('\n');
    auto first = LineSession(kind_, lines.front());
    const std::string_view prefix =
        kind_ == SegmentKind::kScreen ? kScreenSegmentPrefix : kSegmentPrefix;
    PutOptions opts;
    opts.content_type = "application/x-ndjson";
    // A segment must be listable by readers that have moved past its name's time less the
    // grace: one that took long to land goes again under a fresh name.
    for (int attempt = 0;; ++attempt) {
      int64_t named = RealtimeNanos();
      std::string key = SegmentKey(named, first->second, first->first, prefix);
      if (Status s = store.Put(key, body, opts); !s) return s;
      if ((RealtimeNanos() - named) / 1000000 < kSegmentGraceMs / 2 || attempt == 2) break;
    }
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return SysError("unlink", path, errno);
  return SyncDir(path);
}

}  // namespace ttyaudit
