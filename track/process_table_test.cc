#include "track/process_table.h"

#include <doctest/doctest.h>

#include <map>

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

TEST_CASE("process table: each program of an exec chain read at the exec keeps its record") {
  FakeProc fp;
  fp.procs[100] = Snap({"/bin/sh"});
  ProcessTable t(fp.reader());
  t.AddRoot(100, 1000);
  t.OnFork(100, 101, 101, 2000);
  ProcSnapshot env = Snap({"env", "/bin/true", "x"});
  env.read_at_exec = true;
  fp.procs[101] = env;
  t.OnExec(101, 2100);
  ProcSnapshot tru = Snap({"/bin/true", "x"});
  tru.read_at_exec = true;
  fp.procs[101] = tru;
  t.OnExec(101, 2200);
  t.OnExit(101, 101, 0, 2300);
  REQUIRE(t.records().size() == 3);
  const ProcessRecord& first = t.records()[1];
  const ProcessRecord& second = t.records()[2];
  CHECK(first.argv == std::vector<std::string>{"env", "/bin/true", "x"});
  CHECK(first.replaced_by_exec);
  CHECK_FALSE(first.exited);
  CHECK(first.end_mono_ns == 2200);
  CHECK(second.pid == 101);
  CHECK(second.argv == std::vector<std::string>{"/bin/true", "x"});
  CHECK(second.parent_record == first.parent_record);
  CHECK(second.start_mono_ns == 2200);
  CHECK(second.exited);
  CHECK(t.TakeCommands().size() == 1);  // one typed command
  // Read later from /proc, the first program's argv is not known: one record, updated.
  ProcessTable late(fp.reader());
  fp.procs[101] = Snap({"/bin/true", "x"});
  late.AddRoot(100, 1000);
  late.OnFork(100, 101, 101, 2000);
  late.OnExec(101, 2100);
  late.OnExec(101, 2200);
  CHECK(late.records().size() == 2);
}

}  // namespace ttyaudit
