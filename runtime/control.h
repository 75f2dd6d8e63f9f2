// The runtime wrapper and the helper it starts for an exec (the recorder of a terminal exec,
// runtime/recorder.h; the note-taker of a non-terminal one, runtime/plain_exec.h) talk over a
// SOCK_SEQPACKET socketpair, one message per packet, as short text:
//
//   helper -> wrapper   ready                    the session file exists; runc may run
//                       fail:<why>               recording cannot start, or the handover failed
//                                                (the wrapper applies the policy)
//                       handed                   the outer master is on the shim's console socket
//   wrapper -> helper   runc:<pid>               runc started (the process tracker roots there)
//                       go:<exec pid> + fd       runc succeeded; fd is runc's (inner) pty master
//                       ran:<status>:<exec pid>  runc (detached, no terminal) ended with this raw
//                                                wait status
//                       abort, or EOF            runc failed: the helper removes its file, exits
//
// A pid of 0 means unknown (runc's pid file could not be read).
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {
namespace control {

/// The largest packet: the receiver reads no more.
constexpr size_t kMaxPacket = 4096;

enum class Type {
  kReady,
  kFail,
  kHanded,
  kRunc,
  kGo,
  kRan,
  kAbort,
  kClosed,  // not sent: the peer closed its end
};

/// A decoded message: `type` says which fields are set.
struct Message {
  Type type = Type::kClosed;
  pid_t pid = 0;        // runc: runc's; go, ran: the exec's
  int wait_status = 0;  // ran: runc's raw wait status
  std::string why;      // fail
  UniqueFd fd;          // go: runc's pty master
};

std::string EncodeReady();
/// `why` is cut to fit one packet.
std::string EncodeFail(std::string_view why);
std::string EncodeHanded();
std::string EncodeRunc(pid_t runc_pid);
/// Send it with runc's pty master attached.
std::string EncodeGo(pid_t exec_pid);
std::string EncodeRan(int wait_status, pid_t exec_pid);
std::string EncodeAbort();

/// The name a message is sent by ("ready", "go"...; "EOF" for kClosed), for messages to people.
const char* TypeName(Type type);

/// Decodes one packet, `fd` being the descriptor it carried (a go without one is an error; any
/// other message's is closed). Errors name what is malformed ("recorder control: runc: want a
/// pid, not `x`").
Result<Message> Decode(std::string_view packet, UniqueFd fd);

/// Sends one encoded message, with `fd` attached when it is >= 0 (the caller keeps its copy).
Status Send(int sock, std::string_view packet, int fd = -1);

/// Waits up to `timeout_ms` (-1: no limit) for one message and decodes it. The peer's close is a
/// kClosed message; a timeout, a failed receive or a malformed message is an error.
Result<Message> Receive(int sock, int timeout_ms);

}  // namespace control
}  // namespace ttyaudit
