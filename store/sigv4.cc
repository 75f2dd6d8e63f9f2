#include "store/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <ctime>

namespace ttyaudit {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Trims the value and collapses runs of spaces, as SigV4's Trimall does.
std::string TrimAll(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> enc;
  enc.reserve(query.size());
  for (const auto& [k, v] : query) enc.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(enc.begin(), enc.end());
  std::string out;
  for (const auto& [k, v] : enc) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

}  // namespace

std::string HexEncode(std::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

Digest::Digest(Kind kind) : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), kind == kSha256 ? EVP_sha256() : EVP_md5(),
                    nullptr);
}

Digest::~Digest() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }

void Digest::Update(std::string_view data) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), data.data(), data.size());
}

std::string Digest::Final() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string Sha256Hex(std::string_view data) {
  Digest d(Digest::kSha256);
  d.Update(data);
  return HexEncode(d.Final());
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<char*>(md), len);
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' ||
        (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Result SignRequestV4(const SigV4Request& req, const AwsCredentials& creds,
                          std::string_view region, std::string_view service, int64_t unix_seconds) {
  SigV4Result r;
  const std::string amz_date = AmzDate(unix_seconds);
  const std::string day = amz_date.substr(0, 8);

  r.headers.emplace_back("x-amz-date", amz_date);
  r.headers.emplace_back("x-amz-content-sha256", req.payload_sha256);
  if (!creds.session_token.empty())
    r.headers.emplace_back("x-amz-security-token", creds.session_token);

  // Lowercased names, sorted; repeated names join their values with ','.
  std::vector<std::pair<std::string, std::string>> signed_headers;
  signed_headers.emplace_back("host", TrimAll(req.host));
  for (const auto& [k, v] : req.headers) signed_headers.emplace_back(Lower(k), TrimAll(v));
  for (const auto& [k, v] : r.headers) signed_headers.emplace_back(k, v);
  std::stable_sort(signed_headers.begin(), signed_headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string canonical_headers, names;
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    const auto& [k, v] = signed_headers[i];
    if (i > 0 && signed_headers[i - 1].first == k) {
      canonical_headers.back() = ',';  // replace the '\n' of the previous value
      canonical_headers += v + "\n";
      continue;
    }
    canonical_headers += k + ":" + v + "\n";
    if (!names.empty()) names += ';';
    names += k;
  }

  r.canonical_request = req.method + "\n" + UriEncode(req.path.empty() ? "/" : req.path, true) +
                        "\n" + CanonicalQuery(req.query) + "\n" + canonical_headers + "\n" + names +
                        "\n" + req.payload_sha256;
  const std::string scope =
      day + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  r.string_to_sign =
      "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" + Sha256Hex(r.canonical_request);

  std::string key = HmacSha256("AWS4" + creds.secret_access_key, day);
  key = HmacSha256(key, region);
  key = HmacSha256(key, service);
  key = HmacSha256(key, "aws4_request");
  r.signature = HexEncode(HmacSha256(key, r.string_to_sign));

  r.headers.emplace_back("Authorization", "AWS4-HMAC-SHA256 Credential=" + creds.access_key_id +
                                              "/" + scope + ", SignedHeaders=" + names +
                                              ", Signature=" + r.signature);
  return r;
}

}  // namespace ttyaudit
