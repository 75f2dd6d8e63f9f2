#include "record/spool_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <pthread.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "config/trust.h"

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
  if (auto st = EnsurePrivateDir(spool_dir, "spool"); !st) return Error{st.message()};
  if (opts.spool_max_bytes) {
    uint64_t used = SpoolBytes(spool_dir);
    if (used >= opts.spool_max_bytes)
      return Error{"spool `" + spool_dir + "` holds " + std::to_string(used) +
                   " bytes, at or over its cap of " + std::to_string(opts.spool_max_bytes) +
                   " (spool_max_bytes): is ttyaudit-uploader running?"};
  }
  auto seq = NextSessionSeq(spool_dir);
  if (!seq.ok()) return seq.error();
  std::unique_ptr<SessionWriter> w(new SessionWriter());
  w->meta_ = std::move(meta);
  w->meta_.seq = *seq;
  w->chain_ = std::make_unique<ChainWriter>(w->meta_.id);
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
  w->written_ = header.size();
  w->header_ = std::move(header);
  // The thread's setup is over before the caller goes on: a recorder may load its seccomp
  // filter next, which would forbid what the setup calls (prctl, capset).
  std::promise<Status> setup_done;
  std::future<Status> setup = setup_done.get_future();
  w->syncer_ =
      std::thread([p = w.get(), done = std::move(setup_done)]() mutable { p->SyncLoop(done); });
  if (Status st = setup.get(); !st) w->sync_thread_problem_ = st.message();
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
#ifndef TTYAUDIT_BENCH_NO_CHAIN  // bench/rec.sh's build without the chain (CMakeLists.txt)
  chain_->Seal(pending_, Now());
#endif
  Status st = WriteAll(fd_.get(), pending_, path_);
  written_ += pending_.size();
  pending_.clear();
  if (pending_.capacity() > 4 * kFlushBytes) pending_.shrink_to_fit();
  dirty_ = true;
  return st;
}

void SessionWriter::SyncLoop(std::promise<Status>& setup_done) {
  // Signals belong to the recorder's loop (a signalfd), never to this thread.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  // Named, so that /proc/PID/task/TID/comm tells it from the recorder's other threads.
  pthread_setname_np(pthread_self(), "ttyaudit-fsync");
  setup_done.set_value(opts_.sync_thread_setup ? opts_.sync_thread_setup() : Status());
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
    header_ = std::move(header);
  }  // else the manifest alone carries the end state; the header stays valid as it was
  if (fsync(fd_.get()) < 0) return SysError("fsync", path_, errno);
  fchmod(fd_.get(), 0400);
  MakeImmutable(fd_.get());

  ChainCheck end;
  end.head_hex = ToHex(chain_->head());
  end.blocks = chain_->blocks();
  end.size = written_;
  end.header_sha256_hex = ToHex(Sha256Of(header_));
  std::string manifest = "{\"manifest_version\":1,\"session\":" + meta_.ToJson() + "," +
                         (manifest_extra_.empty() ? "\"commands\":[]" : manifest_extra_) + "," +
                         ChainManifestMember(end) + "}\n";
  const std::string manifest_path = ManifestPathFor(path_);
  if (Status st = ReplaceFile(manifest_path, manifest, Durability::kFileAndDir, 0400); !st)
    return st;
  if (UniqueFd mf(open(manifest_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)); mf)
    MakeImmutable(mf.get());
  return flushed;
}

bool MakeImmutable(int fd) {
  int flags = 0;
  if (ioctl(fd, FS_IOC_GETFLAGS, &flags) != 0) return false;
  flags |= FS_IMMUTABLE_FL;
  return ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
}

Status ReleaseImmutable(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return errno == ENOENT || errno == ELOOP ? Status() : SysError("open", path, errno);
  int flags = 0;
  if (ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) != 0 || !(flags & FS_IMMUTABLE_FL)) return {};
  flags &= ~FS_IMMUTABLE_FL;
  if (ioctl(fd.get(), FS_IOC_SETFLAGS, &flags) != 0)
    return SysError("clear the immutable flag of", path, errno);
  return {};
}

Result<uint64_t> NextSessionSeq(const std::string& spool_dir) {
  const std::string path = SpoolSequencePath(spool_dir);
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return SysError("open", path, errno);
  int locked;
  do locked = flock(fd.get(), LOCK_EX);
  while (locked < 0 && errno == EINTR);
  if (locked < 0) return SysError("flock", path, errno);
  char buf[32] = {};
  ssize_t n = pread(fd.get(), buf, sizeof buf - 1, 0);
  if (n < 0) return SysError("read", path, errno);
  uint64_t last = 0;
  for (ssize_t i = 0; i < n && buf[i] != '\n'; ++i) {
    if (buf[i] < '0' || buf[i] > '9') return Error{"`" + path + "`: not a session number"};
    last = last * 10 + static_cast<uint64_t>(buf[i] - '0');
  }
  // Fixed width, so that the new number always overwrites the old one whole.
  char next[32];
  int len =
      std::snprintf(next, sizeof next, "%020llu\n", static_cast<unsigned long long>(last + 1));
  if (pwrite(fd.get(), next, static_cast<size_t>(len), 0) != len)
    return SysError("write", path, errno);
  if (fdatasync(fd.get()) < 0) return SysError("fsync", path, errno);
  return last + 1;
}

}  // namespace ttyaudit
