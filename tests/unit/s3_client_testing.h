// Test helper: a private s3rver (the project's pinned npm package) on loopback.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

namespace ttyaudit::testing {

/// Starts node_modules/.bin/s3rver on 127.0.0.1 with a free port and one bucket, state in a
/// fresh temp dir; stops exactly that process on destruction. ok() is false when s3rver is not
/// installed (make deps) or did not start, and problem() says which.
class TestS3rver {
 public:
  explicit TestS3rver(const std::string& bucket) {
    std::string root = __FILE__;
    root = root.substr(0, root.rfind("/tests/unit/"));
    std::string bin = root + "/node_modules/.bin/s3rver";
    if (access(bin.c_str(), X_OK) != 0) {
      problem_ = "s3rver is not installed (make deps): no " + bin;
      return;
    }
    char tmpl[] = "/tmp/ttyaudit-s3rver-XXXXXX";
    if (!mkdtemp(tmpl)) {
      problem_ = std::string("mkdtemp: ") + strerror(errno);
      return;
    }
    dir_ = tmpl;
    std::string log = dir_ + "/s3rver.log";
    pid_ = fork();
    if (pid_ == 0) {
      FILE* lf = fopen(log.c_str(), "w");
      if (lf) dup2(fileno(lf), 1), dup2(fileno(lf), 2);
      // s3rver makes continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
      setenv("NODE_OPTIONS", "--openssl-legacy-provider", 1);
      execl(bin.c_str(), "s3rver", "-d", (dir_ + "/data").c_str(), "-a", "127.0.0.1", "-p", "0",
            "--configure-bucket", bucket.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // s3rver prints "S3rver listening on 127.0.0.1:PORT" when it is ready.
    for (int i = 0; i < 300 && port_ == 0; ++i) {
      usleep(50000);
      FILE* f = fopen(log.c_str(), "r");
      char line[512];
      while (f && fgets(line, sizeof line, f)) {
        const char* at = strstr(line, "listening on 127.0.0.1:");
        if (at) port_ = std::atoi(at + 23);
      }
      if (f) fclose(f);
    }
    if (port_ == 0) {
      problem_ = "s3rver did not start within 15 s; its log:\n";
      FILE* f = fopen(log.c_str(), "r");
      char buf[2048];
      size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
      if (f) fclose(f);
      problem_.append(buf, n);
    }
  }
  ~TestS3rver() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      waitpid(pid_, nullptr, 0);
    }
    if (!dir_.empty()) std::system(("rm -rf '" + dir_ + "'").c_str());
  }
  bool ok() const { return port_ > 0; }
  const std::string& problem() const { return problem_; }
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& dir() const { return dir_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string dir_;
  std::string problem_;
};

/// A stand-in S3 on loopback, for what s3rver cannot be made to do (throttle, fail, answer
/// oddly): add handlers to `server`, then Start(). Stops and joins on destruction.
class StandInS3 {
 public:
  httplib::Server server;

  /// Serves on a free port of 127.0.0.1 from a thread of its own; returns the endpoint URL.
  std::string Start() {
    server.set_keep_alive_timeout(1);
    int port = server.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    return "http://127.0.0.1:" + std::to_string(port);
  }
  ~StandInS3() {
    if (!thread_.joinable()) return;
    server.stop();
    thread_.join();
  }

 private:
  std::thread thread_;
};

}  // namespace ttyaudit::testing
