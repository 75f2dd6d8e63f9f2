#include "track/proc_events.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "base/files.h"

namespace ttyaudit {
namespace {

// Linux >= 6.6 takes an event mask with the subscription (struct proc_input); the headers of
// older distributions lack it.
struct ProcInput {
  uint32_t mcast_op;
  uint32_t event_type;
};
constexpr uint32_t kWantedEvents = proc_event::PROC_EVENT_FORK | proc_event::PROC_EVENT_EXEC |
                                   proc_event::PROC_EVENT_UID | proc_event::PROC_EVENT_EXIT;

// Offsets in a proc connector datagram: nlmsghdr, cn_msg, then proc_event.
constexpr uint32_t kEv = NLMSG_HDRLEN + sizeof(cn_msg);
constexpr uint32_t kWhat = kEv + offsetof(proc_event, what);
constexpr uint32_t kData = kEv + offsetof(proc_event, event_data);

// Classic BPF on each datagram. Kept: acks (NONE), process forks (child_pid == child_tgid),
// EXEC, UID and process exits (process_pid == process_tgid); threads and every other event type
// are dropped. With `pids`, only events about the tracked set pass too: forks whose parent is
// in it, and exec, uid change and exit of its members (the tgid, for a fork the parent's, is
// the second word of each of these events). Two instructions per pid; over kMaxFilterPids
// the table alone does the selection. Absolute loads are big-endian: constants go through
// htonl(); equality between two loaded fields is unaffected.
constexpr size_t kMaxFilterPids = 1500;
std::vector<sock_filter> ProcFilter(const std::vector<pid_t>* pids) {
  auto stmt = [](uint16_t code, uint32_t k) { return sock_filter{code, 0, 0, k}; };
  auto jeq = [](uint32_t k, uint8_t jt, uint8_t jf) {
    return sock_filter{BPF_JMP | BPF_JEQ | BPF_K, jt, jf, k};
  };
  auto jeq_x = [](uint8_t jt, uint8_t jf) {
    return sock_filter{BPF_JMP | BPF_JEQ | BPF_X, jt, jf, 0};
  };
  const uint32_t ld = BPF_LD | BPF_W | BPF_ABS;
  const uint32_t fork_pid = kEv + offsetof(proc_event, event_data.fork.child_pid);
  const uint32_t fork_tgid = kEv + offsetof(proc_event, event_data.fork.child_tgid);
  const uint32_t exit_pid = kEv + offsetof(proc_event, event_data.exit.process_pid);
  const uint32_t exit_tgid = kEv + offsetof(proc_event, event_data.exit.process_tgid);
  constexpr size_t kTgid = offsetof(proc_event, event_data.exec.process_tgid);
  static_assert(kTgid == offsetof(proc_event, event_data.fork.parent_tgid));
  static_assert(kTgid == offsetof(proc_event, event_data.id.process_tgid));
  static_assert(kTgid == offsetof(proc_event, event_data.exit.process_tgid));
  std::vector<sock_filter> f = {
      stmt(ld, kWhat),                                 // 0
      jeq(htonl(proc_event::PROC_EVENT_FORK), 5, 0),   // 1 -> 7
      jeq(htonl(proc_event::PROC_EVENT_EXIT), 8, 0),   // 2 -> 11
      jeq(htonl(proc_event::PROC_EVENT_EXEC), 13, 0),  // 3 -> 17
      jeq(htonl(proc_event::PROC_EVENT_UID), 12, 0),   // 4 -> 17
      jeq(htonl(proc_event::PROC_EVENT_NONE), 10, 0),  // 5 -> 16
      stmt(BPF_RET | BPF_K, 0),                        // 6 drop
      stmt(ld, fork_pid),                              // 7
      stmt(BPF_MISC | BPF_TAX, 0),                     // 8
      stmt(ld, fork_tgid),                             // 9
      jeq_x(6, 4),                                     // 10 -> 17 | 15
      stmt(ld, exit_pid),                              // 11
      stmt(BPF_MISC | BPF_TAX, 0),                     // 12
      stmt(ld, exit_tgid),                             // 13
      jeq_x(2, 0),                                     // 14 -> 17 | 15
      stmt(BPF_RET | BPF_K, 0),                        // 15 drop
      stmt(BPF_RET | BPF_K, 0xffffffff),               // 16 accept
  };
  if (pids == nullptr || pids->size() > kMaxFilterPids) {
    f.push_back(stmt(BPF_RET | BPF_K, 0xffffffff));  // 17 accept
    return f;
  }
  f.push_back(stmt(ld, kEv + kTgid));  // 17: is the (parent) tgid tracked?
  for (pid_t p : *pids) {
    f.push_back(jeq(htonl(static_cast<uint32_t>(p)), 0, 1));
    f.push_back(stmt(BPF_RET | BPF_K, 0xffffffff));
  }
  f.push_back(stmt(BPF_RET | BPF_K, 0));
  return f;
}

Status AttachFilter(int fd, const std::vector<sock_filter>& code) {
  sock_fprog prog{static_cast<unsigned short>(code.size()), const_cast<sock_filter*>(code.data())};
  if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0)
    return SysError("setsockopt SO_ATTACH_FILTER", "proc connector", errno);
  return {};
}

bool KernelAtLeast(int major, int minor) {
  utsname u{};
  if (uname(&u) != 0) return false;
  int ma = 0, mi = 0;
  if (sscanf(u.release, "%d.%d", &ma, &mi) != 2) return false;
  return ma > major || (ma == major && mi >= minor);
}

Status Subscribe(int fd, const void* payload, size_t len) {
  char buf[NLMSG_SPACE(sizeof(cn_msg) + sizeof(ProcInput))] = {};
  auto* nh = reinterpret_cast<nlmsghdr*>(buf);
  auto* cn = reinterpret_cast<cn_msg*>(NLMSG_DATA(nh));
  nh->nlmsg_len = NLMSG_LENGTH(sizeof(cn_msg) + len);
  nh->nlmsg_type = NLMSG_DONE;
  nh->nlmsg_pid = 0;
  cn->id.idx = CN_IDX_PROC;
  cn->id.val = CN_VAL_PROC;
  cn->len = static_cast<uint16_t>(len);
  memcpy(cn->data, payload, len);
  if (send(fd, nh, nh->nlmsg_len, 0) < 0)
    return SysError("send", "proc connector subscription", errno);
  return {};
}

}  // namespace

Result<UniqueFd> OpenProcSocket(int rcvbuf_bytes) {
  UniqueFd sock(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR));
  if (!sock) return SysError("socket", "proc connector (NETLINK_CONNECTOR)", errno);
  int fd = sock.get();
  // The idle drain interval and scheduling delays must fit: the buffer holds the backlog.
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof(int)) < 0)
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(int));
  if (auto st = AttachFilter(fd, ProcFilter(nullptr)); !st) return Error{st.message()};
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  addr.nl_groups = CN_IDX_PROC;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return SysError("bind", "proc connector (needs CAP_NET_ADMIN)", errno);
  // The event mask needs Linux >= 6.6; an older kernel ignores a message of that size (and
  // the new one sends no ack for it), so choose by version. The socket filter drops the
  // unwanted types either way.
  if (KernelAtLeast(6, 6)) {
    ProcInput in{PROC_CN_MCAST_LISTEN, kWantedEvents};
    if (auto s = Subscribe(fd, &in, sizeof in); !s) return Error{s.message()};
  } else {
    uint32_t op = PROC_CN_MCAST_LISTEN;
    if (auto s = Subscribe(fd, &op, sizeof op); !s) return Error{s.message()};
  }
  return sock;
}

Status SetProcFilter(int fd, const std::vector<pid_t>* tracked) {
  return AttachFilter(fd, ProcFilter(tracked));
}

bool ParseProcEvent(const char* data, size_t len, ProcEvent& out) {
  if (len < kData) return false;
  const auto* nh = reinterpret_cast<const nlmsghdr*>(data);
  if (nh->nlmsg_type != NLMSG_DONE || nh->nlmsg_len > len) return false;
  const auto* cn = reinterpret_cast<const cn_msg*>(NLMSG_DATA(nh));
  if (cn->id.idx != CN_IDX_PROC || cn->id.val != CN_VAL_PROC) return false;
  proc_event ev;
  memset(&ev, 0, sizeof ev);
  memcpy(&ev, data + kEv, std::min<size_t>(len - kEv, sizeof ev));
  out = ProcEvent{};
  out.time_ns = static_cast<int64_t>(ev.timestamp_ns);
  switch (ev.what) {
    case proc_event::PROC_EVENT_FORK:
      out.kind = ProcEvent::kFork;
      out.parent_tgid = ev.event_data.fork.parent_tgid;
      out.pid = ev.event_data.fork.child_pid;
      out.tgid = ev.event_data.fork.child_tgid;
      return true;
    case proc_event::PROC_EVENT_EXEC:
      out.kind = ProcEvent::kExec;
      out.pid = out.tgid = ev.event_data.exec.process_tgid;
      return true;
    case proc_event::PROC_EVENT_UID:
      out.kind = ProcEvent::kUid;
      out.pid = out.tgid = ev.event_data.id.process_tgid;
      out.ruid = ev.event_data.id.r.ruid;
      out.euid = ev.event_data.id.e.euid;
      return true;
    case proc_event::PROC_EVENT_EXIT:
      out.kind = ProcEvent::kExit;
      out.pid = ev.event_data.exit.process_pid;
      out.tgid = ev.event_data.exit.process_tgid;
      out.exit_code = ev.event_data.exit.exit_code;
      return true;
    default:
      return false;
  }
}

int ReadProcEvents(int fd, std::vector<ProcEvent>& out, bool& overrun) {
  constexpr int kBatch = 64;
  constexpr size_t kMsgSize = 256;  // one proc event datagram is 92 bytes
  static thread_local char bufs[kBatch][kMsgSize];
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  sockaddr_nl from[kBatch];
  for (;;) {
    for (int i = 0; i < kBatch; ++i) {
      iovs[i] = {bufs[i], kMsgSize};
      msgs[i] = {};
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &from[i];
      msgs[i].msg_hdr.msg_namelen = sizeof from[i];
    }
    int n = recvmmsg(fd, msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == ENOBUFS) {  // the kernel dropped events; what is queued still reads
        overrun = true;
        continue;
      }
      return 0;  // EAGAIN: drained
    }
    for (int i = 0; i < n; ++i) {
      if (from[i].nl_pid != 0) continue;  // only the kernel speaks for the proc connector
      ProcEvent e;
      if (ParseProcEvent(bufs[i], msgs[i].msg_len, e)) out.push_back(e);
    }
    return n;
  }
}

pid_t ReadParentPid(pid_t pid) {
  std::string stat = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/stat", 512);
  size_t rp = stat.rfind(')');
  if (rp == std::string::npos || rp + 4 >= stat.size()) return 0;
  return static_cast<pid_t>(strtol(stat.c_str() + rp + 4, nullptr, 10));
}

std::vector<std::pair<pid_t, pid_t>> ScanProcesses() {
  std::vector<std::pair<pid_t, pid_t>> procs;
  DIR* d = opendir("/proc");
  if (d == nullptr) return procs;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0) continue;
    procs.emplace_back(static_cast<pid_t>(pid), ReadParentPid(static_cast<pid_t>(pid)));
  }
  closedir(d);
  return procs;
}

}  // namespace ttyaudit
