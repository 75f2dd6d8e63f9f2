#include "tracker/hub.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <map>

namespace ttyaudit {
namespace {

// A fake /proc for the hub: argv per pid, and a count of how often it was read.
struct FakeProc {
  std::map<pid_t, std::vector<std::string>> argv;
  int reads = 0;
  HubReaders readers() {
    HubReaders r;
    r.snapshot = [this](pid_t pid) {
      ++reads;
      ProcSnapshot s;
      if (auto it = argv.find(pid); it != argv.end()) s.argv = it->second;
      s.cwd = "/w/" + std::to_string(pid);
      return s;
    };
    r.cwd = [](pid_t pid) { return "/w/" + std::to_string(pid); };
    return r;
  }
};

ProcEvent Fork(pid_t parent, pid_t child, int64_t t, pid_t child_pid = 0) {
  ProcEvent e;
  e.kind = ProcEvent::kFork;
  e.parent_tgid = parent;
  e.tgid = child;
  e.pid = child_pid ? child_pid : child;
  e.time_ns = t;
  return e;
}
ProcEvent Of(ProcEvent::Kind kind, pid_t pid, int64_t t) {
  ProcEvent e;
  e.kind = kind;
  e.pid = e.tgid = pid;
  e.time_ns = t;
  return e;
}

// Everything queued for `id`, decoded, in order.
std::vector<tracker_wire::Message> Sent(HubRouter& r, HubRouter::Id id) {
  r.Flush(id);
  std::vector<tracker_wire::Message> out;
  auto& box = r.Outbox(id);
  while (!box.empty()) {
    auto m = tracker_wire::Decode(box.front());
    REQUIRE(m.ok());
    r.NoteSent(id, box.front().size());
    box.pop_front();
    out.push_back(std::move(m.value()));
  }
  return out;
}

std::vector<tracker_wire::WireEvent> SentEvents(HubRouter& r, HubRouter::Id id) {
  std::vector<tracker_wire::WireEvent> out;
  for (auto& m : Sent(r, id))
    for (auto& e : m.events) out.push_back(e);
  return out;
}

}  // namespace

TEST_CASE("tracker hub: each subscriber gets only its own tree's events") {
  FakeProc fp;
  fp.argv[11] = {"ls"};
  fp.argv[21] = {"make"};
  HubRouter r(fp.readers());
  auto a = r.Add(10, 100);
  auto b = r.Add(20, 100);
  r.OnEvent(Fork(10, 11, 200));
  r.OnEvent(Fork(20, 21, 200));
  r.OnEvent(Fork(30, 31, 200));  // the busy container nobody tracks
  r.OnEvent(Of(ProcEvent::kExec, 31, 210));
  r.OnEvent(Of(ProcEvent::kExec, 11, 210));
  r.OnEvent(Of(ProcEvent::kExec, 21, 210));
  r.OnEvent(Of(ProcEvent::kExit, 11, 300));
  auto ea = SentEvents(r, a);
  auto eb = SentEvents(r, b);
  REQUIRE(ea.size() == 3);
  CHECK(ea[0].event.kind == ProcEvent::kFork);
  CHECK(ea[0].snapshot.cwd == "/w/11");
  CHECK(ea[1].event.tgid == 11);
  CHECK(ea[1].snapshot.argv == std::vector<std::string>{"ls"});
  CHECK(ea[2].event.kind == ProcEvent::kExit);
  REQUIRE(eb.size() == 2);
  CHECK(eb[1].snapshot.argv == std::vector<std::string>{"make"});
  CHECK_FALSE(r.Tracks(a, 11));  // exited
  CHECK(r.Tracks(b, 21));
  CHECK(fp.reads == 2);  // only tracked execs were read from /proc
}

TEST_CASE("tracker hub: a process two subscribers track is read from /proc once") {
  FakeProc fp;
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  auto b = r.Add(10, 0);
  r.OnEvent(Of(ProcEvent::kExec, 10, 5));
  CHECK(fp.reads == 1);
  CHECK(SentEvents(r, a).size() == 1);
  CHECK(SentEvents(r, b).size() == 1);
  r.Remove(a);
  CHECK(r.subscriber_count() == 1);
  CHECK(r.tracked_count() == 1);
  r.Remove(b);
  CHECK(r.tracked_count() == 0);
}

TEST_CASE("tracker hub: threads and events from before the subscription are not routed") {
  FakeProc fp;
  HubRouter r(fp.readers());
  auto a = r.Add(10, 1000);
  CHECK_FALSE(r.OnEvent(Fork(10, 10, 2000, 12)));  // a thread of 10
  ProcEvent thread_exit = Of(ProcEvent::kExit, 10, 2100);
  thread_exit.pid = 12;
  CHECK_FALSE(r.OnEvent(thread_exit));
  CHECK(r.OnEvent(Fork(10, 13, 900)) == false);  // queued before it asked
  CHECK(SentEvents(r, a).empty());
  CHECK(r.Tracks(a, 10));
  CHECK_FALSE(r.Tracks(a, 13));
}

TEST_CASE("tracker hub: rerooting drops the spawner's other children but keeps the subtree") {
  FakeProc fp;
  HubRouter r(fp.readers());
  // The runtime wrapper 10 forks runc 11, which forks 12, which forks the exec process 13;
  // 12 exits; the wrapper also forked 14.
  auto a = r.Add(10, 0);
  r.OnEvent(Fork(10, 11, 1));
  r.OnEvent(Fork(11, 12, 2));
  r.OnEvent(Fork(12, 13, 3));
  r.OnEvent(Fork(13, 15, 4));
  r.OnEvent(Fork(10, 14, 4));
  r.OnEvent(Of(ProcEvent::kExit, 12, 5));
  r.Reroot(a, 11);
  CHECK_FALSE(r.Tracks(a, 10));
  CHECK_FALSE(r.Tracks(a, 14));
  CHECK(r.Tracks(a, 11));
  CHECK(r.Tracks(a, 13));  // its line to 11 is broken by 12's exit: kept
  r.Reroot(a, 13);
  CHECK_FALSE(r.Tracks(a, 11));
  CHECK(r.Tracks(a, 13));
  CHECK(r.Tracks(a, 15));
  (void)SentEvents(r, a);
  r.OnEvent(Fork(14, 16, 6));  // dropped ones are no longer followed
  CHECK(SentEvents(r, a).empty());
}

TEST_CASE("tracker hub: rerooting onto an unknown pid tracks it") {
  FakeProc fp;
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  r.Reroot(a, 50);
  CHECK(r.Tracks(a, 50));
  CHECK_FALSE(r.Tracks(a, 10));
  r.OnEvent(Fork(50, 51, 1));
  CHECK(r.Tracks(a, 51));
}

TEST_CASE("tracker hub: a resync forgets the vanished, adopts children and is sent in order") {
  FakeProc fp;
  fp.argv[12] = {"vim"};
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  r.OnEvent(Fork(10, 11, 1));
  r.OnEvent(Of(ProcEvent::kExec, 11, 2));
  // Events lost: 11 exited unseen, 12 was forked by 10 and 13 by 12.
  r.Resync({{1, 0}, {10, 1}, {12, 10}, {13, 12}, {99, 1}}, 1, 50);
  CHECK_FALSE(r.Tracks(a, 11));
  CHECK(r.Tracks(a, 12));
  CHECK(r.Tracks(a, 13));
  CHECK_FALSE(r.Tracks(a, 99));
  auto msgs = Sent(r, a);
  REQUIRE(msgs.size() == 2);
  CHECK(msgs[0].type == tracker_wire::Type::kEvents);
  CHECK(msgs[0].events.size() == 2);
  REQUIRE(msgs[1].type == tracker_wire::Type::kResync);
  CHECK(msgs[1].lost == 1);
  CHECK(msgs[1].time_ns == 50);
  CHECK(msgs[1].procs.size() == 3);
  for (const auto& p : msgs[1].procs) {
    if (p.pid == 12) {
      CHECK(p.ppid == 10);
      CHECK(p.has_snapshot);
      CHECK(p.snapshot.argv == std::vector<std::string>{"vim"});
    }
    if (p.pid == 10) CHECK_FALSE(p.has_snapshot);
  }
  // The fork of 12, read after the resync but older than it, is not a second record.
  r.OnEvent(Fork(10, 12, 40));
  CHECK(SentEvents(r, a).empty());
  r.OnEvent(Of(ProcEvent::kExec, 12, 60));
  CHECK(SentEvents(r, a).size() == 1);
}

TEST_CASE("tracker hub: batches split before a packet would overflow; the queue is counted") {
  FakeProc fp;
  fp.argv[10] = {std::string(20000, 'x')};
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  for (int i = 0; i < 10; ++i) r.OnEvent(Of(ProcEvent::kExec, 10, i + 1));
  CHECK(r.QueuedBytes(a) > 200000);
  r.Flush(a);
  auto& box = r.Outbox(a);
  CHECK(box.size() >= 4);
  for (const std::string& p : box) CHECK(p.size() <= tracker_wire::kMaxPacket);
  size_t events = 0;
  for (auto& m : Sent(r, a)) events += m.events.size();
  CHECK(events == 10);
  CHECK(r.QueuedBytes(a) < 16);
}

TEST_CASE("tracker hub: an argv too large for one packet is cut, not dropped") {
  FakeProc fp;
  fp.argv[10] = std::vector<std::string>(40000, "");  // 32 KiB of NULs: 4 bytes each on the wire
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  r.OnEvent(Of(ProcEvent::kExec, 10, 1));
  auto ev = SentEvents(r, a);
  REQUIRE(ev.size() == 1);
  CHECK(ev[0].snapshot.argv.size() > 1000);
  CHECK(ev[0].snapshot.argv.size() < 40000);
}

TEST_CASE("tracker hub: the tracked set for the wake-up filter is the union, versioned") {
  FakeProc fp;
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  uint64_t v = r.tracked_version();
  r.Add(20, 0);
  CHECK(r.tracked_version() != v);
  r.OnEvent(Fork(10, 11, 1));
  auto pids = r.TrackedPids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{10, 11, 20});
  CHECK(r.live_total() == 3);
  r.Remove(a);
  CHECK(r.live_total() == 1);
}

TEST_CASE("tracker hub: what was read at the wake-up is what the event carries, read once") {
  FakeProc fp;
  fp.argv[11] = {"/bin/true"};
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  r.OnEvent(Fork(10, 11, 1));
  ProcEvent exec = Of(ProcEvent::kExec, 11, 2);
  r.Prefetch(exec);                         // the wake-up: /proc read at once
  r.Prefetch(Of(ProcEvent::kExec, 99, 2));  // not tracked: not read
  CHECK(fp.reads == 1);
  fp.argv.erase(11);  // gone by the time the backlog reaches its exec
  r.OnEvent(exec);
  CHECK(fp.reads == 1);
  auto ev = SentEvents(r, a);
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].snapshot.argv == std::vector<std::string>{"/bin/true"});
  r.OnEvent(Of(ProcEvent::kExec, 11, 3));  // a later exec is read afresh
  CHECK(fp.reads == 2);
}

TEST_CASE("tracker hub: a fork's wake-up tracks the child at once, so its exec is read then") {
  FakeProc fp;
  fp.argv[11] = {"/bin/rm", "/tmp/f"};
  HubRouter r(fp.readers());
  auto a = r.Add(10, 0);
  uint64_t v = r.tracked_version();
  ProcEvent fork = Fork(10, 11, 1);
  ProcEvent exec = Of(ProcEvent::kExec, 11, 2);
  r.Prefetch(fork);                 // the fork's wake-up, long before the backlog reaches it
  CHECK(r.tracked_version() != v);  // the wake-up filter must now pass the child's events
  auto pids = r.TrackedPids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{10, 11});
  r.Prefetch(exec);                         // the child's exec wakes us: read now
  fp.argv.erase(11);                        // rm is gone before the backlog reaches its fork
  r.Prefetch(Of(ProcEvent::kExec, 12, 2));  // no tracked parent forked 12: not read
  r.OnEvent(fork);
  r.OnEvent(exec);
  auto ev = SentEvents(r, a);
  REQUIRE(ev.size() == 2);
  CHECK(ev[1].snapshot.argv == std::vector<std::string>{"/bin/rm", "/tmp/f"});
  pids = r.TrackedPids();
  std::sort(pids.begin(), pids.end());
  CHECK(pids == std::vector<pid_t>{10, 11});  // 11 tracked for good now, listed once

  // A fork that woke us but whose parent no subscriber tracks by the time it is routed is
  // forgotten, not tracked.
  r.Prefetch(Fork(11, 13, 3));
  r.OnEvent(Of(ProcEvent::kExit, 11, 4));
  r.OnEvent(Fork(11, 13, 3));
  CHECK_FALSE(r.Tracks(a, 13));
}

}  // namespace ttyaudit
