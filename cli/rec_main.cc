// ttyaudit-rec: the recorder of `ttyaudit rec`, as its own small executable.
//
// `ttyaudit rec` reads the config and execs this with the settings it resolved, so the process
// that stays for the whole session loads only libc: no JSON parser, TLS or journal libraries
// (they are most of a process's memory; see bench/README.md). Not meant to be run by hand.
#include <getopt.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/version.h"
#include "cli/rec.h"

using namespace ttyaudit;

int main(int argc, char** argv) {
  static const option kOptions[] = {{"spool", required_argument, nullptr, 's'},
                                    {"no-input", no_argument, nullptr, 'n'},
                                    {"fsync-interval", required_argument, nullptr, 'f'},
                                    {"fail-closed", no_argument, nullptr, 'c'},
                                    {"node", required_argument, nullptr, 'N'},
                                    {"quiet", no_argument, nullptr, 'q'},
                                    {"spool-max-bytes", required_argument, nullptr, 'm'},
                                    {"no-sandbox", no_argument, nullptr, 'S'},
                                    {"memory-max", required_argument, nullptr, 'M'},
                                    {"pids-max", required_argument, nullptr, 'P'},
                                    {"help", no_argument, nullptr, 'h'},
                                    {"version", no_argument, nullptr, 'V'},
                                    {nullptr, 0, nullptr, 0}};
  constexpr const char* kUsage =
      "usage: ttyaudit-rec --spool DIR [--no-input] [--fsync-interval S] [--fail-closed]\n"
      "                    [--node NAME] [--spool-max-bytes N] [--no-sandbox]\n"
      "                    [--memory-max BYTES] [--pids-max N] [-q] [-- CMD ARGS...]\n"
      "The recorder that `ttyaudit rec` runs with the settings of the config: use that.\n";
  Config cfg;
  RecOptions opts;
  bool have_spool = false;
  int c;
  while ((c = getopt_long(argc, argv, "+q", kOptions, nullptr)) != -1) {
    switch (c) {
      case 's':
        cfg.spool_dir = optarg;
        have_spool = true;
        break;
      case 'n':
        cfg.record_input = false;
        break;
      case 'f':
        cfg.fsync_interval_s = std::atof(optarg);
        break;
      case 'c':
        cfg.fail_policy.all = true;
        break;
      case 'N':
        cfg.node_name = optarg;
        break;
      case 'q':
        opts.quiet = true;
        break;
      case 'm':
        cfg.spool_max_bytes = std::strtoull(optarg, nullptr, 10);
        break;
      case 'S':
        cfg.sandbox.enabled = false;
        break;
      case 'M':
        cfg.sandbox.recorder_memory_max = std::strtoull(optarg, nullptr, 10);
        break;
      case 'P':
        cfg.sandbox.recorder_pids_max = std::strtoull(optarg, nullptr, 10);
        break;
      case 'h':
        std::fputs(kUsage, stdout);
        return 0;
      case 'V':
        std::printf("ttyaudit-rec %s\n", Version());
        return 0;
      default:
        std::fputs(kUsage, stderr);
        return 2;
    }
  }
  if (!have_spool) {  // never a default spool: `ttyaudit rec` names the config's
    std::fputs(kUsage, stderr);
    return 2;
  }
  if (cfg.fsync_interval_s <= 0) cfg.fsync_interval_s = 1.0;
  for (int i = optind; i < argc; ++i) opts.command.emplace_back(argv[i]);
  return RunRec(opts, cfg);
}
