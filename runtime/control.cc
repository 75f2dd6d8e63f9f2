#include "runtime/control.h"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <charconv>

#include "record/pty.h"

namespace ttyaudit {
namespace control {
namespace {

constexpr std::string_view kFailPrefix = "fail:";

// A whole non-negative decimal number no larger than INT_MAX (a pid, a wait status).
bool ParseCount(std::string_view s, int& out) {
  if (s.empty() || s.front() == '-' || s.front() == '+') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

Error Malformed(std::string_view what, std::string_view packet) {
  constexpr size_t kShown = 64;
  std::string shown(packet.substr(0, kShown));
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return Error{"recorder control: " + std::string(what) + ", not `" + shown +
               (packet.size() > kShown ? "...`" : "`")};
}

}  // namespace

std::string EncodeReady() { return "ready"; }
std::string EncodeHanded() { return "handed"; }
std::string EncodeAbort() { return "abort"; }
std::string EncodeRunc(pid_t runc_pid) { return "runc:" + std::to_string(runc_pid); }
std::string EncodeGo(pid_t exec_pid) { return "go:" + std::to_string(exec_pid); }

std::string EncodeFail(std::string_view why) {
  return std::string(kFailPrefix) + std::string(why.substr(0, kMaxPacket - kFailPrefix.size()));
}

std::string EncodeRan(int wait_status, pid_t exec_pid) {
  return "ran:" + std::to_string(wait_status) + ":" + std::to_string(exec_pid);
}

const char* TypeName(Type type) {
  switch (type) {
    case Type::kReady:
      return "ready";
    case Type::kFail:
      return "fail";
    case Type::kHanded:
      return "handed";
    case Type::kRunc:
      return "runc";
    case Type::kGo:
      return "go";
    case Type::kRan:
      return "ran";
    case Type::kAbort:
      return "abort";
    case Type::kClosed:
      return "EOF";
  }
  return "?";
}

Result<Message> Decode(std::string_view packet, UniqueFd fd) {
  Message m;
  size_t colon = packet.find(':');
  std::string_view name = packet.substr(0, colon);
  std::string_view arg = colon == std::string_view::npos ? "" : packet.substr(colon + 1);
  bool has_arg = colon != std::string_view::npos;
  if (name == "ready" || name == "handed" || name == "abort") {
    if (has_arg) return Malformed(std::string(name) + " takes nothing", packet);
    m.type = name == "ready" ? Type::kReady : name == "handed" ? Type::kHanded : Type::kAbort;
  } else if (name == "fail" && has_arg) {
    m.type = Type::kFail;
    m.why = std::string(arg);
  } else if (name == "runc" || name == "go") {
    int pid = 0;
    if (!ParseCount(arg, pid)) return Malformed(std::string(name) + ": want a pid", packet);
    m.type = name == "runc" ? Type::kRunc : Type::kGo;
    m.pid = pid;
    if (m.type == Type::kGo) {
      if (!fd) return Error{"recorder control: go without runc's pty master"};
      m.fd = std::move(fd);
    }
  } else if (name == "ran") {
    size_t sep = arg.find(':');
    int status = 0, pid = 0;
    if (sep == std::string_view::npos || !ParseCount(arg.substr(0, sep), status) ||
        !ParseCount(arg.substr(sep + 1), pid))
      return Malformed("ran: want <wait status>:<pid>", packet);
    m.type = Type::kRan;
    m.wait_status = status;
    m.pid = pid;
  } else {
    return Malformed("unknown message", packet);
  }
  return m;
}

Status Send(int sock, std::string_view packet, int fd) {
  if (Status st = SendMessage(sock, packet, fd); !st)
    return Error{"recorder control socket: " + st.message()};
  return {};
}

Result<Message> Receive(int sock, int timeout_ms) {
  struct pollfd p = {sock, POLLIN, 0};
  for (;;) {
    int r = ::poll(&p, 1, timeout_ms);
    if (r > 0) break;
    if (r == 0)
      return Error{"recorder control socket: no answer in " + std::to_string(timeout_ms) + " ms"};
    if (errno != EINTR) return SysError("poll", "recorder control socket", errno);
  }
  auto got = ReceiveMessage(sock, MSG_DONTWAIT);
  if (!got.ok()) return Error{"recorder control socket: " + got.message()};
  if (got->eof) return Message{};
  return Decode(got->text, std::move(got->fd));
}

}  // namespace control
}  // namespace ttyaudit
