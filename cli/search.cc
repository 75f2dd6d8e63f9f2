#include "cli/search.h"

#include <simdjson.h>

#include <cstdio>
#include <regex>

#include "record/cast_reader.h"
#include "base/ids.h"
#include "base/printable.h"
#include "record/asciicast.h"

namespace ttyaudit {
namespace {

bool CommandMatches(const SessionRecord& s, const std::regex& re) {
  if (std::regex_search(JoinArgv(s.meta.argv), re)) return true;
  simdjson::dom::parser parser;
  simdjson::dom::array commands;
  if (parser.parse(s.commands_json).get_array().get(commands)) return false;
  for (auto c : commands) {
    simdjson::dom::array argv;
    if (c["argv"].get_array().get(argv)) continue;
    std::string line;
    for (auto a : argv) {
      std::string_view sv;
      if (!a.get_string().get(sv)) line += (line.empty() ? "" : " ") + std::string(sv);
    }
    if (std::regex_search(line, re)) return true;
  }
  return false;
}

std::string Duration(const SessionMeta& m) {
  if (!m.end_ns) return "live";
  int64_t s = (m.end_ns - m.start_ns) / 1000000000LL;
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", (long long)s / 3600, (long long)s / 60 % 60);
  else std::snprintf(buf, sizeof buf, "%lldm%02llds", (long long)s / 60, (long long)s % 60);
  return buf;
}

void PrintTable(const std::vector<const SessionRecord*>& rows) {
  std::printf("%-36s  %-20s  %-8s  %-11s  %-4s  %-10s  %-30s  %s\n", "ID", "START (UTC)", "LENGTH",
              "STATE", "EXIT", "USER", "WHERE", "COMMAND");
  for (const SessionRecord* r : rows) {
    const SessionMeta& m = r->meta;
    std::string where = m.source == "host" ? "host " + m.node
                                           : (m.k8s_namespace.empty() ? "" : m.k8s_namespace + "/") +
                                                 (m.pod.empty() ? "" : m.pod + "/") +
                                                 (m.container.empty() ? m.container_id.substr(0, 12)
                                                                      : m.container);
    std::string exit = m.state == "exited" ? std::to_string(m.exit_code)
                       : m.state == "signaled" ? "sig" + std::to_string(m.signal) : "-";
    std::string start = FormatRfc3339(m.start_ns).substr(0, 19);
    start[10] = ' ';
    // Every field but the times is recorded data: a container's argv, a user name from its
    // /etc/passwd, names from annotations. Shown, never sent to the terminal as controls.
    std::printf("%-36s  %-20s  %-8s  %-11s  %-4s  %-10s  %-30s  %s\n",
                EscapeControlChars(m.id).c_str(), start.c_str(), Duration(m).c_str(),
                EscapeControlChars(m.state).c_str(), exit.c_str(),
                EscapeControlChars(m.user).c_str(), EscapeControlChars(where.substr(0, 30)).c_str(),
                EscapeControlChars(JoinArgv(m.argv).substr(0, 60)).c_str());
  }
}

}  // namespace

std::string StripEscapes(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c != 0x1b) {
      if (c >= 0x20 || c == '\n' || c == '\r' || c == '\t') out.push_back(static_cast<char>(c));
      continue;
    }
    if (i + 1 >= s.size()) break;
    char k = s[++i];
    if (k == '[') {  // CSI: parameters then one final byte 0x40-0x7e
      while (i + 1 < s.size() && !(s[i + 1] >= 0x40 && s[i + 1] <= 0x7e)) ++i;
      ++i;
    } else if (k == ']' || k == 'P' || k == '_' || k == '^') {  // string until BEL or ST
      while (i + 1 < s.size() && s[i + 1] != '\a' && !(s[i + 1] == 0x1b)) ++i;
      ++i;
      if (i < s.size() && s[i] == 0x1b && i + 1 < s.size() && s[i + 1] == '\\') ++i;
    } else if (k == '(' || k == ')' || k == '#' || k == '%') {
      ++i;  // one more byte designates the charset
    }
  }
  return out;
}

Result<bool> ScreenTextMatches(const std::string& cast_path, const std::string& regex) {
  std::regex re;
  try {
    re = std::regex(regex, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return Error{"--text: bad regular expression `" + regex + "`: " + e.what()};
  }
  auto reader = CastReader::Open(cast_path);
  if (!reader.ok()) return reader.error();
  CastEvent ev;
  std::string line;
  for (;;) {
    auto more = reader->Next(ev);
    if (!more.ok()) return more.error();
    if (!*more) break;
    if (ev.code != "o") continue;
    for (char c : StripEscapes(ev.data)) {
      if (c == '\n' || c == '\r') {
        if (!line.empty() && std::regex_search(line, re)) return true;
        line.clear();
      } else if (line.size() < 16384) {
        line.push_back(c);
      }
    }
  }
  return !line.empty() && std::regex_search(line, re);
}

int RunSearch(const SearchQuery& q, const Config& cfg) {
  int64_t now = RealtimeNanos();
  int64_t since = 0, until = 0;
  if (!q.since.empty()) {
    auto t = ParseTime(q.since, now);
    if (!t.ok()) return std::fprintf(stderr, "ttyaudit search: --since: %s\n", t.message().c_str()), 2;
    since = *t;
  }
  if (!q.until.empty()) {
    auto t = ParseTime(q.until, now);
    if (!t.ok()) return std::fprintf(stderr, "ttyaudit search: --until: %s\n", t.message().c_str()), 2;
    until = *t;
  }
  std::regex command_re;
  if (!q.command_re.empty()) {
    try {
      command_re = std::regex(q.command_re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      std::fprintf(stderr, "ttyaudit search: --command: bad regular expression `%s`: %s\n",
                   q.command_re.c_str(), e.what());
      return 2;
    }
  }
  std::vector<std::string> warnings;
  auto sessions = ListSessions(cfg, q.store_url, warnings, since, until);
  for (const auto& w : warnings)
    std::fprintf(stderr, "ttyaudit search: warning: %s\n", EscapeControlChars(w).c_str());
  std::vector<const SessionRecord*> hits;
  for (auto& s : sessions) {
    const SessionMeta& m = s.meta;
    if (since && m.end_ns && m.end_ns < since) continue;
    if (until && m.start_ns > until) continue;
    if (!q.user.empty() && q.user != m.user && q.user != std::to_string(m.uid) &&
        q.user != s.k8s_user)
      continue;
    if (!q.k8s_namespace.empty() && q.k8s_namespace != m.k8s_namespace) continue;
    if (!q.pod.empty() && q.pod != m.pod) continue;
    if (!q.container.empty() && q.container != m.container && m.container_id.rfind(q.container, 0) != 0)
      continue;
    if (!q.node.empty() && q.node != m.node) continue;
    if (q.escalated && !s.escalated) continue;
    if (!q.image.empty() && m.image.find(q.image) == std::string::npos) continue;
    if (!q.command_re.empty() && !CommandMatches(s, command_re)) continue;
    if (!q.text_re.empty()) {
      auto path = LocalCastPath(s);
      if (!path.ok()) {
        std::fprintf(stderr, "ttyaudit search: %s\n", EscapeControlChars(path.message()).c_str());
        continue;
      }
      auto hit = ScreenTextMatches(*path, q.text_re);
      DropLocalCopy(s);  // one fetched copy at a time
      if (!hit.ok()) {
        std::fprintf(stderr, "ttyaudit search: %s\n", EscapeControlChars(hit.message()).c_str());
        if (hit.message().rfind("--text", 0) == 0) return 2;
        continue;
      }
      if (!*hit) continue;
    }
    hits.push_back(&s);
  }
  std::string prefix;
  std::string url = q.store_url.empty() ? cfg.StoreUrl() : q.store_url;
  if (url.rfind("s3://", 0) == 0) {
    std::string rest = url.substr(5);
    size_t slash = rest.find('/');
    prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  }
  if (q.json) {
    for (const auto* s : hits) std::printf("%s\n", SessionJsonLine(*s, prefix).c_str());
  } else {
    PrintTable(hits);
  }
  return 0;
}

}  // namespace ttyaudit
