// The session's processes as the manifest writes them: records, escalations, user names
// and how tracking went.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/json.h"
#include "track/process_table.h"

namespace ttyaudit {

/// uid -> user name, as the container's (or host's) /etc/passwd says.
using UserNames = std::unordered_map<int64_t, std::string>;
/// Parses passwd text ("name:x:uid:..." lines); malformed lines are skipped.
UserNames ParsePasswd(std::string_view text);
/// The names of the users inside the mount namespace of `pid` (/proc/PID/root/etc/passwd);
/// empty if it cannot be read.
UserNames ReadUserNames(pid_t pid);

/// Writes one record as {pid, ppid, argv, cwd, uid, euid, user, euser, start, end, exit_code,
/// signal, ...} with start/end as seconds from `session_start_mono_ns` (end null while
/// running); user/euser only when `names` knows them.
void WriteProcessRecordJson(JsonWriter& w, const ProcessRecord& r, int64_t session_start_mono_ns,
                            const UserNames* names = nullptr);
/// Writes {pid, argv, time, before:{uid,euid}, after:{uid,euid}, to_root}.
void WriteEscalationJson(JsonWriter& w, const Escalation& e, int64_t session_start_mono_ns,
                         const UserNames* names = nullptr);
/// How the session was tracked, for the manifest's "tracking" member.
struct TrackingInfo {
  std::string via;      // "hub", "local", "hub, then local" or "hub, then none"
  std::string source;   // "proc_connector", "ebpf", "ebpf, then proc_connector"; empty: the first
  std::string problem;  // why tracking may be incomplete; empty when it is not
};
/// The manifest members for records and escalations (no tracker needed):
/// "commands":[...],"escalations":[...],"escalated":B,"tracking":{...}.
std::string ProcessManifestMembers(const std::vector<ProcessRecord>& records,
                                   const std::vector<Escalation>& escalations,
                                   int64_t session_start_mono_ns, uint64_t lost_events,
                                   const UserNames* names = nullptr,
                                   const TrackingInfo* info = nullptr);

}  // namespace ttyaudit
