// ttyaudit-uploader: ships recorded sessions from the spool to the configured store.
#include <signal.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "base/ids.h"
#include "base/log.h"
#include "base/version.h"
#include "config/config.h"
#include "sandbox/profiles.h"
#include "uploader/uploader.h"

namespace {

std::atomic<bool> g_stop{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the signal handler needs a lock-free flag");

void OnSignal(int) { g_stop.store(true); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"ttyaudit-uploader: ships recorded sessions from the spool to S3 or the archive"};
  bool once = false, status = false, json = false;
  int jobs = 4;
  double interrupted_after = 30;
  std::string store_url, config_path;
  app.set_version_flag("--version", std::string("ttyaudit-uploader ") + ttyaudit::Version());
  app.add_flag("--once", once, "upload what is in the spool now, then exit");
  app.add_flag("--status", status, "show the spool backlog and the daemon's counters, then exit");
  app.add_flag("--json", json, "with --status: one JSON object");
  app.add_option("--jobs", jobs, "sessions uploaded in parallel")->check(CLI::Range(1, 64));
  app.add_option("--store", store_url, "file:///path or s3://bucket/prefix (default: config)");
  app.add_option("--config", config_path,
                 "config file (default: $TTYAUDIT_CONFIG, else "
                 "/etc/ttyaudit/config.json)");
  app.add_option("--interrupted-after", interrupted_after,
                 "seconds without change and without a recorder before an unsealed session is "
                 "sealed as interrupted")
      ->check(CLI::Range(0.0, 86400.0));
  CLI11_PARSE(app, argc, argv);

  if (!config_path.empty()) setenv("TTYAUDIT_CONFIG", config_path.c_str(), 1);
  auto cfg = ttyaudit::LoadConfig();
  if (!cfg.ok()) {
    fprintf(stderr, "ttyaudit-uploader: %s\n", cfg.message().c_str());
    return 2;
  }
  if (status) {
    auto report = ttyaudit::UploaderStatusReport(*cfg, json);
    if (!report.ok()) {
      fprintf(stderr, "ttyaudit-uploader: %s\n", report.message().c_str());
      return 1;
    }
    fputs(report->c_str(), stdout);
    return 0;
  }

  // Diagnostics: the journal when there is one, else stderr (one write per line).
  ttyaudit::Logger journal("ttyaudit-uploader", "");
  const bool use_journal = access("/run/systemd/journal/socket", F_OK) == 0;
  ttyaudit::LogSink sink = [&](ttyaudit::LogLevel level, std::string_view msg) {
    if (use_journal) return journal.Log(level, msg);
    std::string line = ttyaudit::FormatLogLine("ttyaudit-uploader", getpid(), level, msg,
                                               ttyaudit::RealtimeNanos());
    ssize_t n = write(2, line.data(), line.size());
    (void)n;
  };
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  ttyaudit::UploaderOptions opts;
  opts.config = *cfg;
  opts.store_url = store_url;
  opts.jobs = jobs;
  opts.once = once;
  opts.interrupted_after_s = interrupted_after;
  // Least privilege before any worker thread (sandbox/profiles.h); a failure is logged and
  // the uploader carries on.
  if (ttyaudit::SandboxWanted(cfg->sandbox.enabled)) {
    if (ttyaudit::Status sb = ttyaudit::EnterSandbox(ttyaudit::UploaderProfile()); !sb)
      sink(ttyaudit::LogLevel::kError, "runs with all its privileges: " + sb.message());
  }
  ttyaudit::Uploader uploader(opts, sink);
  ttyaudit::Status st = uploader.Run(g_stop, [] { sd_notify(0, "READY=1"); });
  sd_notify(0, "STOPPING=1");
  auto stats = uploader.stats();
  sink(ttyaudit::LogLevel::kInfo, "stopped: " + std::to_string(stats.sessions_sealed) +
                                      " sessions sealed, " + std::to_string(stats.live_chunks) +
                                      " live chunks, " + std::to_string(stats.bytes_sent) +
                                      " bytes sent, " + std::to_string(stats.errors) + " errors");
  if (!st) {
    sink(ttyaudit::LogLevel::kError, st.message());
    return 1;
  }
  return 0;
}
