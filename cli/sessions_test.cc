#include "cli/sessions.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "base/ids.h"
#include "record/spool_writer.h"
#include "uploader/uploader.h"

namespace ttyaudit {
namespace {

// A spool and a file:// archive under a fresh temp dir, removed at the end.
struct Dirs {
  std::string root;
  Config cfg;
  Dirs() {
    char tmpl[] = "/tmp/ttyaudit-sessions-test.XXXXXX";
    REQUIRE(mkdtemp(tmpl));
    root = tmpl;
    cfg.spool_dir = root + "/spool";
    cfg.archive_dir = root + "/archive";
    cfg.node_name = "node-1";
  }
  ~Dirs() { std::filesystem::remove_all(root); }
};

std::unique_ptr<SessionWriter> Start(const Config& cfg, const std::string& user,
                                     std::vector<std::string> argv, int64_t start_ns) {
  SessionMeta m;
  m.id = NewUuidV7();
  m.start_ns = start_ns;
  m.node = cfg.node_name;
  m.user = user;
  m.argv = std::move(argv);
  auto w = SessionWriter::Create(cfg.spool_dir, m, {});
  REQUIRE(w.ok());
  (*w)->Output("hello from " + user + "\r\n");
  REQUIRE((*w)->Flush().ok());
  return std::move(w.value());
}

// Files the spool's sealed sessions into the configured store, as ttyaudit-uploader --once.
void Upload(const Config& cfg) {
  UploaderOptions opts;
  opts.config = cfg;
  opts.once = true;
  opts.jobs = 1;
  Uploader up(opts, [](LogLevel, std::string_view msg) { MESSAGE(std::string(msg)); });
  std::atomic<bool> stop{false};
  REQUIRE(up.Run(stop, nullptr).ok());
}

}  // namespace

TEST_CASE("sessions: the spool and a file:// store list as one, with their states") {
  Dirs d;
  int64_t t0 = RealtimeNanos() - 3600LL * 1000000000LL;
  // Sealed and filed into the store.
  auto sealed = Start(d.cfg, "alice", {"sh", "-c", "uname"}, t0);
  std::string sealed_id = sealed->meta().id;
  REQUIRE(sealed->Finish("exited", 3, 0).ok());
  sealed.reset();
  Upload(d.cfg);
  CHECK_FALSE(std::filesystem::exists(d.cfg.spool_dir + "/" + sealed_id + ".cast"));
  // Still recording (its writer holds the lock), and one whose recorder is gone.
  auto live = Start(d.cfg, "bob", {"bash"}, t0 + 1000);
  auto gone = Start(d.cfg, "carol", {"vi"}, t0 + 2000);
  std::string gone_id = gone->meta().id;
  gone.reset();
  // Not a session at all.
  std::ofstream(d.cfg.spool_dir + "/junk.cast") << "not an asciicast header\n";

  std::vector<std::string> warnings;
  auto all = ListSessions(d.cfg, "", warnings);
  REQUIRE(all.size() == 3);
  CHECK(all[0].meta.id == sealed_id);  // by start time
  CHECK(all[1].meta.id == live->meta().id);
  CHECK(all[2].meta.id == gone_id);

  CHECK(all[0].where == "file://" + d.cfg.archive_dir);
  CHECK(all[0].meta.state == "exited");
  CHECK(all[0].meta.exit_code == 3);
  CHECK(all[0].meta.user == "alice");
  CHECK(all[0].key.find(sealed_id + ".cast") != std::string::npos);
  CHECK(std::filesystem::exists(all[0].path));  // a file store's sessions are read in place

  CHECK(all[1].where == "spool");
  CHECK(all[1].meta.state == "recording");
  CHECK(all[2].meta.state == "interrupted");
  CHECK(all[2].meta.end_ns > 0);

  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("junk.cast") != std::string::npos);

  // --store: that store only, not the spool.
  warnings.clear();
  auto stored = ListSessions(d.cfg, "file://" + d.cfg.archive_dir, warnings);
  REQUIRE(stored.size() == 1);
  CHECK(stored[0].meta.id == sealed_id);
  CHECK(warnings.empty());
}

TEST_CASE("sessions: a session in the spool and in the store is listed once, as stored") {
  Dirs d;
  auto w = Start(d.cfg, "alice", {"sh"}, RealtimeNanos());
  std::string id = w->meta().id;
  REQUIRE(w->Finish("exited", 0, 0).ok());
  w.reset();
  std::string spooled = d.cfg.spool_dir + "/" + id + ".cast";
  std::filesystem::copy_file(spooled, d.root + "/keep.cast");
  Upload(d.cfg);
  std::filesystem::copy_file(d.root + "/keep.cast", spooled);  // as if not yet cleaned up

  std::vector<std::string> warnings;
  auto all = ListSessions(d.cfg, "", warnings);
  REQUIRE(all.size() == 1);
  CHECK(all[0].where == "file://" + d.cfg.archive_dir);
  CHECK(all[0].meta.state == "exited");
}

TEST_CASE("sessions: correlate's identities are joined to sessions by id") {
  Dirs d;
  auto w = Start(d.cfg, "root", {"sh"}, RealtimeNanos());
  std::string id = w->meta().id;
  REQUIRE(w->Finish("exited", 0, 0).ok());
  w.reset();
  Upload(d.cfg);
  std::vector<std::string> warnings;
  auto all = ListSessions(d.cfg, "", warnings);
  REQUIRE(all.size() == 1);
  CHECK(all[0].k8s_user.empty());
  REQUIRE(RecordK8sIdentity(d.cfg, "", all[0], R"({"user":"alice@example.com"})").ok());
  all = ListSessions(d.cfg, "", warnings);
  REQUIRE(all.size() == 1);
  CHECK(all[0].k8s_user == "alice@example.com");
  CHECK(SessionJsonLine(all[0], "").find(R"("k8s":{"user":"alice@example.com"})") !=
        std::string::npos);
}

TEST_CASE("sessions: found by id, id prefix or file; a short or shared prefix is refused") {
  Dirs d;
  int64_t t = RealtimeNanos();
  auto a = Start(d.cfg, "alice", {"sh"}, t);
  auto b = Start(d.cfg, "bob", {"sh"}, t + 1);
  std::string a_id = a->meta().id, b_id = b->meta().id;

  auto full = FindSession(d.cfg, "", a_id);
  REQUIRE(full.ok());
  CHECK(full->meta.user == "alice");
  auto file = FindSession(d.cfg, "", b->path());
  REQUIRE(file.ok());
  CHECK(file->meta.id == b_id);
  CHECK(file->where == "file");

  // UUIDv7 ids made within a minute share their first 8 characters.
  REQUIRE(a_id.substr(0, 8) == b_id.substr(0, 8));
  auto shared = FindSession(d.cfg, "", a_id.substr(0, 8));
  CHECK_FALSE(shared.ok());
  CHECK(shared.message().find("ambiguous") != std::string::npos);
  CHECK_FALSE(FindSession(d.cfg, "", a_id.substr(0, 7)).ok());
  auto none = FindSession(d.cfg, "", "ffffffff-ffff");
  CHECK_FALSE(none.ok());
  CHECK(none.message().find("no session") != std::string::npos);

  SessionRecord local = *full;
  auto path = LocalCastPath(local);
  REQUIRE(path.ok());
  CHECK(*path == a->path());  // a local file is read where it is
  CHECK_FALSE(local.copy);
}

}  // namespace ttyaudit
