#include "runtime/control.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "record/pty.h"

namespace ttyaudit {
namespace control {
namespace {

struct SocketPair {
  UniqueFd wrapper, helper;
  SocketPair() {
    int sv[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == 0);
    wrapper.reset(sv[0]);
    helper.reset(sv[1]);
  }
};

UniqueFd DevNull() { return UniqueFd(open("/dev/null", O_RDONLY | O_CLOEXEC)); }

}  // namespace

TEST_CASE("recorder control: every message round-trips with its fields") {
  auto ready = Decode(EncodeReady(), {});
  REQUIRE(ready.ok());
  CHECK(ready->type == Type::kReady);
  auto handed = Decode(EncodeHanded(), {});
  REQUIRE(handed.ok());
  CHECK(handed->type == Type::kHanded);
  auto abort = Decode(EncodeAbort(), {});
  REQUIRE(abort.ok());
  CHECK(abort->type == Type::kAbort);
  auto fail = Decode(EncodeFail("open `/spool`: No space left: on device"), {});
  REQUIRE(fail.ok());
  CHECK(fail->type == Type::kFail);
  CHECK(fail->why == "open `/spool`: No space left: on device");  // colons in `why` stay
  auto runc = Decode(EncodeRunc(4242), {});
  REQUIRE(runc.ok());
  CHECK(runc->type == Type::kRunc);
  CHECK(runc->pid == 4242);
  auto go = Decode(EncodeGo(77), DevNull());
  REQUIRE(go.ok());
  CHECK(go->type == Type::kGo);
  CHECK(go->pid == 77);
  CHECK(go->fd.valid());
  auto ran = Decode(EncodeRan(3 << 8, 0), {});  // exit status 3; the exec's pid unknown
  REQUIRE(ran.ok());
  CHECK(ran->type == Type::kRan);
  CHECK(ran->wait_status == 3 << 8);
  CHECK(ran->pid == 0);
}

TEST_CASE("recorder control: the wire text is what both ends have always spoken") {
  CHECK(EncodeReady() == "ready");
  CHECK(EncodeFail("x") == "fail:x");
  CHECK(EncodeHanded() == "handed");
  CHECK(EncodeRunc(12) == "runc:12");
  CHECK(EncodeGo(34) == "go:34");
  CHECK(EncodeRan(256, 56) == "ran:256:56");
  CHECK(EncodeAbort() == "abort");
}

TEST_CASE("recorder control: malformed messages are errors that quote them safely") {
  auto bad = [](std::string_view packet) {
    auto m = Decode(packet, {});
    REQUIRE_FALSE(m.ok());
    return m.message();
  };
  CHECK(bad("hello") == "recorder control: unknown message, not `hello`");
  CHECK(bad("runc:") == "recorder control: runc: want a pid, not `runc:`");
  CHECK(bad("runc:-1") == "recorder control: runc: want a pid, not `runc:-1`");
  CHECK(bad("runc:12x") == "recorder control: runc: want a pid, not `runc:12x`");
  CHECK(bad("runc:99999999999") == "recorder control: runc: want a pid, not `runc:99999999999`");
  CHECK(bad("ran:256") == "recorder control: ran: want <wait status>:<pid>, not `ran:256`");
  CHECK(bad("ran:a:1") == "recorder control: ran: want <wait status>:<pid>, not `ran:a:1`");
  CHECK(bad("ready:now") == "recorder control: ready takes nothing, not `ready:now`");
  CHECK(bad("fail") == "recorder control: unknown message, not `fail`");
  CHECK(bad("") == "recorder control: unknown message, not ``");
  CHECK(bad("go:1") == "recorder control: go without runc's pty master");
  // Control bytes are not passed on to a log or terminal; long text is cut.
  CHECK(bad("\x1b[2Jx\n") == "recorder control: unknown message, not `?[2Jx?`");
  std::string long_text(200, 'z');
  CHECK(bad(long_text) ==
        "recorder control: unknown message, not `" + std::string(64, 'z') + "...`");
}

TEST_CASE("recorder control: a descriptor sent with another message than go is closed") {
  UniqueFd fd = DevNull();
  int raw = fd.get();
  auto m = Decode(EncodeReady(), std::move(fd));
  REQUIRE(m.ok());
  CHECK_FALSE(m->fd.valid());
  CHECK(fcntl(raw, F_GETFD) == -1);  // closed, not leaked
}

TEST_CASE("recorder control: a long reason is cut to one packet") {
  std::string why(10000, 'w');
  std::string packet = EncodeFail(why);
  CHECK(packet.size() == kMaxPacket);
  SocketPair s;
  REQUIRE(Send(s.helper.get(), packet).ok());
  auto m = Receive(s.wrapper.get(), 1000);
  REQUIRE(m.ok());
  CHECK(m->type == Type::kFail);
  CHECK(m->why == std::string(kMaxPacket - 5, 'w'));
}

TEST_CASE("recorder control: go carries runc's pty master across the socket") {
  SocketPair s;
  auto pty = OpenPty();
  REQUIRE(pty.ok());
  REQUIRE(Send(s.wrapper.get(), EncodeRunc(100)).ok());
  REQUIRE(Send(s.wrapper.get(), EncodeGo(101), pty->master.get()).ok());
  auto runc = Receive(s.helper.get(), 1000);
  REQUIRE(runc.ok());
  CHECK(runc->type == Type::kRunc);
  CHECK(runc->pid == 100);
  auto go = Receive(s.helper.get(), 1000);
  REQUIRE(go.ok());
  CHECK(go->type == Type::kGo);
  CHECK(go->pid == 101);
  REQUIRE(go->fd.valid());
  CHECK(isatty(go->fd.get()));
  CHECK(go->fd.get() != pty->master.get());  // a copy: the sender keeps its own
}

TEST_CASE("recorder control: silence is a timeout error, a closed peer is EOF") {
  SocketPair s;
  auto silent = Receive(s.wrapper.get(), 20);
  REQUIRE_FALSE(silent.ok());
  CHECK(silent.message() == "recorder control socket: no answer in 20 ms");
  s.helper.reset();
  auto closed = Receive(s.wrapper.get(), 1000);
  REQUIRE(closed.ok());
  CHECK(closed->type == Type::kClosed);
  CHECK(std::string(TypeName(closed->type)) == "EOF");
}

TEST_CASE("recorder control: a malformed packet on the socket is an error, not a message") {
  SocketPair s;
  REQUIRE(Send(s.helper.get(), "ready!").ok());
  auto m = Receive(s.wrapper.get(), 1000);
  REQUIRE_FALSE(m.ok());
  CHECK(m.message().find("unknown message") != std::string::npos);
}

}  // namespace control
}  // namespace ttyaudit
