#include "record/spool.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "base/ids.h"
#include "base/unique_fd.h"

namespace ttyaudit {
namespace {

constexpr std::string_view kCast = ".cast";
constexpr std::string_view kManifest = ".json";
constexpr std::string_view kUploadState = ".upstate";
constexpr std::string_view kScreenText = ".screen.txt";
constexpr std::string_view kKeyframes = ".keyframes.jsonl";

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string SessionFile(const std::string& spool_dir, std::string_view id,
                        std::string_view suffix) {
  return spool_dir + "/" + SanitizeKeyComponent(id) + std::string(suffix);
}

// Calls `fn(name, st)` for each regular file of the (flat) spool directory; false when the
// directory cannot be opened (errno says why).
template <class Fn>
bool ForEachFile(const std::string& spool_dir, Fn fn) {
  DIR* d = opendir(spool_dir.c_str());
  if (!d) return false;
  while (dirent* e = readdir(d)) {
    struct stat st;
    if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
      fn(std::string_view(e->d_name), st);
  }
  closedir(d);
  return true;
}

}  // namespace

std::string SpoolCastPath(const std::string& spool_dir, std::string_view id) {
  return SessionFile(spool_dir, id, kCast);
}

std::string SpoolManifestPath(const std::string& spool_dir, std::string_view id) {
  return SessionFile(spool_dir, id, kManifest);
}

std::string SpoolUploadStatePath(const std::string& spool_dir, std::string_view id) {
  return SessionFile(spool_dir, id, kUploadState);
}

std::string SpoolUploaderStatusPath(const std::string& spool_dir) {
  return spool_dir + "/uploader.status";
}

std::string SpoolSequencePath(const std::string& spool_dir) { return spool_dir + "/sequence"; }

std::string SpoolQuarantineDir(const std::string& spool_dir) { return spool_dir + "/quarantine"; }

std::string SpoolSegmentJournalPath(const std::string& spool_dir) {
  return spool_dir + "/index-segment.journal";
}

std::string SpoolScreenSegmentJournalPath(const std::string& spool_dir) {
  return spool_dir + "/screen-segment.journal";
}

namespace {

std::string BesideCast(const std::string& cast_path, std::string_view suffix) {
  std::string_view p = cast_path;
  if (p.size() > kCast.size() && EndsWith(p, kCast)) p.remove_suffix(kCast.size());
  return std::string(p) + std::string(suffix);
}

}  // namespace

std::string ManifestPathFor(const std::string& cast_path) {
  return BesideCast(cast_path, kManifest);
}

std::string SpoolScreenTextPath(const std::string& spool_dir, std::string_view id) {
  return SessionFile(spool_dir, id, kScreenText);
}

std::string SpoolKeyframesPath(const std::string& spool_dir, std::string_view id) {
  return SessionFile(spool_dir, id, kKeyframes);
}

std::string ScreenTextPathFor(const std::string& cast_path) {
  return BesideCast(cast_path, kScreenText);
}

std::string KeyframesPathFor(const std::string& cast_path) {
  return BesideCast(cast_path, kKeyframes);
}

Result<std::vector<SpoolEntry>> ScanSpool(const std::string& spool_dir, uint64_t* total_bytes) {
  std::vector<SpoolEntry> out;
  std::vector<std::string> manifests;
  uint64_t total = 0;
  bool opened = ForEachFile(spool_dir, [&](std::string_view name, const struct stat& st) {
    total += static_cast<uint64_t>(st.st_size);
    if (name[0] == '.') return;
    if (EndsWith(name, kManifest)) {
      manifests.emplace_back(name.substr(0, name.size() - kManifest.size()));
    } else if (EndsWith(name, kCast)) {
      SpoolEntry s;
      s.id = name.substr(0, name.size() - kCast.size());
      s.cast_path = spool_dir + "/" + std::string(name);
      s.manifest_path = spool_dir + "/" + s.id + std::string(kManifest);
      s.state_path = spool_dir + "/" + s.id + std::string(kUploadState);
      s.cast_size = static_cast<uint64_t>(st.st_size);
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      out.push_back(std::move(s));
    }
  });
  if (total_bytes) *total_bytes = total;
  if (!opened) {
    if (errno == ENOENT) return out;
    return SysError("opendir", spool_dir, errno);
  }
  std::sort(manifests.begin(), manifests.end());
  for (auto& s : out) s.sealed = std::binary_search(manifests.begin(), manifests.end(), s.id);
  std::sort(out.begin(), out.end(),
            [](const SpoolEntry& a, const SpoolEntry& b) { return a.id < b.id; });
  return out;
}

uint64_t SpoolBytes(const std::string& spool_dir) {
  uint64_t total = 0;
  ForEachFile(spool_dir, [&](std::string_view, const struct stat& st) {
    total += static_cast<uint64_t>(st.st_size);
  });
  return total;
}

std::vector<std::string> SpoolUploadStateIds(const std::string& spool_dir) {
  std::vector<std::string> ids;
  ForEachFile(spool_dir, [&](std::string_view name, const struct stat&) {
    if (name[0] != '.' && EndsWith(name, kUploadState))
      ids.emplace_back(name.substr(0, name.size() - kUploadState.size()));
  });
  return ids;
}

bool RecorderHoldsLock(int fd) {
  int r;
  do r = flock(fd, LOCK_SH | LOCK_NB);
  while (r < 0 && errno == EINTR);
  if (r == 0) {
    flock(fd, LOCK_UN);
    return false;
  }
  return errno == EWOULDBLOCK;
}

bool RecorderHoldsLock(const std::string& cast_path) {
  UniqueFd fd(open(cast_path.c_str(), O_RDONLY | O_CLOEXEC));
  return fd && RecorderHoldsLock(fd.get());
}

}  // namespace ttyaudit
