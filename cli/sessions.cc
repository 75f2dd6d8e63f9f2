#include "cli/sessions.h"

#include <dirent.h>
#include <fcntl.h>
#include <simdjson.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/asciicast.h"
#include "common/ids.h"
#include "common/json.h"
#include "common/spool_writer.h"
#include "common/unique_fd.h"

namespace ttyaudit {
namespace {

// The manifest's "commands" array as compact JSON, or "[]".
std::string ManifestCommands(const std::string& cast_path) {
  std::ifstream in(ManifestPathFor(cast_path), std::ios::binary);
  if (!in) return "[]";
  std::stringstream ss;
  ss << in.rdbuf();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(ss.str()).get(doc)) return "[]";
  simdjson::dom::array commands;
  if (doc["commands"].get_array().get(commands)) return "[]";
  return simdjson::minify(commands);
}

// True while the recorder that writes `path` still holds its lock.
bool RecorderAlive(const std::string& path) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return false;
  return flock(fd.get(), LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
}

void Walk(const std::string& dir, int depth, std::vector<std::string>& out) {
  if (depth > 12) return;
  DIR* d = opendir(dir.c_str());
  if (!d) return;
  while (dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string p = dir + "/" + name;
    if (e->d_type == DT_DIR) {
      Walk(p, depth + 1, out);
    } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".cast") == 0) {
      out.push_back(p);
    }
  }
  closedir(d);
}

}  // namespace

Result<SessionRecord> ReadLocalSession(const std::string& cast_path, const std::string& where) {
  auto reader = CastReader::Open(cast_path);
  if (!reader.ok()) return reader.error();
  auto meta = SessionMetaFromHeader(reader->header());
  if (!meta.ok()) return Error{cast_path + ": " + meta.message()};
  SessionRecord r;
  r.meta = std::move(meta.value());
  r.path = cast_path;
  r.where = where;
  r.commands_json = ManifestCommands(cast_path);
  if (r.meta.state == "recording" && !RecorderAlive(cast_path)) {
    r.meta.state = "interrupted";
    struct stat st;
    if (stat(cast_path.c_str(), &st) == 0)
      r.meta.end_ns = st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
  }
  return r;
}

std::vector<SessionRecord> ListLocalSessions(const std::string& dir, const std::string& where,
                                             std::vector<std::string>& warnings) {
  std::vector<std::string> paths;
  Walk(dir, 0, paths);
  std::vector<SessionRecord> out;
  for (const auto& p : paths) {
    auto r = ReadLocalSession(p, where);
    if (r.ok()) out.push_back(std::move(r.value()));
    else warnings.push_back(r.message());
  }
  return out;
}

std::vector<SessionRecord> ListSessions(const Config& cfg, const std::string& store_url,
                                        std::vector<std::string>& warnings) {
  std::vector<SessionRecord> out;
  std::string url = store_url.empty() ? cfg.StoreUrl() : store_url;
  if (store_url.empty()) out = ListLocalSessions(cfg.spool_dir, "spool", warnings);
  if (url.rfind("file://", 0) == 0) {
    auto more = ListLocalSessions(url.substr(7), url, warnings);
    for (auto& r : more) {
      // A session both in the spool and archived is the same session: keep one.
      bool dup = std::any_of(out.begin(), out.end(),
                             [&](const SessionRecord& s) { return s.meta.id == r.meta.id; });
      if (!dup) out.push_back(std::move(r));
    }
  } else {
    warnings.push_back("store " + url + ": reading S3 stores is not supported yet");
  }
  std::sort(out.begin(), out.end(), [](const SessionRecord& a, const SessionRecord& b) {
    return a.meta.start_ns < b.meta.start_ns;
  });
  return out;
}

Result<SessionRecord> FindSession(const Config& cfg, const std::string& store_url,
                                  const std::string& id_or_path) {
  if (id_or_path.find('/') != std::string::npos ||
      (id_or_path.size() > 5 && id_or_path.compare(id_or_path.size() - 5, 5, ".cast") == 0))
    return ReadLocalSession(id_or_path, "file");
  if (id_or_path.size() < 8)
    return Error{"session id `" + id_or_path + "`: give at least 8 characters of the id"};
  std::vector<std::string> warnings;
  std::vector<SessionRecord> matches;
  for (auto& s : ListSessions(cfg, store_url, warnings))
    if (s.meta.id.rfind(id_or_path, 0) == 0) matches.push_back(std::move(s));
  if (matches.empty()) return Error{"no session with id `" + id_or_path + "`"};
  if (matches.size() > 1) {
    bool same = std::all_of(matches.begin(), matches.end(),
                            [&](const SessionRecord& s) { return s.meta.id == matches[0].meta.id; });
    if (!same) return Error{"session id `" + id_or_path + "` is ambiguous: give more characters"};
  }
  return std::move(matches[0]);
}

std::string SessionJsonLine(const SessionRecord& s, const std::string& prefix) {
  const SessionMeta& m = s.meta;
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(m.id);
  w.Key("start").String(FormatRfc3339(m.start_ns));
  if (m.end_ns) w.Key("end").String(FormatRfc3339(m.end_ns));
  else w.Key("end").Null();
  w.Key("source").String(m.source);
  w.Key("node").String(m.node);
  w.Key("namespace").String(m.k8s_namespace);
  w.Key("pod").String(m.pod);
  w.Key("container").String(m.container);
  w.Key("container_id").String(m.container_id);
  w.Key("image").String(m.image);
  w.Key("user").String(m.user);
  w.Key("uid").Int(m.uid);
  w.Key("argv").StringArray(m.argv);
  if (m.state == "exited") w.Key("exit_code").Int(m.exit_code);
  else w.Key("exit_code").Null();
  if (m.state == "signaled") w.Key("signal").Int(m.signal);
  w.Key("commands").Raw(s.commands_json.empty() ? "[]" : s.commands_json);
  w.Key("bytes_out").Uint(m.bytes_out);
  w.Key("bytes_in").Uint(m.bytes_in);
  w.Key("state").String(m.state);
  w.Key("key").String(SessionKey(m, prefix));
  w.Key("where").String(s.where);
  w.Key("path").String(s.path);
  w.EndObject();
  return w.Take();
}

}  // namespace ttyaudit
