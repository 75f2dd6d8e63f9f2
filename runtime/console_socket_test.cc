#include "runtime/console_socket.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "record/pty.h"
#include "runtime/control.h"

namespace {

std::string TempBase() {
  char t[] = "/tmp/ttyaudit-console-test.XXXXXX";
  return mkdtemp(t);
}

}  // namespace

TEST_CASE("console socket: a master sent to the listener arrives as a tty, and the socket is gone") {
  std::string base = TempBase();
  auto l = ttyaudit::ConsoleListener::Create(base + "/run");
  REQUIRE(l.ok());
  std::string path = l->path();
  auto pty = ttyaudit::OpenPty();
  REQUIRE(pty.ok());
  std::thread sender([&] { CHECK(ttyaudit::SendMasterTo(path, pty->master.get()).ok()); });
  auto got = l->AcceptMaster(2000);
  sender.join();
  REQUIRE(got.ok());
  CHECK(isatty(got->get()));
  struct stat st {};
  CHECK(stat(path.c_str(), &st) != 0);  // unlinked once accepted
  l->Remove();
  CHECK(rmdir((base + "/run").c_str()) == 0);
  rmdir(base.c_str());
}

TEST_CASE("console socket: nobody connecting is a timeout error naming the socket") {
  std::string base = TempBase();
  {
    auto l = ttyaudit::ConsoleListener::Create(base);
    REQUIRE(l.ok());
    auto got = l->AcceptMaster(50);
    REQUIRE_FALSE(got.ok());
    CHECK(got.message().find("did not connect") != std::string::npos);
  }
  CHECK(rmdir(base.c_str()) == 0);  // the listener removed its directory
}

TEST_CASE("control: text with an fd, text alone, and EOF when the peer is gone") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
  ttyaudit::UniqueFd a(sv[0]), b(sv[1]);
  auto pty = ttyaudit::OpenPty();
  REQUIRE(pty.ok());
  REQUIRE(ttyaudit::SendControl(a.get(), "go:42", pty->master.get()).ok());
  REQUIRE(ttyaudit::SendControl(a.get(), "handed").ok());
  auto m1 = ttyaudit::ReceiveControl(b.get(), 1000);
  REQUIRE(m1.ok());
  CHECK(m1->text == "go:42");
  CHECK(isatty(m1->fd.get()));
  auto m2 = ttyaudit::ReceiveControl(b.get(), 1000);
  REQUIRE(m2.ok());
  CHECK(m2->text == "handed");
  CHECK_FALSE(m2->fd.valid());
  CHECK_FALSE(ttyaudit::ReceiveControl(b.get(), 20).ok());  // timeout
  a.reset();
  auto m3 = ttyaudit::ReceiveControl(b.get(), 1000);
  REQUIRE(m3.ok());
  CHECK(m3->eof);
}
