// Reading runc's command line the way runc (Go's flag package under urfave/cli) reads it:
// global flags, the subcommand, then the subcommand's flags and arguments.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ttyaudit {

/// What ttyaudit needs from `runc [global flags] exec [flags] ID [ARGS...]`.
struct RuncExecArgs {
  std::string process_file;      // --process/-p
  std::string console_socket;    // --console-socket
  std::string pid_file;          // --pid-file
  std::string cwd;               // --cwd
  std::string user;              // --user/-u
  std::vector<std::string> env;  // --env/-e
  bool tty = false;              // --tty/-t
  bool detach = false;           // --detach/-d
  std::string container_id;
  std::vector<std::string> command;  // after the id, when there is no --process
  // Where --console-socket's value is in argv, and whether it was written `--flag=value`.
  size_t console_socket_index = 0;
  bool console_socket_inline = false;
};

/// What ttyaudit needs from `runc [global flags] create [flags] ID`.
struct RuncCreateArgs {
  std::string bundle;    // --bundle/-b; runc's default is the current directory
  std::string pid_file;  // --pid-file
  std::string container_id;
};

struct RuncArgs {
  std::vector<std::string> argv;  // as given, argv[0] included
  std::string command;            // the subcommand, or empty (flags only, e.g. --version)
  size_t command_index = 0;       // its index in argv when not empty
  std::string root;               // --root (runc's default /run/runc when empty)
  std::string log;                // --log
  std::string log_format;         // --log-format (runc's default "text")
  RuncExecArgs exec;              // when command == "exec"
  RuncCreateArgs create;          // when command == "create"

  /// The --root runc uses, with its default applied.
  std::string RootOrDefault() const { return root.empty() ? "/run/runc" : root; }
  /// `exec` with a console socket: the process gets a terminal whose master goes to the socket.
  bool IsTerminalExec() const { return command == "exec" && !exec.console_socket.empty(); }
};

/// Parses runc's argv. Never fails: what it does not understand it leaves to runc, which
/// reports it with its own words.
RuncArgs ParseRuncArgs(const std::vector<std::string>& argv);

/// argv with --console-socket's value replaced by `socket` (same flag spelling).
std::vector<std::string> WithConsoleSocket(const RuncArgs& args, const std::string& socket);

}  // namespace ttyaudit
