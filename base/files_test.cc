#include "base/files.h"

#include <dirent.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "base/unique_fd.h"

namespace ttyaudit {
namespace {

std::string TempDir() {
  char dir[] = "/tmp/ttyaudit-files-XXXXXX";
  REQUIRE(mkdtemp(dir));
  return dir;
}

std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  REQUIRE(d);
  while (dirent* e = readdir(d))
    if (std::string(e->d_name) != "." && std::string(e->d_name) != "..") out.push_back(e->d_name);
  closedir(d);
  return out;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

TEST_CASE("files: ReadFile reads a whole file and refuses one over its bound") {
  std::string dir = TempDir();
  std::string big(100000, 'x');
  big[99999] = 'y';
  REQUIRE(ReplaceFile(dir + "/f", big, Durability::kNone).ok());
  auto all = ReadFile(dir + "/f");
  REQUIRE(all.ok());
  CHECK(*all == big);
  CHECK(ReadFile(dir + "/f", 100000).ok());  // exactly the bound
  auto over = ReadFile(dir + "/f", 99999);
  REQUIRE_FALSE(over.ok());
  CHECK(over.message() == "read `" + dir + "/f`: larger than 99999 bytes");
  auto missing = ReadFile(dir + "/none");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.message() == "open `" + dir + "/none`: No such file or directory");
  CHECK_FALSE(ReadFileIfExists(dir + "/none").value().has_value());
  CHECK(ReadFileIfExists(dir + "/f").value().value() == big);
  auto dir_read = ReadFileIfExists(dir);
  REQUIRE_FALSE(dir_read.ok());
  CHECK(dir_read.message() == "read `" + dir + "`: Is a directory");
  // ReadSmallFile is for /proc entries: a prefix is what it promises.
  CHECK(ReadSmallFile(dir + "/f", 10).value() == std::string(10, 'x'));
  CHECK(ReadSmallFileOrEmpty(dir + "/none", 10).empty());
}

TEST_CASE("files: MakeDirs creates every missing parent and accepts what exists") {
  std::string dir = TempDir();
  REQUIRE(MakeDirs(dir + "/a/b/c", 0700).ok());
  CHECK(ModeOf(dir + "/a/b/c") == 0700);
  CHECK(MakeDirs(dir + "/a/b/c", 0700).ok());
  REQUIRE(ReplaceFile(dir + "/file", "x", Durability::kNone).ok());
  auto st = MakeDirs(dir + "/file/sub", 0700);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "mkdir `" + dir + "/file/sub`: Not a directory");
}

TEST_CASE("files: WriteAll writes everything through a pipe's short writes") {
  int p[2];
  REQUIRE(pipe2(p, O_CLOEXEC) == 0);
  UniqueFd r(p[0]), w(p[1]);
  std::string data(200000, 'z');  // more than a pipe holds: the writer is resumed
  std::string got;
  pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    r.reset();
    _exit(WriteAll(w.get(), data, "pipe").ok() ? 0 : 1);
  }
  w.reset();
  char buf[65536];
  for (ssize_t n; (n = read(r.get(), buf, sizeof buf)) > 0;)
    got.append(buf, static_cast<size_t>(n));
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(status == 0);
  CHECK(got == data);
  UniqueFd closed(open("/dev/null", O_RDONLY | O_CLOEXEC));
  auto st = WriteAll(closed.get(), "x", "/dev/null");
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "write `/dev/null`: Bad file descriptor");
}

TEST_CASE("files: ReplaceFile swaps the content whole and leaves no temporary behind") {
  std::string dir = TempDir();
  const std::string path = dir + "/state.json";
  for (Durability d : {Durability::kNone, Durability::kFile, Durability::kFileAndDir}) {
    REQUIRE(ReplaceFile(path, "old", d).ok());
    REQUIRE(ReplaceFile(path, "new content", d, 0640).ok());
    CHECK(ReadFile(path).value() == "new content");
    CHECK(Names(dir) == std::vector<std::string>{"state.json"});
  }
  CHECK((ModeOf(path) & 0700) == 0600);
}

TEST_CASE("files: a failed ReplaceFileWith keeps the old file and removes its temporary") {
  std::string dir = TempDir();
  const std::string path = dir + "/config.json";
  REQUIRE(ReplaceFile(path, "old", Durability::kFile).ok());
  std::string tmp_seen;
  auto st = ReplaceFileWith(path, Durability::kFile, 0600, [&](int fd, const std::string& tmp) {
    tmp_seen = tmp;
    (void)WriteAll(fd, "half", tmp);
    return Status(Error{"disk full"});
  });
  REQUIRE_FALSE(st.ok());
  CHECK(st.message() == "disk full");
  CHECK(ReadFile(path).value() == "old");
  CHECK(Names(dir) == std::vector<std::string>{"config.json"});
  std::string tmp_name = tmp_seen.substr(tmp_seen.rfind('/') + 1);
  CHECK(IsReplaceTempName(tmp_name));
  CHECK_FALSE(IsReplaceTempName("config.json"));
  CHECK_FALSE(IsReplaceTempName(".hidden"));
  // The writer may set the mode exactly, past the umask.
  REQUIRE(ReplaceFileWith(path, Durability::kNone, 0600, [](int fd, const std::string& tmp) {
            if (fchmod(fd, 0755) != 0) return Status(Error{"fchmod"});
            return WriteAll(fd, "#!", tmp);
          }).ok());
  CHECK(ModeOf(path) == 0755);
}

TEST_CASE("files: ReplaceFile into a missing directory fails and names the temporary") {
  std::string dir = TempDir();
  auto st = ReplaceFile(dir + "/none/x", "x", Durability::kFileAndDir);
  REQUIRE_FALSE(st.ok());
  CHECK(st.message().rfind("create `" + dir + "/none/.x.tmp-", 0) == 0);
}

}  // namespace
}  // namespace ttyaudit
