#include "common/session_meta.h"

#include <simdjson.h>

#include <algorithm>

#include "common/ids.h"
#include "common/json_read.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

void SessionMeta::WriteJson(JsonWriter& w) const {
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("source").String(source);
  w.Key("node").String(node);
  w.Key("machine_id").String(machine_id);
  w.Key("user").String(user);
  w.Key("uid").Int(uid);
  w.Key("gid").Int(gid);
  w.Key("argv").StringArray(argv);
  w.Key("cwd").String(cwd);
  w.Key("env").BeginObject();
  for (const auto& [k, v] : env) w.Key(k).String(v);
  w.EndObject();
  w.Key("terminal").Bool(terminal);
  w.Key("runtime").String(runtime);
  w.Key("container_id").String(container_id);
  w.Key("runtime_root").String(runtime_root);
  w.Key("bundle").String(bundle);
  w.Key("namespace").String(k8s_namespace);
  w.Key("pod").String(pod);
  w.Key("pod_uid").String(pod_uid);
  w.Key("container").String(container);
  w.Key("image").String(image);
  w.Key("width").Int(width);
  w.Key("height").Int(height);
  w.Key("start").String(FormatRfc3339(start_ns));
  w.Key("start_ns").Int(start_ns);
  if (end_ns) {
    w.Key("end").String(FormatRfc3339(end_ns));
    w.Key("end_ns").Int(end_ns);
  }
  w.Key("state").String(state);
  w.Key("exit_code").Int(exit_code);
  w.Key("signal").Int(signal);
  w.Key("bytes_out").Uint(bytes_out);
  w.Key("bytes_in").Uint(bytes_in);
  w.Key("bytes_in_hidden").Uint(bytes_in_hidden);
  w.Key("recorder_pid").Int(recorder_pid);
  w.EndObject();
}

std::string SessionMeta::ToJson() const {
  JsonWriter w;
  WriteJson(w);
  return w.Take();
}

namespace {

Status ReadMetaObject(od::object obj, SessionMeta& m) {
  auto str = ReadJsonString;
  for (auto field : obj) {
    std::string_view k;
    od::value v;
    if (field.unescaped_key().get(k) || field.value().get(v))
      return Error{"session metadata: malformed field"};
    bool ok = true;
    int64_t i64 = 0;
    uint64_t u64 = 0;
    if (k == "id") ok = str(v, m.id);
    else if (k == "source") ok = str(v, m.source);
    else if (k == "node") ok = str(v, m.node);
    else if (k == "machine_id") ok = str(v, m.machine_id);
    else if (k == "user") ok = str(v, m.user);
    else if (k == "uid") ok = !v.get_int64().get(m.uid);
    else if (k == "gid") ok = !v.get_int64().get(m.gid);
    else if (k == "argv") {
      if (auto st = ReadJsonStringArray(v, "session metadata: argv", m.argv); !st) return st;
    } else if (k == "cwd") ok = str(v, m.cwd);
    else if (k == "env") {
      if (auto st = ReadJsonStringMap(v, "session metadata: env", m.env); !st) return st;
    } else if (k == "terminal") ok = !v.get_bool().get(m.terminal);
    else if (k == "runtime") ok = str(v, m.runtime);
    else if (k == "container_id") ok = str(v, m.container_id);
    else if (k == "runtime_root") ok = str(v, m.runtime_root);
    else if (k == "bundle") ok = str(v, m.bundle);
    else if (k == "namespace") ok = str(v, m.k8s_namespace);
    else if (k == "pod") ok = str(v, m.pod);
    else if (k == "pod_uid") ok = str(v, m.pod_uid);
    else if (k == "container") ok = str(v, m.container);
    else if (k == "image") ok = str(v, m.image);
    else if (k == "width") { ok = !v.get_int64().get(i64); m.width = static_cast<int>(i64); }
    else if (k == "height") { ok = !v.get_int64().get(i64); m.height = static_cast<int>(i64); }
    else if (k == "start_ns") ok = !v.get_int64().get(m.start_ns);
    else if (k == "end_ns") ok = !v.get_int64().get(m.end_ns);
    else if (k == "state") ok = str(v, m.state);
    else if (k == "exit_code") { ok = !v.get_int64().get(i64); m.exit_code = static_cast<int>(i64); }
    else if (k == "signal") { ok = !v.get_int64().get(i64); m.signal = static_cast<int>(i64); }
    else if (k == "bytes_out") { ok = !v.get_uint64().get(u64); m.bytes_out = u64; }
    else if (k == "bytes_in") { ok = !v.get_uint64().get(u64); m.bytes_in = u64; }
    else if (k == "bytes_in_hidden") { ok = !v.get_uint64().get(u64); m.bytes_in_hidden = u64; }
    else if (k == "recorder_pid") ok = !v.get_int64().get(m.recorder_pid);
    if (!ok) return Error{"session metadata: " + std::string(k) + ": wrong type"};
  }
  return {};
}

}  // namespace

Result<SessionMeta> ParseSessionMeta(std::string_view json) {
  simdjson::padded_string padded(json);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj))
    return Error{"session metadata: not a JSON object"};
  SessionMeta m;
  if (auto st = ReadMetaObject(obj, m); !st) return Error{st.message()};
  return m;
}

Result<SessionMeta> SessionMetaFromHeader(std::string_view header_line) {
  simdjson::padded_string padded(header_line);
  od::parser parser;
  od::document doc;
  od::object obj;
  if (parser.iterate(padded).get(doc) || doc.get_object().get(obj))
    return Error{"asciicast header: not a JSON object"};
  SessionMeta m;
  bool found = false;
  int64_t width = 0, height = 0;
  for (auto field : obj) {
    std::string_view k;
    od::value v;
    if (field.unescaped_key().get(k) || field.value().get(v))
      return Error{"asciicast header: malformed field"};
    if (k == "ttyaudit") {
      od::object o;
      if (v.get_object().get(o)) return Error{"asciicast header: ttyaudit: want an object"};
      if (auto st = ReadMetaObject(o, m); !st) return Error{st.message()};
      found = true;
    } else if (k == "width") {
      if (v.get_int64().get(width)) width = 0;
    } else if (k == "height") {
      if (v.get_int64().get(height)) height = 0;
    }
  }
  if (!found) return Error{"asciicast header: no ttyaudit metadata (not recorded by ttyaudit)"};
  if (width > 0 && m.width <= 0) m.width = static_cast<int>(width);
  if (height > 0 && m.height <= 0) m.height = static_cast<int>(height);
  return m;
}

int ShellStatus(const SessionMeta& m) {
  if (m.state == "exited") return m.exit_code;
  if (m.state == "signaled") return 128 + m.signal;
  return -1;
}

namespace {
std::string JoinPrefix(std::string_view prefix, const std::string& rest) {
  if (prefix.empty()) return rest;
  return std::string(prefix) + "/" + rest;
}
}  // namespace

std::string SessionKey(const SessionMeta& m, std::string_view prefix) {
  std::string ns, pod, ctr;
  if (m.source == "host") {
    ns = "_host";
    pod = SanitizeKeyComponent(m.node);
    ctr = SanitizeKeyComponent(m.user.empty() ? std::to_string(m.uid) : m.user);
  } else {
    ns = SanitizeKeyComponent(m.k8s_namespace.empty() ? "_none" : m.k8s_namespace);
    pod = SanitizeKeyComponent(m.pod.empty() ? "_none" : m.pod);
    ctr = SanitizeKeyComponent(!m.container.empty() ? m.container : m.container_id.substr(0, 64));
  }
  return JoinPrefix(prefix, "sessions/date=" + FormatDate(m.start_ns) + "/" + ns + "/" + pod +
                                "/" + ctr + "/" + SanitizeKeyComponent(m.id) + ".cast");
}

std::string IndexKey(const SessionMeta& m, std::string_view prefix) {
  return JoinPrefix(prefix, "index/date=" + FormatDate(m.start_ns) +
                                "/node=" + SanitizeKeyComponent(m.node) + "/" +
                                SanitizeKeyComponent(m.id) + ".json");
}

bool IsSecretEnvName(std::string_view name) {
  std::string up(name);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  for (const char* w : {"TOKEN", "PASSWORD", "PASSWD", "SECRET", "KEY", "CREDENTIAL", "AUTH"})
    if (up.find(w) != std::string::npos) return true;
  return false;
}

std::vector<std::pair<std::string, std::string>> RedactEnv(const std::vector<std::string>& env) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& e : env) {
    size_t eq = e.find('=');
    std::string k = e.substr(0, eq);
    std::string v = eq == std::string::npos ? "" : e.substr(eq + 1);
    out.emplace_back(k, IsSecretEnvName(k) ? "[redacted]" : v);
  }
  return out;
}

}  // namespace ttyaudit
