// Pseudo-terminals and terminal modes.
#pragma once

#include <sys/ioctl.h>
#include <termios.h>

#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

struct PtyPair {
  UniqueFd master;
  UniqueFd slave;
  std::string slave_name;
};

/// Opens a new pty pair, both ends O_CLOEXEC, slave opened O_NOCTTY.
Result<PtyPair> OpenPty();

/// Puts `fd` into raw mode and restores the saved mode on destruction (or Restore()).
class RawMode {
 public:
  RawMode() = default;
  ~RawMode() { Restore(); }
  RawMode(const RawMode&) = delete;
  RawMode& operator=(const RawMode&) = delete;
  /// Saves the mode of `fd` and makes it raw; an error if `fd` is not a terminal.
  Status Enter(int fd);
  void Restore();

 private:
  int fd_ = -1;
  termios saved_{};
};

/// Makes a termios raw (cfmakeraw, plus reads that return at once).
void MakeRaw(termios& t);

/// Copies the window size of `from` (a terminal) to `to`; returns the size copied.
Result<winsize> CopyWindowSize(int from, int to);

/// True when the line discipline of the pty behind `master` is canonical with echo off: the
/// shape of a password prompt (getpass). Raw-mode programs (shells' line editors, editors)
/// turn echo off too but not canonical mode, and their input is recorded.
bool InputIsHidden(int master);

/// Sends `text` (never empty: a lone space stands for none) over a unix socket, with `fd`
/// attached by SCM_RIGHTS when it is >= 0.
Status SendMessage(int sock, std::string_view text, int fd = -1);
/// Sends one fd with SCM_RIGHTS over a unix socket, with a non-empty payload.
inline Status SendFd(int sock, int fd, const std::string& payload) {
  return SendMessage(sock, payload.empty() ? std::string_view("fd") : payload, fd);
}
/// One message from a unix socket: its bytes and the fd it carried, if any.
struct SocketMessage {
  std::string text;
  UniqueFd fd;       // the first fd sent with SCM_RIGHTS (O_CLOEXEC); any others are closed
  bool eof = false;  // the peer closed (or reset) the connection
};
/// Receives one message (recvmsg with `flags` | MSG_CMSG_CLOEXEC).
Result<SocketMessage> ReceiveMessage(int sock, int flags = 0);
/// Receives one fd sent with SCM_RIGHTS (O_CLOEXEC); an error if the message carried none.
Result<UniqueFd> ReceiveFd(int sock);

}  // namespace ttyaudit
