#include "track/process_json.h"

#include <sys/wait.h>

#include "base/files.h"

namespace ttyaudit {
namespace {

double Offset(int64_t t, int64_t start) {
  return t <= 0 ? 0.0 : static_cast<double>(t - start) / 1e9;
}

}  // namespace

UserNames ParsePasswd(std::string_view text) {
  UserNames out;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    size_t c1 = line.find(':');
    size_t c2 = c1 == std::string_view::npos ? c1 : line.find(':', c1 + 1);
    size_t c3 = c2 == std::string_view::npos ? c2 : line.find(':', c2 + 1);
    if (c3 == std::string_view::npos || c1 == 0 || c3 == c2 + 1) continue;
    // A uid is 32 bits: a longer number is no uid (and must not wrap around to one).
    int64_t uid = 0;
    bool digits = true;
    for (char ch : line.substr(c2 + 1, c3 - c2 - 1)) {
      if (ch < '0' || ch > '9' || uid > 0xffffffffLL) {
        digits = false;
        break;
      }
      uid = uid * 10 + (ch - '0');
    }
    if (digits && uid <= 0xffffffffLL) out.emplace(uid, std::string(line.substr(0, c1)));
  }
  return out;
}

UserNames ReadUserNames(pid_t pid) {
  return ParsePasswd(
      ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/root/etc/passwd", 1 << 20));
}

namespace {

void WriteName(JsonWriter& w, const char* key, int64_t id, const UserNames* names) {
  if (names == nullptr) return;
  auto it = names->find(id);
  if (it != names->end()) w.Key(key).String(it->second);
}

}  // namespace

void WriteProcessRecordJson(JsonWriter& w, const ProcessRecord& r, int64_t start,
                            const UserNames* names) {
  w.BeginObject();
  w.Key("pid").Int(r.pid);
  w.Key("ppid").Int(r.ppid);
  w.Key("argv").StringArray(r.argv);
  w.Key("cwd").String(r.cwd);
  w.Key("uid").Int(r.uid);
  w.Key("euid").Int(r.euid);
  WriteName(w, "user", r.uid, names);
  WriteName(w, "euser", r.euid, names);
  w.Key("start").Double(Offset(r.start_mono_ns, start));
  w.Key("end");
  if (r.end_mono_ns)
    w.Double(Offset(r.end_mono_ns, start));
  else
    w.Null();
  const bool exited = r.exited && WIFEXITED(r.wait_status);
  const bool signaled = r.exited && WIFSIGNALED(r.wait_status);
  w.Key("exit_code").Int(exited ? WEXITSTATUS(r.wait_status) : -1);
  w.Key("signal").Int(signaled ? WTERMSIG(r.wait_status) : 0);
  if (signaled && WCOREDUMP(r.wait_status)) w.Key("core_dumped").Bool(true);
  w.Key("exec").Bool(r.execed);
  if (r.argv_from_comm) w.Key("argv_from_comm").Bool(true);
  if (r.argv_truncated) w.Key("argv_truncated").Bool(true);
  if (r.cwd_truncated) w.Key("cwd_truncated").Bool(true);
  if (r.cwd_unresolved) w.Key("cwd_unresolved").Bool(true);
  if (r.replaced_by_exec) w.Key("replaced_by_exec").Bool(true);
  if (r.gid >= 0) w.Key("gid").Int(r.gid);
  if (r.egid >= 0) w.Key("egid").Int(r.egid);
  w.Key("top_level").Bool(r.top_level);
  w.EndObject();
}

void WriteEscalationJson(JsonWriter& w, const Escalation& e, int64_t start,
                         const UserNames* names) {
  w.BeginObject();
  w.Key("pid").Int(e.pid);
  w.Key("argv").StringArray(e.argv);
  if (!e.exec_argv.empty()) w.Key("exec_argv").StringArray(e.exec_argv);
  if (e.exec_unread) w.Key("exec_unread").Bool(true);  // the program was gone before it was read
  w.Key("time").Double(Offset(e.time_mono_ns, start));
  w.Key("before").BeginObject().Key("uid").Int(e.uid_before).Key("euid").Int(e.euid_before);
  WriteName(w, "user", e.uid_before, names);
  WriteName(w, "euser", e.euid_before, names);
  w.EndObject();
  w.Key("after").BeginObject().Key("uid").Int(e.uid_after).Key("euid").Int(e.euid_after);
  WriteName(w, "user", e.uid_after, names);
  WriteName(w, "euser", e.euid_after, names);
  w.EndObject();
  w.Key("to_root").Bool(e.ToRoot());
  w.EndObject();
}

std::string ProcessManifestMembers(const std::vector<ProcessRecord>& records,
                                   const std::vector<Escalation>& escalations, int64_t start,
                                   uint64_t lost_events, const UserNames* names,
                                   const TrackingInfo* info) {
  JsonWriter w;
  w.BeginObject();
  w.Key("commands").BeginArray();
  for (const ProcessRecord& r : records) WriteProcessRecordJson(w, r, start, names);
  w.EndArray();
  w.Key("escalations").BeginArray();
  for (const Escalation& e : escalations) WriteEscalationJson(w, e, start, names);
  w.EndArray();
  w.Key("escalated").Bool(!escalations.empty());
  w.Key("tracking")
      .BeginObject()
      .Key("source")
      .String(info && !info->source.empty() ? info->source : "proc_connector");
  if (info && !info->via.empty()) w.Key("via").String(info->via);
  w.Key("lost_events").Uint(lost_events);
  if (info && !info->problem.empty()) w.Key("problem").String(info->problem);
  w.EndObject();
  w.EndObject();
  std::string s = w.Take();
  return s.substr(1, s.size() - 2);  // members only: strip the braces
}

}  // namespace ttyaudit
