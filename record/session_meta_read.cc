// Parsing session metadata (declared in session_meta.h), apart from the writer so that the
// recorder, which only writes it, does not link simdjson.
#include <simdjson.h>

#include "base/json_read.h"
#include "record/session_meta.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

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
    else if (k == "seq") ok = !v.get_uint64().get(m.seq);
    if (!ok) return Error{"session metadata: " + std::string(k) + ": wrong type"};
  }
  return {};
}

}  // namespace

Result<SessionMeta> ParseSessionMeta(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "session metadata"); !st) return Error{st.message()};
  SessionMeta m;
  if (auto st = ReadMetaObject(text.object(), m); !st) return Error{st.message()};
  return m;
}

Result<SessionMeta> SessionMetaFromHeader(std::string_view header_line) {
  JsonObjectText text;
  if (auto st = text.Open(header_line, "asciicast header"); !st) return Error{st.message()};
  od::object& obj = text.object();
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

}  // namespace ttyaudit
