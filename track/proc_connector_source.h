// The proc connector read in this process (NETLINK_CONNECTOR, CN_IDX_PROC): the source of
// in-process tracking and of the hub when eBPF is not available.
//
// Two sockets. The record socket passes every process event of the host (threads filtered
// out) and is the complete, ordered stream. The wake-up socket's classic BPF filter passes
// only the tracked set's events, rebuilt as soon as the set gains a member; a filter on the
// tracked set alone cannot be the record, since a new child can exec and exit before its pid
// is added (measured: up to 28 of 100 /bin/true lost that race on a loaded 2-core VM). While
// the sink does not want prompt events, the tracker sleeps on the wake-up socket and the
// record is drained every 50 ms in batches of 64; after every filter rebuild the record is
// read once more, so an event that the old filter hid is found at once. An overrun (ENOBUFS)
// is reported as one lost event with a scan of /proc.
#pragma once

#include <atomic>
#include <memory>

#include "base/result.h"
#include "base/unique_fd.h"
#include "track/proc_event_source.h"

namespace ttyaudit {

class ProcConnectorSource : public ProcEventSource {
 public:
  /// Opens and subscribes both sockets; `rcvbuf_bytes` is the record socket's buffer. With
  /// `realtime`, OnReaderThread raises the reading thread to SCHED_FIFO 1 (else nice -10).
  /// Fails without CAP_NET_ADMIN in the initial network namespace ("proc connector: ...").
  static Result<std::unique_ptr<ProcConnectorSource>> Open(int rcvbuf_bytes, bool realtime);

  std::string name() const override { return "local"; }
  std::string reads() const override { return "proc_connector"; }
  void OnReaderThread() override;
  int Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) override;
  bool Read(ProcEventSink& sink) override;
  void Retrack(uint64_t version, const std::vector<pid_t>& pids) override;
  uint64_t events_read() const override { return read_.load(std::memory_order_relaxed); }

 private:
  ProcConnectorSource() = default;
  void ReadWake(ProcEventSink& sink);
  void UpdateFilter(const ProcEventSink& sink);
  void SetFilter(uint64_t version, const std::vector<pid_t>& pids);

  static constexpr int kIdleDrainMs = 50;
  static constexpr int kPromptRecheckMs = 100;
  UniqueFd record_;
  UniqueFd wake_;
  bool realtime_ = false;
  uint64_t filter_version_ = ~0ULL;
  std::atomic<uint64_t> read_ = 0;
};

}  // namespace ttyaudit
