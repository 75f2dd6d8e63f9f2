// An S3 client on cpp-httplib: SigV4 header auth, path- or virtual-hosted-style, HTTP or HTTPS.
//
// Every call retries network errors, 5xx, 429, SlowDown and RequestTimeout with exponential
// backoff and full jitter, and reports success only after a 2xx whose ETag or checksum matched
// what was sent. Errors come back as Result/Status with S3's code and message in the text
// ("PUT s3://b/k: 403 AccessDenied: Access Denied").
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/config.h"
#include "store/sigv4.h"

namespace httplib {
class Client;
}

namespace ttyaudit {

/// Credentials from the config's s3 section, else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY /
/// AWS_SESSION_TOKEN, else the shared credentials file (AWS_SHARED_CREDENTIALS_FILE or
/// ~/.aws/credentials, profile AWS_PROFILE or "default"). An error names what was tried.
Result<AwsCredentials> ResolveCredentials(const S3Config& cfg);

/// Parses "s3://bucket/some/prefix" into bucket and prefix (no leading/trailing '/').
Result<std::pair<std::string, std::string>> ParseS3Url(std::string_view url);

/// Retry and timeout policy. The defaults suit a daemon; tests shorten them.
struct S3RetryPolicy {
  int max_attempts = 6;
  double base_delay_s = 0.25;
  double max_delay_s = 8.0;
  int connect_timeout_s = 5;
  int read_timeout_s = 60;
  int write_timeout_s = 60;
  /// When set and true, waits between attempts end early and the call gives up.
  const std::atomic<bool>* stop = nullptr;
  /// When set, called before each wait between attempts: the attempt about to be made (from
  /// 2), the wait in seconds, and the error of the attempt before.
  std::function<void(int attempt, double wait_s, const std::string& error)> on_retry;
};

/// What to put on a sealed object besides its bytes.
struct PutOptions {
  std::string content_type = "application/octet-stream";
  std::string object_lock_mode;          // "", "GOVERNANCE", "COMPLIANCE"
  std::string object_lock_retain_until;  // RFC 3339, with the mode
  bool server_side_encryption = true;    // apply the config's sse/sse_kms_key_id
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  std::string etag;  // without quotes
  // From HeadObject only: the object's Object Lock, empty when it has none, and its time.
  std::string lock_mode;          // x-amz-object-lock-mode
  std::string lock_retain_until;  // x-amz-object-lock-retain-until-date (RFC 3339)
  std::string last_modified;      // Last-Modified (HTTP date)
};

/// The server's clock against this machine's, from one answer's Date header.
struct ServerClock {
  std::string date;     // the Date header as the server sent it
  double offset_s = 0;  // the server's time minus ours (positive: ours is behind)
  double error_s = 0;   // the true offset is within offset_s +- error_s (Date's whole seconds,
                        // the round trip)
};

/// A bucket's Object Lock configuration (GetObjectLockConfiguration).
struct BucketObjectLock {
  bool enabled = false;  // ObjectLockEnabled is "Enabled"
  std::string mode;      // the default retention's Mode, "" without one
  int days = 0;          // the default retention's Days, or
  int years = 0;         // its Years
};

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::string next_token;  // empty on the last page
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // without quotes
};

/// A client for one bucket. Not thread-safe: give each thread its own.
class S3Client {
 public:
  /// Builds a client for `bucket` from the config's endpoint (empty: AWS's regional endpoint),
  /// region, path_style and ca_file. Does no I/O.
  static Result<std::unique_ptr<S3Client>> Create(const S3Config& cfg, const std::string& bucket,
                                                  AwsCredentials creds, S3RetryPolicy policy = {});
  ~S3Client();

  /// Uploads `body` with Content-MD5 and x-amz-checksum-sha256; checks the returned ETag (MD5)
  /// unless the bucket encrypts with KMS, and the returned checksum when the server sends one.
  /// Returns the ETag.
  Result<std::string> PutObject(const std::string& key, std::string_view body,
                                const PutOptions& opts = {});

  /// Starts a multipart upload; returns its upload id.
  Result<std::string> CreateMultipartUpload(const std::string& key, const PutOptions& opts = {});
  /// Uploads one part (numbers from 1; every part but the last >= 5 MiB); returns its ETag,
  /// checked against the part's MD5.
  Result<std::string> UploadPart(const std::string& key, const std::string& upload_id,
                                 int part_number, std::string_view body);
  /// Completes the upload. `whole_md5_hex` (MD5 of all bytes, optional) lets the final ETag be
  /// checked when the server returns a plain MD5 rather than "md5-of-md5s-N". If the upload is
  /// already gone (NoSuchUpload, e.g. a retried completion), succeeds when the object exists
  /// with `expected_size` bytes.
  Status CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                 const std::vector<CompletedPart>& parts,
                                 const std::string& whole_md5_hex, uint64_t expected_size);
  Status AbortMultipartUpload(const std::string& key, const std::string& upload_id);

  /// One page of ListObjectsV2 under `prefix`; a non-empty `start_after` (first page only)
  /// lists only keys after it.
  Result<ListPage> ListObjectsV2(const std::string& prefix, const std::string& token,
                                 int max_keys = 1000, const std::string& start_after = "");
  /// Every object under `prefix` (after `start_after` when given), following continuation
  /// tokens.
  Result<std::vector<ObjectInfo>> ListAll(const std::string& prefix,
                                          const std::string& start_after = "");

  /// The object's bytes; with `length` > 0, only [offset, offset+length) via Range.
  Result<std::string> GetObject(const std::string& key, uint64_t offset = 0, uint64_t length = 0);
  /// The object's size and ETag, or nullopt when it does not exist.
  Result<std::optional<ObjectInfo>> HeadObject(const std::string& key);
  /// Deletes the object (no error when it is already gone).
  Status DeleteObject(const std::string& key);

  /// Reads the server's clock: one signed HEAD of the bucket, not retried, whose answer,
  /// whatever its status (a refusal for a skewed clock too), carries a Date header. An error
  /// when there is no answer, or it has no Date that parses.
  Result<ServerClock> ReadServerClock();
  /// The bucket's Object Lock configuration; `enabled` false when the bucket has none
  /// (ObjectLockConfigurationNotFoundError). An error when it cannot be read.
  Result<BucketObjectLock> GetObjectLockConfiguration();

  const std::string& bucket() const { return bucket_; }

 private:
  struct Response;
  S3Client() = default;
  Result<Response> Send(const std::string& method, const std::string& key,
                        const std::vector<std::pair<std::string, std::string>>& query,
                        HeaderList headers, std::string_view body);
  Result<Response> SendOnce(const std::string& method, const std::string& key,
                            const std::vector<std::pair<std::string, std::string>>& query,
                            const HeaderList& headers, std::string_view body,
                            const std::string& body_sha256, bool* retryable);
  void AddPutHeaders(HeaderList& h, const PutOptions& opts) const;
  std::string Describe(const std::string& method, const std::string& key) const;

  S3Config cfg_;
  std::string bucket_;
  AwsCredentials creds_;
  S3RetryPolicy policy_;
  bool https_ = false;
  std::string host_;         // Host header value
  std::string path_prefix_;  // "/bucket" for path-style, "" for virtual-hosted
  std::unique_ptr<httplib::Client> http_;
};

/// S3's error body (<Error><Code>..</Code><Message>..</Message></Error>) as "Code: Message",
/// or empty when `xml` is not one.
std::string ParseS3Error(std::string_view xml);

/// A GetObjectLockConfiguration response's body.
BucketObjectLock ParseObjectLockConfiguration(std::string_view xml);

/// An HTTP date ("Thu, 03 Dec 2026 20:02:12 GMT", IMF-fixdate) as Unix seconds, or nullopt.
std::optional<int64_t> ParseHttpDate(const std::string& s);

/// A ListObjectsV2 response's page; an error when it says it is truncated but gives no token.
Result<ListPage> ParseListObjectsV2(std::string_view xml);

/// The text of the first <tag>...</tag> in `xml` at or after `from`, entities decoded.
std::optional<std::string> XmlTagText(std::string_view xml, std::string_view tag,
                                      size_t* from = nullptr);

}  // namespace ttyaudit
