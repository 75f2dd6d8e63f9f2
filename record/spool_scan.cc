#include "record/spool_scan.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/ids.h"
#include "base/json.h"
#include "base/json_read.h"
#include "base/unique_fd.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const char* PhaseName(UploadState::Phase p) {
  switch (p) {
    case UploadState::kLive:
      return "live";
    case UploadState::kCast:
      return "cast";
    case UploadState::kManifest:
      return "manifest";
    case UploadState::kIndex:
      return "index";
    case UploadState::kCleanup:
      return "cleanup";
  }
  return "live";
}

}  // namespace

Result<std::vector<SpoolEntry>> ScanSpool(const std::string& spool_dir, uint64_t* total_bytes) {
  std::vector<SpoolEntry> out;
  if (total_bytes) *total_bytes = 0;
  DIR* d = opendir(spool_dir.c_str());
  if (!d) {
    if (errno == ENOENT) return out;
    return SysError("opendir", spool_dir, errno);
  }
  std::vector<std::string> manifests;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st;
    std::string path = spool_dir + "/" + name;
    if (stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if (total_bytes) *total_bytes += static_cast<uint64_t>(st.st_size);
    if (name[0] == '.') continue;
    if (EndsWith(name, ".json")) {
      manifests.push_back(name.substr(0, name.size() - 5));
    } else if (EndsWith(name, ".cast")) {
      SpoolEntry s;
      s.id = name.substr(0, name.size() - 5);
      s.cast_path = path;
      s.manifest_path = spool_dir + "/" + s.id + ".json";
      s.state_path = spool_dir + "/" + s.id + ".upstate";
      s.cast_size = static_cast<uint64_t>(st.st_size);
      s.mtime_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
      out.push_back(std::move(s));
    }
  }
  closedir(d);
  std::sort(manifests.begin(), manifests.end());
  for (auto& s : out) s.sealed = std::binary_search(manifests.begin(), manifests.end(), s.id);
  std::sort(out.begin(), out.end(),
            [](const SpoolEntry& a, const SpoolEntry& b) { return a.id < b.id; });
  return out;
}

Result<UploadState> LoadUploadState(const std::string& path) {
  UploadState s;
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.message().find("No such file") != std::string::npos) return s;
    return text.error();
  }
  auto bad = [&](const char* what) { return Error{"state file `" + path + "`: " + what}; };
  JsonObjectText json;
  if (auto st = json.Open(*text, "state file `" + path + "`"); !st) return Error{st.message()};
  od::object& obj = json.object();
  for (auto field : obj) {
    std::string_view k;
    if (field.unescaped_key().get(k)) return bad("malformed key");
    od::value v = field.value();
    if (k == "phase") {
      std::string_view p;
      if (v.get_string().get(p)) return bad("phase");
      for (int i = UploadState::kLive; i <= UploadState::kCleanup; ++i)
        if (p == PhaseName(static_cast<UploadState::Phase>(i)))
          s.phase = static_cast<UploadState::Phase>(i);
    } else if (k == "live_offset") {
      if (v.get_uint64().get(s.live_offset)) return bad("live_offset");
    } else if (k == "live_seq") {
      if (v.get_uint64().get(s.live_seq)) return bad("live_seq");
    } else if (k == "upload_id") {
      std::string_view id;
      if (v.get_string().get(id)) return bad("upload_id");
      s.cast_upload.upload_id = std::string(id);
    } else if (k == "part_size") {
      if (v.get_uint64().get(s.cast_upload.part_size)) return bad("part_size");
    } else if (k == "parts") {
      od::array arr;
      if (v.get_array().get(arr)) return bad("parts");
      for (auto item : arr) {
        od::array pair;
        if (item.get_array().get(pair)) return bad("parts item");
        CompletedPart part;
        int i = 0;
        for (auto x : pair) {
          if (i == 0) {
            int64_t n;
            if (x.get_int64().get(n)) return bad("part number");
            part.number = static_cast<int>(n);
          } else {
            std::string_view etag;
            if (x.get_string().get(etag)) return bad("part etag");
            part.etag = std::string(etag);
          }
          ++i;
        }
        s.cast_upload.parts.push_back(part);
      }
    }
  }
  return s;
}

Status SaveUploadState(const std::string& path, const UploadState& s) {
  JsonWriter w;
  w.BeginObject();
  w.Key("phase").String(PhaseName(s.phase));
  w.Key("live_offset").Uint(s.live_offset);
  w.Key("live_seq").Uint(s.live_seq);
  w.Key("upload_id").String(s.cast_upload.upload_id);
  w.Key("part_size").Uint(s.cast_upload.part_size);
  w.Key("parts").BeginArray();
  for (const auto& p : s.cast_upload.parts) w.BeginArray().Int(p.number).String(p.etag).EndArray();
  w.EndArray().EndObject();
  return WriteFileAtomically(path, w.str() + "\n");
}

std::string LiveChunkKey(std::string_view id, uint64_t seq) {
  char num[32];
  snprintf(num, sizeof num, "%08llu", static_cast<unsigned long long>(seq));
  return LiveChunkPrefix(id) + num + ".part";
}

std::string LiveChunkPrefix(std::string_view id) {
  return "live/" + SanitizeKeyComponent(id) + "/";
}

size_t WholeLines(std::string_view data) {
  size_t nl = data.rfind('\n');
  return nl == std::string_view::npos ? 0 : nl + 1;
}

Status WriteFileAtomically(const std::string& path, std::string_view bytes) {
  std::string tmp = path + ".tmp";
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  if (!fd) return SysError("create", tmp, errno);
  while (!bytes.empty()) {
    ssize_t n = write(fd.get(), bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("write", tmp, errno);
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  if (fsync(fd.get()) != 0) return SysError("fsync", tmp, errno);
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) return SysError("rename", path, errno);
  return Status::Ok();
}

Result<std::string> ReadFile(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("open", path, errno);
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path, errno);
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace ttyaudit

namespace ttyaudit {

int CleanOrphanStates(const std::string& spool_dir) {
  DIR* d = opendir(spool_dir.c_str());
  if (!d) return 0;
  std::vector<std::string> ids;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name[0] != '.' && EndsWith(name, ".upstate"))
      ids.push_back(name.substr(0, name.size() - 8));
  }
  closedir(d);
  int cleaned = 0;
  for (const auto& id : ids) {
    std::string base = spool_dir + "/" + id;
    struct stat st;
    if (stat((base + ".cast").c_str(), &st) == 0) continue;
    auto state = LoadUploadState(base + ".upstate");
    if (!state.ok() || state->phase != UploadState::kCleanup) continue;
    unlink((base + ".json").c_str());
    unlink((base + ".upstate").c_str());
    ++cleaned;
  }
  return cleaned;
}

}  // namespace ttyaudit
