#include "record/spool_writer.h"

#include <doctest/doctest.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "base/ids.h"
#include "record/cast_reader.h"
#include "record/session_meta_read.h"

using namespace ttyaudit;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ttyaudit-spool-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  return tmpl;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SessionMeta NewMeta() {
  SessionMeta m;
  m.id = NewUuidV7();
  m.start_ns = RealtimeNanos();
  m.width = 100;
  m.height = 30;
  return m;
}

}  // namespace

TEST_CASE("spool writer: the header says recording until Finish rewrites it in place") {
  std::string dir = TempDir();
  auto w = SessionWriter::Create(dir + "/spool", NewMeta(), {});
  REQUIRE(w.ok());
  SessionWriter& rec = **w;
  rec.Output("hello\r\n");
  rec.Input("ls\r", false);
  rec.Resize(120, 40);
  REQUIRE(rec.Flush().ok());
  std::string path = rec.path();
  {
    auto r = CastReader::Open(path);
    REQUIRE(r.ok());
    auto m = SessionMetaFromHeader(r->header());
    REQUIRE(m.ok());
    CHECK(m->state == "recording");
    CHECK(m->width == 100);
  }
  // The recorder holds its lock: a reader cannot take it while the session runs.
  CHECK(RecorderHoldsLock(path));
  CHECK(RecorderHoldsLock(path));  // a probe leaves nothing behind
  size_t size_before = Slurp(path).size();

  REQUIRE(rec.Finish("exited", 7, 0).ok());
  std::string text = Slurp(path);
  CHECK(text.size() == size_before);  // rewritten in place, nothing appended
  auto r = CastReader::Open(path);
  REQUIRE(r.ok());
  auto m = SessionMetaFromHeader(r->header());
  REQUIRE(m.ok());
  CHECK(m->state == "exited");
  CHECK(m->exit_code == 7);
  CHECK(m->bytes_out == 7);
  CHECK(m->bytes_in == 3);
  CHECK(m->end_ns >= m->start_ns);
  CastEvent ev;
  std::vector<std::string> codes;
  while (*r->Next(ev)) codes.push_back(ev.code + ":" + ev.data);
  CHECK(codes == std::vector<std::string>{"o:hello\r\n", "i:ls\r", "r:120x40"});

  std::string manifest = Slurp(ManifestPathFor(path));
  CHECK(manifest.find("\"state\":\"exited\"") != std::string::npos);
  CHECK(manifest.find("\"commands\":[]") != std::string::npos);
  w.value().reset();  // the recorder is gone: its lock with it
  CHECK_FALSE(RecorderHoldsLock(path));
  CHECK_FALSE(RecorderHoldsLock(dir + "/missing.cast"));
  std::system(("chattr -R -i " + dir + " 2>/dev/null; rm -rf " + dir).c_str());
}

TEST_CASE(
    "spool writer: hidden input is counted and marked, never stored; record_input off stores "
    "none") {
  std::string dir = TempDir();
  SessionWriterOptions opts;
  auto w = SessionWriter::Create(dir, NewMeta(), opts);
  REQUIRE(w.ok());
  (*w)->Input("secret", true);
  (*w)->Input("\r", true);
  (*w)->Input("visible", false);
  REQUIRE((*w)->Finish("exited", 0, 0).ok());
  std::string text = Slurp((*w)->path());
  CHECK(text.find("secret") == std::string::npos);
  CHECK(text.find("input hidden") != std::string::npos);
  CHECK(text.find("visible") != std::string::npos);
  CHECK((*w)->meta().bytes_in_hidden == 7);

  opts.record_input = false;
  auto w2 = SessionWriter::Create(dir, NewMeta(), opts);
  REQUIRE(w2.ok());
  (*w2)->Input("typed", false);
  REQUIRE((*w2)->Finish("exited", 0, 0).ok());
  CHECK(Slurp((*w2)->path()).find("typed") == std::string::npos);
  CHECK((*w2)->meta().bytes_in == 5);
  std::system(("chattr -R -i " + dir + " 2>/dev/null; rm -rf " + dir).c_str());
}

TEST_CASE("spool writer: the end state from a wait status: exited, signaled, or unknown") {
  std::string dir = TempDir();
  struct Case {
    std::optional<int> wait_status;
    std::string state;
    int exit_code, signal;
  };
  for (const Case& c : {Case{3 << 8, "exited", 3, 0}, Case{SIGKILL, "signaled", -1, SIGKILL},
                        Case{std::nullopt, "ended", -1, 0}}) {
    auto w = SessionWriter::Create(dir, NewMeta(), {});
    REQUIRE(w.ok());
    REQUIRE(w.value()->FinishWithWaitStatus(c.wait_status).ok());
    auto r = CastReader::Open(w.value()->path());
    REQUIRE(r.ok());
    auto m = SessionMetaFromHeader(r->header());
    REQUIRE(m.ok());
    CHECK(m->state == c.state);
    CHECK(m->exit_code == c.exit_code);
    CHECK(m->signal == c.signal);
  }
  std::system(("chattr -R -i " + dir + " 2>/dev/null; rm -rf " + dir).c_str());
}

TEST_CASE("spool writer: each flush is chained, the manifest carries the chain's end") {
  std::string dir = TempDir();
  auto w = SessionWriter::Create(dir, NewMeta(), {});
  REQUIRE(w.ok());
  SessionWriter& rec = **w;
  rec.Output("one\r\n");
  REQUIRE(rec.Flush().ok());
  rec.Output("two\r\n");
  REQUIRE(rec.Flush().ok());
  std::string path = rec.path();
  // Live: covered up to the last flush.
  auto live = CheckCastFile(path, rec.meta().id, true);
  REQUIRE(live.ok());
  CHECK(live->chain_ok);
  CHECK(live->blocks == 2);
  REQUIRE(rec.Finish("exited", 0, 0).ok());
  auto sealed = CheckCastFile(path, rec.meta().id, false);
  REQUIRE(sealed.ok());
  CHECK(sealed->chain_ok);
  auto claim = ReadManifestChain(Slurp(ManifestPathFor(path)));
  REQUIRE(claim.ok());
  CHECK(CompareChain(*sealed, *claim) == "");
  std::system(("chattr -R -i " + dir + " 2>/dev/null; rm -rf " + dir).c_str());
}

TEST_CASE("spool writer: sessions take the spool's next number, one after another") {
  std::string dir = TempDir();
  auto a = SessionWriter::Create(dir, NewMeta(), {});
  auto b = SessionWriter::Create(dir, NewMeta(), {});
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK((*a)->meta().seq == 1);
  CHECK((*b)->meta().seq == 2);
  auto next = NextSessionSeq(dir);
  REQUIRE(next.ok());
  CHECK(*next == 3);
  a.value().reset();
  b.value().reset();
  std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("spool writer: the fsync thread's setup runs on that thread before Create returns") {
  std::string dir = TempDir();
  std::atomic<pid_t> setup_tid{0};
  std::string name;
  SessionWriterOptions opts;
  opts.sync_thread_setup = [&] {
    name = Slurp("/proc/thread-self/comm");
    setup_tid = static_cast<pid_t>(syscall(SYS_gettid));
    return Status(Error{"no privileges to drop here"});
  };
  auto w = SessionWriter::Create(dir + "/spool", NewMeta(), opts);
  REQUIRE(w.ok());
  // Done by now, on a thread of its own, which the recorders' tests find by this name.
  CHECK(setup_tid.load() != 0);
  CHECK(setup_tid.load() != static_cast<pid_t>(syscall(SYS_gettid)));
  CHECK(name == "ttyaudit-fsync\n");
  CHECK((*w)->sync_thread_problem() == "no privileges to drop here");
  // A failed setup does not stop the session.
  (*w)->Output("still recorded\r\n");
  REQUIRE((*w)->Finish("exited", 0, 0).ok());
  CHECK(Slurp((*w)->path()).find("still recorded") != std::string::npos);
  auto plain = SessionWriter::Create(dir + "/spool", NewMeta(), {});
  REQUIRE(plain.ok());
  CHECK((*plain)->sync_thread_problem().empty());
  std::system(("chattr -R -i " + dir + " 2>/dev/null; rm -rf " + dir).c_str());
}
