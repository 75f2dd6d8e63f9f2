#include "cli/serve_api.h"

#include <arpa/inet.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdlib>
#include <utility>

#include "base/files.h"
#include "base/ids.h"
#include "base/json.h"
#include "base/utf8.h"
#include "record/asciicast.h"

namespace ttyaudit {

Result<ListenAddress> ParseListen(const std::string& text) {
  ListenAddress a;
  std::string port;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
      return Error{"--listen `" + text + "`: give [ADDRESS]:PORT for IPv6"};
    a.host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos) {
    a.host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (a.host.find(':') != std::string::npos)
      return Error{"--listen `" + text + "`: give [ADDRESS]:PORT for IPv6"};
  } else {
    a.host = "127.0.0.1";
    port = text;
  }
  char* end = nullptr;
  long p = port.empty() ? -1 : std::strtol(port.c_str(), &end, 10);
  if (p < 0 || p > 65535 || (end && *end))
    return Error{"--listen `" + text + "`: the port must be a number from 0 to 65535"};
  if (a.host.empty()) return Error{"--listen `" + text + "`: no address"};
  a.port = static_cast<int>(p);
  return a;
}

bool IsLoopback(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4;
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6;
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;
}

bool TokenEquals(std::string_view expected, std::string_view given) {
  // Every byte of `expected` is looked at whatever `given` holds, and no branch depends on
  // where the first difference is.
  unsigned char diff = expected.size() == given.size() ? 0 : 1;
  for (size_t i = 0; i < expected.size(); ++i) {
    unsigned char g = i < given.size() ? static_cast<unsigned char>(given[i]) : 0;
    diff |= static_cast<unsigned char>(expected[i]) ^ g;
  }
  return diff == 0 && !expected.empty();
}

Result<std::string> ReadTokenFile(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return Error{"--token-file: " + text.message()};
  std::string t = text->substr(0, text->find('\n'));
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
  while (!t.empty() && space(t.back())) t.pop_back();
  size_t lead = 0;
  while (lead < t.size() && space(t[lead])) ++lead;
  t.erase(0, lead);
  if (t.size() < 16)
    return Error{"--token-file `" + path + "`: the token must be at least 16 characters"};
  return t;
}

SearchQuery QueryFromParams(const std::multimap<std::string, std::string>& params,
                            const std::string& store_url) {
  SearchQuery q;
  q.json = true;  // no progress line on the server's terminal
  q.store_url = store_url;
  std::pair<const char*, std::string*> text[] = {{"since", &q.since},
                                                 {"until", &q.until},
                                                 {"user", &q.user},
                                                 {"command", &q.command_re},
                                                 {"text", &q.text_re},
                                                 {"namespace", &q.k8s_namespace},
                                                 {"pod", &q.pod},
                                                 {"container", &q.container},
                                                 {"node", &q.node},
                                                 {"image", &q.image},
                                                 {"exit_code", &q.exit_code},
                                                 {"state", &q.state},
                                                 {"uid", &q.uid}};
  for (auto& [name, field] : text)
    if (auto it = params.find(name); it != params.end()) *field = it->second;
  auto flag = [&](const char* name) {
    auto it = params.find(name);
    return it != params.end() && (it->second == "1" || it->second == "true" || it->second == "on");
  };
  q.escalated = flag("escalated");
  q.live = flag("live");
  return q;
}

LayoutPath LayoutOf(const SessionMeta& m) {
  LayoutPath p;
  p.date = FormatDate(m.start_ns);
  if (m.source == "host") {
    p.k8s_namespace = "_host";
    p.pod = m.node;
    p.container = m.user;
  } else {
    p.k8s_namespace = m.k8s_namespace.empty() ? "_none" : m.k8s_namespace;
    p.pod = m.pod.empty() ? "_none" : m.pod;
    p.container = m.container.empty() ? m.container_id.substr(0, 12) : m.container;
  }
  return p;
}

namespace {

void WriteSummaryMembers(JsonWriter& w, const SessionRecord& s) {
  const SessionMeta& m = s.meta;
  WriteSessionStart(w, m);
  w.Key("duration_s").Double(m.end_ns ? (m.end_ns - m.start_ns) / 1e9 : 0, 3);
  w.Key("source").String(m.source);
  w.Key("node").String(m.node);
  WriteSessionWhere(w, m);
  w.Key("state").String(m.state);
  w.Key("live").Bool(m.state == "recording");
  WriteSessionOutcome(w, m);
  w.Key("escalated").Bool(s.escalated);
  // What the uploader recorded (search's EVIDENCE column); the viewer checks it (EvidenceOf).
  w.Key("evidence").String(s.evidence.empty() ? "pending" : s.evidence);
  w.Key("signed_by").String(s.signed_by);
  w.Key("k8s_user").String(s.k8s_user);
  w.Key("bytes_out").Uint(m.bytes_out);
  LayoutPath p = LayoutOf(m);
  w.Key("layout").BeginObject();
  w.Key("date").String(p.date).Key("namespace").String(p.k8s_namespace);
  w.Key("pod").String(p.pod).Key("container").String(p.container);
  w.EndObject();
}

// The manifest's commands, each with the fields the timeline shows and "escalated" when it ran
// as another user than the session (uid or euid changed: su, sudo, setuid programs).
void WriteCommands(JsonWriter& w, const SessionRecord& s) {
  w.BeginArray();
  simdjson::dom::parser parser;
  simdjson::dom::array commands;
  if (s.commands_json.empty() || parser.parse(s.commands_json).get_array().get(commands)) {
    w.EndArray();
    return;
  }
  for (simdjson::dom::element c : commands) {
    // A member that is missing or of another type reads as `def`.
    auto integer = [&](const char* key, int64_t def) {
      int64_t v = 0;
      return c[key].get_int64().get(v) ? def : v;
    };
    auto text = [&](const char* key) {
      std::string_view v;
      return c[key].get_string().get(v) ? std::string_view() : v;
    };
    int64_t uid = integer("uid", -1), euid = integer("euid", -1), pid = integer("pid", 0),
            ppid = integer("ppid", 0), exit_code = integer("exit_code", -1),
            signal = integer("signal", 0);
    double start = 0;
    if (c["start"].get_double().get(start)) start = 0;
    std::string_view cwd = text("cwd"), user = text("user"), euser = text("euser");
    std::vector<std::string> argv;
    simdjson::dom::array a;
    if (!c["argv"].get_array().get(a))
      for (simdjson::dom::element e : a) {
        std::string_view arg;
        if (!e.get_string().get(arg)) argv.emplace_back(arg);
      }
    double end = 0;
    bool ended = !c["end"].get_double().get(end);
    const int64_t session_uid = s.meta.uid;
    bool escalated = euid != uid || (session_uid >= 0 && uid >= 0 && uid != session_uid);
    w.BeginObject();
    w.Key("pid").Int(pid).Key("ppid").Int(ppid);
    w.Key("argv").StringArray(argv);
    w.Key("cwd").String(cwd);
    w.Key("uid").Int(uid).Key("euid").Int(euid);
    w.Key("user").String(user).Key("euser").String(euser);
    w.Key("start").Double(start, 3);
    if (ended)
      w.Key("end").Double(end, 3);
    else
      w.Key("end").Null();
    w.Key("exit_code").Int(exit_code).Key("signal").Int(signal);
    w.Key("escalated").Bool(escalated);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

std::string SessionSummaryJson(const SessionRecord& s) {
  JsonWriter w;
  w.BeginObject();
  WriteSummaryMembers(w, s);
  w.EndObject();
  return w.Take();
}

std::string SessionDetailJson(const SessionRecord& s, uint64_t cast_size) {
  const SessionMeta& m = s.meta;
  JsonWriter w;
  w.BeginObject();
  WriteSummaryMembers(w, s);
  w.Key("cwd").String(m.cwd);
  w.Key("gid").Int(m.gid);
  w.Key("runtime").String(m.runtime);
  w.Key("pod_uid").String(m.pod_uid);
  w.Key("width").Int(m.width).Key("height").Int(m.height);
  w.Key("bytes_in").Uint(m.bytes_in).Key("bytes_in_hidden").Uint(m.bytes_in_hidden);
  w.Key("env").BeginArray();
  for (const auto& [k, v] : m.env) w.BeginArray().String(k).String(v).EndArray();
  w.EndArray();
  if (!s.k8s_json.empty())
    w.Key("k8s").Raw(s.k8s_json);
  else
    w.Key("k8s").Null();
  w.Key("cast_size").Uint(cast_size);
  w.Key("commands");
  WriteCommands(w, s);
  w.EndObject();
  return w.Take();
}

EvidenceState PendingEvidence() {
  EvidenceState e;
  e.state = "pending";
  return e;
}

std::string EvidenceJson(const std::string& id, const EvidenceState& e) {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id).Key("state").String(e.state);
  w.Key("problems").BeginArray();
  for (const auto& p : e.problems) w.String(ToValidUtf8Lossy(p));
  w.EndArray();
  w.Key("key_id").String(ToValidUtf8Lossy(e.key_id));
  w.EndObject();
  return w.Take();
}

std::string SessionPageJson(const std::vector<SessionRecord>& sessions, size_t page,
                            size_t per_page, bool more, const std::vector<std::string>& warnings) {
  JsonWriter w;
  w.BeginObject();
  w.Key("sessions").BeginArray();
  for (const auto& s : sessions) w.Raw(SessionSummaryJson(s));
  w.EndArray();
  w.Key("page").Uint(page).Key("per_page").Uint(per_page).Key("more").Bool(more);
  w.Key("warnings").BeginArray();
  for (const auto& x : warnings) w.String(ToValidUtf8Lossy(x));
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string BrowseJson(const std::vector<SessionRecord>& sessions,
                       const std::map<std::string, std::string>& at) {
  static const char* kLevels[] = {"date", "namespace", "pod", "container"};
  size_t depth = 0;
  while (depth < 3 && at.count(kLevels[depth])) ++depth;
  std::map<std::string, uint64_t> counts;
  for (const auto& s : sessions) {
    LayoutPath p = LayoutOf(s.meta);
    const std::string* parts[] = {&p.date, &p.k8s_namespace, &p.pod, &p.container};
    bool inside = true;
    for (size_t i = 0; i < depth; ++i) inside = inside && *parts[i] == at.at(kLevels[i]);
    if (inside) ++counts[*parts[depth]];
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("level").String(kLevels[depth]);
  w.Key("items").BeginArray();
  std::vector<std::pair<std::string, uint64_t>> items(counts.begin(), counts.end());
  if (depth == 0)  // dates newest first
    std::reverse(items.begin(), items.end());
  for (const auto& [name, n] : items)
    w.BeginObject().Key("name").String(name).Key("count").Uint(n).EndObject();
  w.EndArray();
  w.EndObject();
  return w.Take();
}

PlayerStream::PlayerStream(const SessionMeta& m, Mode mode)
    : mode_(mode), at_header_(mode != Mode::kPlayerPart) {
  if (mode == Mode::kExport) return;  // the recording's own header
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(2).Key("width").Int(m.width).Key("height").Int(m.height);
  w.Key("timestamp").Int(m.start_ns / 1000000000LL);
  w.EndObject();
  header_ = w.Take() + "\n";
}

void PlayerStream::StartFrom(std::string_view screen, int cols, int rows, uint64_t lead_bytes) {
  lead_left_ = lead_bytes;
  std::string safe;
  filter_.Feed(screen, safe);
  if (cols > 0 && rows > 0)
    AppendEventLine(header_, 0, "r", std::to_string(cols) + "x" + std::to_string(rows));
  if (!safe.empty()) AppendEventLine(header_, 0, "o", ToValidUtf8Lossy(safe));
}

void PlayerStream::Feed(std::string_view bytes, std::string& out) {
  if (!header_.empty()) out += std::exchange(header_, std::string());
  constexpr size_t kMaxLine = 64 << 20;  // as CastReader: longer lines are skipped
  while (!bytes.empty()) {
    size_t nl = bytes.find('\n');
    // Lines wholly inside the lead come at time 0 (Line); the bytes count as they are fed.
    const uint64_t taken = nl == std::string_view::npos ? bytes.size() : nl + 1;
    leading_ = lead_left_ > 0;
    lead_left_ -= std::min<uint64_t>(lead_left_, taken);
    std::string_view part = bytes.substr(0, nl);
    if (!too_long_ && pending_.size() + part.size() > kMaxLine) {
      too_long_ = true;
      std::string().swap(pending_);
    }
    if (!too_long_) pending_.append(part);
    if (nl == std::string_view::npos) break;
    bytes.remove_prefix(nl + 1);
    if (std::exchange(too_long_, false))
      ++skipped_;
    else
      Line(out);
    pending_.clear();
  }
}

void PlayerStream::Line(std::string& out) {
  if (std::exchange(at_header_, false)) {
    if (mode_ == Mode::kExport) {
      std::string h = pending_;
      while (!h.empty() && h.back() == ' ') h.pop_back();  // the recorder's padding
      out += ToValidUtf8Lossy(h) + "\n";
    }
    return;
  }
  if (pending_.empty()) return;
  CastEvent ev;
  auto got = parser_.Parse(pending_, ev, "recording");
  if (!got.ok()) {
    ++skipped_;
    return;
  }
  if (!*got) return;
  if (mode_ == Mode::kExport) {
    AppendEventLine(out, ev.time, ev.code,
                    ev.code == "o" || ev.code == "i" ? ToValidUtf8Lossy(ev.data) : ev.data);
    return;
  }
  if (mode_ == Mode::kPlayerPart && !have_base_ && !leading_) base_ = ev.time, have_base_ = true;
  double t = leading_ ? 0 : std::max(last_, ev.time - base_);
  last_ = t;
  if (ev.code == "o") {
    std::string safe;
    filter_.Feed(ev.data, safe);
    if (!safe.empty()) AppendEventLine(out, t, "o", ToValidUtf8Lossy(safe));
  } else if (ev.code == "r" || ev.code == "m") {
    AppendEventLine(out, t, ev.code, ToValidUtf8Lossy(ev.data));
  }
}

void PlayerStream::Finish(std::string& out) {
  if (!header_.empty()) out += std::exchange(header_, std::string());
  if (mode_ == Mode::kExport) return;
  std::string safe;
  filter_.Finish(safe);
  if (!safe.empty()) AppendEventLine(out, last_, "o", ToValidUtf8Lossy(safe));
}

Result<CastPart> FindCastPart(uint64_t size, uint64_t part_size, uint64_t index,
                              const std::function<Result<std::string>(uint64_t, uint64_t)>& read) {
  CastPart p;
  p.count = size == 0 ? 1 : (size + part_size - 1) / part_size;
  if (index >= p.count) return Error{"part " + std::to_string(index) + " is past the end"};
  // The first byte after the first newline at or after `at`, or `size`.
  auto line_start = [&](uint64_t at) -> Result<uint64_t> {
    if (at == 0) return uint64_t{0};
    if (at >= size) return size;
    constexpr uint64_t kStep = 64 << 10;
    for (uint64_t off = at; off < size; off += kStep) {
      auto bytes = read(off, kStep);
      if (!bytes.ok()) return bytes.error();
      if (size_t nl = bytes->find('\n'); nl != std::string::npos) return off + nl + 1;
      if (bytes->size() < kStep) break;
    }
    return size;
  };
  auto begin = line_start(index * part_size);
  if (!begin.ok()) return begin.error();
  auto end = line_start((index + 1) * part_size);
  if (!end.ok()) return end.error();
  p.begin = *begin;
  p.end = std::max(*begin, *end);
  return p;
}

}  // namespace ttyaudit
