// Running the real runc as a child: the wrapper's own helpers for the calls it cannot execv.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

/// argv as a null-terminated char* array; valid while `argv` lives.
std::vector<char*> CArgv(const std::vector<std::string>& argv);

/// Replaces this process with `path` (argv[0] kept as given), environment unchanged. Returns
/// only on failure.
Error ExecPath(const std::string& path, const std::vector<std::string>& argv);

/// Forks and execs `path` with `argv`, the environment and fds 0-2 unchanged.
Result<pid_t> Spawn(const std::string& path, const std::vector<std::string>& argv);

/// Waits for `pid` (retrying on EINTR) and returns its exit code, 128+N for a signal.
Result<int> WaitExitCode(pid_t pid);

struct Captured {
  int exit_code = -1;
  std::string out;
};
/// Runs `path` with stdin and stderr on /dev/null and returns its stdout (up to `max_bytes`).
Result<Captured> RunCapture(const std::string& path, const std::vector<std::string>& argv,
                            size_t max_bytes = 1 << 20);

}  // namespace ttyaudit
