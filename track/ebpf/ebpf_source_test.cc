#include "track/ebpf/ebpf_source.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <set>

#include "base/ids.h"

namespace ttyaudit {
namespace {

// Tracks one pid and what it forks, and keeps what the source delivers.
struct Sink : ProcEventSink {
  std::set<pid_t> tracked;
  uint64_t version = 1;
  std::vector<std::pair<ProcEvent, ProcSnapshot>> got;
  uint64_t lost = 0;

  void OnEvent(const ProcEvent& e, const ProcSnapshot* s) override {
    got.emplace_back(e, s ? *s : ProcSnapshot{});
    if (e.kind == ProcEvent::kFork && tracked.count(e.parent_tgid) && tracked.insert(e.tgid).second)
      ++version;
    if (e.kind == ProcEvent::kExit) tracked.erase(e.tgid);
  }
  void OnLost(uint64_t n, int64_t, std::vector<ResyncProc>&) override { lost += n; }
  uint64_t TrackedVersion() const override { return version; }
  std::vector<pid_t> TrackedPids() const override { return {tracked.begin(), tracked.end()}; }
};

void Pump(ProcEventSource& src, Sink& sink, int ms) {
  for (int64_t end = MonotonicMillis() + ms; MonotonicMillis() < end;) {
    std::vector<pollfd> fds;
    int timeout = src.Prepare(fds, sink);
    poll(fds.data(), fds.size(), std::min(timeout, 20));
    src.Read(sink);
  }
}

}  // namespace

TEST_CASE("ebpf source: the kernel's cwd names, leaf first, are the path from the root") {
  using namespace std::string_literals;
  CHECK(CwdFromKernelNames("c\0b\0a\0"s) == "/a/b/c");
  CHECK(CwdFromKernelNames("tmp\0"s) == "/tmp");
  CHECK(CwdFromKernelNames(""s) == "/");
  CHECK(CwdFromKernelNames("cut"s) == "/cut");  // a record cut in its last name
}

TEST_CASE("ebpf source: each program of an exec chain comes with its own argv and ids") {
  auto src = OpenEbpfSource();
  if (!src) {
    MESSAGE("eBPF unavailable: " << src.message());
    return;
  }
  CHECK((*src)->reads() == "ebpf");
  Sink sink;
  sink.tracked.insert(getpid());
  (*src)->Retrack(sink.version, sink.TrackedPids());
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    execl("/usr/bin/env", "env", "/bin/true", "chain", "mark", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  Pump(**src, sink, 300);
  std::vector<std::vector<std::string>> execs;
  bool forked = false, exited = false;
  for (const auto& [e, s] : sink.got) {
    if (e.tgid != child) continue;
    if (e.kind == ProcEvent::kFork) forked = e.parent_tgid == getpid();
    if (e.kind == ProcEvent::kExec) {
      execs.push_back(s.argv);
      CHECK(s.uid == static_cast<int64_t>(getuid()));
      CHECK(s.exe_inode != 0);
      CHECK_FALSE(s.argv_truncated);
    }
    if (e.kind == ProcEvent::kExit) exited = e.exit_code == static_cast<uint32_t>(status);
  }
  CHECK(forked);
  REQUIRE(execs.size() == 2);
  CHECK(execs[0] == std::vector<std::string>{"env", "/bin/true", "chain", "mark"});
  CHECK(execs[1] == std::vector<std::string>{"/bin/true", "chain", "mark"});
  CHECK(exited);
  CHECK(sink.lost == 0);
}

TEST_CASE(
    "ebpf source: argv past 64 arguments is cut and flagged; untracked processes are not seen") {
  auto src = OpenEbpfSource();
  if (!src) return;
  Sink sink;
  sink.tracked.insert(getpid());
  (*src)->Retrack(sink.version, sink.TrackedPids());
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    std::vector<std::string> args = {"/bin/true"};
    for (int i = 0; i < 100; ++i) args.push_back("a" + std::to_string(i));
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv("/bin/true", argv.data());
    _exit(127);
  }
  REQUIRE(waitpid(child, nullptr, 0) == child);
  Pump(**src, sink, 300);
  const ProcSnapshot* exec = nullptr;
  for (const auto& [e, s] : sink.got)
    if (e.tgid == child && e.kind == ProcEvent::kExec) exec = &s;
  REQUIRE(exec != nullptr);
  CHECK(exec->argv.size() == 64);
  CHECK(exec->argv[63] == "a62");
  CHECK(exec->argv_truncated);
  // The rest of the machine forks and execs meanwhile: none of it reaches the reader.
  for (const auto& [e, s] : sink.got) CHECK((e.tgid == child || e.tgid == getpid()));
}

namespace {

// The uid changes the source reports of a child that sets its real uid to nobody's and back
// to root's, then exits: ids 0/0 at the fork and at the exit.
std::vector<std::pair<uint32_t, uint32_t>> UidChangesOfSetreuidAndBack(ProcEventSource& src,
                                                                       int64_t* last_ns,
                                                                       int64_t* exit_ns) {
  Sink sink;
  sink.tracked.insert(getpid());
  src.Retrack(sink.version, sink.TrackedPids());
  pid_t child = fork();
  if (child == 0) {
    if (setreuid(65534, -1) != 0 || setreuid(0, -1) != 0) _exit(1);
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  CHECK(status == 0);
  Pump(src, sink, 300);
  std::vector<std::pair<uint32_t, uint32_t>> changes;
  for (const auto& [e, s] : sink.got) {
    if (e.tgid != child) continue;
    if (e.kind == ProcEvent::kUid) {
      CHECK(e.time_ns >= *last_ns);
      changes.emplace_back(e.ruid, e.euid);
      *last_ns = e.time_ns;
    }
    if (e.kind == ProcEvent::kExit) *exit_ns = e.time_ns;
  }
  return changes;
}

}  // namespace

TEST_CASE(
    "ebpf source: without the syscalls' program, a uid change undone before the exit "
    "is unseen") {
  if (geteuid() != 0) return;
  auto src = OpenEbpfSource(0, false);
  if (!src) return;
  int64_t last = 0, exit_ns = 0;
  CHECK(UidChangesOfSetreuidAndBack(**src, &last, &exit_ns).empty());
  CHECK(exit_ns > 0);
}

TEST_CASE("ebpf source: a setuid() and its undoing before the exit are both uid changes") {
  if (geteuid() != 0) return;  // root changes its real uid and takes it back
  auto src = OpenEbpfSource();
  if (!src) return;
  int64_t last = 0, exit_ns = 0;
  auto changes = UidChangesOfSetreuidAndBack(**src, &last, &exit_ns);
  REQUIRE(changes.size() == 2);
  CHECK(changes[0] == std::pair<uint32_t, uint32_t>{65534, 0});
  CHECK(changes[1] == std::pair<uint32_t, uint32_t>{0, 0});
  CHECK(last <= exit_ns);
}

namespace {

// Makes `depth` nested directories named d0, d1, ... under a fresh directory; returns the
// deepest one's path ("" on error). RemoveTree undoes it.
std::string MakeDeepDir(int depth) {
  char tmpl[] = "/tmp/ttyaudit-cwd.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) return "";
  std::string path = tmpl;
  for (int i = 0; i < depth; ++i) {
    path += "/d" + std::to_string(i);
    if (mkdir(path.c_str(), 0700) != 0) return "";
  }
  return path;
}

void RemoveTree(std::string path, int depth) {
  for (int i = 0; i <= depth; ++i) {
    rmdir(path.c_str());
    path.resize(path.rfind('/'));
  }
}

// Runs /bin/true in `dir` as a tracked child gone before the source is read; returns what
// the source delivered of its exec.
ProcSnapshot ExecIn(ProcEventSource& src, const std::string& dir) {
  Sink sink;
  sink.tracked.insert(getpid());
  src.Retrack(sink.version, sink.TrackedPids());
  pid_t child = fork();
  if (child == 0) {
    if (chdir(dir.c_str()) != 0) _exit(126);
    execl("/bin/true", "true", static_cast<char*>(nullptr));
    _exit(127);
  }
  waitpid(child, nullptr, 0);
  Pump(src, sink, 300);
  for (const auto& [e, s] : sink.got)
    if (e.tgid == child && e.kind == ProcEvent::kExec) return s;
  return {};
}

}  // namespace

TEST_CASE("ebpf source: cwd is read in the kernel at the exec, gone process and all") {
  auto src = OpenEbpfSource();
  if (!src) return;
  const std::string dir = MakeDeepDir(30);
  REQUIRE_FALSE(dir.empty());
  ProcSnapshot s = ExecIn(**src, dir);
  CHECK(s.cwd == dir);
  CHECK_FALSE(s.cwd_truncated);
  CHECK_FALSE(s.cwd_unresolved);
  ProcSnapshot root = ExecIn(**src, "/");
  CHECK(root.cwd == "/");
  RemoveTree(dir, 30);
}

TEST_CASE("ebpf source: a cwd deeper than the walk is its last part, flagged, once gone") {
  auto src = OpenEbpfSource();
  if (!src) return;
  const std::string dir = MakeDeepDir(80);
  REQUIRE_FALSE(dir.empty());
  ProcSnapshot s = ExecIn(**src, dir);
  CHECK(s.cwd_truncated);
  CHECK(s.cwd.substr(0, 1) != "/");
  CHECK(dir.size() > s.cwd.size());
  CHECK(dir.substr(dir.size() - s.cwd.size() - 1) == "/" + s.cwd);
  RemoveTree(dir, 80);
}

}  // namespace ttyaudit
