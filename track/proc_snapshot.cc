#include "track/proc_snapshot.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

#include "base/files.h"

namespace ttyaudit {
namespace {

// Reads "Uid:\truid\teuid\tsuid\tfsuid" from /proc/PID/status.
void ReadUids(pid_t pid, int64_t& uid, int64_t& euid) {
  std::string s = ReadSmallFileOrEmpty("/proc/" + std::to_string(pid) + "/status", 2048);
  size_t at = s.find("\nUid:");
  if (at == std::string::npos) return;
  const char* p = s.c_str() + at + 5;
  char* end = nullptr;
  long r = strtol(p, &end, 10);
  if (end == p) return;
  long e = strtol(end, &end, 10);
  uid = r;
  euid = e;
}

}  // namespace

ProcSnapshot ReadProcSnapshot(pid_t pid) {
  ProcSnapshot s;
  const std::string dir = "/proc/" + std::to_string(pid);
  // argv is capped: an audit wants the command, not a 2 MiB argument list.
  std::string cmdline = ReadSmallFileOrEmpty(dir + "/cmdline", 32 * 1024);
  size_t start = 0;
  for (size_t i = 0; i < cmdline.size(); ++i) {
    if (cmdline[i] != '\0') continue;
    s.argv.emplace_back(cmdline, start, i - start);
    start = i + 1;
  }
  if (start < cmdline.size()) s.argv.emplace_back(cmdline, start);
  if (s.argv.empty()) {  // exited (a zombie has no mm) or a kernel thread: comm survives
    std::string comm = ReadSmallFileOrEmpty(dir + "/comm", 64);
    while (!comm.empty() && comm.back() == '\n') comm.pop_back();
    if (!comm.empty()) {
      s.argv.push_back(comm);
      s.argv_from_comm = true;
    }
  }
  char buf[4096];
  ssize_t n = readlink((dir + "/cwd").c_str(), buf, sizeof buf);
  if (n > 0) s.cwd.assign(buf, static_cast<size_t>(n));
  ReadUids(pid, s.uid, s.euid);
  struct stat st;
  if (stat((dir + "/exe").c_str(), &st) == 0) {
    s.exe_setuid = (st.st_mode & S_ISUID) != 0;
    s.exe_owner = st.st_uid;
  }
  return s;
}

}  // namespace ttyaudit
