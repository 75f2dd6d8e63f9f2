#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

#include "base/unique_fd.h"

namespace ttyaudit {

namespace {

// Reads `fd` into `out` until EOF or until `out` holds `limit` bytes.
Status ReadUpTo(int fd, const std::string& path, size_t limit, std::string& out) {
  char buf[16384];
  while (out.size() < limit) {
    ssize_t n = read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return {};
}

}  // namespace

Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("open", path, errno);
  std::string s;
  if (Status st = ReadUpTo(fd.get(), path, max_bytes, s); !st) return Error{st.message()};
  return s;
}

Result<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  auto r = ReadFileIfExists(path, max_bytes);
  if (!r) return r.error();
  if (!*r) return SysError("open", path, ENOENT);
  return std::move(**r);
}

Result<std::optional<std::string>> ReadFileIfExists(const std::string& path, size_t max_bytes) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd && errno == ENOENT) return std::optional<std::string>();
  if (!fd) return SysError("open", path, errno);
  std::string s;
  struct stat st;
  if (fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode))
    s.reserve(std::min(static_cast<size_t>(st.st_size), max_bytes) + 1);
  // One byte past the bound tells a file of exactly `max_bytes` from a larger one.
  const size_t limit = max_bytes == SIZE_MAX ? max_bytes : max_bytes + 1;
  if (Status r = ReadUpTo(fd.get(), path, limit, s); !r) return Error{r.message()};
  if (s.size() > max_bytes)
    return Error{"read `" + path + "`: larger than " + std::to_string(max_bytes) + " bytes"};
  return std::optional<std::string>(std::move(s));
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  while (!data.empty()) {
    ssize_t n = write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("write", what, errno);
    data.remove_prefix(static_cast<size_t>(n));
  }
  return {};
}

Status MakeDirs(const std::string& path, mode_t mode) {
  for (size_t at = 1; at <= path.size(); ++at) {
    if (at != path.size() && path[at] != '/') continue;
    std::string dir = path.substr(0, at);
    if (mkdir(dir.c_str(), mode) != 0 && errno != EEXIST) return SysError("mkdir", dir, errno);
  }
  return {};
}

Status ReplaceFile(const std::string& path, std::string_view bytes, Durability durability,
                   mode_t mode) {
  return ReplaceFileWith(path, durability, mode,
                         [&](int fd, const std::string& tmp) { return WriteAll(fd, bytes, tmp); });
}

Status ReplaceFileWith(const std::string& path, Durability durability, mode_t mode,
                       const std::function<Status(int fd, const std::string& tmp_path)>& fill) {
  static std::atomic<unsigned> counter{0};
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const std::string tmp = dir + "/." + name + ".tmp-" + std::to_string(getpid()) + "-" +
                          std::to_string(counter.fetch_add(1));
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return SysError("create", tmp, errno);
  Status st = fill(fd.get(), tmp);
  if (st && durability != Durability::kNone && fsync(fd.get()) != 0)
    st = SysError("fsync", tmp, errno);
  fd.reset();
  if (st && rename(tmp.c_str(), path.c_str()) != 0) st = SysError("rename", path, errno);
  if (!st) {
    unlink(tmp.c_str());
    return st;
  }
  if (durability == Durability::kFileAndDir) {
    UniqueFd dfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!dfd) return SysError("open", dir, errno);
    if (fsync(dfd.get()) != 0) return SysError("fsync", dir, errno);
  }
  return {};
}

bool IsReplaceTempName(std::string_view name) {
  return !name.empty() && name[0] == '.' && name.find(".tmp-") != std::string_view::npos;
}

}  // namespace ttyaudit
