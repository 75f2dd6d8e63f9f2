#include "track/hub_source.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "track/tracker_wire.h"

namespace ttyaudit {

Result<std::unique_ptr<HubSource>> HubSource::Open(const TrackerHubOptions& opts, pid_t spawner) {
  std::string reads;
  auto fd = SubscribeToTrackerHub(opts, spawner, &reads);
  if (!fd) return fd.error();
  return std::unique_ptr<HubSource>(new HubSource(std::move(fd.value()), std::move(reads)));
}

int HubSource::Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) {
  fds.push_back({fd_.get(), POLLIN, 0});
  return -1;
}

void HubSource::Reroot(pid_t pid) {
  std::string m = tracker_wire::EncodeReroot(pid);
  (void)send(fd_.get(), m.data(), m.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
}

bool HubSource::Read(ProcEventSink& sink) {
  if (!fd_) return false;
  buf_.resize(tracker_wire::kMaxPacket);
  for (;;) {
    ssize_t k = recv(fd_.get(), buf_.data(), buf_.size(), MSG_DONTWAIT);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0 && errno == EAGAIN) return true;
    if (k <= 0) {
      if (end_.empty()) end_ = k == 0 ? "closed" : std::string("recv: ") + strerror(errno);
      fd_.reset();  // the hub forgets the session
      return false;
    }
    auto m = tracker_wire::Decode(std::string_view(buf_.data(), static_cast<size_t>(k)));
    if (!m) {
      end_ = m.message();
      fd_.reset();
      return false;
    }
    switch (m->type) {
      case tracker_wire::Type::kEvents:
        for (const tracker_wire::WireEvent& w : m->events)
          sink.OnEvent(w.event, w.has_snapshot ? &w.snapshot : nullptr);
        read_.fetch_add(m->events.size(), std::memory_order_relaxed);
        break;
      case tracker_wire::Type::kResync:
        sink.OnLost(m->lost, m->time_ns, m->procs);
        break;
      case tracker_wire::Type::kClosing:
        end_ = "the hub dropped this session: " + m->text;
        break;
      default:
        break;
    }
  }
}

}  // namespace ttyaudit
