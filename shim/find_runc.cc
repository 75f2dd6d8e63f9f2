#include "shim/find_runc.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

namespace ttyaudit {
namespace {

bool SameFile(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

bool IsExecutableFile(const std::string& path, struct stat& st) {
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

Result<std::string> FindRealRunc(const std::string& configured, const std::string& path_env,
                                 const std::string& self) {
  struct stat self_st {};
  bool have_self = ::stat(self.c_str(), &self_st) == 0;
  struct stat st {};
  if (!configured.empty()) {
    if (!IsExecutableFile(configured, st))
      return Error{"config runc `" + configured + "`: not an executable file"};
    if (have_self && SameFile(st, self_st))
      return Error{"config runc `" + configured +
                   "` is ttyaudit-runtime itself: set it to the real runc (a loop otherwise)"};
    return configured;
  }
  std::vector<std::string> candidates;
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    std::string dir = path_env.substr(start, end - start);
    if (dir.empty()) dir = ".";
    candidates.push_back(dir + "/runc");
    start = end + 1;
  }
  candidates.push_back("/usr/bin/runc");
  candidates.push_back("/usr/sbin/runc");
  bool saw_self = false;
  for (const auto& c : candidates) {
    if (!IsExecutableFile(c, st)) continue;
    if (have_self && SameFile(st, self_st)) {
      saw_self = true;
      continue;
    }
    return c;
  }
  if (saw_self)
    return Error{"no real runc: every `runc` on PATH and in /usr/bin, /usr/sbin is "
                 "ttyaudit-runtime itself; set `runc` in the config"};
  return Error{"no real runc: none on PATH nor /usr/bin/runc nor /usr/sbin/runc; set `runc` in "
               "the config"};
}

}  // namespace ttyaudit
