#include "tracker/track_cmd.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "base/ids.h"
#include "base/run_dir.h"
#include "track/proc_tracker.h"

namespace ttyaudit {

bool ParseTrackArgs(const std::vector<std::string>& argv, TrackArgs& out, std::string& error) {
  size_t i = 0;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (a == "--stats") {
      out.stats = true;
    } else if (a == "--local") {
      out.local = true;
    } else if ((a == "--pid-file" || a == "--grace-ms") && i + 1 < argv.size()) {
      if (a == "--pid-file")
        out.reroot_pid_file = argv[++i];
      else
        out.grace_ms = std::atoi(argv[++i].c_str());
    } else {
      error = "track: unexpected `" + a +
              "` (usage: track [--pid-file F] [--stats] [--local] "
              "[--grace-ms N] -- CMD...)";
      return false;
    }
  }
  out.command.assign(argv.begin() + static_cast<long>(i), argv.end());
  if (out.command.empty()) {
    error = "track: no command after --";
    return false;
  }
  return true;
}

int RunTrack(const TrackArgs& args) {
  ProcTrackerOptions opts;
  opts.session_start_mono_ns = MonotonicNanos();
  if (!args.local) opts.hub_run_dir = DefaultRunDir();  // as the recorders do
  auto tracker = ProcTracker::Open(opts);
  if (!tracker) {
    std::fprintf(stderr, "ttyaudit-tracker track: %s\n", tracker.message().c_str());
    return 125;
  }
  if (!(*tracker)->problem().empty())
    std::fprintf(stderr, "ttyaudit-tracker track: process tracking: %s\n",
                 (*tracker)->problem().c_str());
  int go[2];
  if (pipe2(go, O_CLOEXEC) != 0) return 125;
  pid_t child = fork();
  if (child < 0) return 125;
  if (child == 0) {  // waits until it is tracked, so that nothing it starts is missed
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1) _exit(125);
    std::vector<char*> argv;
    for (const std::string& a : args.command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::perror(argv[0]);
    _exit(127);
  }
  close(go[0]);
  Status started = (*tracker)->Start(child);
  if (write(go[1], "g", 1) != 1) return 125;
  close(go[1]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  if (!args.reroot_pid_file.empty()) {
    std::ifstream f(args.reroot_pid_file);
    long pid = 0;
    if (f >> pid && pid > 0) (*tracker)->Reroot(static_cast<pid_t>(pid));
  }
  (*tracker)->Stop(args.grace_ms, true);
  if (!started) std::fprintf(stderr, "ttyaudit-tracker track: %s\n", started.message().c_str());
  std::printf("{%s}\n", (*tracker)->ManifestMembers().c_str());
  if (args.stats) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                 static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    double wall = static_cast<double>(MonotonicNanos() - opts.session_start_mono_ns) / 1e9;
    std::fprintf(stderr,
                 "{\"via\":\"%s\",\"source\":\"%s\",\"events_read\":%llu,\"lost_events\":%llu,"
                 "\"max_lag_ms\":%.3f,\"cpu_s\":%.4f,\"wall_s\":%.3f}\n",
                 (*tracker)->via().c_str(), (*tracker)->source().c_str(),
                 static_cast<unsigned long long>((*tracker)->events_read()),
                 static_cast<unsigned long long>((*tracker)->lost_events()),
                 static_cast<double>((*tracker)->max_lag_ns()) / 1e6, cpu, wall);
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

}  // namespace ttyaudit
