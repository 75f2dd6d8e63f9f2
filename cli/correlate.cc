#include "cli/correlate.h"

#include <simdjson.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "base/ids.h"
#include "base/json_read.h"
#include "base/printable.h"
#include "cli/sessions.h"
#include "config/config.h"

namespace ttyaudit {
namespace {

namespace od = simdjson::ondemand;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexValue(s[i + 1]) >= 0 &&
               HexValue(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(s[i + 1]) * 16 + HexValue(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Audit events come from any apiserver version, and `search --json` lines from any ttyaudit: a
// member of an unexpected type is left as it was, never an error. Only text that is not JSON
// makes a line malformed.
JsonReader AnyString(std::string& out) {
  return [&out](od::value v, const JsonPlace&) -> Status {
    ReadJsonString(v, out);
    return {};
  };
}

JsonReader AnyStrings(std::vector<std::string>& out) {
  return [&out](od::value v, const JsonPlace&) -> Status {
    od::array arr;
    if (v.get_array().get(arr)) return {};
    for (auto e : arr) {
      std::string_view s;
      if (!e.get_string().get(s)) out.emplace_back(s);
    }
    return {};
  };
}

JsonReader AnyInteger(int64_t& out) {
  return [&out](od::value v, const JsonPlace&) -> Status {
    if (v.get_int64().get(out)) out = 0;
    return {};
  };
}

// An object member decoded by `decode`; any other type is skipped.
template <class Decode>
JsonReader AnyObject(Decode decode) {
  return [decode](od::value v, const JsonPlace& at) -> Status {
    od::object o;
    if (v.get_object().get(o)) return {};
    return decode(o, at);
  };
}

// The fields of one audit Event that correlation needs.
struct AuditEvent {
  std::string audit_id, stage, verb, request_uri, user_agent, received;
  std::string user, impersonated_user;
  std::vector<std::string> groups, source_ips;
  std::string resource, subresource, ns, name;
  int64_t code = 0;
};

bool ParseAuditEvent(od::parser& parser, const char* line, size_t len, size_t capacity,
                     AuditEvent& ev) {
  od::document doc;
  od::object obj;
  if (parser.iterate(line, len, capacity).get(doc) || doc.get_object().get(obj)) return false;
  constexpr auto kSkip = JsonUnknownKeys::kSkip;
  auto user = [&ev](od::object o, const JsonPlace& at) {
    return DecodeJsonObject(
        o, at, {{"username", AnyString(ev.user)}, {"groups", AnyStrings(ev.groups)}}, kSkip);
  };
  auto impersonated = [&ev](od::object o, const JsonPlace& at) {
    return DecodeJsonObject(o, at, {{"username", AnyString(ev.impersonated_user)}}, kSkip);
  };
  auto object_ref = [&ev](od::object o, const JsonPlace& at) {
    return DecodeJsonObject(o, at,
                            {{"resource", AnyString(ev.resource)},
                             {"subresource", AnyString(ev.subresource)},
                             {"namespace", AnyString(ev.ns)},
                             {"name", AnyString(ev.name)}},
                            kSkip);
  };
  auto status = [&ev](od::object o, const JsonPlace& at) {
    return DecodeJsonObject(o, at, {{"code", AnyInteger(ev.code)}}, kSkip);
  };
  return DecodeJsonObject(obj, JsonPlace("audit event"),
                          {
                              {"auditID", AnyString(ev.audit_id)},
                              {"stage", AnyString(ev.stage)},
                              {"verb", AnyString(ev.verb)},
                              {"requestURI", AnyString(ev.request_uri)},
                              {"userAgent", AnyString(ev.user_agent)},
                              {"requestReceivedTimestamp", AnyString(ev.received)},
                              {"sourceIPs", AnyStrings(ev.source_ips)},
                              {"user", AnyObject(user)},
                              {"impersonatedUser", AnyObject(impersonated)},
                              {"objectRef", AnyObject(object_ref)},
                              {"responseStatus", AnyObject(status)},
                          },
                          kSkip)
      .ok();
}

class ExecRequestCollector {
 public:
  void Add(AuditEvent& ev) {
    if (ev.resource != "pods" || ev.subresource != "exec") return;
    if (ev.verb != "create" && ev.verb != "get") return;
    auto [it, fresh] = by_id_.try_emplace(ev.audit_id, requests_.size());
    if (fresh || ev.audit_id.empty()) {
      if (!fresh) it->second = requests_.size();
      requests_.push_back(FromEvent(ev));
    }
    K8sExecRequest& r = requests_[it->second];
    if (ev.code) r.response_code = static_cast<int>(ev.code);
  }

  std::vector<K8sExecRequest> Take() {
    std::vector<K8sExecRequest> out;
    for (K8sExecRequest& r : requests_)
      if (r.response_code < 400) out.push_back(std::move(r));
    return out;
  }

 private:
  static K8sExecRequest FromEvent(AuditEvent& ev) {
    K8sExecRequest r;
    r.audit_id = ev.audit_id;
    r.k8s_namespace = ev.ns;
    r.pod = ev.name;
    r.user = ev.user;
    r.groups = std::move(ev.groups);
    r.impersonated_user = ev.impersonated_user;
    r.source_ips = std::move(ev.source_ips);
    r.user_agent = ev.user_agent;
    r.request_uri = ev.request_uri;
    auto t = ParseTime(ev.received, 0);
    r.received_ns = t.ok() ? *t : 0;
    for (auto& [name, value] : ParseQuery(ev.request_uri)) {
      if (name == "command")
        r.command.push_back(std::move(value));
      else if (name == "container")
        r.container = std::move(value);
      else if (name == "tty") {
        r.tty_given = true;
        r.tty = value == "true" || value == "1";
      }
    }
    return r;
  }

  std::unordered_map<std::string, size_t> by_id_;
  std::vector<K8sExecRequest> requests_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view uri) {
  std::vector<std::pair<std::string, std::string>> out;
  size_t q = uri.find('?');
  if (q == std::string_view::npos) return out;
  std::string_view rest = uri.substr(q + 1);
  if (size_t hash = rest.find('#'); hash != std::string_view::npos) rest = rest.substr(0, hash);
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view part = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    if (eq == std::string_view::npos)
      out.emplace_back(PercentDecode(part), "");
    else
      out.emplace_back(PercentDecode(part.substr(0, eq)), PercentDecode(part.substr(eq + 1)));
  }
  return out;
}

Result<std::vector<K8sExecRequest>> ReadK8sExecRequests(FILE* f, AuditScanStats* stats) {
  AuditScanStats local;
  AuditScanStats& st = stats ? *stats : local;
  // Reads grow from 64 KiB to 16 MiB while they fill the buffer: a large log is read in large
  // chunks, a small one (or one line from a pipe) does not cost 16 MiB.
  constexpr size_t kMaxChunk = 16 << 20;
  size_t chunk = 64 << 10;
  // One buffer: [carried partial line][new bytes][padding simdjson may read past a line].
  std::vector<char> buf(chunk + simdjson::SIMDJSON_PADDING);
  size_t have = 0;
  od::parser parser;
  ExecRequestCollector collector;
  AuditEvent ev;
  static constexpr char kNeedle[] = "\"exec\"";  // objectRef.subresource's value
  bool eof = false;
  while (!eof) {
    if (buf.size() - simdjson::SIMDJSON_PADDING - have < chunk / 2)
      buf.resize(buf.size() * 2);  // a line longer than the chunk
    const size_t want = buf.size() - simdjson::SIMDJSON_PADDING - have;
    size_t n = fread(buf.data() + have, 1, want, f);
    if (n == want && chunk < kMaxChunk) {
      chunk *= 2;
      if (buf.size() < chunk + simdjson::SIMDJSON_PADDING)
        buf.resize(chunk + simdjson::SIMDJSON_PADDING);
    }
    if (n == 0) {
      if (ferror(f)) return SysError("read", "audit log", errno);
      eof = true;
      if (have == 0) break;
      buf[have++] = '\n';  // the last line had no newline
    }
    st.bytes += n;
    have += n;
    const char* base = buf.data();
    const char* end = static_cast<const char*>(memrchr(base, '\n', have));
    if (end == nullptr) continue;  // no whole line yet
    const char* limit = end + 1;
    const size_t capacity_end = buf.size();
    st.lines += static_cast<uint64_t>(std::count(base, limit, '\n'));
    const char* pos = base;
    while (pos < limit) {
      const char* hit =
          static_cast<const char*>(memmem(pos, limit - pos, kNeedle, sizeof kNeedle - 1));
      if (hit == nullptr) break;
      const char* ls = static_cast<const char*>(memrchr(pos, '\n', hit - pos));
      ls = ls ? ls + 1 : pos;
      const char* le = static_cast<const char*>(memchr(hit, '\n', limit - hit));
      ev = AuditEvent{};
      ++st.parsed;
      if (ParseAuditEvent(parser, ls, le - ls, capacity_end - (ls - base), ev))
        collector.Add(ev);
      else
        ++st.malformed;
      pos = le + 1;
    }
    have = static_cast<size_t>(base + have - limit);
    memmove(buf.data(), limit, have);
  }
  return collector.Take();
}

Result<std::vector<K8sExecRequest>> ReadK8sExecRequests(const std::string& path,
                                                        AuditScanStats* stats) {
  FILE* f = path == "-" ? stdin : fopen(path.c_str(), "rbe");
  if (f == nullptr) return SysError("open", path, errno);
  auto out = ReadK8sExecRequests(f, stats);
  if (f != stdin) fclose(f);
  if (!out) return Error{path + ": " + out.message()};
  return out;
}

std::vector<CorrelationMatch> CorrelateSessions(const std::vector<SessionMeta>& sessions,
                                                const std::vector<K8sExecRequest>& requests,
                                                const CorrelateOptions& opts) {
  std::unordered_map<std::string, std::vector<size_t>> by_pod;
  for (size_t j = 0; j < requests.size(); ++j)
    by_pod[requests[j].k8s_namespace + '\0' + requests[j].pod].push_back(j);
  struct Candidate {
    double distance;
    CorrelationMatch m;
  };
  std::vector<Candidate> cands;
  for (size_t i = 0; i < sessions.size(); ++i) {
    const SessionMeta& s = sessions[i];
    if (s.pod.empty()) continue;  // a host session, or a container outside Kubernetes
    auto it = by_pod.find(s.k8s_namespace + '\0' + s.pod);
    if (it == by_pod.end()) continue;
    for (size_t j : it->second) {
      const K8sExecRequest& r = requests[j];
      if (!r.container.empty() && r.container != s.container) continue;
      if (r.command != s.argv) continue;
      if (r.tty_given && r.tty != s.terminal) continue;
      double delay = static_cast<double>(s.start_ns - r.received_ns) / 1e9;
      if (delay < -opts.skew_s || delay > opts.window_s) continue;
      cands.push_back({std::fabs(delay), {i, j, delay}});
    }
  }
  std::stable_sort(cands.begin(), cands.end(),
                   [](const Candidate& a, const Candidate& b) { return a.distance < b.distance; });
  std::vector<bool> session_used(sessions.size()), request_used(requests.size());
  std::vector<CorrelationMatch> out;
  for (const Candidate& c : cands) {
    if (session_used[c.m.session] || request_used[c.m.request]) continue;
    session_used[c.m.session] = request_used[c.m.request] = true;
    out.push_back(c.m);
  }
  std::sort(out.begin(), out.end(), [](const CorrelationMatch& a, const CorrelationMatch& b) {
    return a.session < b.session;
  });
  return out;
}

void WriteK8sIdentityJson(JsonWriter& w, const K8sExecRequest& r, double delay_s) {
  w.BeginObject();
  w.Key("audit_id").String(r.audit_id);
  w.Key("user").String(r.user);
  w.Key("groups").StringArray(r.groups);
  if (!r.impersonated_user.empty()) w.Key("impersonated_user").String(r.impersonated_user);
  w.Key("source_ips").StringArray(r.source_ips);
  w.Key("user_agent").String(r.user_agent);
  w.Key("request_received").String(FormatRfc3339(r.received_ns));
  w.Key("delay_s").Double(delay_s, 3);
  w.EndObject();
}

namespace {

// A session from a `search --json` line (or a manifest): only what correlation reads.
bool ParseSessionLine(od::parser& parser, const std::string& line, SessionMeta& m) {
  simdjson::padded_string ps(line);
  od::document doc;
  od::object obj;
  if (parser.iterate(ps).get(doc) || doc.get_object().get(obj)) return false;
  std::string start;
  // A session whose "terminal" is not a boolean is taken for a terminal one: the requests it
  // may match say tty=true or nothing.
  auto terminal = [&m](od::value v, const JsonPlace&) -> Status {
    if (v.get_bool().get(m.terminal)) m.terminal = true;
    return {};
  };
  auto st = DecodeJsonObject(obj, JsonPlace("session"),
                             {
                                 {"id", AnyString(m.id)},
                                 {"source", AnyString(m.source)},
                                 {"namespace", AnyString(m.k8s_namespace)},
                                 {"pod", AnyString(m.pod)},
                                 {"container", AnyString(m.container)},
                                 {"container_id", AnyString(m.container_id)},
                                 {"argv", AnyStrings(m.argv)},
                                 {"terminal", terminal},
                                 {"start_ns", AnyInteger(m.start_ns)},
                                 {"start", AnyString(start)},
                             },
                             JsonUnknownKeys::kSkip);
  if (!st) return false;
  if (m.start_ns == 0 && !start.empty()) {
    auto t = ParseTime(start, 0);
    if (t) m.start_ns = *t;
  }
  return !m.id.empty();
}

}  // namespace

int RunCorrelate(const CorrelateArgs& a, const std::string& store, const Config& cfg) {
  std::vector<SessionMeta> sessions;
  std::vector<SessionRecord> records;  // where each session is, to record its identity there
  if (!a.sessions_file.empty()) {
    FILE* f = a.sessions_file == "-" ? stdin : fopen(a.sessions_file.c_str(), "re");
    if (f == nullptr) {
      std::fprintf(stderr, "ttyaudit: open %s: %s\n", a.sessions_file.c_str(), strerror(errno));
      return 1;
    }
    od::parser parser;
    char* line = nullptr;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
      SessionMeta m;
      if (ParseSessionLine(parser, std::string(line, static_cast<size_t>(n)), m))
        sessions.push_back(std::move(m));
    }
    free(line);
    if (f != stdin) fclose(f);
  } else {
    std::vector<std::string> warnings;
    records = ListSessions(cfg, store, warnings);
    for (const SessionRecord& r : records) sessions.push_back(r.meta);
    for (const std::string& w : warnings)
      std::fprintf(stderr, "ttyaudit: %s\n", EscapeControlChars(w).c_str());
  }
  AuditScanStats stats;
  auto reqs = ReadK8sExecRequests(a.audit_log, &stats);
  if (!reqs) {
    std::fprintf(stderr, "ttyaudit: %s\n", reqs.message().c_str());
    return 1;
  }
  std::vector<CorrelationMatch> matches = CorrelateSessions(sessions, *reqs, a.opts);
  size_t recorded = 0, record_failures = 0;
  for (const CorrelationMatch& m : matches) {
    const SessionMeta& s = sessions[m.session];
    const K8sExecRequest& r = (*reqs)[m.request];
    if (a.record && m.session < records.size()) {
      JsonWriter identity;
      WriteK8sIdentityJson(identity, r, m.delay_s);
      if (Status st = RecordK8sIdentity(cfg, store, records[m.session], identity.str()); !st) {
        std::fprintf(stderr, "ttyaudit: correlate: session %s: %s\n",
                     EscapeControlChars(s.id).c_str(), EscapeControlChars(st.message()).c_str());
        ++record_failures;
      } else {
        ++recorded;
      }
    }
    if (a.json) {
      JsonWriter w;
      w.BeginObject().Key("id").String(s.id).Key("namespace").String(s.k8s_namespace);
      w.Key("pod").String(s.pod).Key("container").String(s.container);
      w.Key("argv").StringArray(s.argv).Key("k8s");
      WriteK8sIdentityJson(w, r, m.delay_s);
      w.EndObject();
      std::printf("%s\n", w.str().c_str());
    } else {
      std::string groups;
      for (const std::string& g : r.groups) groups += (groups.empty() ? "" : ",") + g;
      std::string ips;
      for (const std::string& ip : r.source_ips) ips += (ips.empty() ? "" : ",") + ip;
      std::string line = s.id + "  " + s.k8s_namespace + "/" + s.pod + "/" + s.container +
                         "  user=" + r.user + " groups=" + groups + " from=" + ips;
      std::printf("%s  +%.3fs\n", EscapeControlChars(line).c_str(), m.delay_s);
    }
  }
  std::fprintf(stderr,
               "ttyaudit: correlate: %zu of %zu sessions matched %zu exec requests "
               "(%llu lines, %llu parsed, %llu malformed)\n",
               matches.size(), sessions.size(), reqs->size(),
               static_cast<unsigned long long>(stats.lines),
               static_cast<unsigned long long>(stats.parsed),
               static_cast<unsigned long long>(stats.malformed));
  if (a.record)
    std::fprintf(stderr, "ttyaudit: correlate: %zu identities recorded, %zu failed\n", recorded,
                 record_failures);
  else if (!matches.empty())
    std::fprintf(stderr, "ttyaudit: correlate: nothing recorded (--record records the matches)\n");
  return record_failures ? 1 : 0;
}

}  // namespace ttyaudit
