#include "config/trust.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace ttyaudit {
namespace {

std::string Octal(mode_t mode) {
  char b[8];
  std::snprintf(b, sizeof b, "%03o", static_cast<unsigned>(mode & 07777));
  return b;
}

bool TrustedOwner(uid_t uid) { return uid == 0 || uid == geteuid(); }

}  // namespace

Status CheckConfigTrusted(const std::string& path) {
  char real[PATH_MAX];
  if (!realpath(path.c_str(), real)) return SysError("resolve config", path, errno);
  std::string p = real;
  struct stat st;
  if (stat(p.c_str(), &st) != 0) return SysError("stat config", p, errno);
  if (!S_ISREG(st.st_mode)) return Error{"config `" + p + "`: not a regular file"};
  if (!TrustedOwner(st.st_uid))
    return Error{"config `" + p + "` is owned by uid " + std::to_string(st.st_uid) +
                 ": refusing it (it must be owned by root; chown root it)"};
  if (st.st_mode & 022)
    return Error{"config `" + p + "` has mode " + Octal(st.st_mode) +
                 ": refusing it, since group or others can write it (chmod go-w it)"};
  for (;;) {
    size_t slash = p.rfind('/');
    p = slash == 0 ? "/" : p.substr(0, slash);
    if (stat(p.c_str(), &st) != 0) return SysError("stat config directory", p, errno);
    if (!TrustedOwner(st.st_uid))
      return Error{"config directory `" + p + "` is owned by uid " + std::to_string(st.st_uid) +
                   ": refusing the config in it (the directory must be owned by root)"};
    if ((st.st_mode & 022) && !(st.st_mode & S_ISVTX))
      return Error{"config directory `" + p + "` has mode " + Octal(st.st_mode) +
                   ": refusing the config in it, since group or others can replace it"};
    if (p == "/") return {};
  }
}

Status EnsurePrivateDir(const std::string& dir, const std::string& what) {
  for (size_t i = 1; i <= dir.size(); ++i) {
    if (i != dir.size() && dir[i] != '/') continue;
    std::string part = dir.substr(0, i);
    if (mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) return SysError("mkdir", part, errno);
  }
  struct stat st;
  if (stat(dir.c_str(), &st) != 0) return SysError("stat", dir, errno);
  if (!S_ISDIR(st.st_mode)) return Error{what + " `" + dir + "` is not a directory"};
  if (st.st_uid != geteuid())
    return Error{what + " `" + dir + "` is owned by uid " + std::to_string(st.st_uid) + ", not " +
                 std::to_string(geteuid()) + ": refusing to use it"};
  if (st.st_mode & 077)
    return Error{what + " `" + dir + "` has mode " + Octal(st.st_mode) +
                 ": refusing to use it, since group or others can get in (chmod 700 it)"};
  return {};
}

}  // namespace ttyaudit
