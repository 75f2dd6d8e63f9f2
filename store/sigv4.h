// AWS Signature Version 4 (header authorization) for S3 requests, and the hashes it rests on.
//
// The signer works on a request description, not on an HTTP library's request type, so the
// S3 client, the tests and any future caller sign exactly the same bytes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ttyaudit {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // empty unless temporary credentials
};

/// What SigV4 covers of one request.
struct SigV4Request {
  std::string method;  // "GET", "PUT", ...
  std::string host;    // the Host header value, with ":port" when not the scheme's default
  std::string path;    // NOT encoded: "/bucket/a key"; SignRequestV4 encodes it once
  std::vector<std::pair<std::string, std::string>> query;  // NOT encoded; "lifecycle" -> ""
  HeaderList headers;          // headers to sign besides host and the x-amz-* ones it adds
  std::string payload_sha256;  // lowercase hex of the body, or "UNSIGNED-PAYLOAD"
};

/// The headers SignRequestV4 adds, in the order to send them.
struct SigV4Result {
  HeaderList headers;  // x-amz-date, x-amz-content-sha256, [x-amz-security-token], Authorization
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;  // lowercase hex
};

/// Signs `req` for `region` and `service` ("s3") at `unix_seconds`. The Authorization value has
/// botocore's form: "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...".
SigV4Result SignRequestV4(const SigV4Request& req, const AwsCredentials& creds,
                          std::string_view region, std::string_view service, int64_t unix_seconds);

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, everything else
/// %XX (uppercase); '/' kept only when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);

/// "20130524T000000Z"
std::string AmzDate(int64_t unix_seconds);

/// Lowercase hex of SHA-256(data).
std::string Sha256Hex(std::string_view data);
/// Raw 32-byte HMAC-SHA256(key, data).
std::string HmacSha256(std::string_view key, std::string_view data);
/// Lowercase hex of raw bytes.
std::string HexEncode(std::string_view bytes);

/// Incremental SHA-256 and MD5 over data that arrives in pieces (a file read in blocks).
class Digest {
 public:
  enum Kind { kSha256, kMd5 };
  explicit Digest(Kind kind);
  ~Digest();
  Digest(const Digest&) = delete;
  Digest& operator=(const Digest&) = delete;
  void Update(std::string_view data);
  /// The raw digest; the object must not be updated afterwards.
  std::string Final();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace ttyaudit
