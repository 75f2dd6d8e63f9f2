// ttyaudit-tracker: the node's tracker hub (tracker/server.h). Recorders start it on demand;
// examples/systemd/ttyaudit-tracker.service runs it for good. Loads only libc.
#include <getopt.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/log.h"
#include "base/run_dir.h"
#include "base/version.h"
#include "sandbox/sandbox.h"
#include "tracker/server.h"
#include "tracker/track_cmd.h"

using namespace ttyaudit;

namespace {

constexpr const char* kUsage =
    "usage: ttyaudit-tracker [--run-dir DIR] [--idle-exit-s N] [--max-queued-bytes N]\n"
    "                        [--rcvbuf-bytes N] [--no-realtime] [--no-ebpf]\n"
    "                        [--ebpf-ring-bytes N] [--no-ebpf-uid-syscalls]\n"
    "       ttyaudit-tracker --stats [--run-dir DIR]\n"
    "       ttyaudit-tracker --version\n"
    "       ttyaudit-tracker track [--stats] [--grace-ms N] [--pid-file F] [--local] -- CMD "
    "ARGS...\n"
    "\n"
    "The node's tracker hub: reads the kernel's process events once (eBPF where it loads, else\n"
    "the proc connector) and sends each recorded session the events of its own processes, over\n"
    "DIR/tracker.sock (root only).\n"
    "Recorders start it on demand; run it as a service to keep one for good.\n"
    "\n"
    "  --run-dir DIR           socket, lock, pid file and log (default: $TTYAUDIT_RUN_DIR,\n"
    "                          else /run/ttyaudit)\n"
    "  --idle-exit-s N         exit after N seconds without subscribers; 0: never (default 30)\n"
    "  --max-queued-bytes N    drop a subscriber with more than N bytes unsent (default 4 MiB)\n"
    "  --rcvbuf-bytes N        the netlink sockets' receive buffer (default 8 MiB)\n"
    "  --no-realtime           do not run at SCHED_FIFO 1 (argv of short-lived processes may\n"
    "                          be missed on a busy node)\n"
    "  --no-ebpf               read the proc connector even where eBPF loads (also\n"
    "                          TTYAUDIT_TRACKER_EBPF=0 in the environment of whoever starts it)\n"
    "  --ebpf-ring-bytes N     the eBPF ring buffer's size, a power of two of at least a page\n"
    "                          (default 8 MiB; records that do not fit are counted as lost)\n"
    "  --no-ebpf-uid-syscalls  do not trace the setuid-family syscalls' return (while a\n"
    "                          session is tracked, that adds about 0.1 us to every syscall of\n"
    "                          the node); uid changes then show at the next fork, exec or exit\n"
    "  --stats                 print the running hub's counters as JSON and exit\n"
    "  track                   run CMD with its processes tracked as a recorded session's are\n"
    "                          (through the hub; --local: in-process) and print the records\n";

// A whole non-negative decimal number, or exit 2 naming the option.
unsigned long long Number(const char* option, const char* text) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text, &end, 10);
  if (*text == '\0' || *text == '-' || *end != '\0' || errno != 0) {
    std::fprintf(stderr, "ttyaudit-tracker: --%s: want a whole number, not `%s`\n", option, text);
    std::exit(2);
  }
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::string(argv[1]) == "track") {
    TrackArgs targs;
    std::string error;
    if (!ParseTrackArgs(std::vector<std::string>(argv + 2, argv + argc), targs, error)) {
      std::fprintf(stderr, "ttyaudit-tracker: %s\n", error.c_str());
      return 2;
    }
    return RunTrack(targs);
  }
  static const option kOptions[] = {{"run-dir", required_argument, nullptr, 'r'},
                                    {"idle-exit-s", required_argument, nullptr, 'i'},
                                    {"max-queued-bytes", required_argument, nullptr, 'q'},
                                    {"no-realtime", no_argument, nullptr, 'n'},
                                    {"stats", no_argument, nullptr, 's'},
                                    {"ready-fd", required_argument, nullptr, 'f'},
                                    {"rcvbuf-bytes", required_argument, nullptr, 'b'},
                                    {"no-ebpf", no_argument, nullptr, 'e'},
                                    {"ebpf-ring-bytes", required_argument, nullptr, 'R'},
                                    {"no-ebpf-uid-syscalls", no_argument, nullptr, 'U'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  HubOptions opts;
  opts.run_dir = DefaultRunDir();
  if (const char* e = std::getenv("TTYAUDIT_TRACKER_EBPF"); e && std::string(e) == "0")
    opts.ebpf = false;
  bool stats = false;
  int c;
  while ((c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'r':
        opts.run_dir = optarg;
        break;
      case 'i':
        opts.idle_exit_s = static_cast<int>(Number("idle-exit-s", optarg));
        break;
      case 'q':
        opts.max_queued_bytes = Number("max-queued-bytes", optarg);
        break;
      case 'n':
        opts.realtime = false;
        break;
      case 's':
        stats = true;
        break;
      case 'f':
        opts.ready_fd = static_cast<int>(Number("ready-fd", optarg));
        break;
      case 'b':
        opts.rcvbuf_bytes = static_cast<int>(Number("rcvbuf-bytes", optarg));
        break;
      case 'e':
        opts.ebpf = false;
        break;
      case 'R':
        opts.ebpf_ring_bytes = Number("ebpf-ring-bytes", optarg);
        break;
      case 'U':
        opts.ebpf_uid_syscalls = false;
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      case 'V':
        std::printf("ttyaudit-tracker %s\n", Version());
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (stats) return PrintHubStats(opts.run_dir);
  // The hub has no config file: TTYAUDIT_SANDBOX=off in its environment turns it off.
  opts.sandbox = SandboxWanted(true);
  Logger log("ttyaudit-tracker", opts.run_dir + "/tracker.log");
  return RunHub(opts, log);
}
