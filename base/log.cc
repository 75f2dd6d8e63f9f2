#include "base/log.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

#include "base/ids.h"
#include "base/printable.h"
#include "base/unique_fd.h"

namespace ttyaudit {
namespace {

constexpr const char* kJournalSocket = "/run/systemd/journal/socket";

const char* LevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return "error";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kDebug:
      return "debug";
  }
  return "?";
}

int SyslogPriority(LogLevel level) {
  switch (level) {
    case LogLevel::kError:
      return LOG_ERR;
    case LogLevel::kWarning:
      return LOG_WARNING;
    case LogLevel::kInfo:
      return LOG_INFO;
    case LogLevel::kDebug:
      return LOG_DEBUG;
  }
  return LOG_INFO;
}

// libsystemd is opened only when there is a journal to log to: ttyaudit-runtime starts on
// every runc call, and loading libsystemd with its six dependencies costs more than the rest
// of a pass-through call.
using JournalSend = int (*)(const char* format, ...);

JournalSend LoadJournalSend() {
  static JournalSend fn = [] {
    void* lib = dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
    return lib ? reinterpret_cast<JournalSend>(dlsym(lib, "sd_journal_send")) : nullptr;
  }();
  return fn;
}

// Messages carry recorded data (session ids from file names, bucket keys, argv): one line,
// with no control character that could drive the terminal of whoever reads the log.
std::string OneSafeLine(std::string_view message) {
  std::string flat(message);
  for (char& c : flat)
    if (c == '\n' || c == '\r') c = ' ';
  return EscapeControlChars(flat);
}

}  // namespace

Logger::Logger(std::string ident, std::string log_file)
    : ident_(std::move(ident)),
      log_file_(std::move(log_file)),
      use_journal_(::access(kJournalSocket, F_OK) == 0) {}

std::string FormatLogLine(std::string_view ident, int pid, LogLevel level, std::string_view message,
                          int64_t unix_nanos) {
  std::string line = FormatRfc3339(unix_nanos);
  line += ' ';
  line += ident;
  line += '[' + std::to_string(pid) + "]: ";
  line += LevelName(level);
  line += ": ";
  line += OneSafeLine(message);
  line += '\n';
  return line;
}

void Logger::Log(LogLevel level, std::string_view message) const {
  if (use_journal_) {
    std::string msg = OneSafeLine(message);
    std::string id = "SYSLOG_IDENTIFIER=" + ident_;
    JournalSend send = LoadJournalSend();
    if (send && send("MESSAGE=%s", msg.c_str(), "PRIORITY=%d", SyslogPriority(level), id.c_str(),
                     nullptr) >= 0)
      return;
  }
  if (log_file_.empty()) return;
  std::string line = FormatLogLine(ident_, ::getpid(), level, message, RealtimeNanos());
  UniqueFd fd(
      ::open(log_file_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0640));
  if (!fd) return;
  // One write() with O_APPEND: lines of concurrent writers do not interleave.
  ssize_t n = ::write(fd.get(), line.data(), line.size());
  (void)n;
}

}  // namespace ttyaudit
