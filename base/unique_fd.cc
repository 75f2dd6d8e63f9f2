#include "base/unique_fd.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "base/result.h"

namespace ttyaudit {

void UniqueFd::reset(int fd) {
  if (fd_ >= 0 && fd_ != fd) ::close(fd_);  // close errors on Linux still release the fd
  fd_ = fd;
}

Error SysError(const std::string& call, const std::string& object, int err) {
  std::string m = call;
  if (!object.empty()) m += " `" + object + "`";
  m += ": ";
  m += std::strerror(err);
  return Error{m};
}

}  // namespace ttyaudit
