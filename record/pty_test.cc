#include "record/pty.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace ttyaudit;

TEST_CASE(
    "masking: canonical mode without echo (a password prompt) hides input; raw mode does not") {
  auto p = OpenPty();
  REQUIRE(p.ok());
  termios t;
  REQUIRE(tcgetattr(p->slave.get(), &t) == 0);
  t.c_lflag |= ECHO | ICANON;
  tcsetattr(p->slave.get(), TCSANOW, &t);
  CHECK_FALSE(InputIsHidden(p->master.get()));
  t.c_lflag &= ~ECHO;  // getpass()
  tcsetattr(p->slave.get(), TCSANOW, &t);
  CHECK(InputIsHidden(p->master.get()));
  t.c_lflag &= ~ICANON;  // a line editor or full-screen program: echoes by itself
  tcsetattr(p->slave.get(), TCSANOW, &t);
  CHECK_FALSE(InputIsHidden(p->master.get()));
}

TEST_CASE("pty: the window size is copied from one terminal to another") {
  auto a = OpenPty();
  auto b = OpenPty();
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  winsize ws{33, 111, 0, 0};
  ioctl(a->master.get(), TIOCSWINSZ, &ws);
  auto got = CopyWindowSize(a->slave.get(), b->master.get());
  REQUIRE(got.ok());
  winsize seen{};
  ioctl(b->slave.get(), TIOCGWINSZ, &seen);
  CHECK(seen.ws_row == 33);
  CHECK(seen.ws_col == 111);
}

TEST_CASE("console socket: one fd passes with SCM_RIGHTS and arrives usable") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
  UniqueFd s0(sv[0]), s1(sv[1]);
  auto p = OpenPty();
  REQUIRE(p.ok());
  REQUIRE(SendFd(s0.get(), p->master.get(), "/dev/ptmx").ok());
  auto got = ReceiveFd(s1.get());
  REQUIRE(got.ok());
  CHECK(isatty(got->get()));
  CHECK(write(got->get(), "x\n", 2) == 2);
  char buf[8];
  CHECK(read(p->slave.get(), buf, sizeof buf) >= 1);
  CHECK(buf[0] == 'x');
}
