#include "runtime/console_socket.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <thread>

#include "record/pty.h"

namespace {

std::string TempBase() {
  char t[] = "/tmp/ttyaudit-console-test.XXXXXX";
  return mkdtemp(t);
}

}  // namespace

TEST_CASE(
    "console socket: a master sent to the listener arrives as a tty, and the socket is gone") {
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
