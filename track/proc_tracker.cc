#include "track/proc_tracker.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>

#include "base/ids.h"
#include "track/hub_source.h"
#include "track/proc_connector_source.h"

namespace ttyaudit {
namespace {

void ApplyProcEvent(ProcessTable& t, const ProcEvent& e) {
  switch (e.kind) {
    case ProcEvent::kFork:
      t.OnFork(e.parent_tgid, e.pid, e.tgid, e.time_ns);
      break;
    case ProcEvent::kExec:
      t.OnExec(e.tgid, e.time_ns);
      break;
    case ProcEvent::kUid:
      t.OnUid(e.tgid, e.ruid, e.euid, e.time_ns);
      break;
    case ProcEvent::kExit:
      t.OnExit(e.pid, e.tgid, e.exit_code, e.time_ns);
      break;
    case ProcEvent::kNone:
      break;
  }
}

}  // namespace

Result<std::unique_ptr<ProcTracker>> ProcTracker::Open(const ProcTrackerOptions& opts) {
  std::unique_ptr<ProcTracker> t(new ProcTracker());
  t->opts_ = opts;
  ProcTracker* self = t.get();
  t->table_ = ProcessTable([self](pid_t pid) { return self->ReadSnapshot(pid); });
  t->command_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  t->stop_fd_.reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!t->command_fd_ || !t->stop_fd_) return SysError("eventfd", "proc tracker", errno);
  if (!opts.hub_run_dir.empty()) {
    TrackerHubOptions h;
    h.run_dir = opts.hub_run_dir;
    h.exe = opts.hub_exe;
    auto hub = HubSource::Open(h, opts.spawner_pid > 0 ? opts.spawner_pid : getpid());
    if (hub) {
      t->source_ = std::move(hub.value());
      t->via_ = t->source_->name();
      t->reads_ = t->source_->reads();
      return t;
    }
    t->problem_ = hub.message() + "; tracking in-process instead";
  }
  auto local = ProcConnectorSource::Open(opts.rcvbuf_bytes, opts.realtime);
  if (!local) {
    if (t->problem_.empty()) return local.error();
    return Error{local.message() + " (and " + t->problem_ + ")"};
  }
  t->source_ = std::move(local.value());
  t->via_ = t->source_->name();
  t->reads_ = t->source_->reads();
  return t;
}

ProcTracker::~ProcTracker() { Stop(0); }

ProcSnapshot ProcTracker::ReadSnapshot(pid_t pid) {
  // Called by the table with mu_ held: what the source read at the event, else /proc now.
  if (auto it = given_.find(pid); it != given_.end()) return it->second;
  return opts_.reader(pid);
}

Status ProcTracker::Start(pid_t root_pid) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) return Error{"proc tracker: already started"};
  table_.AddRoot(root_pid, MonotonicNanos());
  source_->Reroot(root_pid);  // the hub drops the spawner and whatever else it started
  source_->Retrack(table_.live_version(), table_.LivePids());
  names_ = ReadUserNames(root_pid);
  started_ = true;
  thread_ = std::thread([this] { Loop(); });
  return {};
}

void ProcTracker::SetSessionStart(int64_t mono_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  opts_.session_start_mono_ns = mono_ns;
}

void ProcTracker::Reroot(pid_t pid) {
  std::lock_guard<std::mutex> lock(mu_);
  table_.Reroot(pid, MonotonicNanos());
  if (source_) {
    source_->Reroot(pid);
    source_->Retrack(table_.live_version(), table_.LivePids());  // shrink a filter to the tree
  }
  if (UserNames n = ReadUserNames(pid); !n.empty()) names_ = std::move(n);  // the container's
  pending_commands_ = table_.TakeCommands();  // rebuilt by Reroot for the new root
  uint64_t one = 1;
  if (!pending_commands_.empty()) {
    [[maybe_unused]] ssize_t w = write(command_fd_.get(), &one, sizeof one);
  }
}

void ProcTracker::Loop() {
  for (;;) {
    if (!Pump()) return;  // stopped
    if (!FallBackToLocal()) return;
  }
}

bool ProcTracker::Pump() {
  source_->OnReaderThread();
  std::vector<pollfd> fds;
  for (;;) {
    fds.assign(1, {stop_fd_.get(), POLLIN, 0});
    int timeout = source_->Prepare(fds, *this);
    int n = poll(fds.data(), fds.size(), timeout);
    if (n < 0 && errno != EINTR) return false;
    if (fds[0].revents) return false;
    bool more = source_->Read(*this);
    std::lock_guard<std::mutex> lock(mu_);
    PublishCommands();
    if (!more) return true;
  }
}

bool ProcTracker::FallBackToLocal() {
  auto local = ProcConnectorSource::Open(opts_.rcvbuf_bytes, opts_.realtime);
  {
    std::lock_guard<std::mutex> lock(mu_);
    const double at = static_cast<double>(MonotonicNanos() - opts_.session_start_mono_ns) / 1e9;
    char when[32];
    snprintf(when, sizeof when, "%.3f", at);
    const std::string was = source_->name();
    problem_ = "tracker " + was + " connection lost at " + std::string(when) + " s (" +
               source_->ended() +
               "): processes that started and ended before in-process tracking took over are "
               "missing";
    ++lost_;  // an unknown number of events
    read_before_ += source_->events_read();
    source_.reset();
    if (!local) {
      problem_ += "; in-process tracking failed too: " + local.message();
      via_ = was + ", then none";
      return false;
    }
    source_ = std::move(local.value());
    via_ = was + ", then " + source_->name();
    if (reads_ != source_->reads()) reads_ += ", then " + source_->reads();
  }
  // What started while nobody listened.
  std::vector<ResyncProc> procs;
  for (const auto& [pid, ppid] : ScanProcesses()) procs.push_back({pid, ppid, false, {}});
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<pid_t, pid_t>> pairs;
  for (const ResyncProc& p : procs) pairs.emplace_back(p.pid, p.ppid);
  table_.Resync(pairs, MonotonicNanos());
  return true;
}

void ProcTracker::OnEvent(const ProcEvent& e, const ProcSnapshot* snapshot) {
  const int64_t now = MonotonicNanos();
  std::lock_guard<std::mutex> lock(mu_);
  if (table_.Tracks(e.subject())) last_hit_ns_ = now;
  if (snapshot) given_[e.tgid] = *snapshot;
  ApplyProcEvent(table_, e);
  given_.clear();
  max_lag_ns_ = std::max(max_lag_ns_, now - e.time_ns);
}

void ProcTracker::OnLost(uint64_t lost, int64_t time_ns, std::vector<ResyncProc>& procs) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::pair<pid_t, pid_t>> pairs;
  pairs.reserve(procs.size());
  for (ResyncProc& p : procs) {
    pairs.emplace_back(p.pid, p.ppid);
    if (p.has_snapshot) given_[p.pid] = std::move(p.snapshot);
  }
  lost_ += lost;
  table_.Resync(pairs, time_ns);
  given_.clear();
}

uint64_t ProcTracker::TrackedVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.live_version();
}

std::vector<pid_t> ProcTracker::TrackedPids() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.LivePids();
}

bool ProcTracker::WantsPromptEvents() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.live_count() > 1 || MonotonicNanos() - last_hit_ns_ < kActiveLingerNs;
}

// Called with mu_ held.
void ProcTracker::PublishCommands() {
  std::vector<CommandEvent> cmds = table_.TakeCommands();
  if (cmds.empty()) return;
  pending_commands_.insert(pending_commands_.end(), std::make_move_iterator(cmds.begin()),
                           std::make_move_iterator(cmds.end()));
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(command_fd_.get(), &one, sizeof one);
}

std::vector<CommandEvent> ProcTracker::TakeCommands() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t v;
  [[maybe_unused]] ssize_t r = read(command_fd_.get(), &v, sizeof v);
  return std::exchange(pending_commands_, {});
}

void ProcTracker::Stop(int grace_ms, bool wait_all) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!started_ || stopped_) return;
  }
  const int64_t deadline = MonotonicNanos() + int64_t{grace_ms} * 1000000;
  while (MonotonicNanos() < deadline) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (table_.RootExited(nullptr) && (!wait_all || table_.AllExited())) break;
    }
    usleep(5000);
  }
  uint64_t one = 1;
  [[maybe_unused]] ssize_t w = write(stop_fd_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
  // What arrived between the last poll and the stop.
  if (source_) (void)source_->Read(*this);
  std::lock_guard<std::mutex> lock(mu_);
  PublishCommands();
  if (source_) read_before_ += source_->events_read();
  source_.reset();  // the hub forgets the session
  stopped_ = true;
}

bool ProcTracker::RootExited(int* wait_status) const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.RootExited(wait_status);
}

uint64_t ProcTracker::lost_events() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

uint64_t ProcTracker::events_read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return read_before_ + (source_ ? source_->events_read() : 0);
}

int64_t ProcTracker::max_lag_ns() const {
  std::lock_guard<std::mutex> lock(mu_);
  return max_lag_ns_;
}

std::string ProcTracker::via() const {
  std::lock_guard<std::mutex> lock(mu_);
  return via_;
}

std::string ProcTracker::source() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reads_;
}

std::string ProcTracker::problem() const {
  std::lock_guard<std::mutex> lock(mu_);
  return problem_;
}

std::string ProcTracker::ManifestMembers() const {
  std::lock_guard<std::mutex> lock(mu_);
  TrackingInfo info{via_, reads_, problem_};
  return ProcessManifestMembers(table_.records(), table_.escalations(), opts_.session_start_mono_ns,
                                lost_, &names_, &info);
}

std::vector<ProcessRecord> ProcTracker::Records() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.records();
}

std::vector<Escalation> ProcTracker::Escalations() const {
  std::lock_guard<std::mutex> lock(mu_);
  return table_.escalations();
}

}  // namespace ttyaudit
