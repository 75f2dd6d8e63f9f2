#include "cli/command_line.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <ostream>
#include <string_view>

#include "base/printable.h"
#include "base/version.h"
#include "cli/sessions.h"

namespace ttyaudit {
namespace {

struct Verb {
  const char* name;
  const char* description;
  void (*add_options)(CLI::App& verb, CommandLine& cmd);
  int (*run)(CommandLine& cmd, const Config& cfg);
  bool loads_config = true;  // false: the verb reads (and judges) the config itself
};

constexpr const char* kRawHelp =
    "Write every byte as recorded even to a terminal (by default, what the recording could do "
    "to your terminal is dropped: queries that make it answer, clipboard writes, titles, "
    "hyperlinks, mouse and key modes)";

void AddRec(CLI::App& v, CommandLine& cmd) {
  v.add_option("-o,--output-dir", cmd.rec.out_dir,
               "Directory for the session (default: spool_dir)");
  v.add_flag("-q,--quiet", cmd.rec.quiet, "Print nothing of ttyaudit's own");
  v.prefix_command();    // the first word that is not an option starts the command
  v.fallthrough(false);  // which is all rec's, options and all
}

int RunRecVerb(CommandLine& cmd, const Config& cfg) {
  std::string why = ExecLeanRecorder(cmd.rec, cfg);
  if (!cmd.rec.quiet)
    std::fprintf(stderr, "ttyaudit rec: %s; recording in this process instead\n", why.c_str());
  return RunRec(cmd.rec, cfg);
}

void AddSearch(CLI::App& v, CommandLine& cmd) {
  SearchQuery& q = cmd.search;
  v.add_option("--since", q.since,
               "Sessions still running at or after T (RFC 3339, date, Unix seconds, or an "
               "age: 2h, 30m, 7d ago)");
  v.add_option("--until", q.until, "Sessions started at or before T");
  v.add_option("--user", q.user,
               "User name or uid, or the Kubernetes user that `correlate --record` recorded");
  v.add_option("--command", q.command_re,
               "Regular expression over the session's argv and its commands");
  v.add_option("--text", q.text_re, "Regular expression over the text shown on screen");
  v.add_option("--namespace", q.k8s_namespace, "Kubernetes namespace");
  v.add_option("--pod", q.pod, "Pod name");
  v.add_option("--container", q.container, "Container name or id prefix");
  v.add_option("--node", q.node, "Node name");
  v.add_option("--image", q.image, "Image (substring)");
  v.add_flag("--escalated", q.escalated,
             "Only sessions in which a process changed its uid or euid (su, sudo, setuid)");
  v.add_option("--exit-code", q.exit_code, "Sessions that exited with this code");
  v.add_option("--state", q.state, "recording, exited, signaled, ended or interrupted");
  v.add_option("--uid", q.uid, "Sessions of this numeric uid");
  v.add_flag("--live", q.live, "Only sessions still recording");
  v.add_option("--limit", q.limit, "At most N sessions, the newest (sessions come newest first)");
  v.add_flag("--scan", q.scan, "Read every per-session index entry, not the catalog (slow)");
  v.add_flag("--json", q.json, "One JSON object per session and line (else a table)");
  v.add_flag("--verify", q.verify,
             "Prove each match as `ttyaudit verify` does (reads every byte): EVIDENCE becomes "
             "verified, failed (reasons on stderr, exit 1), pending or unsigned");
}

int RunSearchVerb(CommandLine& cmd, const Config& cfg) {
  cmd.search.store_url = cmd.store;
  return RunSearch(cmd.search, cfg);
}

void AddId(CLI::App& v, CommandLine& cmd) {
  v.add_option("ID", cmd.id, "Session id (or 8+ leading characters of it), or a .cast file")
      ->required();
}

void AddCat(CLI::App& v, CommandLine& cmd) {
  AddId(v, cmd);
  v.add_flag("--raw", cmd.replay.raw, kRawHelp);
}

void AddPlay(CLI::App& v, CommandLine& cmd) {
  AddCat(v, cmd);
  v.add_option("-s,--speed", cmd.replay.speed, "Playback speed factor (default 1)")
      ->check(CLI::PositiveNumber);
  v.add_option("-i,--idle-limit", cmd.replay.max_idle_s,
               "Shorten pauses to at most this many seconds (default 2; 0 keeps them)")
      ->check(CLI::NonNegativeNumber);
  v.add_option("--at", cmd.replay.at,
               "Start at once at a time into the session (90s, 10m, 1h2m, 1:30) or at the first "
               "command matching a regular expression, from the nearest keyframe before it");
}

// Finds the session of cmd.id, with a local copy of its recording, and runs `fn` on it.
template <typename Fn>
int OnSession(CommandLine& cmd, const Config& cfg, Fn fn) {
  auto session = FindSession(cfg, cmd.store, cmd.id);
  if (!session.ok()) {
    std::fprintf(stderr, "ttyaudit %s: %s\n", cmd.verb.c_str(),
                 EscapeControlChars(session.message()).c_str());
    return 1;
  }
  if (auto path = LocalCastPath(*session); !path.ok()) {
    std::fprintf(stderr, "ttyaudit %s: %s\n", cmd.verb.c_str(),
                 EscapeControlChars(path.message()).c_str());
    return 1;
  }
  return fn(*session);
}

void AddCorrelate(CLI::App& v, CommandLine& cmd) {
  CorrelateArgs& a = cmd.correlate;
  v.add_option("--k8s-audit-log", a.audit_log, "Audit log file (JSON lines), or -")->required();
  auto* sessions =
      v.add_option("--sessions", a.sessions_file,
                   "Sessions as `search --json` lines (file or -) instead of the spool and store");
  v.add_option("--window", a.opts.window_s,
               "Seconds a session may start after its request (default 30)");
  v.add_option("--skew", a.opts.skew_s,
               "Seconds a session may start before its request: clock skew (default 2)");
  v.add_flag("--json", a.json, "One JSON object per matched session and line");
  v.add_flag("--record", a.record,
             "Also write each match into the store, as identity/<id>.json beside the session "
             "(sessions still in the spool: the configured store, or --store), so that "
             "search --user finds Kubernetes users. Without it, correlate only prints")
      ->excludes(sessions);
}

void AddReindex(CLI::App& v, CommandLine& cmd) {
  v.add_option("-j,--jobs", cmd.reindex.jobs, "Index entries read in parallel (default 8)")
      ->check(CLI::Range(1, 64));
  v.add_flag("--cache-only", cmd.reindex.cache_only,
             "Only rebuild this machine's catalog from the segments; write nothing to the store");
}

void AddVerify(CLI::App& v, CommandLine& cmd) {
  VerifyOptions& o = cmd.verify;
  v.add_option("ID", o.target, "Session id (8+ characters) or a .cast file");
  v.add_flag("--all", o.all, "Every session, with the gaps in each node's numbers");
  v.add_option("--since", o.since, "With --all: sessions still running at or after T");
  v.add_option("--keys", o.keys_file,
               "Trusted public keys (lines of keys/<node>/<id>.pub); default: the store's");
  v.add_flag("--json", o.json, "One JSON object per session and line");
}

void AddDoctor(CLI::App& v, CommandLine& cmd) {
  v.add_flag("--json", cmd.doctor_json, "One JSON object: {\"ok\", \"checks\": [...]}");
  v.add_option("--containerd-config", cmd.doctor.containerd_config, "containerd's config file");
  v.add_option("--docker-config", cmd.doctor.docker_config, "Docker's daemon.json");
}

void AddServe(CLI::App& v, CommandLine& cmd) {
  v.add_option("--listen", cmd.serve.listen,
               "HOST:PORT to listen on (default 127.0.0.1:8080); any address but loopback needs "
               "--token-file");
  v.add_option("--token-file", cmd.serve.token_file,
               "File whose first line is the token every request must carry (Authorization: "
               "Bearer, or open /?token=TOKEN once)");
  v.add_option("--cert", cmd.serve.cert, "PEM certificate (chain): serve HTTPS");
  v.add_option("--key", cmd.serve.key, "PEM private key of --cert");
}

const Verb kVerbs[] = {
    {"rec",
     "Record a command (default: $SHELL, else /bin/sh) on a new terminal; exits with its "
     "status. Usage: rec [-o DIR] [-q] [--] [CMD ARGS...]",
     AddRec, RunRecVerb},
    {"search", "List recorded sessions that match every filter given", AddSearch, RunSearchVerb},
    {"cat",
     "Write a session's output bytes as recorded (to a terminal: without what could act on "
     "the terminal, unless --raw)",
     AddCat,
     [](CommandLine& c, const Config& cfg) {
       return OnSession(c, cfg, [&](const SessionRecord& s) { return CatSession(s, c.replay); });
     }},
    {"play",
     "Replay a session's output with its timing (to a terminal: without what could act on the "
     "terminal, unless --raw)",
     AddPlay,
     [](CommandLine& c, const Config& cfg) {
       return OnSession(c, cfg, [&](const SessionRecord& s) { return PlaySession(s, c.replay); });
     }},
    {"export", "Write a session as plain asciicast v2 to stdout (for asciinema and other players)",
     AddId,
     [](CommandLine& c, const Config& cfg) {
       return OnSession(c, cfg, [](const SessionRecord& s) { return ExportSession(s); });
     }},
    {"watch",
     "Write a session's output so far, then, while it is still being recorded (on this node, or "
     "anywhere its uploader ships live chunks to the store), follow it until it ends; exits with "
     "the session's status (to a terminal: without what could act on the terminal, unless "
     "--raw)",
     AddCat,
     [](CommandLine& c, const Config& cfg) { return WatchSession(cfg, c.store, c.id, c.replay); }},
    {"correlate",
     "Match recorded exec sessions to the pods/exec requests of a kube-apiserver audit log and "
     "print who opened each (user, groups, source IPs); with --record, also store that "
     "identity with each session",
     AddCorrelate,
     [](CommandLine& c, const Config& cfg) { return RunCorrelate(c.correlate, c.store, cfg); }},
    {"reindex",
     "Rebuild the store's index segments from its per-session index entries, then this "
     "machine's catalog from the segments (after a lost spool, or to check them)",
     AddReindex,
     [](CommandLine& c, const Config& cfg) { return RunReindex(c.reindex, c.store, cfg); }},
    {"verify", "Prove sessions complete and unchanged: hash chain, signature, sequence", AddVerify,
     [](CommandLine& c, const Config& cfg) {
       c.verify.store_url = c.store;
       return RunVerify(c.verify, cfg);
     }},
    {"serve",
     "Browse, replay and follow sessions in a web browser (read-only): the sessions of the "
     "store, with every filter of search, their recordings and commands",
     AddServe, [](CommandLine& c, const Config& cfg) { return RunServe(c.serve, c.store, cfg); }},
    {"doctor",
     "Check this node: runc, containerd and Docker, spool, tracker, uploader, store; exits 1 "
     "when something must be fixed",
     AddDoctor,
     [](CommandLine& c, const Config&) { return RunDoctorCommand(c.doctor, c.doctor_json); },
     false},
};

}  // namespace

std::optional<int> ParseCommandLine(const std::vector<std::string>& args, CommandLine& cmd,
                                    std::ostream& out, std::ostream& err) {
  CLI::App app{
      "ttyaudit: terminal-session auditing. Records sessions (host shells with `rec`; container "
      "execs through ttyaudit-runtime) and finds, replays and follows them.\n"
      "Config: $TTYAUDIT_CONFIG, else /etc/ttyaudit/config.json.",
      "ttyaudit"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("ttyaudit ") + Version());
  app.fallthrough();  // the program's own options also after the verb
  app.add_option("--store", cmd.store,
                 "Read sessions only from this store: file:///path or s3://bucket/prefix "
                 "(default: the local spool plus the configured store)");
  std::vector<std::pair<CLI::App*, const Verb*>> verbs;
  for (const Verb& v : kVerbs) {
    CLI::App* sub = app.add_subcommand(v.name, v.description);
    v.add_options(*sub, cmd);
    if (std::string_view(v.name) != "rec")
      sub->footer("Also: --store URL, before or after the verb (see ttyaudit --help).");
    verbs.emplace_back(sub, &v);
  }
  // What follows `--` is rec's command, never ttyaudit's options.
  std::vector<std::string> before = args, after;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i] != "--") continue;
    before.assign(args.begin(), args.begin() + static_cast<long>(i));
    after.assign(args.begin() + static_cast<long>(i) + 1, args.end());
    break;
  }
  std::vector<const char*> argv{"ttyaudit"};
  for (const std::string& a : before) argv.push_back(a.c_str());
  try {
    app.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const CLI::ParseError& e) {
    int status = app.exit(e, out, err);  // prints help, or the error and a hint
    return status == 0 ? 0 : 2;
  }
  CLI::App* parsed = nullptr;
  for (auto& [sub, v] : verbs)
    if (sub->parsed()) parsed = sub, cmd.verb = v->name;
  if (cmd.verb == "rec" && !cmd.store.empty()) {
    err << "ttyaudit rec: --store is where sessions are read from; rec records into the spool "
           "(or -o DIR)\n";
    return 2;
  }
  if (cmd.verb == "rec") {
    cmd.rec.command = parsed->remaining();
    cmd.rec.command.insert(cmd.rec.command.end(), after.begin(), after.end());
  } else if (!after.empty()) {
    err << "ttyaudit " << cmd.verb << ": only rec takes a command after `--`\n";
    return 2;
  }
  return std::nullopt;
}

int RunCommandLine(CommandLine& cmd) {
  for (const Verb& v : kVerbs) {
    if (cmd.verb != v.name) continue;
    if (!v.loads_config) return v.run(cmd, Config{});
    auto cfg = LoadConfig();
    if (!cfg.ok()) {
      std::fprintf(stderr, "ttyaudit: %s\n", EscapeControlChars(cfg.message()).c_str());
      return 2;
    }
    return v.run(cmd, *cfg);
  }
  std::fprintf(stderr, "ttyaudit: unknown verb `%s`\n", cmd.verb.c_str());
  return 2;
}

}  // namespace ttyaudit
