#include "record/session_meta.h"

#include <algorithm>

#include "base/ids.h"

namespace ttyaudit {

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
  w.Key("seq").Uint(seq);
  w.EndObject();
}

std::string SessionMeta::ToJson() const {
  JsonWriter w;
  WriteJson(w);
  return w.Take();
}

void WriteSessionWhere(JsonWriter& w, const SessionMeta& m) {
  w.Key("namespace").String(m.k8s_namespace);
  w.Key("pod").String(m.pod);
  w.Key("container").String(m.container);
  w.Key("container_id").String(m.container_id);
  w.Key("image").String(m.image);
  w.Key("user").String(m.user);
  w.Key("uid").Int(m.uid);
  w.Key("argv").StringArray(m.argv);
}

void WriteSessionStart(JsonWriter& w, const SessionMeta& m) {
  w.Key("id").String(m.id);
  w.Key("start").String(FormatRfc3339(m.start_ns));
  if (m.end_ns)
    w.Key("end").String(FormatRfc3339(m.end_ns));
  else
    w.Key("end").Null();
}

void WriteSessionOutcome(JsonWriter& w, const SessionMeta& m, bool signal_always) {
  if (m.state == "exited")
    w.Key("exit_code").Int(m.exit_code);
  else
    w.Key("exit_code").Null();
  if (m.state == "signaled")
    w.Key("signal").Int(m.signal);
  else if (signal_always)
    w.Key("signal").Null();
}

std::string JoinArgv(const std::vector<std::string>& argv) {
  std::string s;
  for (const auto& a : argv) {
    if (!s.empty()) s.push_back(' ');
    s += a;
  }
  return s;
}

int ShellStatus(const SessionMeta& m) {
  if (m.state == "exited") return m.exit_code;
  if (m.state == "signaled") return 128 + m.signal;
  return -1;
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
