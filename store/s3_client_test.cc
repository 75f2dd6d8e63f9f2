#include "store/s3_client.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>

#include "tests/unit/s3_client_testing.h"

namespace ttyaudit {
namespace {

S3RetryPolicy FastPolicy(int attempts = 3) {
  S3RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay_s = 0.01;
  p.max_delay_s = 0.05;
  p.connect_timeout_s = 2;
  p.read_timeout_s = 10;
  p.write_timeout_s = 10;
  return p;
}

std::unique_ptr<S3Client> ClientFor(const std::string& endpoint, S3RetryPolicy p = FastPolicy()) {
  S3Config cfg;
  cfg.endpoint = endpoint;
  auto c = S3Client::Create(cfg, "tb", {"S3RVER", "S3RVER", ""}, p);
  REQUIRE(c.ok());
  return std::move(c.value());
}

// Sets an environment variable for one scope and puts the old value back.
struct ScopedEnv {
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    had_ = old != nullptr;
    if (had_) old_ = old;
    if (value)
      setenv(name, value, 1);
    else
      unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }
  const char* name_;
  bool had_ = false;
  std::string old_;
};

TEST_CASE("s3 client: S3 error bodies become code and message") {
  CHECK(ParseS3Error("<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The key "
                     "&amp; more &lt;x&gt;</Message></Error>") == "NoSuchKey: The key & more <x>");
  CHECK(ParseS3Error("<ListBucketResult/>").empty());
  CHECK(XmlTagText("<a><K>x&#47;y&#x41;</K></a>", "K").value() == "x/yA");
}

TEST_CASE("s3 client: a listing page gives keys, sizes, ETags and the next token") {
  auto page = ParseListObjectsV2(
      "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>t/1="
      "</NextContinuationToken><Contents><Key>a&amp;b.json</Key><Size>12</Size><ETag>&quot;e1"
      "&quot;</ETag></Contents><Contents><Key>c</Key><Size>x</Size></Contents></ListBucketResult>");
  REQUIRE(page.ok());
  REQUIRE(page->objects.size() == 2);
  CHECK(page->objects[0].key == "a&b.json");
  CHECK(page->objects[0].size == 12);
  CHECK(page->objects[0].etag == "e1");
  CHECK(page->objects[1].size == 0);
  CHECK(page->next_token == "t/1=");
  CHECK_FALSE(ParseListObjectsV2("<IsTruncated>true</IsTruncated>").ok());
}

TEST_CASE("s3 client: a response full of '&' without entities decodes in one pass") {
  // Each '&' looked for a ';' to the end of the text: quadratic in a hostile server's response.
  const std::string amps(8 << 20, '&');
  auto start = std::chrono::steady_clock::now();
  auto text = XmlTagText("<Key>" + amps + "</Key>", "Key");
  auto took = std::chrono::steady_clock::now() - start;
  REQUIRE(text.has_value());
  CHECK(*text == amps);
  CHECK(took < std::chrono::seconds(2));
}

TEST_CASE("s3 client: an Object Lock configuration gives its state and default retention") {
  BucketObjectLock lock = ParseObjectLockConfiguration(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ObjectLockConfiguration xmlns=\"http://"
      "s3.amazonaws.com/doc/2006-03-01/\"><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule>"
      "<DefaultRetention><Mode>COMPLIANCE</Mode><Days>30</Days></DefaultRetention></Rule>"
      "</ObjectLockConfiguration>");
  CHECK(lock.enabled);
  CHECK(lock.mode == "COMPLIANCE");
  CHECK(lock.days == 30);
  CHECK(lock.years == 0);
  lock = ParseObjectLockConfiguration(
      "<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
      "</ObjectLockConfiguration>");
  CHECK(lock.enabled);
  CHECK(lock.mode.empty());
  CHECK_FALSE(ParseObjectLockConfiguration("<ObjectLockConfiguration/>").enabled);
  CHECK_FALSE(ParseObjectLockConfiguration("<Error><Code>NotImplemented</Code></Error>").enabled);
}

TEST_CASE("s3 client: HTTP dates parse to Unix seconds, and nothing else does") {
  CHECK(ParseHttpDate("Thu, 03 Dec 2026 20:02:12 GMT") == 1796328132);
  CHECK(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT") == 0);
  CHECK_FALSE(ParseHttpDate("").has_value());
  CHECK_FALSE(ParseHttpDate("2026-12-03T20:02:12Z").has_value());
  CHECK_FALSE(ParseHttpDate("Thu, 03 Dec 2026 20:02:12 GMT and more").has_value());
}

TEST_CASE("s3 client: s3rver's clock agrees with ours, and it has no Object Lock to read") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  auto client = ClientFor(s3.endpoint(), FastPolicy(1));
  auto clock = client->ReadServerClock();
  REQUIRE_MESSAGE(clock.ok(), clock.message());
  CHECK(clock->date.ends_with(" GMT"));
  CHECK(clock->error_s >= 0.5);
  CHECK(clock->error_s < 5);
  // The same machine's clock: within the measurement's own error.
  CHECK(std::abs(clock->offset_s) <= clock->error_s + 0.01);
  auto lock = client->GetObjectLockConfiguration();
  REQUIRE_FALSE(lock.ok());
  CHECK(lock.message().find("NotImplemented") != std::string::npos);
}

TEST_CASE("s3 client: s3:// URLs split into bucket and prefix") {
  auto u = ParseS3Url("s3://bucket/a/b/");
  REQUIRE(u.ok());
  CHECK(u->first == "bucket");
  CHECK(u->second == "a/b");
  CHECK(ParseS3Url("s3://bucket")->second.empty());
  CHECK_FALSE(ParseS3Url("file:///x").ok());
  CHECK_FALSE(ParseS3Url("s3:///p").ok());
}

TEST_CASE("s3 client: credentials come from the config, then the environment, then the file") {
  char dir[] = "/tmp/ttyaudit-creds-XXXXXX";
  REQUIRE(mkdtemp(dir));
  std::string file = std::string(dir) + "/credentials";
  FILE* f = fopen(file.c_str(), "w");
  REQUIRE(f);
  fputs(
      "[default]\naws_access_key_id = DEFAULTKEY\naws_secret_access_key = dsecret\n\n"
      "[ci]\naws_access_key_id=CIKEY\naws_secret_access_key=cisecret\n"
      "aws_session_token = citoken\n",
      f);
  fclose(f);
  ScopedEnv a("AWS_ACCESS_KEY_ID", nullptr), b("AWS_SECRET_ACCESS_KEY", nullptr),
      t("AWS_SESSION_TOKEN", nullptr), p("AWS_PROFILE", nullptr),
      s("AWS_SHARED_CREDENTIALS_FILE", file.c_str());
  S3Config cfg;
  CHECK(ResolveCredentials(cfg)->access_key_id == "DEFAULTKEY");
  {
    ScopedEnv prof("AWS_PROFILE", "ci");
    auto c = ResolveCredentials(cfg);
    CHECK(c->access_key_id == "CIKEY");
    CHECK(c->session_token == "citoken");
  }
  {
    ScopedEnv k("AWS_ACCESS_KEY_ID", "ENVKEY"), sk("AWS_SECRET_ACCESS_KEY", "envsecret");
    CHECK(ResolveCredentials(cfg)->access_key_id == "ENVKEY");
    cfg.access_key_id = "CFGKEY";
    cfg.secret_access_key = "cfgsecret";
    CHECK(ResolveCredentials(cfg)->access_key_id == "CFGKEY");
  }
  {
    ScopedEnv prof("AWS_PROFILE", "missing");
    S3Config none;
    auto c = ResolveCredentials(none);
    CHECK_FALSE(c.ok());
    CHECK(c.message().find("missing") != std::string::npos);
  }
  unlink(file.c_str());
  rmdir(dir);
}

TEST_CASE("s3 client: objects round-trip through s3rver with ranges, listing and deletes") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  auto c = ClientFor(s3.endpoint());
  const std::string key = "sessions/date=2026-11-25/ns/pod a+b/c/ü$x.cast";
  std::string body;
  for (int i = 0; i < 1000; ++i) body += "[" + std::to_string(i) + ", \"o\", \"line\"]\n";
  auto etag = c->PutObject(key, body);
  REQUIRE_MESSAGE(etag.ok(), etag.message());
  CHECK(c->GetObject(key).value() == body);
  CHECK(c->GetObject(key, 10, 25).value() == body.substr(10, 25));
  auto head = c->HeadObject(key);
  REQUIRE(head.ok());
  REQUIRE(head->has_value());
  CHECK((*head)->size == body.size());
  CHECK(!c->HeadObject("nope").value().has_value());
  auto missing = c->GetObject("nope");
  CHECK_FALSE(missing.ok());
  CHECK(missing.message().find("404 NoSuchKey") != std::string::npos);

  for (int i = 0; i < 5; ++i) REQUIRE(c->PutObject("list/k" + std::to_string(i), "x").ok());
  auto page = c->ListObjectsV2("list/", "", 2);
  REQUIRE(page.ok());
  CHECK(page->objects.size() == 2);
  CHECK(!page->next_token.empty());
  auto all = c->ListAll("list/");
  REQUIRE(all.ok());
  REQUIRE(all->size() == 5);
  CHECK(all->at(4).key == "list/k4");
  CHECK(all->at(4).size == 1);

  REQUIRE(c->DeleteObject("list/k0").ok());
  CHECK(c->DeleteObject("list/k0").ok());
  CHECK(c->ListAll("list/")->size() == 4);
}

TEST_CASE("s3 client: a multipart upload of two parts assembles the exact bytes") {
  testing::TestS3rver s3("tb");
  REQUIRE_MESSAGE(s3.ok(), s3.problem());
  auto c = ClientFor(s3.endpoint());
  std::string a(5 << 20, 'a'), b = "tail bytes";
  for (size_t i = 0; i < a.size(); i += 4096) a[i] = static_cast<char>('A' + i % 26);
  auto id = c->CreateMultipartUpload("big/obj");
  REQUIRE_MESSAGE(id.ok(), id.message());
  auto e1 = c->UploadPart("big/obj", *id, 1, a);
  auto e2 = c->UploadPart("big/obj", *id, 2, b);
  REQUIRE(e1.ok());
  REQUIRE(e2.ok());
  Digest whole(Digest::kMd5);
  whole.Update(a);
  whole.Update(b);
  std::string md5 = HexEncode(whole.Final());
  Status done =
      c->CompleteMultipartUpload("big/obj", *id, {{1, *e1}, {2, *e2}}, md5, a.size() + b.size());
  REQUIRE_MESSAGE(done.ok(), done.message());
  CHECK(c->GetObject("big/obj").value() == a + b);
  // Completing again (a lost reply, a restart) finds the object and succeeds.
  CHECK(c->CompleteMultipartUpload("big/obj", *id, {{1, *e1}, {2, *e2}}, md5, a.size() + b.size())
            .ok());
  // A wrong size does not pass as done.
  CHECK_FALSE(c->CompleteMultipartUpload("big/obj", *id, {{1, *e1}}, md5, 7).ok());
  // (s3rver 3.7 answers AbortMultipartUpload with 405, so aborting is not checked here.)
}

TEST_CASE("s3 client: an unreachable endpoint fails after the configured attempts") {
  // A port that was free a moment ago and has no listener.
  int sock = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  REQUIRE(bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  REQUIRE(getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  int port = ntohs(addr.sin_port);
  close(sock);
  auto c = ClientFor("http://127.0.0.1:" + std::to_string(port), FastPolicy(3));
  auto r = c->PutObject("k", "x");
  REQUIRE_FALSE(r.ok());
  CHECK(r.message().find("PUT s3://tb/k") != std::string::npos);
  CHECK(r.message().find("after 3 attempts") != std::string::npos);
}

// s3rver cannot be told to fail on demand; this small server answers like a throttled S3.
TEST_CASE("s3 client: SlowDown and 500 are retried, and a wrong ETag is never success") {
  testing::StandInS3 stand_in;
  httplib::Server& srv = stand_in.server;
  std::atomic<int> calls{0};
  std::atomic<bool> bad_etag{false};
  srv.Put("/tb/k", [&](const httplib::Request& req, httplib::Response& res) {
    int n = ++calls;
    if (n == 1) {
      res.status = 503;
      res.set_content("<Error><Code>SlowDown</Code><Message>Reduce your rate</Message></Error>",
                      "application/xml");
      return;
    }
    if (n == 2) {
      res.status = 500;
      return;
    }
    Digest md5(Digest::kMd5);
    md5.Update(req.body);
    res.set_header("ETag",
                   "\"" + (bad_etag ? std::string(32, '0') : HexEncode(md5.Final())) + "\"");
    CHECK(req.get_header_value("Content-Length") == std::to_string(req.body.size()));
    CHECK(req.get_header_value("Authorization").rfind("AWS4-HMAC-SHA256 Credential=S3RVER/", 0) ==
          0);
  });
  srv.Put("/tb/denied", [&](const httplib::Request&, httplib::Response& res) {
    ++calls;
    res.status = 403;
    res.set_content("<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                    "application/xml");
  });
  const std::string endpoint = stand_in.Start();
  auto c = ClientFor(endpoint, FastPolicy(4));
  auto ok = c->PutObject("k", "payload");
  CHECK_MESSAGE(ok.ok(), ok.message());
  CHECK(calls == 3);

  calls = 0;
  bad_etag = true;
  auto bad = c->PutObject("k", "payload");
  CHECK_FALSE(bad.ok());
  CHECK(bad.message().find("not the MD5") != std::string::npos);

  calls = 0;
  auto denied = c->PutObject("denied", "x");
  CHECK_FALSE(denied.ok());
  CHECK(denied.message().find("403 AccessDenied: Access Denied") != std::string::npos);
  CHECK(calls == 1);  // a 4xx other than 429 is not retried
}

TEST_CASE("s3 client: sealed objects carry object lock and SSE headers, all signed") {
  testing::StandInS3 stand_in;
  httplib::Server& srv = stand_in.server;
  httplib::Headers seen;
  srv.Put("/tb/sealed", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.headers;
    Digest md5(Digest::kMd5);
    md5.Update(req.body);
    res.set_header("ETag", "\"" + HexEncode(md5.Final()) + "\"");
  });
  const std::string endpoint = stand_in.Start();
  S3Config cfg;
  cfg.endpoint = endpoint;
  cfg.sse = "AES256";
  auto c = S3Client::Create(cfg, "tb", {"AK", "SK", "TOKEN"}, FastPolicy());
  REQUIRE(c.ok());
  PutOptions o;
  o.content_type = "application/x-asciicast";
  o.object_lock_mode = "COMPLIANCE";
  o.object_lock_retain_until = "2027-11-25T00:00:00.000Z";
  auto r = c.value()->PutObject("sealed", "body", o);
  REQUIRE_MESSAGE(r.ok(), r.message());
  auto get = [&](const char* name) {
    auto it = seen.find(name);
    return it == seen.end() ? std::string() : it->second;
  };
  CHECK(get("x-amz-object-lock-mode") == "COMPLIANCE");
  CHECK(get("x-amz-object-lock-retain-until-date") == "2027-11-25T00:00:00.000Z");
  CHECK(get("x-amz-server-side-encryption") == "AES256");
  CHECK(get("x-amz-security-token") == "TOKEN");
  CHECK(get("Content-MD5") == "hBotaJrYa9FhFEdFPCLG/A==");
  CHECK(get("x-amz-checksum-sha256") == "Iw2DWNyOiJC0xY3utikS7i8gNXrpKlzIYbmOaP4xrLU=");
  CHECK(get("Content-Length") == "4");
  std::string auth = get("Authorization");
  CHECK(auth.find("SignedHeaders=content-md5;content-type;host;x-amz-checksum-sha256;"
                  "x-amz-content-sha256;x-amz-date;x-amz-object-lock-mode;"
                  "x-amz-object-lock-retain-until-date;x-amz-security-token;"
                  "x-amz-server-side-encryption,") != std::string::npos);
}

// With SSE-KMS, S3's ETag is not the MD5 of the object, so the ETag cannot prove the bytes
// arrived; the SHA-256 checksum S3 echoes back can, and a reply with neither proves nothing.
TEST_CASE("s3 client: under aws:kms the echoed SHA-256 decides, not the ETag") {
  testing::StandInS3 stand_in;
  httplib::Server& srv = stand_in.server;
  httplib::Headers seen;
  std::atomic<int> mode{0};  // 0: opaque ETag + right checksum, 1: wrong checksum, 2: neither
  srv.Put("/tb/kms", [&](const httplib::Request& req, httplib::Response& res) {
    seen = req.headers;
    if (mode == 2) return;
    res.set_header("ETag", "\"" + std::string(32, 'e') + "\"");
    std::string sum = req.get_header_value("x-amz-checksum-sha256");
    res.set_header("x-amz-checksum-sha256", mode == 0 ? sum : std::string(43, 'A') + "=");
  });
  const std::string endpoint = stand_in.Start();
  S3Config cfg;
  cfg.endpoint = endpoint;
  cfg.sse = "aws:kms";
  cfg.sse_kms_key_id = "arn:aws:kms:us-east-1:111122223333:key/test";
  auto c = S3Client::Create(cfg, "tb", {"AK", "SK", ""}, FastPolicy());
  REQUIRE(c.ok());

  auto ok = c.value()->PutObject("kms", "body");
  CHECK_MESSAGE(ok.ok(), ok.message());
  auto get = [&](const char* name) {
    auto it = seen.find(name);
    return it == seen.end() ? std::string() : it->second;
  };
  CHECK(get("x-amz-server-side-encryption") == "aws:kms");
  CHECK(get("x-amz-server-side-encryption-aws-kms-key-id") == cfg.sse_kms_key_id);
  CHECK(get("Authorization").find("x-amz-server-side-encryption-aws-kms-key-id") !=
        std::string::npos);

  mode = 1;
  auto wrong = c.value()->PutObject("kms", "body");
  CHECK_FALSE(wrong.ok());
  CHECK(wrong.message().find("is not ours") != std::string::npos);

  mode = 2;
  auto bare = c.value()->PutObject("kms", "body");
  CHECK_FALSE(bare.ok());
  CHECK(bare.message().find("without an ETag") != std::string::npos);

  // Without encryption on this object, the ETag rule applies again: 'eee...' is not an MD5.
  mode = 0;
  PutOptions plain;
  plain.server_side_encryption = false;
  auto unencrypted = c.value()->PutObject("kms", "body", plain);
  CHECK_FALSE(unencrypted.ok());
  CHECK(unencrypted.message().find("not the MD5") != std::string::npos);
}

}  // namespace
}  // namespace ttyaudit
