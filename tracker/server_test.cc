#include "tracker/server.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

#include "base/files.h"
#include "base/ids.h"
#include "track/proc_connector_source.h"
#include "track/tracker_client.h"
#include "track/tracker_wire.h"

namespace ttyaudit {
namespace {

// A hub served by RunHub on a thread of this process, in a run dir of its own. It exits once
// it has had no subscriber for a second.
struct ServedHub {
  std::string dir;
  std::unique_ptr<Logger> log;
  std::thread thread;
  int status = -1;
  mode_t old_umask = 0;

  ServedHub() {
    char tmpl[] = "/tmp/ttyaudit-server-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir = std::string(tmpl) + "/run";  // the hub creates it
    log = std::make_unique<Logger>("ttyaudit-tracker-test", std::string(tmpl) + "/tracker.log");
    old_umask = umask(022);
  }
  // Starts the hub and waits for its ready byte.
  bool Start() {
    int ready[2];
    REQUIRE(pipe2(ready, O_CLOEXEC) == 0);
    HubOptions o;
    o.run_dir = dir;
    o.idle_exit_s = 1;
    o.realtime = false;
    o.ready_fd = ready[1];
    thread = std::thread([this, o] { status = RunHub(o, *log); });
    pollfd p{ready[0], POLLIN, 0};
    char c = 0;
    bool ok = poll(&p, 1, 5000) == 1 && read(ready[0], &c, 1) == 1 && c == '1';
    close(ready[0]);
    return ok;
  }
  ~ServedHub() {
    if (thread.joinable()) thread.join();
    umask(old_umask);  // RunHub sets 077 for the whole process
    std::error_code ec;
    std::filesystem::remove_all(std::filesystem::path(dir).parent_path(), ec);
  }
};

// The next packet from the hub, decoded; fails the test after 3 s without one.
tracker_wire::Message Receive(int fd) {
  pollfd p{fd, POLLIN, 0};
  REQUIRE(poll(&p, 1, 3000) == 1);
  std::string buf(tracker_wire::kMaxPacket, '\0');
  ssize_t k = recv(fd, buf.data(), buf.size(), 0);
  REQUIRE(k > 0);
  auto m = tracker_wire::Decode(std::string_view(buf.data(), static_cast<size_t>(k)));
  REQUIRE(m.ok());
  return std::move(m.value());
}

void Send(int fd, const std::string& packet) {
  REQUIRE(send(fd, packet.data(), packet.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(packet.size()));
}

bool CanReadProcConnector() {
  auto s = ProcConnectorSource::Open(1 << 16, false);
  if (!s) MESSAGE("proc connector unavailable: " << s.message());
  return s.ok();
}

}  // namespace

TEST_CASE("tracker server: sends a subscriber its child's fork, exec with argv, and exit") {
  if (!CanReadProcConnector()) return;
  ServedHub hub;
  REQUIRE(hub.Start());
  struct stat st {};
  REQUIRE(stat((hub.dir + "/tracker.sock").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(stat(hub.dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);
  CHECK(ReadSmallFileOrEmpty(hub.dir + "/tracker.pid", 64) == std::to_string(getpid()) + "\n");

  TrackerHubOptions h;
  h.run_dir = hub.dir;
  auto conn = SubscribeToTrackerHub(h, getpid());
  REQUIRE(conn.ok());
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    execl("/bin/sleep", "/bin/sleep", "0.01", static_cast<char*>(nullptr));
    _exit(127);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  bool forked = false, execed = false, exited = false;
  std::vector<std::string> argv;
  for (int64_t deadline = MonotonicMillis() + 3000; !exited && MonotonicMillis() < deadline;) {
    tracker_wire::Message m = Receive(conn->get());
    REQUIRE(m.type == tracker_wire::Type::kEvents);
    for (const tracker_wire::WireEvent& w : m.events) {
      if (w.event.tgid != child) continue;
      if (w.event.kind == ProcEvent::kFork) forked = w.event.parent_tgid == getpid();
      if (w.event.kind == ProcEvent::kExec) {
        execed = w.has_snapshot;
        argv = w.snapshot.argv;
      }
      if (w.event.kind == ProcEvent::kExit) exited = w.event.exit_code == uint32_t(status);
    }
  }
  CHECK(forked);
  CHECK(execed);
  CHECK(argv == std::vector<std::string>{"/bin/sleep", "0.01"});
  CHECK(exited);

  // Counters, to the subscriber and to a second connection.
  auto other = ConnectTrackerHub(hub.dir);
  REQUIRE(other.ok());
  Send(other->get(), tracker_wire::EncodeStatsRequest());
  tracker_wire::Message stats = Receive(other->get());
  REQUIRE(stats.type == tracker_wire::Type::kStatsReply);
  CHECK(stats.text.find("\"subscribers\":1,") != std::string::npos);
  CHECK(stats.text.find("\"pid\":" + std::to_string(getpid()) + ",") != std::string::npos);

  // A second hub for the same run dir leaves at once: one hub per run dir.
  HubOptions again;
  again.run_dir = hub.dir;
  again.realtime = false;
  again.lock_wait_ms = 100;
  CHECK(RunHub(again, *hub.log) == 0);

  conn->reset();
  other->reset();
  hub.thread.join();  // idle for 1 s: it exits by itself
  CHECK(hub.status == 0);
  CHECK(access((hub.dir + "/tracker.sock").c_str(), F_OK) != 0);
  CHECK(access((hub.dir + "/tracker.pid").c_str(), F_OK) != 0);
}

TEST_CASE("tracker server: refuses an unknown protocol version and drops a garbled client") {
  if (!CanReadProcConnector()) return;
  ServedHub hub;
  REQUIRE(hub.Start());
  auto old = ConnectTrackerHub(hub.dir);
  REQUIRE(old.ok());
  std::string sub = tracker_wire::EncodeSubscribe(getpid());
  uint32_t version = tracker_wire::kVersion + 1;
  memcpy(sub.data() + 1, &version, sizeof version);
  Send(old->get(), sub);
  tracker_wire::Message m = Receive(old->get());
  CHECK(m.type == tracker_wire::Type::kClosing);
  CHECK(m.text.find("protocol version") != std::string::npos);

  auto garbled = ConnectTrackerHub(hub.dir);
  REQUIRE(garbled.ok());
  Send(garbled->get(), std::string("\x7f garbage", 9));
  pollfd p{garbled->get(), POLLIN, 0};
  REQUIRE(poll(&p, 1, 3000) == 1);
  char c;
  CHECK(recv(garbled->get(), &c, 1, 0) == 0);  // closed without a word

  // The hub serves on: a well-formed subscriber is acknowledged.
  TrackerHubOptions h;
  h.run_dir = hub.dir;
  CHECK(SubscribeToTrackerHub(h, getpid()).ok());
  old->reset();
  garbled->reset();
}

}  // namespace ttyaudit
