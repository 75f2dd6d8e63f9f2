#include "track/proc_connector_source.h"

#include <pthread.h>
#include <sched.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/ids.h"

namespace ttyaudit {

Result<std::unique_ptr<ProcConnectorSource>> ProcConnectorSource::Open(int rcvbuf_bytes,
                                                                       bool realtime) {
  std::unique_ptr<ProcConnectorSource> s(new ProcConnectorSource());
  auto record = OpenProcSocket(rcvbuf_bytes);
  if (!record) return record.error();
  s->record_ = std::move(record.value());
  auto wake = OpenProcSocket(64 << 10);  // only wake-ups: overflowing it loses nothing
  if (!wake) return wake.error();
  s->wake_ = std::move(wake.value());
  s->realtime_ = realtime;
  return s;
}

void ProcConnectorSource::OnReaderThread() {
  // argv is read from /proc at the exec event, racing the process's exit: a /bin/true lives
  // about half a millisecond. At normal priority the thread loses that race 10-35% of the
  // time on a busy 2-core machine; at SCHED_FIFO 1 it wakes at once and loses almost never.
  // Its work per event is bounded and small, so the real-time class cannot starve the node
  // (and RT throttling caps it). Where RT is not allowed (a cgroup without rt_runtime), nice.
  if (!realtime_) return;
  sched_param sp{};
  sp.sched_priority = 1;
  if (pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), -10);
}

int ProcConnectorSource::Prepare(std::vector<pollfd>& fds, const ProcEventSink& sink) {
  if (sink.TrackedVersion() != filter_version_) UpdateFilter(sink);
  fds.push_back({wake_.get(), POLLIN, 0});
  if (!sink.WantsPromptEvents()) return kIdleDrainMs;
  fds.push_back({record_.get(), POLLIN, 0});
  return kPromptRecheckMs;
}

void ProcConnectorSource::ReadWake(ProcEventSink& sink) {
  bool overrun = false;  // the wake-up socket may overflow: the record has every event
  std::vector<ProcEvent> events;
  while (ReadProcEvents(wake_.get(), events, overrun) > 0) {
    for (const ProcEvent& e : events) sink.OnEarly(e);
    events.clear();
    // A tracked process forked: its child's exec must wake us too, from now on.
    if (sink.TrackedVersion() != filter_version_) UpdateFilter(sink);
  }
}

bool ProcConnectorSource::Read(ProcEventSink& sink) {
  bool overrun = false;
  std::vector<ProcEvent> events;
  events.reserve(64);
  for (;;) {
    // A tracked event that came while the backlog is worked through: the sink may read its
    // /proc entries now, not when the backlog reaches it.
    ReadWake(sink);
    events.clear();
    int n = ReadProcEvents(record_.get(), events, overrun);
    bool filter_changed = false;
    for (const ProcEvent& e : events) {
      sink.OnEvent(e, nullptr);
      // A new child's exec may follow in microseconds: the wake-up filter must know it now.
      if (sink.TrackedVersion() != filter_version_) {
        UpdateFilter(sink);
        filter_changed = true;
      }
    }
    read_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
    // After a filter change, read once more: an event the old filter kept from the wake-up
    // socket was queued here before the change, so this read finds it; one after the change
    // wakes us.
    if (n < 64 && !filter_changed) break;
  }
  if (overrun) {  // the kernel dropped events: find what was missed in /proc
    std::vector<ResyncProc> procs;
    for (const auto& [pid, ppid] : ScanProcesses()) procs.push_back({pid, ppid, false, {}});
    sink.OnLost(1, MonotonicNanos(), procs);
    UpdateFilter(sink);
  }
  return true;
}

void ProcConnectorSource::Retrack(uint64_t version, const std::vector<pid_t>& pids) {
  SetFilter(version, pids);
}

void ProcConnectorSource::UpdateFilter(const ProcEventSink& sink) {
  const uint64_t version = sink.TrackedVersion();  // first: a change after it rebuilds again
  SetFilter(version, sink.TrackedPids());
}

void ProcConnectorSource::SetFilter(uint64_t version, const std::vector<pid_t>& pids) {
  filter_version_ = version;
  if (!SetProcFilter(wake_.get(), &pids).ok()) {
    (void)SetProcFilter(wake_.get(), nullptr);  // correct, only costlier
  }
}

}  // namespace ttyaudit
