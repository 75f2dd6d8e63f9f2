// Writing one session into the spool while it runs: its <id>.cast, then its manifest
// (the spool's layout: record/spool.h), sealed read-only and immutable until uploaded, and the
// node's session counter.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"
#include "base/unique_fd.h"
#include "record/asciicast.h"
#include "record/chain.h"
#include "record/session_meta.h"
#include "record/spool.h"

namespace ttyaudit {

struct SessionWriterOptions {
  bool record_input = true;
  double fsync_interval_s = 1.0;
  std::string term;     // header env.TERM
  std::string shell;    // header env.SHELL
  std::string command;  // header "command"
  /// Refuse to start (an error, so the caller's fail-open/fail-closed policy decides) when the
  /// spool already holds this many bytes; 0 means no cap. Config: spool_max_bytes.
  uint64_t spool_max_bytes = 0;
  /// Run first on the fsync thread, which Create starts, and finished before Create returns:
  /// a recorder drops that thread's privileges here (capabilities belong to each thread, and
  /// this one starts before the recorder drops its own). Its error is sync_thread_problem().
  std::function<Status()> sync_thread_setup;
};

class SessionWriter {
 public:
  /// Creates <spool_dir>/<meta.id>.cast (the directory too, mode 0700) and writes its header.
  /// `meta.id`, `start_ns`, `width`, `height` must be set. An error when the spool is over
  /// opts.spool_max_bytes.
  static Result<std::unique_ptr<SessionWriter>> Create(const std::string& spool_dir,
                                                       SessionMeta meta,
                                                       const SessionWriterOptions& opts);
  ~SessionWriter();
  SessionWriter(const SessionWriter&) = delete;
  SessionWriter& operator=(const SessionWriter&) = delete;

  /// Records bytes the session displayed.
  void Output(std::string_view bytes);
  /// Records bytes typed into the session; `hidden` (echo off) stores only a marker and a count.
  void Input(std::string_view bytes, bool hidden);
  void Resize(int cols, int rows);
  void Marker(std::string_view label);

  /// Writes the buffered whole lines to the file, ended by their chain line. Call before the
  /// proxy blocks.
  Status Flush();
  /// True when enough is buffered that it should be written now.
  bool NeedsFlush() const { return pending_.size() >= kFlushBytes; }

  /// Ends the session: state "exited" (exit_code), "signaled" (signal), "ended" (the record is
  /// whole but the exit status could not be learned, as when the process outlived its terminal)
  /// or "interrupted" (the recording stopped early; a reader also says so of a file a killed
  /// recorder left); rewrites the header, fsyncs, and writes the manifest.
  Status Finish(const std::string& state, int exit_code, int signal);
  /// Finish() from a raw wait status: "signaled" with its signal, else "exited" with its exit
  /// code; without one, "ended".
  Status FinishWithWaitStatus(std::optional<int> wait_status);

  /// Extra JSON fields for the manifest (e.g. "commands":[...]), written by Finish(); must be
  /// a comma-free sequence of `"key":value` members joined by commas, or empty.
  void SetManifestExtra(std::string members) { manifest_extra_ = std::move(members); }

  SessionMeta& meta() { return meta_; }
  const std::string& path() const { return path_; }
  /// Why opts.sync_thread_setup failed; empty when it did not (or there was none). The thread
  /// fsyncs all the same.
  const std::string& sync_thread_problem() const { return sync_thread_problem_; }
  /// Seconds since the session started (monotonic).
  double Now() const;

  static constexpr size_t kFlushBytes = 64 * 1024;

 private:
  SessionWriter() = default;
  std::string HeaderLine() const;
  void SyncLoop(std::promise<Status>& setup_done);

  SessionMeta meta_;
  SessionWriterOptions opts_;
  std::string path_;
  UniqueFd fd_;
  size_t header_size_ = 0;  // padded header line length including '\n'
  int64_t start_mono_ = 0;
  std::string pending_;
  EventEncoder encoder_;
  bool hidden_run_ = false;
  std::string manifest_extra_;
  std::string header_;    // the header line as it is in the file, padding and '\n' included
  uint64_t written_ = 0;  // bytes in the file
  std::unique_ptr<ChainWriter> chain_;
  std::string sync_thread_problem_;

  std::thread syncer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::atomic<bool> dirty_{false};
};

/// Takes the next session number of `spool_dir`'s node from its `sequence` file (created at 1),
/// under an exclusive lock, written in place and synced before it is returned.
Result<uint64_t> NextSessionSeq(const std::string& spool_dir);

/// Sets FS_IMMUTABLE_FL on the sealed spool file open on `fd`; false where the filesystem or
/// the caller's capabilities (CAP_LINUX_IMMUTABLE) do not allow it, and the file stays 0400.
bool MakeImmutable(int fd);
/// Clears FS_IMMUTABLE_FL of the spool file at `path`, so that the uploader can move or remove
/// it; no error when it was not set, cannot be set there, or the file is gone.
Status ReleaseImmutable(const std::string& path);

}  // namespace ttyaudit
