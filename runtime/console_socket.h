// Console sockets (runc's --console-socket): the recorder's own, and handing a master to the
// shim's.
#pragma once

#include <string>
#include <utility>

#include "base/result.h"
#include "base/unique_fd.h"

namespace ttyaudit {

/// A listening unix socket in a fresh private directory, for runc's --console-socket.
/// The destructor removes the socket and the directory.
class ConsoleListener {
 public:
  /// Creates <base_dir>/console-XXXXXX/sock (base_dir is created, mode 0700, when missing).
  static Result<ConsoleListener> Create(const std::string& base_dir);
  ConsoleListener() = default;
  ConsoleListener(ConsoleListener&& o) noexcept
      : sock_(std::move(o.sock_)),
        dir_(std::exchange(o.dir_, {})),
        path_(std::exchange(o.path_, {})) {}
  ConsoleListener& operator=(ConsoleListener&&) = delete;
  ConsoleListener(const ConsoleListener&) = delete;
  ~ConsoleListener();

  const std::string& path() const { return path_; }
  /// Accepts one connection (waiting up to `timeout_ms`) and receives the pty master sent on
  /// it. Removes the socket file once a connection is accepted.
  Result<UniqueFd> AcceptMaster(int timeout_ms);
  /// Removes the socket file and the directory now.
  void Remove();

 private:
  UniqueFd sock_;
  std::string dir_;
  std::string path_;
};

/// Connects to the console socket at `path` and sends `master` with runc's payload "/dev/ptmx".
Status SendMasterTo(const std::string& path, int master);

}  // namespace ttyaudit
