#include "track/tracker_wire.h"

#include <doctest/doctest.h>

namespace ttyaudit {
namespace tracker_wire {
namespace {

ProcEvent Exec(pid_t pid, int64_t t) {
  ProcEvent e;
  e.kind = ProcEvent::kExec;
  e.pid = e.tgid = pid;
  e.time_ns = t;
  return e;
}

}  // namespace

TEST_CASE("tracker wire: requests and the ack round-trip") {
  auto s = Decode(EncodeSubscribe(4242));
  REQUIRE(s.ok());
  CHECK(s->type == Type::kSubscribe);
  CHECK(s->version == kVersion);
  CHECK(s->pid == 4242);
  auto r = Decode(EncodeReroot(77));
  REQUIRE(r.ok());
  CHECK(r->type == Type::kReroot);
  CHECK(r->pid == 77);
  auto a = Decode(EncodeAck(10, 123456789012345, "ebpf"));
  REQUIRE(a.ok());
  CHECK(a->type == Type::kAck);
  CHECK(a->pid == 10);
  CHECK(a->time_ns == 123456789012345);
  auto c = Decode(EncodeClosing("too slow"));
  REQUIRE(c.ok());
  CHECK(c->type == Type::kClosing);
  CHECK(c->text == "too slow");
}

TEST_CASE("tracker wire: an events batch keeps order, fields and snapshots") {
  EventBatch b;
  ProcEvent fork;
  fork.kind = ProcEvent::kFork;
  fork.parent_tgid = 100;
  fork.pid = fork.tgid = 101;
  fork.time_ns = 5;
  ProcSnapshot cwd_only;
  cwd_only.cwd = "c/d";
  cwd_only.cwd_truncated = true;
  b.Add(fork, &cwd_only);
  ProcSnapshot snap;
  snap.argv = {"ls", "-l", "", std::string("a\0b", 3)};
  snap.cwd = "/home/u";
  snap.uid = 1000;
  snap.euid = 0;
  snap.exe_setuid = true;
  snap.exe_owner = 0;
  snap.argv_from_comm = true;
  b.Add(Exec(101, 6), &snap);
  ProcEvent uid;
  uid.kind = ProcEvent::kUid;
  uid.pid = uid.tgid = 101;
  uid.ruid = 1000;
  uid.euid = 0;
  uid.time_ns = 7;
  b.Add(uid, nullptr);
  ProcEvent exit;
  exit.kind = ProcEvent::kExit;
  exit.pid = exit.tgid = 101;
  exit.exit_code = 3 << 8;
  exit.time_ns = 8;
  b.Add(exit, nullptr);
  CHECK(b.count() == 4);
  std::string packet = b.Take();
  CHECK(b.count() == 0);
  auto m = Decode(packet);
  REQUIRE(m.ok());
  REQUIRE(m->type == Type::kEvents);
  REQUIRE(m->events.size() == 4);
  CHECK(m->events[0].event.kind == ProcEvent::kFork);
  CHECK(m->events[0].event.parent_tgid == 100);
  CHECK(m->events[0].event.tgid == 101);
  CHECK(m->events[0].has_snapshot);
  CHECK(m->events[0].snapshot.cwd == "c/d");
  CHECK(m->events[0].snapshot.cwd_truncated);
  CHECK_FALSE(m->events[0].snapshot.cwd_unresolved);
  const WireEvent& ex = m->events[1];
  CHECK(ex.event.kind == ProcEvent::kExec);
  CHECK(ex.event.time_ns == 6);
  REQUIRE(ex.has_snapshot);
  CHECK(ex.snapshot.argv == snap.argv);
  CHECK(ex.snapshot.cwd == "/home/u");
  CHECK_FALSE(ex.snapshot.cwd_truncated);
  CHECK(ex.snapshot.uid == 1000);
  CHECK(ex.snapshot.euid == 0);
  CHECK(ex.snapshot.exe_setuid);
  CHECK(ex.snapshot.exe_owner == 0);
  CHECK(ex.snapshot.argv_from_comm);
  CHECK(m->events[2].event.ruid == 1000);
  CHECK(m->events[2].event.euid == 0);
  CHECK_FALSE(m->events[2].has_snapshot);
  CHECK(m->events[3].event.exit_code == (3 << 8));
  CHECK(packet.size() == EventBatch().size() + EventBatch::EncodedSize(fork, &cwd_only) +
                             EventBatch::EncodedSize(ex.event, &snap) +
                             EventBatch::EncodedSize(uid, nullptr) * 2);
}

TEST_CASE("tracker wire: a resync carries processes, parents and adopted snapshots") {
  std::vector<ResyncProc> procs(2);
  procs[0].pid = 5;
  procs[0].ppid = 1;
  procs[1].pid = 6;
  procs[1].ppid = 5;
  procs[1].has_snapshot = true;
  procs[1].snapshot.argv = {"make"};
  auto m = Decode(EncodeResync(3, 99, procs));
  REQUIRE(m.ok());
  CHECK(m->type == Type::kResync);
  CHECK(m->lost == 3);
  CHECK(m->time_ns == 99);
  REQUIRE(m->procs.size() == 2);
  CHECK(m->procs[0].pid == 5);
  CHECK_FALSE(m->procs[0].has_snapshot);
  CHECK(m->procs[1].ppid == 5);
  CHECK(m->procs[1].snapshot.argv == std::vector<std::string>{"make"});
}

TEST_CASE("tracker wire: truncated, padded or unknown packets are errors, never crashes") {
  EventBatch b;
  ProcSnapshot snap;
  snap.argv = {"/bin/sh", "-c", "echo hi"};
  b.Add(Exec(7, 1), &snap);
  const std::string good = b.Take();
  for (size_t n = 0; n < good.size(); ++n) {
    auto m = Decode(good.substr(0, n));
    CHECK_FALSE(m.ok());
  }
  CHECK_FALSE(Decode(good + "x").ok());
  CHECK(Decode(std::string(1, '\x7f')).message().find("unknown type") != std::string::npos);
  // A count that claims more events than the bytes could hold.
  std::string lying = good;
  lying[1] = '\xff';
  lying[2] = '\xff';
  CHECK_FALSE(Decode(lying).ok());
  // An argv count far beyond what the packet holds (after type, count, event, flags, 8 ids,
  // cwd).
  std::string huge_argc = good;
  const size_t argc_at = 1 + 4 + EventBatch::EncodedSize(Exec(7, 1), nullptr) + 1 + 64 + 4;
  const uint32_t argc = 0x40000000;
  huge_argc.replace(argc_at, 4, reinterpret_cast<const char*>(&argc), 4);
  CHECK(Decode(good).ok());
  CHECK_FALSE(Decode(huge_argc).ok());
}

}  // namespace tracker_wire
}  // namespace ttyaudit
