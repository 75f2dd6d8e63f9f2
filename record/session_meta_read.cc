#include "record/session_meta_read.h"

#include <simdjson.h>

#include "base/json_read.h"

namespace ttyaudit {

namespace od = simdjson::ondemand;

namespace {

// Unknown keys are skipped: files from newer versions may carry more.
Status ReadMetaObject(od::object obj, const JsonPlace& at, SessionMeta& m) {
  return DecodeJsonObject(obj, at,
                          {
                              {"id", JsonString(m.id)},
                              {"source", JsonString(m.source)},
                              {"node", JsonString(m.node)},
                              {"machine_id", JsonString(m.machine_id)},
                              {"user", JsonString(m.user)},
                              {"uid", JsonInteger(m.uid)},
                              {"gid", JsonInteger(m.gid)},
                              {"argv", JsonStringArray(m.argv)},
                              {"cwd", JsonString(m.cwd)},
                              {"env", JsonStringMap(m.env)},
                              {"terminal", JsonBool(m.terminal)},
                              {"runtime", JsonString(m.runtime)},
                              {"container_id", JsonString(m.container_id)},
                              {"runtime_root", JsonString(m.runtime_root)},
                              {"bundle", JsonString(m.bundle)},
                              {"namespace", JsonString(m.k8s_namespace)},
                              {"pod", JsonString(m.pod)},
                              {"pod_uid", JsonString(m.pod_uid)},
                              {"container", JsonString(m.container)},
                              {"image", JsonString(m.image)},
                              {"width", JsonInteger(m.width)},
                              {"height", JsonInteger(m.height)},
                              {"start_ns", JsonInteger(m.start_ns)},
                              {"end_ns", JsonInteger(m.end_ns)},
                              {"state", JsonString(m.state)},
                              {"exit_code", JsonInteger(m.exit_code)},
                              {"signal", JsonInteger(m.signal)},
                              {"bytes_out", JsonInteger(m.bytes_out)},
                              {"bytes_in", JsonInteger(m.bytes_in)},
                              {"bytes_in_hidden", JsonInteger(m.bytes_in_hidden)},
                              {"recorder_pid", JsonInteger(m.recorder_pid)},
                              {"seq", JsonInteger(m.seq)},
                          },
                          JsonUnknownKeys::kSkip);
}

}  // namespace

Result<SessionMeta> ParseSessionMeta(std::string_view json) {
  JsonObjectText text;
  if (auto st = text.Open(json, "session metadata"); !st) return Error{st.message()};
  SessionMeta m;
  if (auto st = ReadMetaObject(text.object(), JsonPlace("session metadata"), m); !st)
    return Error{st.message()};
  return m;
}

Result<SessionMeta> SessionMetaFromHeader(std::string_view header_line) {
  JsonObjectText text;
  if (auto st = text.Open(header_line, "asciicast header"); !st) return Error{st.message()};
  od::object& obj = text.object();
  SessionMeta m;
  bool found = false;
  int64_t width = 0, height = 0;
  // The header's own width and height are another tool's business: a wrong type is ignored.
  auto lenient = [](int64_t& out) {
    return [&out](od::value v, const JsonPlace&) -> Status {
      if (v.get_int64().get(out)) out = 0;
      return {};
    };
  };
  auto ttyaudit = [&](od::value v, const JsonPlace& at) -> Status {
    od::object o;
    if (v.get_object().get(o)) return at.Bad("want an object");
    found = true;
    // Its members are named as session metadata's, as ParseSessionMeta names them.
    return ReadMetaObject(o, JsonPlace("session metadata"), m);
  };
  if (auto st = DecodeJsonObject(
          obj, JsonPlace("asciicast header"),
          {{"ttyaudit", ttyaudit}, {"width", lenient(width)}, {"height", lenient(height)}},
          JsonUnknownKeys::kSkip);
      !st)
    return Error{st.message()};
  if (!found) return Error{"asciicast header: no ttyaudit metadata (not recorded by ttyaudit)"};
  if (width > 0 && m.width <= 0) m.width = static_cast<int>(width);
  if (height > 0 && m.height <= 0) m.height = static_cast<int>(height);
  return m;
}

}  // namespace ttyaudit
