#include "cli/correlate.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "base/ids.h"

namespace ttyaudit {
namespace {

// One audit.k8s.io/v1 Event line as kube-apiserver writes it (Metadata level).
std::string Event(const std::string& id, const std::string& stage, const std::string& verb,
                  const std::string& resource, const std::string& sub, const std::string& ns,
                  const std::string& name, const std::string& uri, const std::string& user,
                  const std::string& ts, int code = 0) {
  std::string obj = R"({"resource":")" + resource + R"(","namespace":")" + ns + R"(","name":")" +
                    name + R"(","apiVersion":"v1")";
  if (!sub.empty()) obj += R"(,"subresource":")" + sub + "\"";
  obj += "}";
  std::string e = R"({"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata",)"
                  R"("auditID":")" +
                  id + R"(","stage":")" + stage + R"(","requestURI":")" + uri + R"(","verb":")" +
                  verb + R"(","user":{"username":")" + user +
                  R"(","groups":["system:authenticated","team-pay"]},)"
                  R"("sourceIPs":["10.0.0.7"],"userAgent":"kubectl/v1.29.0",)"
                  R"("objectRef":)" +
                  obj;
  if (code) e += R"(,"responseStatus":{"metadata":{},"code":)" + std::to_string(code) + "}";
  e += R"(,"requestReceivedTimestamp":")" + ts + R"(","stageTimestamp":")" + ts +
       R"(","annotations":{"authorization.k8s.io/decision":"allow"}})";
  return e + "\n";
}

std::string ExecUri(const std::string& ns, const std::string& pod, const std::string& cmd_query,
                    const std::string& container) {
  return "/api/v1/namespaces/" + ns + "/pods/" + pod + "/exec?" + cmd_query +
         (container.empty() ? "" : "&container=" + container) + "&stdin=true&stdout=true&tty=true";
}

SessionMeta Session(const std::string& id, const std::string& ns, const std::string& pod,
                    const std::string& container, std::vector<std::string> argv,
                    const std::string& start) {
  SessionMeta m;
  m.id = id;
  m.source = "runtime";
  m.k8s_namespace = ns;
  m.pod = pod;
  m.container = container;
  m.argv = std::move(argv);
  m.start_ns = ParseTime(start, 0).value();
  return m;
}

std::vector<K8sExecRequest> ReadText(const std::string& text, AuditScanStats* st = nullptr) {
  FILE* f = fmemopen(const_cast<char*>(text.data()), text.size(), "r");
  REQUIRE(f != nullptr);
  auto r = ReadK8sExecRequests(f, st);
  fclose(f);
  REQUIRE(r.ok());
  return std::move(r).value();
}

}  // namespace

TEST_CASE("correlate: the query of an exec requestURI is decoded in order") {
  auto q = ParseQuery(
      "/api/v1/namespaces/a/pods/b/exec?command=sh&command=-c&command=echo+hi%21"
      "&container=app&tty=true");
  REQUIRE(q.size() == 5);
  CHECK(q[2] == std::make_pair(std::string("command"), std::string("echo hi!")));
  CHECK(q[3].second == "app");
  CHECK(ParseQuery("/no/query").empty());
}

TEST_CASE("correlate: only pods/exec requests are read from an audit log, stages merged") {
  std::string log;
  const std::string uri = ExecUri("payments", "api-1", "command=sh", "app");
  log += Event("a1", "RequestReceived", "create", "pods", "exec", "payments", "api-1", uri,
               "alice@example.com", "2026-11-25T10:00:00.100000Z");
  log += Event("a1", "ResponseStarted", "create", "pods", "exec", "payments", "api-1", uri,
               "alice@example.com", "2026-11-25T10:00:00.100000Z", 101);
  // Distractors: a pod read, an attach, a log, a refused exec, a configmap called "exec".
  log += Event("d1", "ResponseComplete", "get", "pods", "", "payments", "api-1",
               "/api/v1/namespaces/payments/pods/api-1", "bob", "2026-11-25T10:00:00.2Z", 200);
  log += Event("d2", "ResponseStarted", "create", "pods", "attach", "payments", "api-1",
               "/api/v1/namespaces/payments/pods/api-1/attach?container=app", "bob",
               "2026-11-25T10:00:00.3Z", 101);
  log += Event("d3", "ResponseComplete", "get", "pods", "log", "payments", "api-1",
               "/api/v1/namespaces/payments/pods/api-1/log", "bob", "2026-11-25T10:00:00.4Z", 200);
  log += Event("d4", "ResponseComplete", "create", "pods", "exec", "payments", "api-1", uri,
               "mallory", "2026-11-25T10:00:00.5Z", 403);
  log += Event("d5", "ResponseComplete", "get", "configmaps", "", "payments", "exec",
               "/api/v1/namespaces/payments/configmaps/exec", "bob", "2026-11-25T10:00:00.6Z", 200);
  log += "this line is not JSON but says \"exec\"\n";
  // WebSocket clients (kubectl >= 1.30) send GET.
  log += Event("w1", "ResponseStarted", "get", "pods", "exec", "web", "front-0",
               ExecUri("web", "front-0", "command=bash", ""), "carol", "2026-11-25T10:00:01Z", 101);
  AuditScanStats st;
  auto reqs = ReadText(log, &st);
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[0].audit_id == "a1");
  CHECK(reqs[0].user == "alice@example.com");
  CHECK(reqs[0].groups == std::vector<std::string>{"system:authenticated", "team-pay"});
  CHECK(reqs[0].source_ips == std::vector<std::string>{"10.0.0.7"});
  CHECK(reqs[0].command == std::vector<std::string>{"sh"});
  CHECK(reqs[0].container == "app");
  CHECK(reqs[0].tty);
  CHECK(reqs[0].response_code == 101);
  CHECK(reqs[0].received_ns == ParseTime("2026-11-25T10:00:00.1Z", 0).value());
  CHECK(reqs[1].user == "carol");
  CHECK(reqs[1].container.empty());
  CHECK(st.lines == 9);
  CHECK(st.malformed == 1);
}

TEST_CASE("correlate: sessions match the request that opened them, closest in time, one to one") {
  std::string log;
  auto add = [&](const std::string& id, const std::string& ns, const std::string& pod,
                 const std::string& cmd, const std::string& container, const std::string& user,
                 const std::string& ts) {
    log += Event(id, "ResponseStarted", "create", "pods", "exec", ns, pod,
                 ExecUri(ns, pod, cmd, container), user, ts, 101);
  };
  add("r1", "payments", "api-1", "command=sh", "app", "alice", "2026-11-25T10:00:00Z");
  add("r2", "payments", "api-1", "command=sh", "app", "bob", "2026-11-25T10:00:01Z");
  add("r3", "payments", "api-1", "command=sh", "sidecar", "eve", "2026-11-25T10:00:00.5Z");
  add("r4", "payments", "api-1", "command=bash", "app", "eve", "2026-11-25T10:00:00.5Z");
  add("r5", "other", "api-1", "command=sh", "app", "eve", "2026-11-25T10:00:00.5Z");
  add("r6", "payments", "api-1", "command=sh", "app", "dave", "2026-11-25T11:00:00Z");
  add("r7", "payments", "db-0", "command=psql&command=-U&command=admin", "", "frank",
      "2026-11-25T10:05:00Z");
  std::vector<K8sExecRequest> reqs = ReadText(log);
  REQUIRE(reqs.size() == 7);

  std::vector<SessionMeta> sessions = {
      Session("s-bob", "payments", "api-1", "app", {"sh"}, "2026-11-25T10:00:01.300Z"),
      Session("s-alice", "payments", "api-1", "app", {"sh"}, "2026-11-25T10:00:00.200Z"),
      Session("s-late", "payments", "api-1", "app", {"sh"}, "2026-11-25T10:30:00Z"),
      Session("s-frank", "payments", "db-0", "postgres", {"psql", "-U", "admin"},
              "2026-11-25T10:05:00.400Z"),
      Session("s-host", "", "", "", {"sh"}, "2026-11-25T10:00:00.2Z"),
  };
  sessions[4].source = "host";
  auto matches = CorrelateSessions(sessions, reqs);
  REQUIRE(matches.size() == 3);
  CHECK(sessions[matches[0].session].id == "s-bob");
  CHECK(reqs[matches[0].request].user == "bob");
  CHECK(matches[0].delay_s == doctest::Approx(0.3));
  CHECK(sessions[matches[1].session].id == "s-alice");
  CHECK(reqs[matches[1].request].user == "alice");
  CHECK(sessions[matches[2].session].id == "s-frank");
  CHECK(reqs[matches[2].request].user == "frank");

  JsonWriter w;
  WriteK8sIdentityJson(w, reqs[matches[1].request], matches[1].delay_s);
  CHECK(w.str() ==
        R"({"audit_id":"r1","user":"alice","groups":["system:authenticated","team-pay"],)"
        R"("source_ips":["10.0.0.7"],"user_agent":"kubectl/v1.29.0",)"
        R"("request_received":"2026-11-25T10:00:00.000Z","delay_s":0.200})");
}

TEST_CASE("correlate: a session a little before its request (clock skew) still matches") {
  std::string log = Event("r1", "ResponseStarted", "create", "pods", "exec", "a", "p",
                          ExecUri("a", "p", "command=sh", "c"), "u", "2026-11-25T10:00:05Z", 101);
  auto reqs = ReadText(log);
  auto s = Session("s", "a", "p", "c", {"sh"}, "2026-11-25T10:00:04Z");
  CHECK(CorrelateSessions({s}, reqs).size() == 1);
  s.start_ns -= 5'000'000'000;
  CHECK(CorrelateSessions({s}, reqs).empty());
  s.terminal = false;  // the request asked for a tty
  s.start_ns += 5'000'000'000;
  CHECK(CorrelateSessions({s}, reqs).empty());
}

}  // namespace ttyaudit

namespace ttyaudit {

TEST_CASE("correlate: truncated and corrupted audit lines are skipped, not crashes") {
  std::string line =
      Event("a1", "ResponseStarted", "create", "pods", "exec", "ns", "p",
            ExecUri("ns", "p", "command=sh&command=%2", "c"), "u", "2026-11-25T10:00:00Z", 101);
  const char repl[] = {'"', '{', '}', '[', ']', ':', ',', '\\', '%', '\n', '\0', '\xff'};
  for (size_t i = 0; i < line.size(); i += 2) {
    for (char c : repl) {
      std::string s = line;
      s[i] = c;
      ReadText(s + line.substr(0, i));  // a corrupted line, then a cut one without a newline
    }
  }
  auto reqs = ReadText(line);
  REQUIRE(reqs.size() == 1);
  CHECK(reqs[0].command == std::vector<std::string>{"sh", "%2"});  // a bad escape stays as is
}

}  // namespace ttyaudit
