// Where sealed sessions live: a local archive directory or an S3 bucket, behind one small
// interface that the uploader writes through and the CLI reads through.
//
// Keys are relative to the store's root ("sessions/date=.../<id>.cast"; store/keys.h builds
// every one); the store adds its own prefix (the directory of a file:// URL, the prefix of an
// s3:// URL). Both kinds hold the same keys, so an archive copied into a bucket (or back) reads
// the same.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "store/s3_client.h"

namespace ttyaudit {

struct StoreEntry {
  std::string key;  // relative to the store's root
  uint64_t size = 0;
};

/// A multipart upload in progress, kept by the caller so a restarted process can go on where
/// the last one stopped. Empty `upload_id` means none started yet.
struct UploadProgress {
  std::string upload_id;
  uint64_t part_size = 0;
  std::vector<CompletedPart> parts;
};

struct PutFileOptions {
  PutOptions put;
  /// Files above this size go up in parts of this size (S3 only; >= 5 MiB).
  uint64_t multipart_threshold = 8ULL << 20;
  /// Resumable state of a multipart upload; may be null. Read on entry, updated as parts land.
  UploadProgress* progress = nullptr;
  /// Called after each part lands and `progress` changed (persist it); may be empty.
  std::function<void()> on_progress;
};

class Store {
 public:
  virtual ~Store() = default;

  /// Every key that starts with `prefix` (a key prefix, not only a directory), sorted.
  virtual Result<std::vector<StoreEntry>> List(const std::string& prefix) = 0;
  /// The keys of List(prefix) that sort after `start_after` (all of them when it is empty),
  /// reading only those where the store can (S3's start-after, a pruned directory walk).
  virtual Result<std::vector<StoreEntry>> ListAfter(const std::string& prefix,
                                                    const std::string& start_after);
  /// The whole object; an error (naming the key) when it does not exist.
  virtual Result<std::string> Get(const std::string& key) = 0;
  /// Bytes [offset, offset+length) of the object (fewer at its end).
  virtual Result<std::string> Get(const std::string& key, uint64_t offset, uint64_t length) = 0;
  /// The object's size, or nullopt when there is no such key.
  virtual Result<std::optional<uint64_t>> Size(const std::string& key) = 0;
  /// Stores `bytes` under `key`, replacing any object there; returns only once the store has
  /// confirmed the bytes (a checked ETag, or an fsync'd rename).
  virtual Status Put(const std::string& key, std::string_view bytes,
                     const PutOptions& opts = {}) = 0;
  /// Stores the file at `path` under `key`, the same way.
  virtual Status PutFile(const std::string& key, const std::string& path,
                         const PutFileOptions& opts) = 0;
  /// The object's head (size, and for S3 its Object Lock and Last-Modified), or nullopt when
  /// there is no such key. A local archive has no Object Lock: only the size is filled.
  virtual Result<std::optional<ObjectInfo>> Head(const std::string& key) {
    auto size = Size(key);
    if (!size.ok()) return size.error();
    if (!*size) return std::optional<ObjectInfo>();
    return std::optional<ObjectInfo>(ObjectInfo{key, **size, "", "", "", ""});
  }
  /// Removes `key`; no error when it is already gone.
  virtual Status Delete(const std::string& key) = 0;
  /// "file:///path" or "s3://bucket/prefix".
  virtual std::string Url() const = 0;
  /// True for S3 (objects leave the node), false for a local directory.
  virtual bool Remote() const = 0;
};

/// Opens "file:///abs/path" (the directory is created on first write) or "s3://bucket/prefix"
/// (endpoint, region, path style, CA file and credentials from `cfg.s3`, else the AWS
/// environment). An empty `url` means cfg.StoreUrl(). No I/O beyond reading credentials.
Result<std::unique_ptr<Store>> OpenStore(const Config& cfg, const std::string& url,
                                         S3RetryPolicy policy = {});

}  // namespace ttyaudit
