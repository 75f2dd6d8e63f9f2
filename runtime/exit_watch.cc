#include "runtime/exit_watch.h"

#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstring>

#include "track/proc_events.h"

namespace ttyaudit {
namespace {

constexpr size_t kRecentMax = 4096;

// Offsets of fields in a proc connector message: nlmsghdr, cn_msg, then proc_event.
constexpr uint32_t kEventOffset = NLMSG_LENGTH(0) + sizeof(struct cn_msg);
constexpr uint32_t kWhatOffset = kEventOffset + offsetof(struct proc_event, what);
constexpr uint32_t kExitPidOffset =
    kEventOffset + offsetof(struct proc_event, event_data.exit.process_pid);
constexpr uint32_t kExitTgidOffset =
    kEventOffset + offsetof(struct proc_event, event_data.exit.process_tgid);

// Keeps process exits (of thread group leaders: pid == tgid) and drops everything else, in
// the kernel. The proc connector writes its fields in host byte order; BPF loads are
// big-endian, so compare against the values as the load sees them.
Status AttachExitFilter(int sock) {
  uint32_t exit_what = proc_event::PROC_EVENT_EXIT;
  uint32_t exit_be = __builtin_bswap32(exit_what);
  struct sock_filter code[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kWhatOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, exit_be, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kExitPidOffset),
      BPF_STMT(BPF_MISC | BPF_TAX, 0),
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kExitTgidOffset),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, 0),
      BPF_STMT(BPF_RET | BPF_K, 0xffffffff),
  };
  struct sock_fprog prog = {static_cast<unsigned short>(sizeof code / sizeof code[0]), code};
  if (::setsockopt(sock, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return SysError("setsockopt SO_ATTACH_FILTER", "proc connector", errno);
  return {};
}

Status Subscribe(int sock) {
  alignas(struct nlmsghdr) char
      msg[NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op))] = {};
  auto* nl = reinterpret_cast<struct nlmsghdr*>(msg);
  nl->nlmsg_len = sizeof msg;
  nl->nlmsg_type = NLMSG_DONE;
  auto* cn = static_cast<struct cn_msg*>(NLMSG_DATA(nl));
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = sizeof(enum proc_cn_mcast_op);
  enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
  std::memcpy(cn->data, &op, sizeof op);
  if (::send(sock, msg, sizeof msg, 0) < 0)
    return SysError("send PROC_CN_MCAST_LISTEN", "proc connector", errno);
  return {};
}

}  // namespace

Result<std::unique_ptr<ExitWatcher>> ExitWatcher::Open() {
  UniqueFd sock(::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_CONNECTOR));
  if (!sock) return SysError("socket NETLINK_CONNECTOR", "proc connector", errno);
  if (auto st = AttachExitFilter(sock.get()); !st) return Error{st.message()};
  int rcvbuf = 1 << 20;
  ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
  struct sockaddr_nl addr {};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return SysError("bind", "proc connector", errno);
  if (auto st = Subscribe(sock.get()); !st) return Error{st.message()};
  std::unique_ptr<ExitWatcher> w(new ExitWatcher());
  w->sock_ = std::move(sock);
  w->stop_fd_.reset(::eventfd(0, EFD_CLOEXEC));
  if (!w->stop_fd_) return SysError("eventfd", "", errno);
  w->thread_ = std::thread([p = w.get()] { p->Loop(); });
  return w;
}

ExitWatcher::~ExitWatcher() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
    (void)n;
    thread_.join();
  }
}

void ExitWatcher::Loop() {
  alignas(struct nlmsghdr) char buf[8192];
  struct pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {stop_fd_.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    ssize_t n = ::recv(sock_.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n < 0) continue;  // EAGAIN, or ENOBUFS after an overrun: keep reading
    // One event per datagram; ParseProcEvent copies it out of the buffer, where the kernel's
    // layout leaves its 64-bit members unaligned.
    ProcEvent ev;
    if (!ParseProcEvent(buf, static_cast<size_t>(n), ev)) continue;
    if (ev.kind != ProcEvent::kExit || ev.pid != ev.tgid) continue;
    OnExit(ev.pid, static_cast<int>(ev.exit_code));
  }
}

void ExitWatcher::OnExit(pid_t pid, int status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = watched_.find(pid); it != watched_.end()) {
    if (!it->second) it->second = status;
    cv_.notify_all();
    return;
  }
  recent_.emplace_back(pid, status);
  if (recent_.size() > kRecentMax) recent_.pop_front();
}

void ExitWatcher::Watch(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = watched_[pid];
  for (auto it = recent_.rbegin(); it != recent_.rend() && !slot; ++it)
    if (it->first == pid) slot = it->second;
}

std::optional<int> ExitWatcher::WaitExit(pid_t pid, int timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  auto done = [&] {
    auto it = watched_.find(pid);
    return it != watched_.end() && it->second.has_value();
  };
  if (timeout_ms < 0)
    cv_.wait(lock, done);
  else
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), done);
  auto it = watched_.find(pid);
  return it == watched_.end() ? std::nullopt : it->second;
}

}  // namespace ttyaudit
