#include "cli/command_line.h"

#include <doctest/doctest.h>

#include <sstream>

namespace ttyaudit {
namespace {

struct Parsed {
  std::optional<int> status;  // nullopt: run cmd
  CommandLine cmd;
  std::string out, err;
};

Parsed Parse(std::vector<std::string> args) {
  Parsed p;
  std::ostringstream out, err;
  p.status = ParseCommandLine(args, p.cmd, out, err);
  p.out = out.str();
  p.err = err.str();
  return p;
}

}  // namespace

TEST_CASE("command line: --store is taken before or after the verb, by every verb") {
  for (const std::string verb : {"search", "cat", "play", "export", "watch"}) {
    CAPTURE(verb);
    std::vector<std::string> id =
        verb == "search" ? std::vector<std::string>{} : std::vector<std::string>{"0192abcd"};
    std::vector<std::string> after{verb, "--store", "s3://b/p"},
        before{"--store", "s3://b/p", verb};
    after.insert(after.end(), id.begin(), id.end());
    before.insert(before.end(), id.begin(), id.end());
    for (const auto& args : {after, before}) {
      Parsed p = Parse(args);
      REQUIRE_MESSAGE(!p.status, p.err);
      CHECK(p.cmd.verb == verb);
      CHECK(p.cmd.store == "s3://b/p");
      if (!id.empty()) CHECK(p.cmd.id == "0192abcd");
    }
  }
  Parsed p = Parse({"correlate", "--k8s-audit-log", "a.log", "--store=file:///srv/a"});
  REQUIRE(!p.status);
  CHECK(p.cmd.store == "file:///srv/a");
}

TEST_CASE("command line: each verb's options land in its fields") {
  Parsed s = Parse({"search", "--since", "-2h", "--user", "alice", "--command", "rm .*",
                    "--namespace", "pay", "--escalated", "--json"});
  REQUIRE(!s.status);
  CHECK(s.cmd.search.since == "-2h");
  CHECK(s.cmd.search.user == "alice");
  CHECK(s.cmd.search.command_re == "rm .*");
  CHECK(s.cmd.search.k8s_namespace == "pay");
  CHECK(s.cmd.search.escalated);
  CHECK(s.cmd.search.json);

  Parsed play = Parse({"play", "-s", "2.5", "--idle-limit", "0", "--raw", "x.cast"});
  REQUIRE(!play.status);
  CHECK(play.cmd.replay.speed == 2.5);
  CHECK(play.cmd.replay.max_idle_s == 0);
  CHECK(play.cmd.replay.raw);
  CHECK(play.cmd.id == "x.cast");

  Parsed cat = Parse({"cat", "x.cast"});
  REQUIRE(!cat.status);
  CHECK_FALSE(cat.cmd.replay.raw);  // filtered for a terminal unless asked

  Parsed watch = Parse({"watch", "--raw", "0192abcd"});
  REQUIRE(!watch.status);
  CHECK(watch.cmd.replay.raw);
}

TEST_CASE("command line: correlate writes into the store only with --record") {
  Parsed plain = Parse({"correlate", "--k8s-audit-log", "a.log", "--json"});
  REQUIRE(!plain.status);
  CHECK(plain.cmd.verb == "correlate");
  CHECK(plain.cmd.correlate.audit_log == "a.log");
  CHECK(plain.cmd.correlate.json);
  CHECK_FALSE(plain.cmd.correlate.record);

  Parsed rec = Parse({"correlate", "--record", "--k8s-audit-log", "-", "--window", "10"});
  REQUIRE(!rec.status);
  CHECK(rec.cmd.correlate.record);
  CHECK(rec.cmd.correlate.opts.window_s == 10);

  // Sessions given as lines have no store to record into.
  Parsed both = Parse({"correlate", "--record", "--k8s-audit-log", "a", "--sessions", "s"});
  CHECK(both.status == 2);
  CHECK(both.err.find("--sessions") != std::string::npos);
}

TEST_CASE("command line: rec's command is everything after -- or its first word") {
  Parsed p = Parse({"rec", "-q", "-o", "/srv/spool", "--", "sh", "-c", "echo --store x"});
  REQUIRE(!p.status);
  CHECK(p.cmd.verb == "rec");
  CHECK(p.cmd.rec.quiet);
  CHECK(p.cmd.rec.out_dir == "/srv/spool");
  CHECK(p.cmd.rec.command == std::vector<std::string>{"sh", "-c", "echo --store x"});
  CHECK(p.cmd.store.empty());

  Parsed bare = Parse({"rec", "ls", "-la"});
  REQUIRE(!bare.status);
  CHECK(bare.cmd.rec.command == std::vector<std::string>{"ls", "-la"});

  Parsed none = Parse({"rec"});
  REQUIRE(!none.status);
  CHECK(none.cmd.rec.command.empty());

  CHECK(Parse({"cat", "x.cast", "--", "y"}).status == 2);  // only rec takes a command
}

TEST_CASE("command line: bad arguments are usage errors, help is not") {
  CHECK(Parse({}).status == 2);                       // no verb
  CHECK(Parse({"frobnicate"}).status == 2);           // no such verb
  CHECK(Parse({"cat"}).status == 2);                  // no id
  CHECK(Parse({"search", "--no-such"}).status == 2);  // no such option
  CHECK(Parse({"play", "-s", "0", "x"}).status == 2);
  CHECK(Parse({"correlate"}).status == 2);  // --k8s-audit-log is required

  Parsed help = Parse({"--help"});
  CHECK(help.status == 0);
  for (const char* verb : {"rec", "search", "cat", "play", "export", "watch", "correlate"})
    CHECK_MESSAGE(help.out.find(verb) != std::string::npos, verb);
  Parsed cat = Parse({"cat", "--help"});
  CHECK(cat.status == 0);
  CHECK(cat.out.find("--raw") != std::string::npos);
  CHECK(cat.out.find("--store") != std::string::npos);  // the global option, also here
  Parsed corr = Parse({"correlate", "--help"});
  CHECK(corr.out.find("--record") != std::string::npos);
}

}  // namespace ttyaudit
