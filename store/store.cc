#include "store/store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/files.h"
#include "base/unique_fd.h"

namespace ttyaudit {

namespace {

// S3 error codes after which a multipart upload can never complete (it expired or was
// aborted, or its parts are not what completion needs): the upload is given up.
bool UploadIsLost(const std::string& error) {
  for (const char* code : {"NoSuchUpload", "InvalidPart", "InvalidPartOrder", "EntityTooSmall"})
    if (error.find(code) != std::string::npos) return true;
  return false;
}

constexpr uint64_t kMinPartSize = 5ULL << 20;
constexpr uint64_t kMaxParts = 10000;

Status ValidateKey(const std::string& key) {
  if (key.empty() || key.front() == '/' || key.back() == '/')
    return Error{"bad store key `" + key + "`"};
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string::npos) end = key.size();
    std::string_view part(key.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      return Error{"bad store key `" + key + "`: empty, . or .. component"};
    start = end + 1;
  }
  return Status::Ok();
}

Status ReadAll(int fd, uint64_t offset, uint64_t length, std::string& out,
               const std::string& path) {
  out.resize(length);
  uint64_t done = 0;
  while (done < length) {
    ssize_t n = pread(fd, out.data() + done, length - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return SysError("read", path, errno);
    if (n == 0) break;
    done += static_cast<uint64_t>(n);
  }
  out.resize(done);
  return Status::Ok();
}

// A local archive directory with the store's key layout.
class FileStore : public Store {
 public:
  explicit FileStore(std::string root) : root_(std::move(root)) {}

  Result<std::vector<StoreEntry>> List(const std::string& prefix) override {
    return ListAfter(prefix, "");
  }

  Result<std::vector<StoreEntry>> ListAfter(const std::string& prefix,
                                            const std::string& start_after) override {
    std::vector<StoreEntry> out;
    size_t slash = prefix.rfind('/');
    std::string dir = slash == std::string::npos ? "" : prefix.substr(0, slash);
    if (Status s = Walk(dir, prefix, start_after, out); !s) return Error{s.message()};
    std::sort(out.begin(), out.end(),
              [](const StoreEntry& a, const StoreEntry& b) { return a.key < b.key; });
    return out;
  }

  Result<std::string> Get(const std::string& key) override { return Read(key, 0, UINT64_MAX); }

  Result<std::string> Get(const std::string& key, uint64_t offset, uint64_t length) override {
    return Read(key, offset, length);
  }

  Result<std::optional<uint64_t>> Size(const std::string& key) override {
    if (Status s = ValidateKey(key); !s) return Error{s.message()};
    struct stat st;
    if (stat(Path(key).c_str(), &st) != 0) {
      if (errno == ENOENT) return std::optional<uint64_t>();
      return SysError("stat", Path(key), errno);
    }
    return std::optional<uint64_t>(static_cast<uint64_t>(st.st_size));
  }

  Status Put(const std::string& key, std::string_view bytes, const PutOptions& opts) override {
    return WriteAtomically(
        key, opts, [&](int fd, const std::string& tmp) { return WriteAll(fd, bytes, tmp); });
  }

  Status PutFile(const std::string& key, const std::string& path,
                 const PutFileOptions& opts) override {
    UniqueFd in(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in) return SysError("open", path, errno);
    return WriteAtomically(key, opts.put, [&](int fd, const std::string& tmp) -> Status {
      std::string buf;
      for (uint64_t off = 0;; off += buf.size()) {
        if (Status s = ReadAll(in.get(), off, 1 << 20, buf, path); !s) return s;
        if (buf.empty()) return Status::Ok();
        if (Status s = WriteAll(fd, buf, tmp); !s) return s;
      }
    });
  }

  Status Delete(const std::string& key) override {
    if (Status s = ValidateKey(key); !s) return s;
    if (unlink(Path(key).c_str()) != 0 && errno != ENOENT)
      return SysError("unlink", Path(key), errno);
    return Status::Ok();
  }

  std::string Url() const override { return "file://" + root_; }
  bool Remote() const override { return false; }

 private:
  std::string Path(const std::string& key) const { return root_ + "/" + key; }

  Result<std::string> Read(const std::string& key, uint64_t offset, uint64_t length) {
    if (Status s = ValidateKey(key); !s) return Error{s.message()};
    std::string path = Path(key);
    UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return SysError("open", path, errno);
    struct stat st;
    if (fstat(fd.get(), &st) != 0) return SysError("stat", path, errno);
    uint64_t size = static_cast<uint64_t>(st.st_size);
    if (offset >= size) return std::string();
    std::string out;
    if (Status s = ReadAll(fd.get(), offset, std::min(length, size - offset), out, path); !s)
      return Error{s.message()};
    return out;
  }

  // Recursively collects files under root_/dir whose key starts with `prefix` and sorts after
  // `after`; directories whose every key sorts at or before `after` are not read.
  Status Walk(const std::string& dir, const std::string& prefix, const std::string& after,
              std::vector<StoreEntry>& out) {
    std::string path = dir.empty() ? root_ : root_ + "/" + dir;
    DIR* d = opendir(path.c_str());
    if (!d)
      return errno == ENOENT || errno == ENOTDIR ? Status::Ok() : SysError("opendir", path, errno);
    Status result;
    while (struct dirent* e = readdir(d)) {
      if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0 ||
          IsReplaceTempName(e->d_name))
        continue;
      std::string key = dir.empty() ? e->d_name : dir + "/" + e->d_name;
      struct stat st;
      if (stat((root_ + "/" + key).c_str(), &st) != 0) continue;
      if (S_ISDIR(st.st_mode)) {
        // Only descend where keys below can still match the prefix.
        std::string k = key + "/";
        if (k.compare(0, std::min(k.size(), prefix.size()), prefix, 0,
                      std::min(k.size(), prefix.size())) != 0)
          continue;
        if (!after.empty() && k < after && after.compare(0, k.size(), k) != 0) continue;
        if (Status s = Walk(key, prefix, after, out); !s) result = s;
      } else if (S_ISREG(st.st_mode) && key.compare(0, prefix.size(), prefix) == 0 &&
                 (after.empty() || key > after)) {
        out.push_back({key, static_cast<uint64_t>(st.st_size)});
      }
    }
    closedir(d);
    return result;
  }

  Status WriteAtomically(const std::string& key, const PutOptions& opts,
                         const std::function<Status(int fd, const std::string& tmp)>& fill) {
    if (Status s = ValidateKey(key); !s) return s;
    std::string path = Path(key);
    if (Status s = MakeDirs(path.substr(0, path.rfind('/')), 0750); !s) return s;
    // Retained objects are read-only, as a reminder that the archive is evidence.
    mode_t mode = opts.object_lock_mode.empty() ? 0640 : 0440;
    return ReplaceFileWith(path, Durability::kFileAndDir, mode, fill);
  }

  std::string root_;
};

// A bucket (and prefix) through S3Client.
class S3Store : public Store {
 public:
  S3Store(std::unique_ptr<S3Client> client, std::string prefix)
      : client_(std::move(client)), prefix_(std::move(prefix)) {}

  Result<std::vector<StoreEntry>> List(const std::string& prefix) override {
    return ListAfter(prefix, "");
  }

  Result<std::vector<StoreEntry>> ListAfter(const std::string& prefix,
                                            const std::string& start_after) override {
    auto all = client_->ListAll(Full(prefix), start_after.empty() ? "" : Full(start_after));
    if (!all.ok()) return all.error();
    std::vector<StoreEntry> out;
    size_t cut = prefix_.empty() ? 0 : prefix_.size() + 1;
    for (const auto& o : *all) out.push_back({o.key.substr(cut), o.size});
    return out;
  }

  Result<std::string> Get(const std::string& key) override { return client_->GetObject(Full(key)); }

  Result<std::string> Get(const std::string& key, uint64_t offset, uint64_t length) override {
    if (length == 0) return std::string();
    auto r = client_->GetObject(Full(key), offset, length);
    // A range that starts at or past the end is not an error for callers that follow a file.
    if (!r.ok() && r.message().find("InvalidRange") != std::string::npos) return std::string();
    return r;
  }

  Result<std::optional<uint64_t>> Size(const std::string& key) override {
    auto h = client_->HeadObject(Full(key));
    if (!h.ok()) return h.error();
    if (!*h) return std::optional<uint64_t>();
    return std::optional<uint64_t>((*h)->size);
  }

  Result<std::optional<ObjectInfo>> Head(const std::string& key) override {
    return client_->HeadObject(Full(key));
  }

  Status Put(const std::string& key, std::string_view bytes, const PutOptions& opts) override {
    return client_->PutObject(Full(key), bytes, opts).status();
  }

  Status PutFile(const std::string& key, const std::string& path,
                 const PutFileOptions& opts) override;

  Status Delete(const std::string& key) override { return client_->DeleteObject(Full(key)); }

  std::string Url() const override {
    return "s3://" + client_->bucket() + (prefix_.empty() ? "" : "/" + prefix_);
  }
  bool Remote() const override { return true; }

 private:
  std::string Full(const std::string& key) const {
    return prefix_.empty() ? key : prefix_ + "/" + key;
  }

  std::unique_ptr<S3Client> client_;
  std::string prefix_;
};

Status S3Store::PutFile(const std::string& key, const std::string& path,
                        const PutFileOptions& opts) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return SysError("open", path, errno);
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return SysError("stat", path, errno);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string buf;
  if (size <= std::max(opts.multipart_threshold, kMinPartSize)) {
    if (Status s = ReadAll(fd.get(), 0, size, buf, path); !s) return s;
    if (buf.size() != size) return Error{"read `" + path + "`: the file shrank while reading"};
    return client_->PutObject(Full(key), buf, opts.put).status();
  }

  UploadProgress local;
  UploadProgress& p = opts.progress ? *opts.progress : local;
  uint64_t part_size =
      std::max({opts.multipart_threshold, kMinPartSize, (size + kMaxParts - 1) / kMaxParts});
  // Gives up on an upload that can never complete: aborted, so the bucket keeps no orphan
  // parts, and forgotten, so the next attempt starts a new one.
  auto abandon = [&] {
    if (!p.upload_id.empty()) (void)client_->AbortMultipartUpload(Full(key), p.upload_id);
    p = UploadProgress{};
    if (opts.on_progress) opts.on_progress();
  };
  if (!p.upload_id.empty() && p.part_size != part_size) abandon();  // the file was cut anew
  if (p.upload_id.empty()) {
    auto id = client_->CreateMultipartUpload(Full(key), opts.put);
    if (!id.ok()) return id.status();
    p = UploadProgress{*id, part_size, {}};
    if (opts.on_progress) opts.on_progress();
  }
  const int nparts = static_cast<int>((size + part_size - 1) / part_size);
  for (int n = static_cast<int>(p.parts.size()) + 1; n <= nparts; ++n) {
    uint64_t off = static_cast<uint64_t>(n - 1) * part_size;
    if (Status s = ReadAll(fd.get(), off, std::min(part_size, size - off), buf, path); !s) return s;
    auto etag = client_->UploadPart(Full(key), p.upload_id, n, buf);
    if (!etag.ok()) {
      if (UploadIsLost(etag.message())) abandon();
      return etag.status();
    }
    p.parts.push_back({n, *etag});
    if (opts.on_progress) opts.on_progress();
  }
  Digest whole(Digest::kMd5);
  for (uint64_t off = 0; off < size; off += buf.size()) {
    if (Status s = ReadAll(fd.get(), off, 4 << 20, buf, path); !s) return s;
    if (buf.empty()) break;
    whole.Update(buf);
  }
  Status done = client_->CompleteMultipartUpload(Full(key), p.upload_id, p.parts,
                                                 HexEncode(whole.Final()), size);
  if (!done && UploadIsLost(done.message())) abandon();  // start over next time
  return done;
}

}  // namespace

Result<std::vector<StoreEntry>> Store::ListAfter(const std::string& prefix,
                                                 const std::string& start_after) {
  auto all = List(prefix);
  if (!all.ok() || start_after.empty()) return all;
  std::vector<StoreEntry> out;
  for (auto& e : *all)
    if (e.key > start_after) out.push_back(std::move(e));
  return out;
}

Result<std::unique_ptr<Store>> OpenStore(const Config& cfg, const std::string& url_in,
                                         S3RetryPolicy policy) {
  std::string url = url_in.empty() ? cfg.StoreUrl() : url_in;
  if (url.rfind("file://", 0) == 0) {
    std::string root = url.substr(7);
    while (root.size() > 1 && root.back() == '/') root.pop_back();
    if (root.empty() || root.front() != '/')
      return Error{"store `" + url + "`: want file:///ABSOLUTE/PATH"};
    return std::unique_ptr<Store>(new FileStore(root));
  }
  if (url.rfind("s3://", 0) == 0) {
    auto parsed = ParseS3Url(url);
    if (!parsed.ok()) return Error{"store: " + parsed.message()};
    auto creds = ResolveCredentials(cfg.s3);
    if (!creds.ok()) return Error{"store `" + url + "`: " + creds.message()};
    auto client = S3Client::Create(cfg.s3, parsed->first, std::move(creds.value()), policy);
    if (!client.ok()) return Error{"store `" + url + "`: " + client.message()};
    return std::unique_ptr<Store>(new S3Store(std::move(client.value()), parsed->second));
  }
  return Error{"store `" + url + "`: want file:///path or s3://bucket/prefix"};
}

}  // namespace ttyaudit
