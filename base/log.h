// Diagnostics of ttyaudit's daemons and of the runtime wrapper: never on stdout (the runtime's
// stdout belongs to its caller, which parses it).
#pragma once

#include <string>
#include <string_view>

namespace ttyaudit {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

/// Where one program's diagnostics go: the systemd journal when its socket exists
/// (/run/systemd/journal/socket), else lines appended to a log file. Logging never fails the
/// caller: a file that cannot be opened drops the line (after one try per line).
class Logger {
 public:
  /// `ident` names the program in each line (SYSLOG_IDENTIFIER); `log_file` is the fallback.
  Logger(std::string ident, std::string log_file);
  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Log(LogLevel level, std::string_view message) const;
  void Error(std::string_view message) const { Log(LogLevel::kError, message); }
  void Warning(std::string_view message) const { Log(LogLevel::kWarning, message); }
  void Info(std::string_view message) const { Log(LogLevel::kInfo, message); }

  /// Changes the fallback file (e.g. once the config has been read).
  void SetLogFile(std::string log_file) { log_file_ = std::move(log_file); }
  /// Forces the file even where a journal exists (tests).
  void SetUseJournal(bool use) { use_journal_ = use; }
  const std::string& log_file() const { return log_file_; }

 private:
  std::string ident_;
  std::string log_file_;
  bool use_journal_;
};

/// One log-file line: "2026-11-25T12:00:00.123Z ident[pid]: level: message\n", with newlines
/// inside `message` replaced so that one call stays one line.
std::string FormatLogLine(std::string_view ident, int pid, LogLevel level, std::string_view message,
                          int64_t unix_nanos);

}  // namespace ttyaudit
