#include "runtime/runc_args.h"

#include <doctest/doctest.h>

using ttyaudit::ParseRuncArgs;

TEST_CASE("runc args: the shim's terminal exec is read with its global flags") {
  auto a =
      ParseRuncArgs({"runc", "--root", "/run/containerd/runc/default", "--log", "/b/log.json",
                     "--log-format", "json", "exec", "--process", "/tmp/p.json", "--console-socket",
                     "/tmp/pty1/pty.sock", "--detach", "--pid-file", "/b/e1.pid", "c1"});
  CHECK(a.command == "exec");
  CHECK(a.command_index == 7);
  CHECK(a.root == "/run/containerd/runc/default");
  CHECK(a.log == "/b/log.json");
  CHECK(a.log_format == "json");
  CHECK(a.exec.process_file == "/tmp/p.json");
  CHECK(a.exec.console_socket == "/tmp/pty1/pty.sock");
  CHECK(a.exec.detach);
  CHECK(a.exec.pid_file == "/b/e1.pid");
  CHECK(a.exec.container_id == "c1");
  CHECK(a.IsTerminalExec());
}

TEST_CASE("runc args: boolean global flags take no value, = and single-dash forms work") {
  auto a = ParseRuncArgs(
      {"runc", "--debug", "-systemd-cgroup", "-root=/r", "--criu", "criu", "state", "c2"});
  CHECK(a.command == "state");
  CHECK(a.root == "/r");
  CHECK(a.RootOrDefault() == "/r");
  CHECK_FALSE(a.IsTerminalExec());
}

TEST_CASE("runc args: a non-terminal exec keeps its command after the id") {
  auto a = ParseRuncArgs({"runc", "exec", "-t=false", "-e", "A=1", "--env=B=2", "--cwd", "/", "c3",
                          "sh", "-c", "echo --console-socket"});
  CHECK(a.command == "exec");
  CHECK_FALSE(a.exec.tty);
  CHECK(a.exec.env == std::vector<std::string>{"A=1", "B=2"});
  CHECK(a.exec.container_id == "c3");
  CHECK(a.exec.command == std::vector<std::string>{"sh", "-c", "echo --console-socket"});
  CHECK_FALSE(a.IsTerminalExec());
  CHECK(a.RootOrDefault() == "/run/runc");
}

TEST_CASE("runc args: flags only, or nothing, is no subcommand") {
  CHECK(ParseRuncArgs({"runc", "--version"}).command.empty());
  CHECK(ParseRuncArgs({"runc"}).command.empty());
  CHECK(ParseRuncArgs({"runc", "--root"}).command.empty());
}

TEST_CASE("runc args: create's bundle and pid file") {
  auto a = ParseRuncArgs({"runc", "--root", "/r", "create", "--bundle", "/b", "--pid-file",
                          "/b/init.pid", "--no-pivot", "c4"});
  CHECK(a.command == "create");
  CHECK(a.create.bundle == "/b");
  CHECK(a.create.pid_file == "/b/init.pid");
  CHECK(a.create.container_id == "c4");
}

TEST_CASE("runc args: the console socket is replaced in the same spelling") {
  auto a = ParseRuncArgs({"runc", "exec", "--console-socket", "/s1", "-d", "c"});
  auto out = ttyaudit::WithConsoleSocket(a, "/mine");
  CHECK(out == std::vector<std::string>{"runc", "exec", "--console-socket", "/mine", "-d", "c"});
  auto b = ParseRuncArgs({"runc", "--log=/l", "exec", "--console-socket=/s1", "c"});
  auto out2 = ttyaudit::WithConsoleSocket(b, "/mine");
  CHECK(out2 ==
        std::vector<std::string>{"runc", "--log=/l", "exec", "--console-socket=/mine", "c"});
}
