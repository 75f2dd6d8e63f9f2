// The node's tracker hub as a recorder's event source: the session's own events, in kernel
// order, with what the hub read of each process at its exec (tracker/README.md).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <memory>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
#include "track/proc_event_source.h"
#include "track/tracker_client.h"

namespace ttyaudit {

class HubSource : public ProcEventSource {
 public:
  /// Subscribes `spawner` and what it starts from now on (SubscribeToTrackerHub: the hub is
  /// started when none runs). Errors say why ("tracker hub: ...").
  static Result<std::unique_ptr<HubSource>> Open(const TrackerHubOptions& opts, pid_t spawner);

  std::string name() const override { return "hub"; }
  std::string reads() const override { return reads_; }
  int Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) override;
  /// Applies what the hub sent so far; false once the connection has ended.
  bool Read(ProcEventSink& sink) override;
  /// How the connection ended ("closed", "recv: ...", "the hub dropped this session: ...").
  std::string ended() const override { return end_; }
  /// Tells the hub to narrow the session (a failure shows as the connection's end in Read).
  void Reroot(pid_t pid) override;
  uint64_t events_read() const override { return read_.load(std::memory_order_relaxed); }

 private:
  HubSource(UniqueFd fd, std::string reads) : fd_(std::move(fd)), reads_(std::move(reads)) {}

  UniqueFd fd_;
  std::string reads_;
  std::string buf_;  // one packet
  std::string end_;
  std::atomic<uint64_t> read_ = 0;
};

}  // namespace ttyaudit
