#include "record/console_proxy.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>

#include "base/ids.h"
#include "base/unique_fd.h"
#include "record/pty.h"

namespace ttyaudit {
namespace {

constexpr size_t kBufSize = 64 * 1024;
constexpr int kStopSignals[] = {SIGTERM, SIGHUP, SIGINT, SIGQUIT};

sigset_t ProxySignals() {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGWINCH);
  sigaddset(&s, SIGCHLD);
  for (int sig : kStopSignals) sigaddset(&s, sig);
  return s;
}

// Writes all of `n` bytes, waiting for POLLOUT when `fd` is non-blocking.
Status WriteFully(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w >= 0) {
      p += w;
      n -= static_cast<size_t>(w);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return SysError("write", "terminal", errno);
    pollfd pfd{fd, POLLOUT, 0};
    poll(&pfd, 1, -1);
  }
  return {};
}

class Proxy {
 public:
  Proxy(const ProxyEnds& e, const ProxyOptions& o, SessionWriter& r)
      : ends_(e), opts_(o), rec_(r) {}
  Result<ProxyOutcome> Run();

 private:
  bool ReadInner();  // false once the inner pty hung up
  void ReadUser();
  void WriteInner();
  void OnSignal();
  void CopySize();
  void Stop(int sig);

  ProxyEnds ends_;
  ProxyOptions opts_;
  SessionWriter& rec_;
  ProxyOutcome out_;
  UniqueFd sigfd_;
  char buf_[kBufSize];
  char in_buf_[4096];
  size_t in_len_ = 0, in_off_ = 0;
  bool inner_open_ = true;
  bool user_open_ = true;
  bool send_veof_ = false;
  int64_t kill_deadline_ = 0;  // monotonic ms after which the child gets SIGKILL
  Status error_;
};

bool Proxy::ReadInner() {
  for (;;) {
    ssize_t n = read(ends_.inner, buf_, sizeof buf_);
    if (n > 0) {
      // Forward first: the client must see output at once, the record can follow.
      if (auto st = WriteFully(ends_.user_out, buf_, static_cast<size_t>(n)); !st) {
        user_open_ = false;  // the user's side is gone; keep recording until the end
      }
      rec_.Output(std::string_view(buf_, static_cast<size_t>(n)));
      if (rec_.NeedsFlush()) error_ = rec_.Flush();
      return true;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return true;
    return false;  // 0 or EIO: every slave fd is closed
  }
}

void Proxy::ReadUser() {
  ssize_t n;
  do n = read(ends_.user_in, in_buf_, sizeof in_buf_);
  while (n < 0 && errno == EINTR);
  if (n < 0 && errno == EAGAIN) return;
  if (n <= 0) {
    user_open_ = false;
    out_.user_hangup = true;
    if (opts_.child > 0 && opts_.send_veof_on_user_eof && !isatty(ends_.user_in)) {
      send_veof_ = true;
    } else if (opts_.child < 0) {
      inner_open_ = false;  // the client is gone: return, and the caller hangs up
    }
    return;
  }
  rec_.Input(std::string_view(in_buf_, static_cast<size_t>(n)), InputIsHidden(ends_.inner));
  in_len_ = static_cast<size_t>(n);
  in_off_ = 0;
  WriteInner();
}

void Proxy::WriteInner() {
  while (in_off_ < in_len_) {
    ssize_t w = write(ends_.inner, in_buf_ + in_off_, in_len_ - in_off_);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      if (errno != EAGAIN) in_off_ = in_len_;  // the session is going away; drop the input
      return;
    }
    in_off_ += static_cast<size_t>(w);
  }
  in_len_ = in_off_ = 0;
  if (send_veof_) {
    termios t;
    char eof = tcgetattr(ends_.inner, &t) == 0 ? static_cast<char>(t.c_cc[VEOF]) : '\x04';
    ssize_t w = write(ends_.inner, &eof, 1);
    if (w == 1) send_veof_ = false;
  }
}

void Proxy::CopySize() {
  if (ends_.size_source < 0 || !inner_open_) return;
  auto ws = CopyWindowSize(ends_.size_source, ends_.inner);
  // A client that has not sized its terminal yet (ctr starts at 0x0) is no size to record.
  if (ws.ok() && ws->ws_col && ws->ws_row) rec_.Resize(ws->ws_col, ws->ws_row);
}

void Proxy::Stop(int sig) {
  out_.stop_signal = sig;
  if (opts_.child > 0) {
    // As a terminal hang-up would: the session's processes get SIGHUP.
    kill(-opts_.child, SIGHUP);
    kill(opts_.child, SIGHUP);
    kill_deadline_ = MonotonicMillis() + 3000;
  } else {
    inner_open_ = false;  // return; the caller hangs up the session's terminal
  }
}

void Proxy::OnSignal() {
  signalfd_siginfo si;
  while (read(sigfd_.get(), &si, sizeof si) == static_cast<ssize_t>(sizeof si)) {
    int sig = static_cast<int>(si.ssi_signo);
    if (sig == SIGWINCH) {
      CopySize();
    } else if (sig == SIGCHLD) {
      if (opts_.child > 0 && !out_.child_reaped) {
        int status;
        if (waitpid(opts_.child, &status, WNOHANG) == opts_.child) {
          out_.child_reaped = true;
          out_.wait_status = status;
        }
      }
    } else {
      Stop(sig);
    }
  }
}

Result<ProxyOutcome> Proxy::Run() {
  sigset_t sigs = ProxySignals();
  sigfd_.reset(signalfd(-1, &sigs, SFD_NONBLOCK | SFD_CLOEXEC));
  if (!sigfd_) return SysError("signalfd", "", errno);
  int fl = fcntl(ends_.inner, F_GETFL);
  fcntl(ends_.inner, F_SETFL, fl | O_NONBLOCK);
  // A resize may have come before the recorder owned the terminal; a child may already be gone.
  CopySize();
  if (opts_.child > 0) {
    int status;
    if (waitpid(opts_.child, &status, WNOHANG) == opts_.child) {
      out_.child_reaped = true;
      out_.wait_status = status;
    }
  }
  for (;;) {
    if (out_.child_reaped) {
      // Drain what the child wrote before it exited, then stop.
      while (inner_open_ && ReadInner()) {
        pollfd p{ends_.inner, POLLIN, 0};
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLIN | POLLHUP))) break;
      }
      break;
    }
    if (!inner_open_ && opts_.child < 0) break;

    pollfd fds[4];
    int nfds = 0;
    fds[nfds++] = {sigfd_.get(), POLLIN, 0};
    int inner_idx = -1, user_idx = -1, event_idx = -1;
    if (opts_.event_fd >= 0 && opts_.on_event) {
      event_idx = nfds;
      fds[nfds++] = {opts_.event_fd, POLLIN, 0};
    }
    if (inner_open_) {
      short ev = POLLIN;
      if (in_off_ < in_len_ || send_veof_) ev |= POLLOUT;
      inner_idx = nfds;
      fds[nfds++] = {ends_.inner, ev, 0};
    }
    if (user_open_ && in_off_ >= in_len_ && inner_open_) {
      user_idx = nfds;
      fds[nfds++] = {ends_.user_in, POLLIN, 0};
    }
    int timeout = -1;
    if (!inner_open_ && opts_.child > 0) {
      // The terminal hung up but the child has not been reaped: look again now and then.
      int status;
      if (waitpid(opts_.child, &status, WNOHANG) == opts_.child) {
        out_.child_reaped = true;
        out_.wait_status = status;
        continue;
      }
      timeout = 200;
    }
    if (kill_deadline_) {
      int64_t left = kill_deadline_ - MonotonicMillis();
      if (left <= 0) {
        kill(opts_.child, SIGKILL);
        kill_deadline_ = 0;
        continue;
      }
      timeout = static_cast<int>(left);
    }
    // Write the record only when the loop would block: while output streams, the record goes
    // out in kFlushBytes writes (ReadInner), and it is always whole lines.
    int n = poll(fds, static_cast<nfds_t>(nfds), 0);
    if (n == 0) {
      if (auto st = rec_.Flush(); !st) error_ = st;
      n = poll(fds, static_cast<nfds_t>(nfds), timeout);
    }
    if (n < 0 && errno != EINTR) return SysError("poll", "", errno);
    if (n <= 0) continue;
    if (fds[0].revents) OnSignal();
    if (event_idx >= 0 && fds[event_idx].revents) opts_.on_event();
    if (inner_idx >= 0 && inner_open_) {
      short re = fds[inner_idx].revents;
      if (re & (POLLIN | POLLHUP | POLLERR)) {
        if (!ReadInner()) {
          inner_open_ = false;
          if (opts_.child < 0) break;
        }
      }
      if (inner_open_ && (re & POLLOUT)) WriteInner();
    }
    if (user_idx >= 0 && (fds[user_idx].revents & (POLLIN | POLLHUP | POLLERR))) ReadUser();
  }
  if (auto st = rec_.Flush(); !st) error_ = st;
  if (!error_) return Error{"recording: " + error_.message()};
  return out_;
}

}  // namespace

void BlockProxySignals() {
  sigset_t s = ProxySignals();
  sigprocmask(SIG_BLOCK, &s, nullptr);
}

void UnblockProxySignals() {
  sigset_t s = ProxySignals();
  sigprocmask(SIG_UNBLOCK, &s, nullptr);
}

Result<ProxyOutcome> RunConsoleProxy(const ProxyEnds& ends, const ProxyOptions& opts,
                                     SessionWriter& rec) {
  auto proxy = std::make_unique<Proxy>(ends, opts, rec);
  return proxy->Run();
}

}  // namespace ttyaudit
