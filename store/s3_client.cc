#include "store/s3_client.h"

#include <httplib.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include "base/files.h"
#include "base/ids.h"
#include "base/utf8.h"

namespace ttyaudit {

namespace {

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string Unquote(std::string s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') return s.substr(1, s.size() - 2);
  return s;
}

std::string XmlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '&') {
      out += s[i];
      continue;
    }
    size_t semi = s.find(';', i);
    if (semi == std::string_view::npos) {  // no entity from here on: not one scan per '&'
      out.append(s.substr(i));
      break;
    }
    std::string_view ent = s.substr(i + 1, semi - i - 1);
    if (ent == "amp")
      out += '&';
    else if (ent == "lt")
      out += '<';
    else if (ent == "gt")
      out += '>';
    else if (ent == "quot")
      out += '"';
    else if (ent == "apos")
      out += '\'';
    else if (!ent.empty() && ent[0] == '#') {
      unsigned long cp = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                             ? std::strtoul(std::string(ent.substr(2)).c_str(), nullptr, 16)
                             : std::strtoul(std::string(ent.substr(1)).c_str(), nullptr, 10);
      AppendUtf8(out, static_cast<uint32_t>(cp));
    } else {
      out.append(s.substr(i, semi - i + 1));
    }
    i = semi;
  }
  return out;
}

std::string Md5Of(std::string_view body) {
  Digest d(Digest::kMd5);
  d.Update(body);
  return d.Final();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

struct Endpoint {
  bool https = true;
  std::string host;  // without port
  int port = 443;
};

Result<Endpoint> ParseEndpoint(const S3Config& cfg) {
  Endpoint ep;
  std::string url =
      cfg.endpoint.empty() ? "https://s3." + cfg.region + ".amazonaws.com" : cfg.endpoint;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string::npos)
    return Error{"s3.endpoint: want http://HOST[:PORT] or https://HOST[:PORT], got `" + url + "`"};
  std::string scheme = Lower(url.substr(0, scheme_end));
  if (scheme != "http" && scheme != "https")
    return Error{"s3.endpoint: scheme must be http or https, got `" + url + "`"};
  ep.https = scheme == "https";
  std::string hostport = url.substr(scheme_end + 3);
  if (size_t slash = hostport.find('/'); slash != std::string::npos) {
    if (hostport.substr(slash) != "/")
      return Error{"s3.endpoint: a path is not supported, got `" + url + "`"};
    hostport.resize(slash);
  }
  ep.port = ep.https ? 443 : 80;
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos && hostport.find(']', colon) == std::string::npos) {
    char* end = nullptr;
    long p = std::strtol(hostport.c_str() + colon + 1, &end, 10);
    if (*end != '\0' || p <= 0 || p > 65535) return Error{"s3.endpoint: bad port in `" + url + "`"};
    ep.port = static_cast<int>(p);
    hostport.resize(colon);
  }
  if (hostport.empty()) return Error{"s3.endpoint: no host in `" + url + "`"};
  ep.host = hostport;
  return ep;
}

bool Retryable(int status, const std::string& code) {
  return status >= 500 || status == 429 || code == "SlowDown" || code == "RequestTimeout" ||
         code == "InternalError";
}

// Reads one INI profile from the shared credentials file.
Result<AwsCredentials> CredentialsFromFile(const std::string& path, const std::string& profile) {
  auto text = ReadFile(path, 1 << 20);
  if (!text) return Error{"no credentials file `" + path + "`"};
  std::istringstream in(*text);
  AwsCredentials c;
  std::string line, section;
  while (std::getline(in, line)) {
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#' || t[0] == ';') continue;
    if (t.front() == '[' && t.back() == ']') {
      section = Trim(t.substr(1, t.size() - 2));
      continue;
    }
    if (section != profile) continue;
    size_t eq = t.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Trim(t.substr(0, eq)), v = Trim(t.substr(eq + 1));
    if (k == "aws_access_key_id")
      c.access_key_id = v;
    else if (k == "aws_secret_access_key")
      c.secret_access_key = v;
    else if (k == "aws_session_token")
      c.session_token = v;
  }
  if (c.access_key_id.empty() || c.secret_access_key.empty())
    return Error{"profile `" + profile + "` in `" + path + "` has no aws_access_key_id and " +
                 "aws_secret_access_key"};
  return c;
}

const char* Env(const char* name) {
  const char* v = std::getenv(name);
  return v && *v ? v : nullptr;
}

}  // namespace

std::optional<std::string> XmlTagText(std::string_view xml, std::string_view tag, size_t* from) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  size_t start = xml.find(open, from ? *from : 0);
  if (start == std::string_view::npos) return std::nullopt;
  start += open.size();
  size_t end = xml.find(close, start);
  if (end == std::string_view::npos) return std::nullopt;
  if (from) *from = end + close.size();
  return XmlDecode(xml.substr(start, end - start));
}

BucketObjectLock ParseObjectLockConfiguration(std::string_view xml) {
  BucketObjectLock lock;
  lock.enabled = XmlTagText(xml, "ObjectLockEnabled").value_or("") == "Enabled";
  if (auto retention = XmlTagText(xml, "DefaultRetention")) {
    lock.mode = XmlTagText(*retention, "Mode").value_or("");
    lock.days = std::atoi(XmlTagText(*retention, "Days").value_or("0").c_str());
    lock.years = std::atoi(XmlTagText(*retention, "Years").value_or("0").c_str());
  }
  return lock;
}

std::optional<int64_t> ParseHttpDate(const std::string& s) {
  struct tm tm {};
  const char* end = strptime(s.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (!end || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(timegm(&tm));
}

Result<ListPage> ParseListObjectsV2(std::string_view xml) {
  ListPage page;
  size_t pos = 0;
  while (auto contents = XmlTagText(xml, "Contents", &pos)) {
    ObjectInfo o;
    o.key = XmlTagText(*contents, "Key").value_or("");
    o.size = std::strtoull(XmlTagText(*contents, "Size").value_or("0").c_str(), nullptr, 10);
    o.etag = Unquote(XmlTagText(*contents, "ETag").value_or(""));
    page.objects.push_back(std::move(o));
  }
  if (XmlTagText(xml, "IsTruncated").value_or("false") == "true") {
    page.next_token = XmlTagText(xml, "NextContinuationToken").value_or("");
    if (page.next_token.empty()) return Error{"truncated without a continuation token"};
  }
  return page;
}

std::string ParseS3Error(std::string_view xml) {
  if (xml.find("<Error>") == std::string_view::npos) return "";
  std::string code = XmlTagText(xml, "Code").value_or("");
  std::string msg = XmlTagText(xml, "Message").value_or("");
  if (code.empty()) return "";
  return msg.empty() ? code : code + ": " + msg;
}

Result<AwsCredentials> ResolveCredentials(const S3Config& cfg) {
  if (!cfg.access_key_id.empty() || !cfg.secret_access_key.empty()) {
    if (cfg.access_key_id.empty() || cfg.secret_access_key.empty())
      return Error{"config: s3.access_key_id and s3.secret_access_key go together"};
    return AwsCredentials{cfg.access_key_id, cfg.secret_access_key, cfg.session_token};
  }
  if (Env("AWS_ACCESS_KEY_ID") || Env("AWS_SECRET_ACCESS_KEY")) {
    if (!Env("AWS_ACCESS_KEY_ID") || !Env("AWS_SECRET_ACCESS_KEY"))
      return Error{"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY go together"};
    const char* token = Env("AWS_SESSION_TOKEN");
    return AwsCredentials{Env("AWS_ACCESS_KEY_ID"), Env("AWS_SECRET_ACCESS_KEY"),
                          token ? token : ""};
  }
  std::string path;
  if (const char* f = Env("AWS_SHARED_CREDENTIALS_FILE"))
    path = f;
  else if (const char* home = Env("HOME"))
    path = std::string(home) + "/.aws/credentials";
  else
    path = "/root/.aws/credentials";
  const char* profile = Env("AWS_PROFILE");
  auto c = CredentialsFromFile(path, profile ? profile : "default");
  if (!c.ok())
    return Error{
        "no S3 credentials: none in the config (s3.access_key_id), none in "
        "AWS_ACCESS_KEY_ID, and " +
        c.message()};
  return c;
}

Result<std::pair<std::string, std::string>> ParseS3Url(std::string_view url) {
  if (url.substr(0, 5) != "s3://") return Error{"not an s3:// URL: `" + std::string(url) + "`"};
  std::string rest(url.substr(5));
  size_t slash = rest.find('/');
  std::string bucket = rest.substr(0, slash);
  std::string prefix = slash == std::string::npos ? "" : rest.substr(slash + 1);
  while (!prefix.empty() && prefix.back() == '/') prefix.pop_back();
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  if (bucket.empty()) return Error{"no bucket in `" + std::string(url) + "`"};
  return std::make_pair(bucket, prefix);
}

struct S3Client::Response {
  int status = 0;
  std::string body;
  httplib::Headers headers;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

S3Client::~S3Client() = default;

Result<std::unique_ptr<S3Client>> S3Client::Create(const S3Config& cfg, const std::string& bucket,
                                                   AwsCredentials creds, S3RetryPolicy policy) {
  auto ep = ParseEndpoint(cfg);
  if (!ep.ok()) return ep.error();
  if (bucket.empty()) return Error{"S3: no bucket name"};
  std::unique_ptr<S3Client> c(new S3Client());
  c->cfg_ = cfg;
  c->bucket_ = bucket;
  c->creds_ = std::move(creds);
  c->policy_ = policy;
  c->https_ = ep->https;
  std::string conn_host = cfg.path_style ? ep->host : bucket + "." + ep->host;
  c->path_prefix_ = cfg.path_style ? "/" + bucket : "";
  bool default_port = ep->port == (ep->https ? 443 : 80);
  c->host_ = default_port ? conn_host : conn_host + ":" + std::to_string(ep->port);
  c->http_ = std::make_unique<httplib::Client>((ep->https ? "https://" : "http://") + conn_host +
                                               ":" + std::to_string(ep->port));
  if (!c->http_->is_valid()) return Error{"S3: cannot make a client for `" + c->host_ + "`"};
  c->http_->set_connection_timeout(policy.connect_timeout_s, 0);
  c->http_->set_read_timeout(policy.read_timeout_s, 0);
  c->http_->set_write_timeout(policy.write_timeout_s, 0);
  c->http_->set_keep_alive(true);
  // Headers and body go out in separate writes: without TCP_NODELAY, Nagle and delayed ACKs add
  // ~40 ms to every small PUT.
  c->http_->set_tcp_nodelay(true);
  c->http_->set_url_encode(false);  // paths are encoded exactly as they are signed
  c->http_->set_follow_location(false);
  c->http_->set_decompress(false);
  if (ep->https) {
    if (!cfg.ca_file.empty()) c->http_->set_ca_cert_path(cfg.ca_file);
    c->http_->enable_server_certificate_verification(true);
  }
  return c;
}

std::string S3Client::Describe(const std::string& method, const std::string& key) const {
  return method + " s3://" + bucket_ + "/" + key;
}

Result<S3Client::Response> S3Client::SendOnce(
    const std::string& method, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& query, const HeaderList& headers,
    std::string_view body, const std::string& body_sha256, bool* retryable) {
  SigV4Request sreq{method, host_, path_prefix_ + "/" + key, query, headers, body_sha256};
  if (key.empty()) sreq.path = path_prefix_.empty() ? "/" : path_prefix_ + "/";
  SigV4Result signed_req =
      SignRequestV4(sreq, creds_, cfg_.region, "s3", RealtimeNanos() / 1000000000);
  httplib::Request req;
  req.method = method;
  req.path = UriEncode(sreq.path, true);
  std::string q;
  for (const auto& [k, v] : query)
    q += (q.empty() ? "?" : "&") + UriEncode(k, false) +
         (v.empty() ? "" : "=" + UriEncode(v, false));
  req.path += q;
  req.set_header("Host", host_);
  for (const auto& [k, v] : headers) req.set_header(k, v);
  for (const auto& [k, v] : signed_req.headers) req.set_header(k, v);
  if (method == "PUT" || method == "POST") {
    req.body.assign(body.data(), body.size());  // httplib adds the Content-Length
  }
  auto res = http_->send(req);
  // A certificate that does not verify will not verify on the next attempt either.
  if (!res && res.error() == httplib::Error::SSLServerVerification) {
    *retryable = false;
    return Error{Describe(method, key) + ": TLS certificate verification failed (s3.ca_file: " +
                 (cfg_.ca_file.empty() ? "the system's CAs" : "`" + cfg_.ca_file + "`") + ")"};
  }
  if (!res) return Error{Describe(method, key) + ": " + httplib::to_string(res.error())};
  Response r;
  r.status = res->status;
  r.body = std::move(res->body);
  r.headers = res->headers;
  return r;
}

Result<S3Client::Response> S3Client::Send(
    const std::string& method, const std::string& key,
    const std::vector<std::pair<std::string, std::string>>& query, HeaderList headers,
    std::string_view body) {
  const std::string sha = Sha256Hex(body);
  std::mt19937_64 rng(std::random_device{}());
  std::string last;
  for (int attempt = 0; attempt < policy_.max_attempts; ++attempt) {
    if (attempt > 0) {
      double cap =
          std::min(policy_.max_delay_s, policy_.base_delay_s * (1 << std::min(attempt, 20)));
      double wait = std::uniform_real_distribution<double>(cap / 2, cap)(rng);
      if (policy_.on_retry) policy_.on_retry(attempt + 1, wait, last);
      auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(wait);
      while (std::chrono::steady_clock::now() < until) {
        if (policy_.stop && policy_.stop->load()) return Error{last + " (gave up: stopping)"};
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    bool retryable = true;
    auto r = SendOnce(method, key, query, headers, body, sha, &retryable);
    if (!r.ok() && !retryable) return r.error();
    if (!r.ok()) {
      last = r.message();
      http_->stop();  // drop a half-broken keep-alive connection
      continue;
    }
    if (r->status >= 200 && r->status < 300) {
      // CompleteMultipartUpload may fail after the 200 has been sent: the error is the body.
      std::string embedded = ParseS3Error(r->body);
      if (embedded.empty()) return r;
      last = Describe(method, key) + ": " + std::to_string(r->status) + " " + embedded;
      continue;
    }
    std::string err = ParseS3Error(r->body);
    std::string code = XmlTagText(r->body, "Code").value_or("");
    last =
        Describe(method, key) + ": " + std::to_string(r->status) + (err.empty() ? "" : " " + err);
    if (!Retryable(r->status, code)) return Error{last};
  }
  return Error{last + " (after " + std::to_string(policy_.max_attempts) + " attempts)"};
}

void S3Client::AddPutHeaders(HeaderList& h, const PutOptions& opts) const {
  h.emplace_back("Content-Type", opts.content_type);
  if (!opts.object_lock_mode.empty()) {
    h.emplace_back("x-amz-object-lock-mode", opts.object_lock_mode);
    h.emplace_back("x-amz-object-lock-retain-until-date", opts.object_lock_retain_until);
  }
  if (opts.server_side_encryption && !cfg_.sse.empty()) {
    h.emplace_back("x-amz-server-side-encryption", cfg_.sse);
    if (cfg_.sse == "aws:kms" && !cfg_.sse_kms_key_id.empty())
      h.emplace_back("x-amz-server-side-encryption-aws-kms-key-id", cfg_.sse_kms_key_id);
  }
}

Result<std::string> S3Client::PutObject(const std::string& key, std::string_view body,
                                        const PutOptions& opts) {
  const std::string md5 = Md5Of(body);
  Digest sha(Digest::kSha256);
  sha.Update(body);
  const std::string sha_b64 = Base64Encode(sha.Final());
  HeaderList h;
  AddPutHeaders(h, opts);
  h.emplace_back("Content-MD5", Base64Encode(md5));
  h.emplace_back("x-amz-checksum-sha256", sha_b64);
  auto r = Send("PUT", key, {}, h, body);
  if (!r.ok()) return r.error();
  std::string etag = Unquote(r->Header("ETag"));
  std::string echoed = r->Header("x-amz-checksum-sha256");
  if (!echoed.empty() && echoed != sha_b64)
    return Error{Describe("PUT", key) + ": the server's SHA-256 " + echoed + " is not ours " +
                 sha_b64};
  bool kms = opts.server_side_encryption && cfg_.sse == "aws:kms";
  if (!kms && Lower(etag) != HexEncode(md5))
    return Error{Describe("PUT", key) + ": ETag `" + etag + "` is not the MD5 of what was sent (" +
                 HexEncode(md5) + ")"};
  if (kms && etag.empty() && echoed.empty())
    return Error{Describe("PUT", key) + ": 2xx without an ETag"};
  return etag;
}

Result<std::string> S3Client::CreateMultipartUpload(const std::string& key,
                                                    const PutOptions& opts) {
  HeaderList h;
  AddPutHeaders(h, opts);
  auto r = Send("POST", key, {{"uploads", ""}}, h, "");
  if (!r.ok()) return r.error();
  auto id = XmlTagText(r->body, "UploadId");
  if (!id || id->empty()) return Error{Describe("POST", key) + "?uploads: no UploadId in reply"};
  return *id;
}

Result<std::string> S3Client::UploadPart(const std::string& key, const std::string& upload_id,
                                         int part_number, std::string_view body) {
  const std::string md5 = Md5Of(body);
  HeaderList h{{"Content-MD5", Base64Encode(md5)}};
  auto r = Send("PUT", key, {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}},
                h, body);
  if (!r.ok()) return r.error();
  std::string etag = Unquote(r->Header("ETag"));
  bool kms = cfg_.sse == "aws:kms";
  if (!kms && Lower(etag) != HexEncode(md5))
    return Error{Describe("PUT", key) + " part " + std::to_string(part_number) + ": ETag `" + etag +
                 "` is not the part's MD5"};
  return etag;
}

Status S3Client::CompleteMultipartUpload(const std::string& key, const std::string& upload_id,
                                         const std::vector<CompletedPart>& parts,
                                         const std::string& whole_md5_hex, uint64_t expected_size) {
  std::string xml = "<CompleteMultipartUpload>";
  Digest md5s(Digest::kMd5);
  for (const auto& p : parts) {
    xml += "<Part><PartNumber>" + std::to_string(p.number) + "</PartNumber><ETag>\"" + p.etag +
           "\"</ETag></Part>";
    std::string raw;
    for (size_t i = 0; i + 1 < p.etag.size(); i += 2)
      raw += static_cast<char>(std::stoi(p.etag.substr(i, 2), nullptr, 16));
    md5s.Update(raw);
  }
  xml += "</CompleteMultipartUpload>";
  const std::string multi_etag = HexEncode(md5s.Final()) + "-" + std::to_string(parts.size());
  auto r = Send("POST", key, {{"uploadId", upload_id}}, {{"Content-Type", "application/xml"}}, xml);
  std::string etag;
  if (!r.ok()) {
    // Completed before (a lost reply, a restart)? Then the object is there with our bytes; S3
    // says NoSuchUpload, s3rver an InternalError. Anything else still fails below.
    auto head = HeadObject(key);
    if (!head.ok() || !*head || (*head)->size != expected_size) return r.status();
    etag = (*head)->etag;
  } else {
    etag = Unquote(XmlTagText(r->body, "ETag").value_or(""));
  }
  bool kms = cfg_.sse == "aws:kms";
  if (!kms && etag != multi_etag && (whole_md5_hex.empty() || Lower(etag) != whole_md5_hex))
    return Error{Describe("POST", key) + " complete: ETag `" + etag + "` matches neither " +
                 multi_etag + " nor the object's MD5"};
  return Status::Ok();
}

Status S3Client::AbortMultipartUpload(const std::string& key, const std::string& upload_id) {
  auto r = Send("DELETE", key, {{"uploadId", upload_id}}, {}, "");
  if (!r.ok() && r.message().find("NoSuchUpload") == std::string::npos) return r.status();
  return Status::Ok();
}

Result<ListPage> S3Client::ListObjectsV2(const std::string& prefix, const std::string& token,
                                         int max_keys, const std::string& start_after) {
  std::vector<std::pair<std::string, std::string>> q{
      {"list-type", "2"}, {"max-keys", std::to_string(max_keys)}, {"prefix", prefix}};
  if (!token.empty())
    q.emplace_back("continuation-token", token);
  else if (!start_after.empty())
    q.emplace_back("start-after", start_after);
  auto r = Send("GET", "", q, {}, "");
  if (!r.ok()) return r.error();
  auto page = ParseListObjectsV2(r->body);
  if (!page) return Error{Describe("GET", "") + "?list-type=2: " + page.message()};
  return page;
}

Result<std::vector<ObjectInfo>> S3Client::ListAll(const std::string& prefix,
                                                  const std::string& start_after) {
  std::vector<ObjectInfo> all;
  std::string token;
  do {
    auto page = ListObjectsV2(prefix, token, 1000, start_after);
    if (!page.ok()) return page.error();
    for (auto& o : page->objects) all.push_back(std::move(o));
    token = page->next_token;
  } while (!token.empty());
  return all;
}

Result<std::string> S3Client::GetObject(const std::string& key, uint64_t offset, uint64_t length) {
  HeaderList h;
  if (length > 0)
    h.emplace_back("Range",
                   "bytes=" + std::to_string(offset) + "-" + std::to_string(offset + length - 1));
  auto r = Send("GET", key, {}, h, "");
  if (!r.ok()) return r.error();
  if (length > 0 && r->status != 206 && offset > 0)
    return Error{Describe("GET", key) + ": Range ignored (status " + std::to_string(r->status) +
                 ")"};
  if (length > 0 && r->status == 200 && r->body.size() > length) r->body.resize(length);
  return std::move(r->body);
}

Result<std::optional<ObjectInfo>> S3Client::HeadObject(const std::string& key) {
  auto r = Send("HEAD", key, {}, {}, "");
  if (!r.ok()) {
    if (r.message().find(": 404") != std::string::npos) return std::optional<ObjectInfo>();
    return r.error();
  }
  ObjectInfo o;
  o.key = key;
  o.size = std::strtoull(r->Header("Content-Length").c_str(), nullptr, 10);
  o.etag = Unquote(r->Header("ETag"));
  o.lock_mode = r->Header("x-amz-object-lock-mode");
  o.lock_retain_until = r->Header("x-amz-object-lock-retain-until-date");
  o.last_modified = r->Header("Last-Modified");
  return std::optional<ObjectInfo>(o);
}

Status S3Client::DeleteObject(const std::string& key) {
  auto r = Send("DELETE", key, {}, {}, "");
  if (!r.ok() && r.message().find("NoSuchKey") == std::string::npos) return r.status();
  return Status::Ok();
}

Result<ServerClock> S3Client::ReadServerClock() {
  bool retryable = true;
  const int64_t sent = RealtimeNanos();
  auto r = SendOnce("HEAD", "", {}, {}, "", Sha256Hex(""), &retryable);
  const int64_t received = RealtimeNanos();
  if (!r.ok()) return r.error();
  ServerClock c;
  c.date = r->Header("Date");
  auto server = ParseHttpDate(c.date);
  if (!server)
    return Error{Describe("HEAD", "") + ": status " + std::to_string(r->status) +
                 (c.date.empty() ? ", no Date header"
                                 : ", a Date that does not parse: `" + c.date.substr(0, 64) + "`")};
  // The server read its clock somewhere between our send and our receipt, and Date drops the
  // fraction of its second: its time was in [server, server + 1), ours in [sent, received].
  const double mid_local = (static_cast<double>(sent) + static_cast<double>(received)) / 2e9;
  c.offset_s = static_cast<double>(*server) + 0.5 - mid_local;
  c.error_s = 0.5 + static_cast<double>(received - sent) / 2e9;
  return c;
}

Result<BucketObjectLock> S3Client::GetObjectLockConfiguration() {
  auto r = Send("GET", "", {{"object-lock", ""}}, {}, "");
  if (!r.ok()) {
    if (r.message().find("ObjectLockConfigurationNotFound") != std::string::npos)
      return BucketObjectLock{};
    return r.error();
  }
  return ParseObjectLockConfiguration(r->body);
}

}  // namespace ttyaudit
