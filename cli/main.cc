// ttyaudit: record host shells and search, replay and follow recorded sessions.
#include <CLI/CLI.hpp>

#include <cstdio>

#include "cli/correlate.h"
#include "cli/rec.h"
#include "cli/replay.h"
#include "cli/search.h"
#include "cli/sessions.h"
#include "cli/verify.h"
#include "config/config.h"

using namespace ttyaudit;

int main(int argc, char** argv) {
  CLI::App app{
      "ttyaudit: terminal-session auditing. Records sessions (host shells with `rec`; container "
      "execs through ttyaudit-runtime) and finds, replays and follows them.\n"
      "Config: $TTYAUDIT_CONFIG, else /etc/ttyaudit/config.json."};
  app.require_subcommand(1);
  std::string store;
  app.add_option("--store", store,
                 "Where sessions are read from: file:///path or s3://bucket/prefix "
                 "(default: the spool plus the configured store)");

  RecOptions rec_opts;
  auto* rec = app.add_subcommand("rec", "Record a command (default: $SHELL, else /bin/sh) on a new "
                                        "terminal; exits with its status. Usage: rec [-o DIR] [-- CMD ARGS...]");
  rec->add_option("-o,--output-dir", rec_opts.out_dir, "Directory for the session (default: spool_dir)");
  rec->add_flag("-q,--quiet", rec_opts.quiet, "Print nothing of ttyaudit's own");
  rec->prefix_command();

  SearchQuery q;
  auto* search = app.add_subcommand("search", "List recorded sessions that match every filter given");
  search->add_option("--since", q.since, "Sessions still running at or after T (RFC 3339, date, Unix seconds, or -2h/30m/7d)");
  search->add_option("--until", q.until, "Sessions started at or before T");
  search->add_option("--user", q.user, "User name or uid, or the Kubernetes user `correlate` recorded");
  search->add_option("--command", q.command_re, "Regular expression over the session's argv and its commands");
  search->add_option("--text", q.text_re, "Regular expression over the text shown on screen");
  search->add_option("--namespace", q.k8s_namespace, "Kubernetes namespace");
  search->add_option("--pod", q.pod, "Pod name");
  search->add_option("--container", q.container, "Container name or id prefix");
  search->add_option("--node", q.node, "Node name");
  search->add_option("--image", q.image, "Image (substring)");
  search->add_flag("--escalated", q.escalated,
                   "Only sessions in which a process changed its uid or euid (su, sudo, setuid)");
  search->add_flag("--json", q.json, "One JSON object per session and line");

  std::string id;
  auto* cat = app.add_subcommand("cat", "Write a session's output bytes exactly as recorded");
  cat->add_option("ID", id, "Session id (or 8+ leading characters), or a .cast file")->required();
  PlayOptions play_opts;
  auto* play = app.add_subcommand("play", "Replay a session in this terminal with its timing");
  play->add_option("ID", id, "Session id, or a .cast file")->required();
  play->add_option("-s,--speed", play_opts.speed, "Playback speed factor")->check(CLI::PositiveNumber);
  play->add_option("-i,--idle-limit", play_opts.max_idle_s, "Shorten pauses to at most this many seconds (0: keep)");
  auto* exp = app.add_subcommand("export", "Write a session as plain asciicast v2 to stdout");
  exp->add_option("ID", id, "Session id, or a .cast file")->required();
  auto* watch = app.add_subcommand("watch", "Show a session's output so far, then follow it live until it ends");
  watch->add_option("ID", id, "Session id, or a .cast file")->required();
  VerifyOptions verify_opts;
  auto* verify = app.add_subcommand(
      "verify", "Prove sessions complete and unchanged: hash chain, signature, sequence");
  verify->add_option("ID", verify_opts.target, "Session id (8+ characters) or a .cast file");
  verify->add_flag("--all", verify_opts.all, "Every session, with the gaps in each node's numbers");
  verify->add_option("--since", verify_opts.since,
                     "With --all: sessions still running at or after T");
  verify->add_option("--keys", verify_opts.keys_file,
                     "Trusted public keys (lines of keys/<node>/<id>.pub); default: the store's");
  verify->add_flag("--json", verify_opts.json, "One JSON object per session and line");
  RegisterCorrelate(app, store);  // runs from its own callback and ends the program

  // `rec [-o DIR] -- CMD ARGS...`: what follows `--` is the command, never ttyaudit's options.
  std::vector<std::string> command_after_dashes;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) != "--") continue;
    command_after_dashes.assign(argv + i + 1, argv + argc);
    argc = i;
    break;
  }
  CLI11_PARSE(app, argc, argv);

  auto cfg = LoadConfig();
  if (!cfg.ok()) {
    std::fprintf(stderr, "ttyaudit: %s\n", cfg.message().c_str());
    return 2;
  }
  if (rec->parsed()) {
    rec_opts.command = rec->remaining();
    rec_opts.command.insert(rec_opts.command.end(), command_after_dashes.begin(),
                            command_after_dashes.end());
    std::string why = ExecLeanRecorder(rec_opts, *cfg);
    if (!rec_opts.quiet)
      std::fprintf(stderr, "ttyaudit rec: %s; recording in this process instead\n", why.c_str());
    return RunRec(rec_opts, *cfg);
  }
  if (verify->parsed()) {
    verify_opts.store_url = store;
    return RunVerify(verify_opts, *cfg);
  }
  if (search->parsed()) {
    q.store_url = store;
    return RunSearch(q, *cfg);
  }
  auto session = FindSession(*cfg, store, id);
  if (!session.ok()) {
    std::fprintf(stderr, "ttyaudit: %s\n", session.message().c_str());
    return 1;
  }
  if (auto path = LocalCastPath(*session); !path.ok()) {
    std::fprintf(stderr, "ttyaudit: %s\n", path.message().c_str());
    return 1;
  }
  if (cat->parsed()) return CatSession(*session);
  if (play->parsed()) return PlaySession(*session, play_opts);
  if (exp->parsed()) return ExportSession(*session);
  if (watch->parsed()) return WatchSession(*session);
  return 2;
}
