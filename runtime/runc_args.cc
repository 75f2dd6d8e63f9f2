#include "runtime/runc_args.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace ttyaudit {
namespace {

// Flags that take a value. Go's flag package accepts -name and --name, "=value" or the next
// argument; boolean flags take a value only as "=value".
constexpr std::array kGlobalValueFlags = {"root", "log", "log-format", "criu", "rootless"};
constexpr std::array kExecValueFlags = {"console-socket",
                                        "cwd",
                                        "env",
                                        "e",
                                        "user",
                                        "u",
                                        "additional-gids",
                                        "g",
                                        "process",
                                        "p",
                                        "pid-file",
                                        "process-label",
                                        "apparmor",
                                        "cap",
                                        "c",
                                        "preserve-fds",
                                        "cgroup"};
constexpr std::array kCreateValueFlags = {"bundle", "b", "console-socket", "pid-file",
                                          "preserve-fds"};

template <size_t N>
bool Contains(const std::array<const char*, N>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

// One flag as Go's flag package splits it.
struct Flag {
  std::string name;
  std::string value;
  bool has_inline_value = false;
};

// True if `arg` is a flag (not "-" alone, not after "--"); fills `f`.
bool SplitFlag(const std::string& arg, Flag& f) {
  if (arg.size() < 2 || arg[0] != '-') return false;
  size_t start = arg[1] == '-' ? 2 : 1;
  if (start == 2 && arg.size() == 2) return false;  // "--" ends the flags
  std::string body = arg.substr(start);
  size_t eq = body.find('=');
  f.has_inline_value = eq != std::string::npos;
  f.name = f.has_inline_value ? body.substr(0, eq) : body;
  f.value = f.has_inline_value ? body.substr(eq + 1) : std::string();
  return true;
}

bool IsBoolTrue(const Flag& f) {
  return !f.has_inline_value || f.value == "true" || f.value == "1" || f.value == "t" ||
         f.value == "T" || f.value == "TRUE" || f.value == "True";
}

// Walks flags from argv[i] on; `take(flag, value, value_index)` sees each. Returns the index
// of the first argument that is not a flag (after a "--" if there is one).
template <class IsValueFlag, class Take>
size_t WalkFlags(const std::vector<std::string>& argv, size_t i, IsValueFlag is_value, Take take) {
  while (i < argv.size()) {
    if (argv[i] == "--") return i + 1;
    Flag f;
    if (!SplitFlag(argv[i], f)) return i;
    if (is_value(f.name) && !f.has_inline_value) {
      if (i + 1 >= argv.size()) return argv.size();
      take(f, argv[i + 1], i + 1, false);
      i += 2;
    } else {
      take(f, f.value, i, true);
      i += 1;
    }
  }
  return i;
}

void ParseExec(const std::vector<std::string>& argv, size_t i, RuncExecArgs& e) {
  auto is_value = [](const std::string& n) { return Contains(kExecValueFlags, n); };
  size_t pos = WalkFlags(argv, i, is_value,
                         [&](const Flag& f, const std::string& v, size_t at, bool inline_v) {
                           if (f.name == "console-socket") {
                             e.console_socket = v;
                             e.console_socket_index = at;
                             e.console_socket_inline = inline_v;
                           } else if (f.name == "process" || f.name == "p") {
                             e.process_file = v;
                           } else if (f.name == "pid-file") {
                             e.pid_file = v;
                           } else if (f.name == "cwd") {
                             e.cwd = v;
                           } else if (f.name == "user" || f.name == "u") {
                             e.user = v;
                           } else if (f.name == "env" || f.name == "e") {
                             e.env.push_back(v);
                           } else if (f.name == "tty" || f.name == "t") {
                             e.tty = IsBoolTrue(f);
                           } else if (f.name == "detach" || f.name == "d") {
                             e.detach = IsBoolTrue(f);
                           }
                         });
  if (pos < argv.size()) {
    e.container_id = argv[pos];
    e.command.assign(argv.begin() + static_cast<long>(pos) + 1, argv.end());
  }
}

void ParseCreate(const std::vector<std::string>& argv, size_t i, RuncCreateArgs& c) {
  auto is_value = [](const std::string& n) { return Contains(kCreateValueFlags, n); };
  size_t pos = WalkFlags(argv, i, is_value, [&](const Flag& f, const std::string& v, size_t, bool) {
    if (f.name == "bundle" || f.name == "b")
      c.bundle = v;
    else if (f.name == "pid-file")
      c.pid_file = v;
  });
  if (pos < argv.size()) c.container_id = argv[pos];
}

}  // namespace

RuncArgs ParseRuncArgs(const std::vector<std::string>& argv) {
  RuncArgs a;
  a.argv = argv;
  auto is_value = [](const std::string& n) { return Contains(kGlobalValueFlags, n); };
  size_t pos = WalkFlags(argv, 1, is_value, [&](const Flag& f, const std::string& v, size_t, bool) {
    if (f.name == "root")
      a.root = v;
    else if (f.name == "log")
      a.log = v;
    else if (f.name == "log-format")
      a.log_format = v;
  });
  if (pos >= argv.size()) return a;
  a.command = argv[pos];
  a.command_index = pos;
  if (a.command == "exec")
    ParseExec(argv, pos + 1, a.exec);
  else if (a.command == "create")
    ParseCreate(argv, pos + 1, a.create);
  return a;
}

std::vector<std::string> WithConsoleSocket(const RuncArgs& args, const std::string& socket) {
  std::vector<std::string> out = args.argv;
  size_t i = args.exec.console_socket_index;
  if (args.command != "exec" || i == 0 || i >= out.size()) return out;
  if (args.exec.console_socket_inline) {
    size_t eq = out[i].find('=');
    out[i] = out[i].substr(0, eq + 1) + socket;
  } else {
    out[i] = socket;
  }
  return out;
}

}  // namespace ttyaudit
