#include "catalog/segment.h"

#include <simdjson.h>

#include <cstdio>
#include <cstring>

#include "base/ids.h"
#include "base/json.h"
#include "record/session_meta_read.h"

namespace ttyaudit {
namespace {

namespace dom = simdjson::dom;

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// 8-4-4-4-12 lowercase hex: what NewUuidV7 writes. Anything else is not a session id.
bool LooksLikeUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// The members of a line that are read back into a SessionMeta, in the line's order.
void WriteMeta(JsonWriter& w, const SessionMeta& m) {
  WriteSessionStart(w, m);
  w.Key("start_ns").Int(m.start_ns);
  if (m.end_ns)
    w.Key("end_ns").Int(m.end_ns);
  else
    w.Key("end_ns").Null();
  w.Key("source").String(m.source);
  w.Key("node").String(m.node);
  w.Key("machine_id").String(m.machine_id);
  w.Key("runtime").String(m.runtime);
  WriteSessionWhere(w, m);
  w.Key("cwd").String(m.cwd);
  w.Key("width").Int(m.width);
  w.Key("height").Int(m.height);
  w.Key("state").String(m.state);
  WriteSessionOutcome(w, m);
  w.Key("bytes_out").Uint(m.bytes_out);
  w.Key("bytes_in").Uint(m.bytes_in);
}

// Typed readers over a DOM object: false when the member is missing or of another type.
bool Str(dom::object o, const char* k, std::string& out) {
  std::string_view v;
  if (o[k].get_string().get(v)) return false;
  out.assign(v);
  return true;
}
bool Int(dom::object o, const char* k, int64_t& out) { return !o[k].get_int64().get(out); }
bool Uint(dom::object o, const char* k, uint64_t& out) { return !o[k].get_uint64().get(out); }
bool IsNull(dom::object o, const char* k) {
  dom::element e;
  return !o[k].get(e) && e.is_null();
}

}  // namespace

Result<std::string> SegmentLine(std::string_view index_entry) {
  dom::parser parser;
  dom::element doc;
  if (parser.parse(index_entry.data(), index_entry.size()).get(doc))
    return Error{"index entry: not JSON"};
  dom::object session;
  if (doc["session"].get_object().get(session)) return Error{"index entry: no session object"};
  auto meta = ParseSessionMeta(simdjson::minify(session));
  if (!meta.ok()) return Error{"index entry: " + meta.message()};
  if (!LooksLikeUuid(meta->id)) return Error{"index entry: session id `" + meta->id + "`"};
  std::string_view key, sha;
  uint64_t cast_size = 0;
  if (doc["key"].get_string().get(key)) return Error{"index entry: no key"};
  if (doc["cast_size"].get_uint64().get(cast_size)) cast_size = 0;
  if (doc["cast_sha256"].get_string().get(sha)) sha = "";
  dom::array commands;
  bool escalated = false;
  if (doc["escalated"].get_bool().get(escalated)) escalated = false;
  std::string_view signed_by;
  if (doc["signed_by"].get_string().get(signed_by)) signed_by = "";

  JsonWriter w;
  w.BeginObject();
  w.Key("v").Int(kSegmentLineVersion);
  WriteMeta(w, *meta);
  w.Key("escalated").Bool(escalated);
  w.Key("key").String(key);
  w.Key("cast_size").Uint(cast_size);
  w.Key("cast_sha256").String(sha);
  w.Key("commands")
      .Raw(doc["commands"].get_array().get(commands) ? "[]" : simdjson::minify(commands));
  w.Key("signed_by").String(signed_by);
  w.EndObject();
  return w.Take();
}

Result<CatalogEntry> ParseSegmentLine(std::string_view line) {
  thread_local dom::parser parser;
  dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc)) return Error{"not JSON"};
  dom::object o;
  if (doc.get_object().get(o)) return Error{"not a JSON object"};
  int64_t v = 0;
  if (!Int(o, "v", v) || v != kSegmentLineVersion)
    return Error{"want \"v\": " + std::to_string(kSegmentLineVersion)};
  CatalogEntry e;
  SessionMeta& m = e.meta;
  auto bad = [](const char* member) {
    return Error{std::string("bad or missing \"") + member + "\""};
  };
  if (!Str(o, "id", m.id) || !LooksLikeUuid(m.id)) return bad("id");
  if (!Int(o, "start_ns", m.start_ns)) return bad("start_ns");
  if (!IsNull(o, "end_ns") && !Int(o, "end_ns", m.end_ns)) return bad("end_ns");
  struct {
    const char* name;
    std::string* out;
  } strings[] = {{"source", &m.source},
                 {"node", &m.node},
                 {"machine_id", &m.machine_id},
                 {"runtime", &m.runtime},
                 {"namespace", &m.k8s_namespace},
                 {"pod", &m.pod},
                 {"container", &m.container},
                 {"container_id", &m.container_id},
                 {"image", &m.image},
                 {"user", &m.user},
                 {"cwd", &m.cwd},
                 {"state", &m.state},
                 {"key", &e.key},
                 {"cast_sha256", &e.cast_sha256}};
  for (auto& s : strings)
    if (!Str(o, s.name, *s.out)) return bad(s.name);
  int64_t width = 0, height = 0, code = -1, sig = 0;
  if (!Int(o, "uid", m.uid)) return bad("uid");
  if (!Int(o, "width", width) || !Int(o, "height", height)) return bad("width");
  m.width = static_cast<int>(width);
  m.height = static_cast<int>(height);
  if (!IsNull(o, "exit_code") && !Int(o, "exit_code", code)) return bad("exit_code");
  if (!IsNull(o, "signal") && !Int(o, "signal", sig)) return bad("signal");
  m.exit_code = static_cast<int>(code);
  m.signal = static_cast<int>(sig);
  if (!Uint(o, "bytes_out", m.bytes_out) || !Uint(o, "bytes_in", m.bytes_in))
    return bad("bytes_out");
  if (!Uint(o, "cast_size", e.cast_size)) return bad("cast_size");
  if (o["escalated"].get_bool().get(e.escalated)) return bad("escalated");
  dom::array argv, commands;
  if (o["argv"].get_array().get(argv)) return bad("argv");
  for (auto a : argv) {
    std::string_view s;
    if (a.get_string().get(s)) return bad("argv");
    m.argv.emplace_back(s);
  }
  if (o["commands"].get_array().get(commands)) return bad("commands");
  e.commands_json = simdjson::minify(commands);
  // Added after the first lines were written: a line without it was shipped unsigned.
  std::string_view signed_by;
  if (!o["signed_by"].get_string().get(signed_by)) e.signed_by.assign(signed_by);
  if (e.key.rfind("sessions/", 0) != 0) return bad("key");
  return e;
}

std::string ScreenSegmentLine(std::string_view id, std::string_view node,
                              const std::optional<std::string>& text) {
  JsonWriter w;
  w.BeginObject();
  w.Key("v").Int(kSegmentLineVersion);
  w.Key("id").String(id);
  w.Key("node").String(node);
  if (text)
    w.Key("text").String(*text);
  else
    w.Key("text").Null();
  w.EndObject();
  return w.Take();
}

Result<ScreenSegmentEntry> ParseScreenSegmentLine(std::string_view line) {
  thread_local dom::parser parser;
  dom::element doc;
  if (parser.parse(line.data(), line.size()).get(doc)) return Error{"not JSON"};
  dom::object o;
  if (doc.get_object().get(o)) return Error{"not a JSON object"};
  int64_t v = 0;
  if (!Int(o, "v", v) || v != kSegmentLineVersion)
    return Error{"want \"v\": " + std::to_string(kSegmentLineVersion)};
  ScreenSegmentEntry e;
  if (!Str(o, "id", e.id) || !LooksLikeUuid(e.id)) return Error{"bad or missing \"id\""};
  if (!Str(o, "node", e.node)) return Error{"bad or missing \"node\""};
  std::string text;
  if (Str(o, "text", text))
    e.text = std::move(text);
  else if (!IsNull(o, "text"))
    return Error{"bad or missing \"text\""};
  return e;
}

}  // namespace ttyaudit
