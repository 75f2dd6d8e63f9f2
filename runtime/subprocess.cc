#include "runtime/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace ttyaudit {

std::vector<char*> CArgv(const std::vector<std::string>& argv) {
  std::vector<char*> out;
  out.reserve(argv.size() + 1);
  for (const auto& a : argv) out.push_back(const_cast<char*>(a.c_str()));
  out.push_back(nullptr);
  return out;
}

Error ExecPath(const std::string& path, const std::vector<std::string>& argv) {
  auto cargv = CArgv(argv);
  ::execv(path.c_str(), cargv.data());
  return SysError("execv", path, errno);
}

Result<pid_t> Spawn(const std::string& path, const std::vector<std::string>& argv) {
  auto cargv = CArgv(argv);
  pid_t pid = ::fork();
  if (pid < 0) return SysError("fork", path, errno);
  if (pid == 0) {
    ::execv(path.c_str(), cargv.data());
    _exit(127);
  }
  return pid;
}

Result<int> WaitExitCode(pid_t pid) {
  int st = 0;
  while (::waitpid(pid, &st, 0) < 0) {
    if (errno != EINTR) return SysError("waitpid", std::to_string(pid), errno);
  }
  if (WIFEXITED(st)) return WEXITSTATUS(st);
  if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
  return 1;
}

Result<Captured> RunCapture(const std::string& path, const std::vector<std::string>& argv,
                            size_t max_bytes) {
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) return SysError("pipe2", "", errno);
  UniqueFd rd(p[0]), wr(p[1]);
  auto cargv = CArgv(argv);
  pid_t pid = ::fork();
  if (pid < 0) return SysError("fork", path, errno);
  if (pid == 0) {
    int null = ::open("/dev/null", O_RDWR);
    if (null >= 0) {
      ::dup2(null, 0);
      ::dup2(null, 2);
    }
    ::dup2(wr.get(), 1);
    ::execv(path.c_str(), cargv.data());
    _exit(127);
  }
  wr.reset();
  Captured c;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(rd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (c.out.size() < max_bytes) c.out.append(buf, static_cast<size_t>(n));
  }
  auto code = WaitExitCode(pid);
  if (!code) return code.error();
  c.exit_code = code.value();
  return c;
}

}  // namespace ttyaudit
