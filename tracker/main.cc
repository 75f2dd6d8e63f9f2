// ttyaudit-tracker: the node's tracker hub (tracker/server.h). Recorders start it on demand;
// examples/systemd/ttyaudit-tracker.service runs it for good. Loads only libc.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/log.h"
#include "common/run_dir.h"
#include "tracker/server.h"

using namespace ttyaudit;

int main(int argc, char** argv) {
  static const option kOptions[] = {{"run-dir", required_argument, nullptr, 'r'},
                                    {"idle-exit-s", required_argument, nullptr, 'i'},
                                    {"max-queued-bytes", required_argument, nullptr, 'q'},
                                    {"no-realtime", no_argument, nullptr, 'n'},
                                    {"stats", no_argument, nullptr, 's'},
                                    {"ready-fd", required_argument, nullptr, 'f'},
                                    {"rcvbuf-bytes", required_argument, nullptr, 'b'},
                                    {nullptr, 0, nullptr, 0}};
  HubOptions opts;
  opts.run_dir = DefaultRunDir();
  bool stats = false;
  int c;
  while ((c = getopt_long(argc, argv, "", kOptions, nullptr)) != -1) {
    switch (c) {
      case 'r':
        opts.run_dir = optarg;
        break;
      case 'i':
        opts.idle_exit_s = std::atoi(optarg);
        break;
      case 'q':
        opts.max_queued_bytes = std::strtoull(optarg, nullptr, 10);
        break;
      case 'n':
        opts.realtime = false;
        break;
      case 's':
        stats = true;
        break;
      case 'f':
        opts.ready_fd = std::atoi(optarg);
        break;
      case 'b':
        opts.rcvbuf_bytes = std::atoi(optarg);
        break;
      default:
        std::fprintf(stderr,
                     "usage: ttyaudit-tracker [--run-dir DIR] [--idle-exit-s N (0: never)] "
                     "[--max-queued-bytes N] [--rcvbuf-bytes N] [--no-realtime] | --stats "
                     "[--run-dir DIR]\n");
        return 2;
    }
  }
  if (stats) return PrintHubStats(opts.run_dir);
  Logger log("ttyaudit-tracker", opts.run_dir + "/tracker.log");
  return RunHub(opts, log);
}
