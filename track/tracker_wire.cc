#include "track/tracker_wire.h"

#include <cstring>

namespace ttyaudit {
namespace tracker_wire {
namespace {

template <class T>
void Put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

void PutString(std::string& out, std::string_view s) {
  Put<uint32_t>(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

constexpr size_t kEventBytes = 1 + 1 + 8 + 4 * 6;

void PutEvent(std::string& out, const ProcEvent& e, const ProcSnapshot* snap) {
  Put<uint8_t>(out, e.kind);
  Put<uint8_t>(out, snap ? 1 : 0);
  Put<int64_t>(out, e.time_ns);
  Put<int32_t>(out, e.pid);
  Put<int32_t>(out, e.tgid);
  Put<int32_t>(out, e.parent_tgid);
  Put<uint32_t>(out, e.ruid);
  Put<uint32_t>(out, e.euid);
  Put<uint32_t>(out, e.exit_code);
}

size_t SnapshotSize(const ProcSnapshot& s) {
  size_t n = 1 + 8 * 8 + 4 + s.cwd.size() + 4;
  for (const std::string& a : s.argv) n += 4 + a.size();
  return n;
}

void PutSnapshot(std::string& out, const ProcSnapshot& s) {
  Put<uint8_t>(out, (s.argv_from_comm ? 1 : 0) | (s.exe_setuid ? 2 : 0) | (s.exe_setgid ? 4 : 0) |
                        (s.argv_truncated ? 8 : 0) | (s.read_at_exec ? 16 : 0) |
                        (s.cwd_truncated ? 32 : 0) | (s.cwd_unresolved ? 64 : 0));
  Put<int64_t>(out, s.uid);
  Put<int64_t>(out, s.euid);
  Put<int64_t>(out, s.exe_owner);
  Put<int64_t>(out, s.gid);
  Put<int64_t>(out, s.egid);
  Put<int64_t>(out, s.exe_group);
  Put<uint64_t>(out, s.exe_inode);
  Put<uint64_t>(out, s.cgroup_id);
  PutString(out, s.cwd);
  Put<uint32_t>(out, static_cast<uint32_t>(s.argv.size()));
  for (const std::string& a : s.argv) PutString(out, a);
}

// Bounds-checked reading of one packet.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  template <class T>
  bool Get(T& v) {
    if (data_.size() < sizeof v) return false;
    memcpy(&v, data_.data(), sizeof v);
    data_.remove_prefix(sizeof v);
    return true;
  }
  bool GetString(std::string& s) {
    uint32_t n = 0;
    if (!Get(n) || data_.size() < n) return false;
    s.assign(data_.data(), n);
    data_.remove_prefix(n);
    return true;
  }
  bool GetEvent(ProcEvent& e, bool& has_snapshot) {
    uint8_t kind = 0, flags = 0;
    int32_t pid = 0, tgid = 0, parent = 0;
    if (!Get(kind) || !Get(flags) || !Get(e.time_ns) || !Get(pid) || !Get(tgid) || !Get(parent) ||
        !Get(e.ruid) || !Get(e.euid) || !Get(e.exit_code))
      return false;
    if (kind < ProcEvent::kFork || kind > ProcEvent::kExit) return false;
    e.kind = static_cast<ProcEvent::Kind>(kind);
    e.pid = pid;
    e.tgid = tgid;
    e.parent_tgid = parent;
    has_snapshot = (flags & 1) != 0;
    return true;
  }
  bool GetSnapshot(ProcSnapshot& s) {
    uint8_t flags = 0;
    uint32_t argc = 0;
    if (!Get(flags) || !Get(s.uid) || !Get(s.euid) || !Get(s.exe_owner) || !Get(s.gid) ||
        !Get(s.egid) || !Get(s.exe_group) || !Get(s.exe_inode) || !Get(s.cgroup_id) ||
        !GetString(s.cwd) || !Get(argc))
      return false;
    if (argc > data_.size() / 4) return false;  // each argument takes at least 4 bytes
    s.argv_from_comm = (flags & 1) != 0;
    s.exe_setuid = (flags & 2) != 0;
    s.exe_setgid = (flags & 4) != 0;
    s.argv_truncated = (flags & 8) != 0;
    s.read_at_exec = (flags & 16) != 0;
    s.cwd_truncated = (flags & 32) != 0;
    s.cwd_unresolved = (flags & 64) != 0;
    s.argv.resize(argc);
    for (std::string& a : s.argv)
      if (!GetString(a)) return false;
    return true;
  }
  size_t left() const { return data_.size(); }

 private:
  std::string_view data_;
};

std::string Header(Type t) { return std::string(1, static_cast<char>(t)); }

Error Malformed(std::string_view what) {
  return Error{"tracker message: malformed " + std::string(what)};
}

}  // namespace

std::string EncodeSubscribe(pid_t pid) {
  std::string out = Header(Type::kSubscribe);
  Put<uint32_t>(out, kVersion);
  Put<int32_t>(out, pid);
  return out;
}

std::string EncodeReroot(pid_t pid) {
  std::string out = Header(Type::kReroot);
  Put<int32_t>(out, pid);
  return out;
}

std::string EncodeStatsRequest() { return Header(Type::kStats); }

std::string EncodeAck(pid_t hub_pid, int64_t time_ns, std::string_view source) {
  std::string out = Header(Type::kAck);
  Put<uint32_t>(out, kVersion);
  Put<int32_t>(out, hub_pid);
  Put<int64_t>(out, time_ns);
  PutString(out, source);
  return out;
}

std::string EncodeStatsReply(std::string_view json) {
  std::string out = Header(Type::kStatsReply);
  PutString(out, json);
  return out;
}

std::string EncodeClosing(std::string_view reason) {
  std::string out = Header(Type::kClosing);
  PutString(out, reason);
  return out;
}

std::string EncodeResync(uint64_t lost, int64_t time_ns, const std::vector<ResyncProc>& procs) {
  std::string out = Header(Type::kResync);
  Put<uint64_t>(out, lost);
  Put<int64_t>(out, time_ns);
  Put<uint32_t>(out, static_cast<uint32_t>(procs.size()));
  for (const ResyncProc& p : procs) {
    Put<int32_t>(out, p.pid);
    Put<int32_t>(out, p.ppid);
    Put<uint8_t>(out, p.has_snapshot ? 1 : 0);
    if (p.has_snapshot) PutSnapshot(out, p.snapshot);
  }
  return out;
}

EventBatch::EventBatch() : buf_(Header(Type::kEvents)) { Put<uint32_t>(buf_, 0); }

size_t EventBatch::EncodedSize(const ProcEvent& e, const ProcSnapshot* snapshot) {
  return kEventBytes + (snapshot ? SnapshotSize(*snapshot) : 0);
}

void EventBatch::Add(const ProcEvent& e, const ProcSnapshot* snapshot) {
  PutEvent(buf_, e, snapshot);
  if (snapshot) PutSnapshot(buf_, *snapshot);
  ++count_;
}

std::string EventBatch::Take() {
  memcpy(buf_.data() + 1, &count_, sizeof count_);
  std::string out = std::move(buf_);
  buf_ = Header(Type::kEvents);
  Put<uint32_t>(buf_, 0);
  count_ = 0;
  return out;
}

Result<Message> Decode(std::string_view packet) {
  if (packet.empty()) return Malformed("packet (empty)");
  Message m;
  m.type = static_cast<Type>(packet[0]);
  Reader r(packet.substr(1));
  int32_t pid = 0;
  switch (m.type) {
    case Type::kSubscribe:
      if (!r.Get(m.version) || !r.Get(pid)) return Malformed("SUBSCRIBE");
      m.pid = pid;
      break;
    case Type::kReroot:
      if (!r.Get(pid)) return Malformed("REROOT");
      m.pid = pid;
      break;
    case Type::kStats:
      break;
    case Type::kAck:
      if (!r.Get(m.version) || !r.Get(pid) || !r.Get(m.time_ns) || !r.GetString(m.text))
        return Malformed("ACK");
      m.pid = pid;
      break;
    case Type::kEvents: {
      uint32_t n = 0;
      if (!r.Get(n) || n > r.left() / kEventBytes) return Malformed("EVENTS count");
      m.events.resize(n);
      for (WireEvent& w : m.events) {
        if (!r.GetEvent(w.event, w.has_snapshot)) return Malformed("EVENTS event");
        if (w.has_snapshot && !r.GetSnapshot(w.snapshot)) return Malformed("EVENTS snapshot");
      }
      break;
    }
    case Type::kResync: {
      uint32_t n = 0;
      if (!r.Get(m.lost) || !r.Get(m.time_ns) || !r.Get(n) || n > r.left() / 9)
        return Malformed("RESYNC");
      m.procs.resize(n);
      for (ResyncProc& p : m.procs) {
        int32_t a = 0, b = 0;
        uint8_t has = 0;
        if (!r.Get(a) || !r.Get(b) || !r.Get(has)) return Malformed("RESYNC process");
        p.pid = a;
        p.ppid = b;
        p.has_snapshot = has != 0;
        if (p.has_snapshot && !r.GetSnapshot(p.snapshot)) return Malformed("RESYNC snapshot");
      }
      break;
    }
    case Type::kStatsReply:
    case Type::kClosing:
      if (!r.GetString(m.text)) return Malformed("text");
      break;
    default:
      return Error{"tracker message: unknown type " + std::to_string(packet[0] & 0xff)};
  }
  if (r.left() != 0) return Malformed("packet (trailing bytes)");
  return m;
}

}  // namespace tracker_wire
}  // namespace ttyaudit
