#include "record/spool_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"

namespace ttyaudit {
namespace {

// The header line is padded to leave room for the end state written by Finish().
size_t PaddedSize(size_t len) {
  size_t want = len + 2048;
  return (want + 4095) / 4096 * 4096;
}

}  // namespace

Result<std::unique_ptr<SessionWriter>> SessionWriter::Create(const std::string& spool_dir,
                                                             SessionMeta meta,
                                                             const SessionWriterOptions& opts) {
  if (auto st = MakeDirs(spool_dir, 0700); !st) return Error{st.message()};
  if (opts.spool_max_bytes) {
    uint64_t used = SpoolBytes(spool_dir);
    if (used >= opts.spool_max_bytes)
      return Error{"spool `" + spool_dir + "` holds " + std::to_string(used) +
                   " bytes, at or over its cap of " + std::to_string(opts.spool_max_bytes) +
                   " (spool_max_bytes): is ttyaudit-uploader running?"};
  }
  std::unique_ptr<SessionWriter> w(new SessionWriter());
  w->meta_ = std::move(meta);
  w->opts_ = opts;
  w->path_ = SpoolCastPath(spool_dir, w->meta_.id);
  w->start_mono_ = MonotonicNanos();
  w->meta_.state = "recording";
  w->meta_.recorder_pid = getpid();
  w->fd_.reset(open(w->path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!w->fd_) return SysError("create", w->path_, errno);
  // Held for the recorder's lifetime: a reader that gets the lock knows the recorder is gone.
  // Readers probe with a shared lock they drop at once, so this waits (an instant) for such a
  // probe rather than failing: a search must never make a recording fail to start.
  int locked;
  do locked = flock(w->fd_.get(), LOCK_EX);
  while (locked < 0 && errno == EINTR);
  if (locked < 0) return SysError("flock", w->path_, errno);
  std::string header = w->HeaderLine();
  w->header_size_ = PaddedSize(header.size());
  header.append(w->header_size_ - 1 - header.size(), ' ');
  header.push_back('\n');
  if (auto st = WriteAll(w->fd_.get(), header, w->path_); !st) return Error{st.message()};
  w->syncer_ = std::thread([p = w.get()] { p->SyncLoop(); });
  return w;
}

SessionWriter::~SessionWriter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();
}

std::string SessionWriter::HeaderLine() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(2);
  w.Key("width").Int(meta_.width);
  w.Key("height").Int(meta_.height);
  w.Key("timestamp").Int(meta_.start_ns / 1000000000LL);
  w.Key("env").BeginObject();
  w.Key("TERM").String(opts_.term);
  w.Key("SHELL").String(opts_.shell);
  w.EndObject();
  if (!opts_.command.empty()) w.Key("command").String(opts_.command.substr(0, 1024));
  w.Key("ttyaudit");
  meta_.WriteJson(w);
  w.EndObject();
  return w.Take();
}

double SessionWriter::Now() const {
  return static_cast<double>(MonotonicNanos() - start_mono_) / 1e9;
}

void SessionWriter::Output(std::string_view bytes) {
  meta_.bytes_out += bytes.size();
  encoder_.Append(pending_, Now(), 'o', bytes);
}

void SessionWriter::Input(std::string_view bytes, bool hidden) {
  meta_.bytes_in += bytes.size();
  if (hidden) {
    meta_.bytes_in_hidden += bytes.size();
    if (!hidden_run_) Marker("[input hidden: echo off]");
    hidden_run_ = true;
    return;
  }
  hidden_run_ = false;
  if (opts_.record_input) encoder_.Append(pending_, Now(), 'i', bytes);
}

void SessionWriter::Resize(int cols, int rows) {
  AppendEventLine(pending_, Now(), "r", std::to_string(cols) + "x" + std::to_string(rows));
}

void SessionWriter::Marker(std::string_view label) { AppendEventLine(pending_, Now(), "m", label); }

Status SessionWriter::Flush() {
  if (pending_.empty()) return {};
  Status st = WriteAll(fd_.get(), pending_, path_);
  pending_.clear();
  if (pending_.capacity() > 4 * kFlushBytes) pending_.shrink_to_fit();
  dirty_ = true;
  return st;
}

void SessionWriter::SyncLoop() {
  // Signals belong to the recorder's loop (a signalfd), never to this thread.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  auto interval = std::chrono::duration<double>(opts_.fsync_interval_s);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    cv_.wait_for(lock, interval, [this] { return stop_; });
    if (stop_) break;
    if (dirty_.exchange(false)) {
      lock.unlock();
      fdatasync(fd_.get());
      lock.lock();
    }
  }
}

Status SessionWriter::FinishWithWaitStatus(std::optional<int> wait_status) {
  if (!wait_status) return Finish("ended", -1, 0);
  if (WIFSIGNALED(*wait_status)) return Finish("signaled", -1, WTERMSIG(*wait_status));
  return Finish("exited", WEXITSTATUS(*wait_status), 0);
}

Status SessionWriter::Finish(const std::string& state, int exit_code, int signal) {
  encoder_.Flush(pending_, Now());
  Status flushed = Flush();
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();

  meta_.end_ns = RealtimeNanos();
  meta_.state = state;
  meta_.exit_code = exit_code;
  meta_.signal = signal;
  std::string header = HeaderLine();
  if (header.size() + 1 <= header_size_) {
    header.append(header_size_ - 1 - header.size(), ' ');
    header.push_back('\n');
    if (pwrite(fd_.get(), header.data(), header.size(), 0) != static_cast<ssize_t>(header.size()))
      return SysError("rewrite header", path_, errno);
  }  // else the manifest alone carries the end state; the header stays valid as it was
  if (fsync(fd_.get()) < 0) return SysError("fsync", path_, errno);

  std::string manifest = "{\"manifest_version\":1,\"session\":" + meta_.ToJson() + "," +
                         (manifest_extra_.empty() ? "\"commands\":[]" : manifest_extra_) + "}\n";
  if (Status st = ReplaceFile(ManifestPathFor(path_), manifest, Durability::kFileAndDir); !st)
    return st;
  return flushed;
}

}  // namespace ttyaudit
