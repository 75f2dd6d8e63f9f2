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

// A fake /proc: what each pid shows at its exec.
struct FakeProc {
  std::map<pid_t, ProcSnapshot> procs;
  ProcReader reader() {
    return [this](pid_t pid) {
      auto it = procs.find(pid);
      return it == procs.end() ? ProcSnapshot{} : it->second;
    };
  }
};

ProcSnapshot Snap(std::vector<std::string> argv, int64_t uid = 1000) {
  ProcSnapshot s;
  s.argv = std::move(argv);
  s.cwd = "/home/u";
  s.uid = s.euid = uid;
  s.exe_owner = 0;  // a program owned by root, as in /usr/bin
  return s;
}

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

TEST_CASE("process table: a forked and exec'd child is recorded with argv, cwd and exit code") {
  FakeProc fp;
  fp.procs[100] = Snap({"/bin/sh"});
  fp.procs[101] = Snap({"ls", "-l"});
  ProcessTable t(fp.reader());
  t.AddRoot(100, 1000);
  t.OnFork(100, 101, 101, 2000);
  t.OnExec(101, 2100);
  t.OnExit(101, 101, 3 << 8, 5000);
  t.OnExit(100, 100, 0, 6000);
  REQUIRE(t.records().size() == 2);
  const ProcessRecord& r = t.records()[1];
  CHECK(r.pid == 101);
  CHECK(r.ppid == 100);
  CHECK(r.argv == std::vector<std::string>{"ls", "-l"});
  CHECK(r.cwd == "/home/u");
  CHECK(r.start_mono_ns == 2000);
  CHECK(r.end_mono_ns == 5000);
  CHECK(WEXITSTATUS(r.wait_status) == 3);
  CHECK(r.top_level);
  int st = -1;
  CHECK(t.RootExited(&st));
  CHECK(st == 0);
  CHECK(t.AllExited());
}

TEST_CASE("process table: threads and untracked processes are ignored") {
  FakeProc fp;
  ProcessTable t(fp.reader());
  t.AddRoot(100, 0);
  t.OnFork(100, 150, 100, 10);  // a thread of the root
  t.OnFork(7, 8, 8, 10);        // someone else's child
  t.OnExit(150, 100, 0, 20);    // the thread ends: the root is still running
  CHECK(t.records().size() == 1);
  CHECK_FALSE(t.RootExited(nullptr));
  CHECK(t.Tracks(100));
  CHECK_FALSE(t.Tracks(8));
}

TEST_CASE("process table: only commands started by the root or its subshells are top-level") {
  FakeProc fp;
  fp.procs[101] = Snap({"make"});
  fp.procs[102] = Snap({"cc", "x.c"});
  fp.procs[104] = Snap({"make", "-C", "x"});
  ProcessTable t(fp.reader());
  t.AddRoot(100, 0);
  t.OnFork(100, 101, 101, 1);
  t.OnExec(101, 2);
  t.OnFork(101, 102, 102, 3);  // make's child: not typed
  t.OnExec(102, 4);
  t.OnFork(100, 103, 103, 5);  // a subshell: (cd x; make -C x)
  t.OnFork(103, 104, 104, 6);
  t.OnExec(104, 7);
  auto cmds = t.TakeCommands();
  REQUIRE(cmds.size() == 2);
  CHECK(cmds[0].argv == std::vector<std::string>{"make"});
  CHECK(cmds[1].argv == std::vector<std::string>{"make", "-C", "x"});
  CHECK(t.TakeCommands().empty());
}

TEST_CASE("process table: a uid change is an escalation, and a setuid exec names the program") {
  FakeProc fp;
  fp.procs[101] = Snap({"/bin/su", "-"}, 1000);
  fp.procs[101].euid = 0;
  fp.procs[101].exe_setuid = true;
  fp.procs[101].exe_owner = 0;
  ProcessTable t(fp.reader());
  fp.procs[100] = Snap({"/bin/sh"});
  t.AddRoot(100, 0);
  t.OnFork(100, 101, 101, 10);
  t.OnUid(101, 1000, 0, 11);  // commit_creds of the setuid exec, then the exec event
  t.OnExec(101, 12);
  t.OnUid(101, 0, 0, 20);  // su's setuid(0)
  REQUIRE(t.escalations().size() == 2);
  const Escalation& e = t.escalations()[0];
  CHECK(e.pid == 101);
  CHECK(e.uid_before == 1000);
  CHECK(e.euid_before == 1000);
  CHECK(e.euid_after == 0);
  CHECK(e.exec_argv == std::vector<std::string>{"/bin/su", "-"});
  CHECK(t.escalations()[1].argv == std::vector<std::string>{"/bin/su", "-"});
  CHECK(t.escalations()[1].exec_argv.empty());
  t.OnUid(101, 0, 0, 30);  // no change: no event
  CHECK(t.escalations().size() == 2);
}

TEST_CASE("process table: rerooting keeps only the exec process and its descendants") {
  FakeProc fp;
  fp.procs[50] = Snap({"runc", "exec"});
  fp.procs[52] = Snap({"sh"});
  fp.procs[53] = Snap({"id"});
  ProcessTable t(fp.reader());
  t.AddRoot(50, 0);
  t.OnFork(50, 51, 51, 1);  // runc init
  t.OnFork(51, 52, 52, 2);  // the exec process, child of runc init
  t.OnExit(51, 51, 0, 3);
  t.OnExec(52, 4);
  t.OnFork(52, 53, 53, 5);
  t.OnExec(53, 6);
  t.OnExit(52, 52, 0, 6);  // the exec's process may be gone before its pid file is read
  t.Reroot(52, 7);
  REQUIRE(t.records().size() == 2);
  CHECK(t.records()[0].pid == 52);
  CHECK(t.records()[0].parent_record == -1);
  CHECK(t.records()[1].pid == 53);
  CHECK(t.records()[1].top_level);
  CHECK(t.root() == 52);
  CHECK(t.RootExited(nullptr));
  CHECK(t.Tracks(53));
  CHECK_FALSE(t.Tracks(50));
  auto cmds = t.TakeCommands();
  REQUIRE(cmds.size() == 1);
  CHECK(cmds[0].pid == 53);
}

TEST_CASE("process table: the runtime's switch to the exec's user is not an escalation") {
  FakeProc fp;
  fp.procs[52] = Snap({"id"}, 1000);
  ProcessTable t(fp.reader());
  t.AddRoot(50, 0);
  t.OnFork(50, 52, 52, 1);     // runc init, as root
  t.OnUid(52, 1000, 1000, 2);  // setuid(1000) for `runc exec --user 1000`
  t.OnExec(52, 3);
  t.OnUid(52, 1000, 0, 4);  // later: a real change
  t.Reroot(52, 5);
  REQUIRE(t.escalations().size() == 1);
  CHECK(t.escalations()[0].time_mono_ns == 4);
  CHECK(t.escalations()[0].exec_argv.empty());
}

TEST_CASE("process table: a setuid-root program gone before it was read is still an escalation") {
  // `runc exec --user 1000 ... /opt/suid/id -u`: the program is gone before its exec event is
  // read, so nothing tells whether it is setuid. The change to root is kept; the runtime's
  // switch to uid 1000 before it is setup, as before.
  FakeProc fp;  // no entry for 52: gone
  ProcessTable t(fp.reader());
  t.AddRoot(50, 0);
  t.OnFork(50, 52, 52, 1);     // runc init, as root
  t.OnUid(52, 0, 0, 1);        // its ids become known: root
  t.OnUid(52, 1000, 1000, 2);  // setuid(1000): the runtime's setup
  t.OnUid(52, 1000, 0, 3);     // commit_creds of the setuid-root exec
  t.OnExec(52, 4);
  t.OnUid(52, 1000, 1000, 5);  // the program drops its privileges
  t.Reroot(52, 6);
  std::vector<int64_t> times;
  for (const Escalation& e : t.escalations()) times.push_back(e.time_mono_ns);
  CHECK(times == std::vector<int64_t>{3, 5});
  REQUIRE(t.escalations().size() == 2);
  CHECK(t.escalations()[0].ToRoot());
  CHECK(t.escalations()[0].exec_unread);
  CHECK_FALSE(t.escalations()[1].ToRoot());
  // Read in time, the same program is named by its exec.
  FakeProc fp2;
  fp2.procs[52] = Snap({"/opt/suid/id", "-u"}, 1000);
  fp2.procs[52].exe_setuid = true;
  ProcessTable t2(fp2.reader());
  t2.AddRoot(50, 0);
  t2.OnFork(50, 52, 52, 1);
  t2.OnUid(52, 0, 0, 1);
  t2.OnUid(52, 1000, 1000, 2);
  t2.OnUid(52, 1000, 0, 3);
  t2.OnExec(52, 4);
  t2.Reroot(52, 6);
  REQUIRE(t2.escalations().size() == 1);
  CHECK(t2.escalations()[0].exec_argv == std::vector<std::string>{"/opt/suid/id", "-u"});
  CHECK_FALSE(t2.escalations()[0].exec_unread);
}

TEST_CASE("process table: resync after lost events adopts children and ends the vanished") {
  FakeProc fp;
  fp.procs[101] = Snap({"sleep", "9"});
  ProcessTable t(fp.reader());
  t.AddRoot(100, 0);
  t.OnFork(100, 99, 99, 1);
  t.Resync({{100, 1}, {101, 100}, {102, 101}, {200, 1}}, 50);
  CHECK(t.Tracks(101));
  CHECK(t.Tracks(102));
  CHECK_FALSE(t.Tracks(99));
  CHECK_FALSE(t.Tracks(200));
  CHECK(Find(t.records(), 101)->argv == std::vector<std::string>{"sleep", "9"});
}

TEST_CASE("process table: a resync older than a process does not end it") {
  FakeProc fp;
  ProcessTable t(fp.reader());
  t.AddRoot(100, 5000);  // added after the hub's scan at 4000, which could not see it
  t.Resync({{1, 0}}, 4000);
  CHECK(t.Tracks(100));
  CHECK(t.records()[0].end_mono_ns == 0);
  t.Resync({{1, 0}}, 6000);  // a scan after it started, without it: it is gone
  CHECK_FALSE(t.Tracks(100));
  CHECK(t.records()[0].end_mono_ns == 6000);
}

TEST_CASE("process records: user names come from passwd text, bad lines skipped") {
  UserNames n = ParsePasswd(
      "root:x:0:0:root:/root:/bin/sh\nbroken\nweb:x:1000:1000::/:/bin/false\n"
      "x:x:notanumber:0::/:/bin/sh\n");
  CHECK(n.size() == 2);
  CHECK(n[0] == "root");
  CHECK(n[1000] == "web");
  Escalation e;
  e.pid = 9;
  e.uid_before = e.euid_before = 1000;
  e.uid_after = 1000;
  e.euid_after = 0;
  JsonWriter w;
  WriteEscalationJson(w, e, 0, &n);
  CHECK(w.str().find(R"("before":{"uid":1000,"euid":1000,"user":"web","euser":"web"})") !=
        std::string::npos);
  CHECK(
      w.str().find(R"("after":{"uid":1000,"euid":0,"user":"web","euser":"root"},"to_root":true)") !=
      std::string::npos);
}

TEST_CASE("process records: JSON has the commands shape with offsets, exit code and signal") {
  ProcessRecord a;
  a.pid = 7;
  a.ppid = 1;
  a.argv = {"sh", "-c", "x"};
  a.cwd = "/";
  a.uid = 0;
  a.euid = 0;
  a.start_mono_ns = 1'500'000'000;
  a.end_mono_ns = 2'000'000'000;
  a.exited = true;
  a.wait_status = SIGKILL;
  std::string s = ProcessManifestMembers({a}, {}, 1'000'000'000, 0);
  CHECK(s.find("\"commands\":[{\"pid\":7,\"ppid\":1,\"argv\":[\"sh\",\"-c\",\"x\"],\"cwd\":\"/\","
               "\"uid\":0,\"euid\":0,\"start\":0.500000,\"end\":1.000000,\"exit_code\":-1,"
               "\"signal\":9") == 0);
  CHECK(s.find("\"escalations\":[]") != std::string::npos);
  CHECK(s.find("\"escalated\":false") != std::string::npos);
}

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
