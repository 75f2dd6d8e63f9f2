#include "catalog/filter.h"

#include <simdjson.h>

#include <algorithm>
#include <cstring>

namespace ttyaudit {

std::vector<std::string> CommandLines(const std::vector<std::string>& argv,
                                      std::string_view commands_json) {
  std::vector<std::string> lines{JoinArgv(argv)};
  thread_local simdjson::dom::parser parser;
  simdjson::dom::array commands;
  if (commands_json.empty() ||
      parser.parse(commands_json.data(), commands_json.size()).get_array().get(commands))
    return lines;
  for (auto c : commands) {
    simdjson::dom::array args;
    if (c["argv"].get_array().get(args)) continue;
    std::vector<std::string> v;
    for (auto a : args) {
      std::string_view s;
      if (!a.get_string().get(s)) v.emplace_back(s);
    }
    lines.push_back(JoinArgv(v));
  }
  return lines;
}

std::string RequiredLiteral(const std::string& re) {
  // Only a pattern that is one sequence of atoms is read (any alternation: no literal). An atom
  // is a character, an escape, a class, a group or '.'; only plain characters and escaped
  // punctuation are literal. An atom made optional (?, *, {0...}) leaves the run; one made
  // repeatable (+, {n...}) ends it, since what follows need not be adjacent. Anything not
  // understood gives no literal: the prefilter is then skipped, never wrong.
  if (re.find('|') != std::string::npos) return "";
  std::string best, run;
  auto end_run = [&] {
    if (run.size() > best.size()) best = run;
    run.clear();
  };
  size_t i = 0;
  while (i < re.size()) {
    char c = re[i];
    int lit = -1;  // the atom's literal character, or -1
    if (c == '\\') {
      if (i + 1 >= re.size()) return "";
      char n = re[i + 1];
      if (std::strchr("\\^$.|?*+()[]{}/-", n)) lit = static_cast<unsigned char>(n);
      i += 2;
    } else if (c == '[') {
      size_t j = i + 1;
      if (j < re.size() && re[j] == '^') ++j;
      if (j < re.size() && re[j] == ']') ++j;
      while (j < re.size() && re[j] != ']') j += re[j] == '\\' ? 2 : 1;
      if (j >= re.size()) return "";
      i = j + 1;
    } else if (c == '(') {
      int depth = 0;
      size_t j = i;
      for (; j < re.size(); ++j) {
        if (re[j] == '\\')
          ++j;
        else if (re[j] == '(')
          ++depth;
        else if (re[j] == ')' && --depth == 0)
          break;
      }
      if (j >= re.size()) return "";
      i = j + 1;
    } else if (c == '^' || c == '$') {
      end_run();
      ++i;
      continue;
    } else if (std::strchr(")]}?*+{", c)) {
      return "";  // a quantifier or closer with nothing before it: not understood
    } else {
      if (c != '.') lit = static_cast<unsigned char>(c);
      ++i;
    }
    // The atom's quantifier, if any.
    bool optional = false, repeated = false;
    if (i < re.size() && (re[i] == '?' || re[i] == '*' || re[i] == '+')) {
      optional = re[i] != '+';
      repeated = re[i] != '?';
      ++i;
    } else if (i < re.size() && re[i] == '{') {
      size_t close = re.find('}', i);
      if (close == std::string::npos) return "";
      optional = re[i + 1] == '0' || re[i + 1] == ',';
      repeated = true;
      i = close + 1;
    }
    if (i < re.size() && re[i] == '?' && (optional || repeated)) ++i;  // lazy
    if (lit < 0 || optional) {
      end_run();
      continue;
    }
    run.push_back(static_cast<char>(lit));
    if (repeated) end_run();
  }
  end_run();
  return best;
}

Result<FilterMatcher> FilterMatcher::Create(const SessionFilter& f) {
  FilterMatcher m;
  m.f_ = f;
  if (!f.command_re.empty()) {
    try {
      m.command_ = std::regex(f.command_re, std::regex::ECMAScript);
    } catch (const std::regex_error& e) {
      return Error{"--command: bad regular expression `" + f.command_re + "`: " + e.what()};
    }
  }
  if (!f.state.empty() && std::none_of(std::begin(kSessionStates), std::end(kSessionStates),
                                       [&](const char* s) { return f.state == s; }))
    return Error{"--state: `" + f.state +
                 "` is not a state: want recording, exited, signaled, ended or interrupted"};
  if (f.since_ns && f.until_ns && f.since_ns > f.until_ns)
    return Error{"--since is after --until: no session can match"};
  return m;
}

bool FilterMatcher::CommandMatches(const std::vector<std::string>& lines) const {
  if (f_.command_re.empty()) return true;
  for (const auto& l : lines)
    if (std::regex_search(l, command_)) return true;
  return false;
}

bool FilterMatcher::Matches(const SessionMeta& m, std::string_view commands_json, bool escalated,
                            const std::string& k8s_user) const {
  const SessionFilter& f = f_;
  if (f.since_ns && m.end_ns && m.end_ns < f.since_ns) return false;
  if (f.until_ns && m.start_ns > f.until_ns) return false;
  if (!f.user.empty() && f.user != m.user && f.user != std::to_string(m.uid) &&
      (k8s_user.empty() || f.user != k8s_user) &&
      std::find(f.user_ids.begin(), f.user_ids.end(), m.id) == f.user_ids.end())
    return false;
  if (!f.k8s_namespace.empty() && f.k8s_namespace != m.k8s_namespace) return false;
  if (!f.pod.empty() && f.pod != m.pod) return false;
  if (!f.container.empty() && f.container != m.container &&
      m.container_id.compare(0, f.container.size(), f.container) != 0)
    return false;
  if (!f.node.empty() && f.node != m.node) return false;
  if (!f.image.empty() && m.image.find(f.image) == std::string::npos) return false;
  if (f.escalated && !escalated) return false;
  if (f.exit_code && (m.state != "exited" || m.exit_code != *f.exit_code)) return false;
  if (!f.state.empty() && m.state != f.state) return false;
  if (f.uid && m.uid != *f.uid) return false;
  if (f.live && m.state != "recording") return false;
  return CommandMatches(CommandLines(m.argv, commands_json));
}

}  // namespace ttyaudit
