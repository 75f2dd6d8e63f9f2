// Files, the one way ttyaudit reads, writes and replaces them: whole-file reads with a bound,
// writes that finish or say why, directory trees, and atomic replacement with its durability
// chosen by the caller.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ttyaudit {

/// Reads at most `max_bytes` of a file (what is beyond is ignored), growing the buffer as it
/// reads: these files are a few KiB, and zero-filling a worst-case buffer up front costs ms.
/// For /proc entries and the like, where a prefix is as good as the whole.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 4 << 20);

/// ReadSmallFile, with "" for a file that cannot be read (a /proc entry of a process that is
/// gone).
inline std::string ReadSmallFileOrEmpty(const std::string& path, size_t max_bytes) {
  auto r = ReadSmallFile(path, max_bytes);
  return r.ok() ? std::move(r.value()) : std::string();
}

/// Reads a whole file. A file larger than `max_bytes` is an error ("read `path`: larger than N
/// bytes"), never a silent prefix: what a container or a bucket wrote may be of any size.
Result<std::string> ReadFile(const std::string& path, size_t max_bytes = 64 << 20);

/// ReadFile, with nullopt for a file that does not exist (ENOENT); other failures are errors.
Result<std::optional<std::string>> ReadFileIfExists(const std::string& path,
                                                    size_t max_bytes = 64 << 20);

/// Writes all of `data` to `fd`, going on after short writes and EINTR; the error names `what`
/// (the file's path) and errno.
Status WriteAll(int fd, std::string_view data, const std::string& what);

/// Creates `path` and every missing parent with `mode` (an existing directory is fine).
Status MakeDirs(const std::string& path, mode_t mode);

/// What survives a crash after ReplaceFile returns.
enum class Durability {
  /// Nothing promised: the file lives on tmpfs (the run dir), which a crash loses anyway.
  kNone,
  /// The new bytes are fsync'd before the rename, so the name never points at a file whose
  /// bytes were lost; after a crash the name holds the old or the new content.
  kFile,
  /// kFile, and the directory is fsync'd after the rename: the new content itself survives.
  kFileAndDir,
};

/// Replaces `path` atomically: readers see the old file or the new one, never a part. The new
/// file is written as a hidden temporary beside it (".<name>.tmp-<pid>-<n>", see
/// IsReplaceTempName), created with `mode` (less the umask), then renamed over `path`. On
/// error the temporary is removed and `path` is untouched.
Status ReplaceFile(const std::string& path, std::string_view bytes, Durability durability,
                   mode_t mode = 0600);

/// ReplaceFile with the content written by `fill` into the open temporary file (`fd`, whose
/// path is `tmp_path` for messages): for content streamed from elsewhere, or a mode to set
/// exactly with fchmod.
Status ReplaceFileWith(const std::string& path, Durability durability, mode_t mode,
                       const std::function<Status(int fd, const std::string& tmp_path)>& fill);

/// True for the name (not the path) of ReplaceFile's temporary, so that a directory listing
/// can skip one that a crash left behind.
bool IsReplaceTempName(std::string_view name);

}  // namespace ttyaudit
