#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <mutex>
#include <vector>

#include "base/ids.h"
#include "record/spool_writer.h"
#include "uploader/uploader.h"

namespace ttyaudit {
namespace {

// A local TCP port that nothing listens on: connections to it are refused at once.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  socklen_t len = sizeof a;
  REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  close(fd);
  return ntohs(a.sin_port);
}

}  // namespace

TEST_CASE("uploader: retrying through an outage is logged, at most a line per 5 s") {
  char tmpl[] = "/tmp/ttyaudit-uploader-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  std::string root = tmpl;
  UploaderOptions opts;
  opts.config.spool_dir = root + "/spool";
  opts.config.store = "s3://bucket/p";
  opts.config.s3.endpoint = "http://127.0.0.1:" + std::to_string(ClosedPort());
  opts.config.s3.access_key_id = "AK";
  opts.config.s3.secret_access_key = "SK";
  opts.once = true;
  opts.jobs = 1;
  opts.retry.max_attempts = 3;
  opts.retry.base_delay_s = 0.01;
  opts.retry.max_delay_s = 0.02;
  opts.retry.connect_timeout_s = 1;
  SessionMeta m;
  m.id = NewUuidV7();
  m.start_ns = RealtimeNanos();
  auto w = SessionWriter::Create(opts.config.spool_dir, m, {});
  REQUIRE(w.ok());
  REQUIRE((*w)->Finish("exited", 0, 0).ok());
  w->reset();

  std::mutex mu;
  std::vector<std::string> warnings;
  Uploader up(opts, [&](LogLevel level, std::string_view msg) {
    std::lock_guard<std::mutex> lock(mu);
    // The node key's publication fails in the outage too: its own warning, not a retry's.
    if (level == LogLevel::kWarning && msg.find("node key") == std::string_view::npos)
      warnings.emplace_back(msg);
  });
  std::atomic<bool> stop{false};
  CHECK_FALSE(up.Run(stop, nullptr).ok());  // the session stays in the spool
  CHECK(std::filesystem::exists(opts.config.spool_dir + "/" + m.id + ".cast"));
  // Two waits (before attempts 2 and 3) within 5 s: the first is logged, with its error.
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("retrying in") != std::string::npos);
  CHECK(warnings[0].find("attempt 2 of 3") != std::string::npos);
  CHECK(warnings[0].find(".cast: Connection") != std::string::npos);  // the request, its error
  // Sealed spool files are immutable until the uploader takes them.
  for (const char* ext : {".cast", ".json"})
    CHECK(ReleaseImmutable(opts.config.spool_dir + "/" + m.id + ext).ok());
  std::filesystem::remove_all(root);
}

}  // namespace ttyaudit
