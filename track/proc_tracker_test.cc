#include "track/proc_tracker.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "base/files.h"
#include "base/ids.h"

namespace ttyaudit {
namespace {

const ProcessRecord* Find(const std::vector<ProcessRecord>& rs, pid_t pid) {
  for (const ProcessRecord& r : rs)
    if (r.pid == pid) return &r;
  return nullptr;
}

// The kernel's proc connector, which these tests need (the unit tests run as root, as
// `make test` does): without it they fail, saying so, rather than pass having checked nothing.
void RequireProcConnector() {
  auto t = ProcTracker::Open({});
  REQUIRE_MESSAGE(
      t.ok(), "the proc connector is unavailable (run the unit tests as root): " << t.message());
}

// Forks `argv` with the tracker watching: Open before the fork, Start right after.
struct Tracked {
  std::unique_ptr<ProcTracker> tracker;
  pid_t pid = -1;
  int status = 0;
};

Tracked RunTracked(const std::vector<std::string>& argv, ProcTrackerOptions opts = {}) {
  Tracked t;
  opts.session_start_mono_ns = MonotonicNanos();
  auto tr = ProcTracker::Open(opts);
  REQUIRE(tr.ok());
  t.tracker = std::move(tr.value());
  int go[2];
  REQUIRE(pipe(go) == 0);
  t.pid = fork();
  if (t.pid == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(126);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(go[0]);
  REQUIRE(t.tracker->Start(t.pid).ok());
  REQUIRE(write(go[1], "x", 1) == 1);
  close(go[1]);
  REQUIRE(waitpid(t.pid, &t.status, 0) == t.pid);
  t.tracker->Stop(2000, true);
  return t;
}

// A run dir of its own for a tracker hub started by a test; the hub is stopped (by the pid in
// its pid file) and the directory removed at the end.
struct TempRunDir {
  std::string path;
  TempRunDir() {
    char tmpl[] = "/tmp/ttyaudit-unit.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    path = tmpl;
  }
  ~TempRunDir() {
    std::string pid_text = ReadSmallFileOrEmpty(path + "/tracker.pid", 64);
    pid_t hub = static_cast<pid_t>(atoi(pid_text.c_str()));
    std::string comm = ReadSmallFileOrEmpty("/proc/" + std::to_string(hub) + "/comm", 64);
    if (hub > 0 && comm.rfind("ttyaudit-track", 0) == 0) {
      kill(hub, SIGTERM);
      for (int i = 0; i < 200 && kill(hub, 0) == 0; ++i) usleep(10000);
    }
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
};

}  // namespace

TEST_CASE("proc tracker: records a real child's children with argv, cwd and exit codes") {
  RequireProcConnector();
  Tracked t = RunTracked({"/bin/sh", "-c",
                          "cd /tmp && /bin/sh -c 'exit 7'; /bin/sleep 0.2 & "
                          "/bin/kill -TERM $$"});
  CHECK(WIFSIGNALED(t.status));
  auto rs = t.tracker->Records();
  const ProcessRecord* root = Find(rs, t.pid);
  REQUIRE(root != nullptr);
  CHECK(root->argv.at(0) == "/bin/sh");
  int st = 0;
  CHECK(t.tracker->RootExited(&st));
  CHECK(WIFSIGNALED(st));
  CHECK(WTERMSIG(st) == SIGTERM);
  int sevens = 0, sleeps = 0;
  for (const ProcessRecord& r : rs) {
    if (r.exited && WIFEXITED(r.wait_status) && WEXITSTATUS(r.wait_status) == 7) {
      ++sevens;
      CHECK(r.cwd == "/tmp");
      CHECK(r.ppid == t.pid);
    }
    if (!r.argv.empty() && r.argv[0] == "/bin/sleep") {
      ++sleeps;
      CHECK(r.argv == std::vector<std::string>{"/bin/sleep", "0.2"});
      CHECK(r.end_mono_ns - r.start_mono_ns >= 150'000'000);
    }
  }
  CHECK(sevens == 1);
  CHECK(sleeps == 1);
  CHECK(t.tracker->lost_events() == 0);
}

TEST_CASE("proc tracker: a loop of 100 /bin/true yields 100 records") {
  RequireProcConnector();
  Tracked t =
      RunTracked({"/bin/sh", "-c", "i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done"});
  auto rs = t.tracker->Records();
  int trues = 0, named = 0;
  for (const ProcessRecord& r : rs) {
    if (r.pid == t.pid) continue;
    ++trues;
    CHECK(r.execed);
    CHECK(r.exited);
    if (!r.argv.empty() && (r.argv[0] == "/bin/true" || r.argv[0] == "true")) ++named;
  }
  CHECK(trues == 100);
  MESSAGE("argv known for " << named << " of 100 (the rest exited before /proc was read)");
  CHECK(named >= 80);
  CHECK(t.tracker->TakeCommands().size() == 100);
}

TEST_CASE("proc tracker: a uid change in the tree is an escalation event") {
  RequireProcConnector();
  REQUIRE_MESSAGE(getuid() == 0, "a uid change needs root (run the unit tests as root)");
  // A child that drops to 1000 and back is impossible; drop from root to nobody instead.
  Tracked t = RunTracked(
      {"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "/bin/true"});
  auto es = t.tracker->Escalations();
  REQUIRE(es.size() >= 1);
  CHECK(es[0].pid == t.pid);
  CHECK(es[0].uid_before == 0);
  CHECK(es[0].uid_after == 65534);
  std::string m = t.tracker->ManifestMembers();
  CHECK(m.find("\"escalated\":true") != std::string::npos);
}

TEST_CASE("proc tracker: through the node's hub, a loop of 100 /bin/true yields 100 records") {
  RequireProcConnector();
  TempRunDir run;
  ProcTrackerOptions opts;
  opts.hub_run_dir = run.path;  // ttyaudit-tracker next to this test binary, started here
  Tracked t = RunTracked(
      {"/bin/sh", "-c", "cd /tmp; i=0; while [ $i -lt 100 ]; do /bin/true; i=$((i+1)); done"},
      opts);
  CHECK(t.tracker->via() == "hub");
  CHECK(t.tracker->problem().empty());
  int trues = 0, named = 0, in_tmp = 0;
  for (const ProcessRecord& r : t.tracker->Records()) {
    if (r.pid == t.pid) continue;
    ++trues;
    CHECK(r.exited);
    // Read by the hub at the fork and exec: best-effort for a process that is gone first.
    if (r.cwd == "/tmp") ++in_tmp;
    if (!r.argv.empty() && r.argv[0] == "/bin/true") ++named;
  }
  CHECK(trues == 100);
  CHECK(named >= 80);
  CHECK(in_tmp >= 80);
  CHECK(t.tracker->lost_events() == 0);
  CHECK(t.tracker->ManifestMembers().find("\"via\":\"hub\"") != std::string::npos);
}

TEST_CASE("proc tracker: a hub that cannot be started leaves tracking in-process, saying why") {
  RequireProcConnector();
  TempRunDir run;
  ProcTrackerOptions opts;
  opts.hub_run_dir = run.path;
  opts.hub_exe = run.path + "/no-such-tracker";
  Tracked t = RunTracked({"/bin/sh", "-c", "/bin/true; exit 4"}, opts);
  CHECK(t.tracker->via() == "local");
  CHECK(t.tracker->problem().find("no-such-tracker") != std::string::npos);
  CHECK(t.tracker->Records().size() == 2);
  int st = 0;
  CHECK(t.tracker->RootExited(&st));
  CHECK(WEXITSTATUS(st) == 4);
  CHECK(t.tracker->ManifestMembers().find("\"problem\":") != std::string::npos);
}

}  // namespace ttyaudit
