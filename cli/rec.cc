#include "cli/rec.h"

#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "base/host_info.h"
#include "base/ids.h"
#include "base/run_dir.h"
#include "record/console_proxy.h"
#include "record/pty.h"
#include "record/session_meta.h"
#include "record/spool_writer.h"
#include "sandbox/cgroup.h"
#include "sandbox/profiles.h"
#include "track/proc_tracker.h"

extern char** environ;

namespace ttyaudit {
namespace {

std::vector<std::string> CommandOrShell(const std::vector<std::string>& command) {
  if (!command.empty()) return command;
  const char* sh = std::getenv("SHELL");
  return {sh && *sh ? sh : "/bin/sh"};
}

winsize InitialSize() {
  winsize ws{};
  for (int fd : {0, 1, 2})
    if (isatty(fd) && ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col && ws.ws_row) return ws;
  ws.ws_col = 80;
  ws.ws_row = 24;
  return ws;
}

[[noreturn]] void ExecChild(const std::vector<std::string>& argv, int slave) {
  UnblockProxySignals();
  setsid();
  ioctl(slave, TIOCSCTTY, 0);
  for (int fd = 0; fd < 3; ++fd) dup2(slave, fd);
  if (slave > 2) close(slave);
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  execvp(cargv[0], cargv.data());
  int err = errno;
  std::fprintf(stderr, "ttyaudit rec: run `%s`: %s\r\n", argv[0].c_str(), std::strerror(err));
  _exit(err == ENOENT ? 127 : 126);
}

// Runs the command without recording (fail-open when the recorder cannot start).
int ExecUnrecorded(const std::vector<std::string>& argv) {
  std::vector<char*> cargv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  execvp(cargv[0], cargv.data());
  std::fprintf(stderr, "ttyaudit rec: run `%s`: %s\n", argv[0].c_str(), std::strerror(errno));
  return 127;
}

SessionMeta HostSessionMeta(const Config& cfg, const std::vector<std::string>& argv, winsize ws) {
  SessionMeta m;
  m.id = NewUuidV7();
  m.source = "host";
  m.node = NodeName(cfg.node_name);
  m.machine_id = MachineId();
  m.uid = getuid();
  m.gid = getgid();
  m.user = UserName(m.uid);
  m.argv = argv;
  m.cwd = CurrentDir();
  std::vector<std::string> env;
  for (char** e = environ; e && *e; ++e) env.emplace_back(*e);
  m.env = RedactEnv(env);
  m.terminal = isatty(0);
  m.width = ws.ws_col;
  m.height = ws.ws_row;
  m.start_ns = RealtimeNanos();
  return m;
}

// Least privilege, first step (sandbox/sandbox.h), once the command is forked (it keeps the
// user's privileges) and the tracker hub started if it had to be: root's recorder gets a
// cgroup of its own with the configured limits, then any recorder no_new_privs and only the
// capabilities it uses. The tracker's thread, started next, inherits them; the spool writer's
// fsync thread, started with the session file, has dropped all of its own. A failure is
// reported and the session recorded anyway.
void DropRecPrivileges(const Config& cfg, const std::string& session_id) {
  if (!SandboxWanted(cfg.sandbox.enabled)) return;
  if (geteuid() == 0) {
    CgroupLimits limits;
    limits.memory_max = cfg.sandbox.recorder_memory_max;
    limits.pids_max = cfg.sandbox.recorder_pids_max;
    if (auto cg = JoinOwnCgroup(session_id, limits); !cg)
      std::fprintf(stderr, "ttyaudit rec: no cgroup of its own: %s\r\n", cg.message().c_str());
  }
  if (Status st = DropPrivileges(RecProfile()); !st)
    std::fprintf(stderr, "ttyaudit rec: runs with all its privileges: %s\r\n",
                 st.message().c_str());
}

// Least privilege, second step: only the syscalls the recorder makes from here on.
void LoadRecFilter(const Config& cfg) {
  if (!SandboxWanted(cfg.sandbox.enabled)) return;
  if (Status st = LoadSyscallFilter(RecProfile()); !st)
    std::fprintf(stderr, "ttyaudit rec: no seccomp filter: %s\r\n", st.message().c_str());
}

}  // namespace

std::string ExecLeanRecorder(const RecOptions& opts, const Config& cfg) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return std::string("readlink /proc/self/exe: ") + std::strerror(errno);
  std::string exe(self, static_cast<size_t>(n));
  exe = exe.substr(0, exe.rfind('/') + 1) + "ttyaudit-rec";
  std::vector<std::string> args = {exe,
                                   "--spool",
                                   opts.out_dir.empty() ? cfg.spool_dir : opts.out_dir,
                                   "--fsync-interval",
                                   std::to_string(cfg.fsync_interval_s),
                                   "--node",
                                   NodeName(cfg.node_name),
                                   "--spool-max-bytes",
                                   std::to_string(cfg.spool_max_bytes)};
  if (!cfg.record_input) args.push_back("--no-input");
  if (!cfg.sandbox.enabled) args.push_back("--no-sandbox");
  for (const std::string& a :
       {std::string("--memory-max"), std::to_string(cfg.sandbox.recorder_memory_max),
        std::string("--pids-max"), std::to_string(cfg.sandbox.recorder_pids_max)})
    args.push_back(a);
  if (FailClosed(cfg.fail_policy, kNoNamespace)) args.push_back("--fail-closed");
  if (opts.quiet) args.push_back("-q");
  args.push_back("--");
  for (const auto& a : CommandOrShell(opts.command)) args.push_back(a);
  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  execv(exe.c_str(), cargv.data());
  return "exec `" + exe + "`: " + std::strerror(errno);
}

int RunRec(const RecOptions& opts, const Config& cfg) {
  std::vector<std::string> argv = CommandOrShell(opts.command);
  winsize ws = InitialSize();
  auto fail_open = [&](const std::string& why) {
    std::fprintf(stderr, "ttyaudit rec: cannot record: %s\n", why.c_str());
    if (FailClosed(cfg.fail_policy, kNoNamespace)) {  // a host shell is in no namespace
      std::fprintf(stderr, "ttyaudit rec: refusing to run unrecorded (fail_closed)\n");
      return 1;
    }
    std::fprintf(stderr, "ttyaudit rec: running `%s` UNRECORDED\n", argv[0].c_str());
    return ExecUnrecorded(argv);
  };

  auto pty = OpenPty();
  if (!pty.ok()) return fail_open(pty.message());
  ioctl(pty->master.get(), TIOCSWINSZ, &ws);
  termios user_mode;
  if (isatty(0) && tcgetattr(0, &user_mode) == 0) tcsetattr(pty->slave.get(), TCSANOW, &user_mode);

  SessionMeta meta = HostSessionMeta(cfg, argv, ws);
  SessionWriterOptions wopts;
  wopts.record_input = cfg.record_input;
  wopts.fsync_interval_s = cfg.fsync_interval_s;
  wopts.spool_max_bytes = cfg.spool_max_bytes;
  const char* term = std::getenv("TERM");
  const char* shell = std::getenv("SHELL");
  wopts.term = term ? term : "";
  wopts.shell = shell ? shell : "";
  wopts.command = JoinArgv(argv);
  // The fsync thread starts before the command is forked and the recorder drops its
  // privileges: it drops its own at once (it needs none).
  if (SandboxWanted(cfg.sandbox.enabled))
    wopts.sync_thread_setup = [] { return DropThreadPrivileges("ttyaudit-rec fsync thread"); };
  auto writer = SessionWriter::Create(opts.out_dir.empty() ? cfg.spool_dir : opts.out_dir,
                                      std::move(meta), wopts);
  if (!writer.ok()) return fail_open(writer.message());
  SessionWriter& rec = **writer;
  if (!rec.sync_thread_problem().empty())
    std::fprintf(stderr, "ttyaudit rec: the fsync thread keeps its privileges: %s\r\n",
                 rec.sync_thread_problem().c_str());
  if (!opts.quiet)
    std::fprintf(stderr, "ttyaudit rec: recording session %s\r\n", rec.meta().id.c_str());

  // Every process the command starts goes into the manifest; commands typed at its shell
  // become markers. Through the node's tracker hub (which follows this process from Open on,
  // so the child forked below is seen from its first fork), else in-process. The proc
  // connector needs CAP_NET_ADMIN: without it, no process records.
  std::unique_ptr<ProcTracker> tracker;
  ProcTrackerOptions topts;
  topts.session_start_mono_ns = MonotonicNanos() - static_cast<int64_t>(rec.Now() * 1e9);
  topts.hub_run_dir = DefaultRunDir();
  if (auto t = ProcTracker::Open(topts); t.ok()) {
    tracker = std::move(t.value());
    if (!tracker->problem().empty())
      std::fprintf(stderr, "ttyaudit rec: process tracking: %s\r\n", tracker->problem().c_str());
  }

  BlockProxySignals();
  pid_t child = fork();
  if (child < 0) {
    UnblockProxySignals();
    (void)rec.Finish("interrupted", -1, 0);
    return fail_open(std::string("fork: ") + std::strerror(errno));
  }
  if (child == 0) ExecChild(argv, pty->slave.release());
  pty->slave.reset();
  DropRecPrivileges(cfg, rec.meta().id);
  if (tracker && !tracker->Start(child).ok()) tracker.reset();
  auto mark_commands = [&] {
    if (!tracker) return;
    for (const auto& c : tracker->TakeCommands()) rec.Marker(JoinArgv(c.argv));
  };

  RawMode raw;
  bool tty_in = isatty(0);
  if (tty_in) (void)raw.Enter(0);
  ProxyEnds ends{0, 1, pty->master.get(), tty_in ? 0 : -1};
  ProxyOptions popts;
  popts.child = child;
  if (tracker) {
    popts.event_fd = tracker->command_fd();
    popts.on_event = mark_commands;
  }
  LoadRecFilter(cfg);
  auto outcome = RunConsoleProxy(ends, popts, rec);
  raw.Restore();

  std::optional<int> status;
  if (outcome.ok() && outcome->child_reaped) {
    status = outcome->wait_status;
  } else if (int ws; waitpid(child, &ws, 0) == child) {
    status = ws;
  }
  if (tracker) {
    tracker->Stop(200);
    mark_commands();
    rec.SetManifestExtra(tracker->ManifestMembers());
  }
  Status fin = rec.FinishWithWaitStatus(status);
  if (!outcome.ok()) std::fprintf(stderr, "ttyaudit rec: %s\n", outcome.message().c_str());
  if (!fin) std::fprintf(stderr, "ttyaudit rec: %s\n", fin.message().c_str());
  if (!opts.quiet) {
    const SessionMeta& m = rec.meta();
    std::string how = m.state == "exited"     ? "exited with status " + std::to_string(m.exit_code)
                      : m.state == "signaled" ? "ended by signal " + std::to_string(m.signal)
                                              : "ended (exit status unknown)";
    std::fprintf(stderr, "ttyaudit rec: session %s %s, saved in %s\n", m.id.c_str(), how.c_str(),
                 rec.path().c_str());
  }
  int rc = ShellStatus(rec.meta());
  return rc < 0 ? 1 : rc;
}

}  // namespace ttyaudit
