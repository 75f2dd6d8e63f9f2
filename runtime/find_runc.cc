#include "runtime/find_runc.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace ttyaudit {
namespace {

bool IsExecutableFile(const std::string& path, struct stat& st) {
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// The files of `selves` that exist, by device and inode.
class SelfFiles {
 public:
  explicit SelfFiles(const std::vector<std::string>& selves) {
    for (const auto& s : selves) {
      struct stat st {};
      if (::stat(s.c_str(), &st) == 0) ids_.push_back({st.st_dev, st.st_ino});
    }
  }
  bool Contains(const struct stat& st) const {
    for (const auto& id : ids_)
      if (id.dev == st.st_dev && id.ino == st.st_ino) return true;
    return false;
  }

 private:
  struct Id {
    dev_t dev;
    ino_t ino;
  };
  std::vector<Id> ids_;
};

}  // namespace

Result<std::string> FindRealRunc(const std::string& configured, const std::string& path_env,
                                 const std::vector<std::string>& selves) {
  SelfFiles self(selves);
  struct stat st {};
  if (!configured.empty()) {
    if (!IsExecutableFile(configured, st))
      return Error{"config runc `" + configured + "`: not an executable file"};
    if (self.Contains(st))
      return Error{"config runc `" + configured +
                   "` is ttyaudit-runtime itself: set it to the real runc (a loop otherwise)"};
    return configured;
  }
  std::vector<std::string> candidates;
  size_t start = 0;
  while (start <= path_env.size()) {
    size_t end = path_env.find(':', start);
    if (end == std::string::npos) end = path_env.size();
    // An empty PATH entry means the current directory.
    std::string dir = end > start ? path_env.substr(start, end - start) : std::string(".");
    candidates.push_back(dir + "/runc");
    start = end + 1;
  }
  candidates.push_back("/usr/bin/runc");
  candidates.push_back("/usr/sbin/runc");
  bool saw_self = false;
  for (const auto& c : candidates) {
    if (!IsExecutableFile(c, st)) continue;
    if (self.Contains(st)) {
      saw_self = true;
      continue;
    }
    return c;
  }
  if (saw_self)
    return Error{
        "no real runc: every `runc` on PATH and in /usr/bin, /usr/sbin is "
        "ttyaudit-runtime itself; set `runc` in the config"};
  return Error{
      "no real runc: none on PATH nor /usr/bin/runc nor /usr/sbin/runc; set `runc` in "
      "the config"};
}

std::vector<std::string> RuntimeBinaries(const std::string& self_exe) {
  std::vector<std::string> out = {self_exe};
  size_t slash = self_exe.rfind('/');
  if (slash == std::string::npos) return out;
  std::string dir = self_exe.substr(0, slash + 1);
  out.push_back(dir + kRuntimeFrontName);
  out.push_back(dir + kRuntimeFullName);
  return out;
}

std::string SelfExe() {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "/proc/self/exe";
  return std::string(buf, static_cast<size_t>(n));
}

Result<std::string> ResolveRealRunc(const Result<RuncConfig>& config) {
  if (!config)
    return Error{"ttyaudit-runtime: " + config.message() + " (so which runc to run is unknown)"};
  const char* path = std::getenv("PATH");
  std::vector<std::string> selves = RuntimeBinaries(SelfExe());
  selves.push_back("/proc/self/exe");  // itself even when its file was replaced (an upgrade)
  auto runc = FindRealRunc(config->runc, path ? path : "", selves);
  if (!runc) return Error{"ttyaudit-runtime: " + runc.message()};
  return runc;
}

}  // namespace ttyaudit
