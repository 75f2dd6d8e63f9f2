#include "cli/serve_api.h"

#include <doctest/doctest.h>
#include <simdjson.h>

#include <cctype>

#include "cli/web_assets.h"
#include "record/asciicast.h"

namespace ttyaudit {
namespace {

SessionMeta Meta() {
  SessionMeta m;
  m.id = "0190f2a4-1c2b-7d3e-8f40-0123456789ab";
  m.source = "runtime";
  m.node = "node-1";
  m.user = "root";
  m.uid = 0;
  m.k8s_namespace = "team-a";
  m.pod = "<img src=x onerror=alert(1)>";
  m.container = "app";
  m.start_ns = 1700000000LL * 1000000000LL;
  m.width = 100;
  m.height = 30;
  return m;
}

std::string Cast(const std::vector<std::string>& events) {
  std::string out = "{\"version\": 2, \"width\": 100, \"height\": 30, \"title\": \"x\"}    \n";
  for (const auto& e : events) out += e + "\n";
  return out;
}

}  // namespace

TEST_CASE("serve: --listen takes HOST:PORT, [V6]:PORT or a port, and knows loopback") {
  auto a = ParseListen("0.0.0.0:9000");
  REQUIRE(a.ok());
  CHECK(a->host == "0.0.0.0");
  CHECK(a->port == 9000);
  auto b = ParseListen("[::1]:8080");
  REQUIRE(b.ok());
  CHECK(b->host == "::1");
  auto c = ParseListen("8081");
  REQUIRE(c.ok());
  CHECK(c->host == "127.0.0.1");
  CHECK_FALSE(ParseListen("host:99999").ok());
  CHECK_FALSE(ParseListen("::1:80").ok());
  CHECK(IsLoopback("127.0.0.1"));
  CHECK(IsLoopback("127.3.2.1"));
  CHECK(IsLoopback("::1"));
  CHECK(IsLoopback("localhost"));
  CHECK_FALSE(IsLoopback("0.0.0.0"));
  CHECK_FALSE(IsLoopback("::"));
  CHECK_FALSE(IsLoopback("10.1.2.3"));
  CHECK_FALSE(IsLoopback("example.com"));
}

TEST_CASE("serve: a token matches only itself, whatever its length") {
  CHECK(TokenEquals("0123456789abcdef", "0123456789abcdef"));
  CHECK_FALSE(TokenEquals("0123456789abcdef", "0123456789abcdeF"));
  CHECK_FALSE(TokenEquals("0123456789abcdef", "0123456789abcdef0"));
  CHECK_FALSE(TokenEquals("0123456789abcdef", ""));
  CHECK_FALSE(TokenEquals("", ""));
}

TEST_CASE("serve: a page's query string is the same search as the CLI's options") {
  std::multimap<std::string, std::string> p{
      {"pod", "web-1"},   {"command", "^ls"},   {"escalated", "1"},   {"live", "0"},
      {"exit_code", "3"}, {"token", "ignored"}, {"namespace", "ns-a"}};
  SearchQuery q = QueryFromParams(p, "s3://b/p");
  CHECK(q.pod == "web-1");
  CHECK(q.command_re == "^ls");
  CHECK(q.k8s_namespace == "ns-a");
  CHECK(q.escalated);
  CHECK_FALSE(q.live);
  CHECK(q.exit_code == "3");
  CHECK(q.store_url == "s3://b/p");
  CHECK(q.json);
}

TEST_CASE("serve: the JSON of a session keeps hostile names as data, commands marked") {
  SessionRecord s;
  s.meta = Meta();
  s.meta.argv = {"sh", "-c", "echo '</script><script>alert(1)</script>'"};
  s.commands_json =
      R"([{"pid":5,"ppid":1,"argv":["id"],"cwd":"/","uid":0,"euid":0,"start":1.5,"end":1.6,)"
      R"("exit_code":0,"signal":0},{"pid":6,"ppid":5,"argv":["su","-"],"cwd":"/tmp","uid":1000,)"
      R"("euid":0,"start":2.25,"end":null,"exit_code":-1,"signal":0}])";
  std::string json = SessionDetailJson(s, 1234);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  REQUIRE_FALSE(parser.parse(json).get(doc));
  CHECK(std::string_view(doc["pod"]) == "<img src=x onerror=alert(1)>");
  CHECK(std::string_view(doc["layout"]["namespace"]) == "team-a");
  CHECK(uint64_t(doc["cast_size"]) == 1234);
  simdjson::dom::array commands = doc["commands"];
  REQUIRE(commands.size() == 2);
  CHECK_FALSE(bool(commands.at(0)["escalated"]));
  CHECK(bool(commands.at(1)["escalated"]));
  CHECK(double(commands.at(1)["start"]) == doctest::Approx(2.25));
  CHECK(commands.at(1)["end"].is_null());
}

TEST_CASE("serve: browsing counts sessions per level of the bucket's layout") {
  std::vector<SessionRecord> all(5);
  for (size_t i = 0; i < all.size(); ++i) {
    all[i].meta = Meta();
    all[i].meta.pod = i < 3 ? "web-0" : "web-1";
  }
  all[4].meta.source = "host";
  all[4].meta.node = "n1";
  std::string top = BrowseJson(all, {});
  CHECK(top.find(R"("level":"date")") != std::string::npos);
  CHECK(top.find(R"({"name":"2023-11-14","count":5})") != std::string::npos);
  std::string ns = BrowseJson(all, {{"date", "2023-11-14"}});
  CHECK(ns.find(R"({"name":"_host","count":1})") != std::string::npos);
  CHECK(ns.find(R"({"name":"team-a","count":4})") != std::string::npos);
  std::string pods = BrowseJson(all, {{"date", "2023-11-14"}, {"namespace", "team-a"}});
  CHECK(pods.find(R"({"name":"web-0","count":3})") != std::string::npos);
  CHECK(pods.find(R"({"name":"web-1","count":1})") != std::string::npos);
  std::string none = BrowseJson(all, {{"date", "2023-11-15"}});
  CHECK(none.find(R"("items":[])") != std::string::npos);
}

TEST_CASE("serve: the player's stream has no title, clipboard or input, in any piece sizes") {
  std::string in = Cast({
      R"([0.5, "o", "hello\u001b]0;evil title\u0007 <script>x()</script>\r\n"])",
      R"([0.75, "i", "secret typed"])",
      R"([1.0, "o", "\u001b]52;c;ZXZpbA==\u0007after\r\n"])",
      R"([1.5, "m", "input hidden"])",
      R"([2.0, "r", "90x20"])",
  });
  for (size_t piece : {size_t{1}, size_t{7}, in.size()}) {
    PlayerStream p(Meta(), PlayerStream::Mode::kPlayer);
    std::string out;
    for (size_t i = 0; i < in.size(); i += piece)
      p.Feed(std::string_view(in).substr(i, piece), out);
    p.Finish(out);
    CHECK(out.rfind(R"({"version":2,"width":100,"height":30,"timestamp":1700000000})"
                    "\n",
                    0) == 0);
    CHECK(out.find("evil title") == std::string::npos);
    CHECK(out.find("52;") == std::string::npos);
    CHECK(out.find("ZXZpbA") == std::string::npos);
    CHECK(out.find("secret typed") == std::string::npos);
    CHECK(out.find("\"title\"") == std::string::npos);
    CHECK(out.find("<script>x()</script>") != std::string::npos);  // text, shown as text
    CHECK(out.find("after") != std::string::npos);
    CHECK(out.find(R"([1.500000, "m", "input hidden"])") != std::string::npos);
    CHECK(out.find(R"("r", "90x20")") != std::string::npos);
  }
}

TEST_CASE("serve: the download is the recording as plain asciicast v2") {
  std::string in = Cast({R"([0.5, "b", "/w=="])", R"([0.5, "o", "\ufffd"])",
                         R"([0.75, "i", "typed"])", R"([1.0, "o", "\u001b]0;t\u0007"])"});
  PlayerStream p(Meta(), PlayerStream::Mode::kExport);
  std::string out;
  p.Feed(in, out);
  p.Finish(out);
  CHECK(out.rfind("{\"version\": 2, \"width\": 100, \"height\": 30, \"title\": \"x\"}\n", 0) == 0);
  CHECK(out.find("\"b\"") == std::string::npos);
  CHECK(out.find("typed") != std::string::npos);
  CHECK(out.find("\\u001b]0;t") != std::string::npos);  // as recorded: it is a file, not a page
}

TEST_CASE("serve: a part of a large recording starts at a line and its times at zero") {
  std::string in = Cast(
      {R"([10.0, "o", "one\r\n"])", R"([11.0, "o", "two\r\n"])", R"([12.5, "o", "three\r\n"])"});
  auto read = [&](uint64_t off, uint64_t len) -> Result<std::string> {
    return off >= in.size() ? std::string() : in.substr(off, len);
  };
  size_t part_size = in.size() / 2;
  auto p0 = FindCastPart(in.size(), part_size, 0, read);
  auto p1 = FindCastPart(in.size(), part_size, 1, read);
  REQUIRE(p0.ok());
  REQUIRE(p1.ok());
  CHECK(p0->begin == 0);
  CHECK(p0->end == p1->begin);
  CHECK(in[p1->begin - 1] == '\n');
  CHECK(p1->end == in.size());
  CHECK_FALSE(FindCastPart(in.size(), part_size, p0->count, read).ok());
  PlayerStream second(Meta(), PlayerStream::Mode::kPlayerPart);
  std::string out;
  second.Feed(std::string_view(in).substr(p1->begin, p1->end - p1->begin), out);
  second.Finish(out);
  CHECK(out.find("[0.000000, \"o\"") != std::string::npos);
  std::string first;
  PlayerStream p(Meta(), PlayerStream::Mode::kPlayer);
  p.Feed(std::string_view(in).substr(0, p0->end), first);
  CHECK(first.find("one") != std::string::npos);
  CHECK((first + out).find("three") != std::string::npos);
}

TEST_CASE(
    "serve: a part that starts at a keyframe paints its screen, then plays its lead at once") {
  const std::string lead = "[1.5, \"o\", \"drawn-before\"]\n[2.0, \"o\", \"also-before\"]\n";
  const std::string own = "[7.25, \"o\", \"own-1\"]\n[8.5, \"o\", \"own-2\"]\n";
  PlayerStream part(Meta(), PlayerStream::Mode::kPlayerPart);
  // A keyframe screen with a title in it: the filter still drops what a recording may not do.
  part.StartFrom("\x1b[H\x1b[2JTOP-LINE\x1b]0;title\x07", 100, 30, lead.size());
  std::string out;
  // In pieces that cut lines, the lead's last line included.
  const std::string all = lead + own;
  for (size_t at = 0; at < all.size(); at += 7) part.Feed(std::string_view(all).substr(at, 7), out);
  part.Finish(out);
  CHECK(out.find("[0.000000, \"r\", \"100x30\"]") != std::string::npos);
  CHECK(out.find("TOP-LINE") != std::string::npos);
  CHECK(out.find("title") == std::string::npos);
  CHECK(out.find("[0.000000, \"o\", \"drawn-before\"]") != std::string::npos);
  CHECK(out.find("[0.000000, \"o\", \"also-before\"]") != std::string::npos);
  CHECK(out.find("[0.000000, \"o\", \"own-1\"]") != std::string::npos);
  CHECK(out.find("[1.250000, \"o\", \"own-2\"]") != std::string::npos);
  CHECK(out.find("TOP-LINE") < out.find("drawn-before"));
}

TEST_CASE("serve: the pages, the player and the terminal are built into the binary") {
  for (const char* path : {"/", "/session.html", "/live.html", "/assets/app.css", "/assets/list.js",
                           "/assets/session.js", "/assets/live.js",
                           "/assets/asciinema-player.min.js", "/assets/xterm.js"}) {
    const WebAsset* a = FindWebAsset(path);
    REQUIRE_MESSAGE(a, path);
    CHECK(a->bytes.size() > 100);
  }
  CHECK(FindWebAsset("/nothing") == nullptr);
  const WebAsset* index = FindWebAsset("/");
  CHECK(index->content_type == "text/html; charset=utf-8");
  // No inline script: every <script> of every page loads a file of ours.
  for (const char* page : {"/", "/session.html", "/live.html"}) {
    std::string_view html = FindWebAsset(page)->bytes;
    for (size_t at = html.find("<script"); at != std::string_view::npos;
         at = html.find("<script", at + 1)) {
      std::string_view tag = html.substr(at, html.find('>', at) - at);
      CHECK_MESSAGE(tag.find(" src=\"/assets/") != std::string_view::npos, page);
      CHECK(html.substr(html.find('>', at) + 1, 9) == "</script>");
    }
    for (size_t at = html.find(" on"); at != std::string_view::npos;
         at = html.find(" on", at + 1)) {
      size_t end = at + 3;
      while (end < html.size() && std::isalpha(static_cast<unsigned char>(html[end]))) ++end;
      CHECK_MESSAGE(html.substr(end, 1) != "=", page);  // no onclick= and the like
    }
  }
}

}  // namespace ttyaudit

namespace ttyaudit {

TEST_CASE("serve: evidence states follow verify's verdict") {
  SessionRecord s;
  s.evidence = "signed";
  Verdict v;
  v.signed_ok = true;
  v.key_id = "abcd";
  CHECK(EvidenceOf(s, v).state == "verified");
  v.signed_ok = false;
  v.problems = {"block 3 does not match its chain line"};
  auto failed = EvidenceOf(s, v);
  CHECK(failed.state == "failed");
  REQUIRE(failed.problems.size() == 1);
  s.evidence = "unsigned";
  v.problems = {"no signature (no object sessions/x.sig)"};
  CHECK(EvidenceOf(s, v).state == "unsigned");
  v.problems.push_back("the manifest is of session y");
  CHECK(EvidenceOf(s, v).state == "failed");
  Verdict pending;
  pending.pending = true;
  CHECK(EvidenceOf(s, pending).state == "pending");
  CHECK(EvidenceJson("id", failed).find("\"problems\":[\"block 3") != std::string::npos);
}

}  // namespace ttyaudit
