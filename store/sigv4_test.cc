#include "store/sigv4.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "base/json.h"

namespace ttyaudit {
namespace {

// AWS's documented S3 examples ("Signature Calculations for the Authorization Header:
// Transferring Payload in a Single Chunk"): one key, one day, one bucket.
const AwsCredentials kExampleCreds{"AKIAIOSFODNN7EXAMPLE",
                                   "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr int64_t kExampleTime = 1369353600;  // 2013-05-24T00:00:00Z
constexpr const char* kExampleHost = "examplebucket.s3.amazonaws.com";
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string AuthorizationOf(const SigV4Result& r) {
  for (const auto& [k, v] : r.headers)
    if (k == "Authorization") return v;
  return "";
}

TEST_CASE("sigv4: the documented GET object with a Range header gets AWS's signature") {
  SigV4Request req{"GET", kExampleHost, "/test.txt", {}, {{"Range", "bytes=0-9"}}, kEmptySha256};
  SigV4Result r = SignRequestV4(req, kExampleCreds, "us-east-1", "s3", kExampleTime);
  CHECK(Sha256Hex(r.canonical_request) ==
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(r.signature == "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  CHECK(AuthorizationOf(r) ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: the documented PUT object encodes '$' in the key and signs the body hash") {
  const std::string body = "Welcome to Amazon S3.";
  SigV4Request req{
      "PUT",
      kExampleHost,
      "/test$file.text",
      {},
      {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
      Sha256Hex(body)};
  CHECK(req.payload_sha256 == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Result r = SignRequestV4(req, kExampleCreds, "us-east-1", "s3", kExampleTime);
  CHECK(r.canonical_request.rfind("PUT\n/test%24file.text\n\n", 0) == 0);
  CHECK(Sha256Hex(r.canonical_request) ==
        "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  CHECK(r.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  CHECK(AuthorizationOf(r).find(
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class") !=
        std::string::npos);
}

TEST_CASE("sigv4: the documented GET bucket lifecycle signs a query key without a value") {
  SigV4Request req{"GET", kExampleHost, "/", {{"lifecycle", ""}}, {}, kEmptySha256};
  SigV4Result r = SignRequestV4(req, kExampleCreds, "us-east-1", "s3", kExampleTime);
  CHECK(Sha256Hex(r.canonical_request) ==
        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca");
  CHECK(r.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("sigv4: the documented list objects sorts query parameters by name") {
  SigV4Request req{"GET", kExampleHost, "/", {{"prefix", "J"}, {"max-keys", "2"}},
                   {},    kEmptySha256};
  SigV4Result r = SignRequestV4(req, kExampleCreds, "us-east-1", "s3", kExampleTime);
  CHECK(Sha256Hex(r.canonical_request) ==
        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7");
  CHECK(r.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST_CASE("sigv4: a session token is sent and signed as x-amz-security-token") {
  AwsCredentials creds = kExampleCreds;
  creds.session_token = "FQoGZXIvYXdzEBYa//token+with/chars=";
  SigV4Request req{"GET", kExampleHost, "/test.txt", {}, {}, kEmptySha256};
  SigV4Result r = SignRequestV4(req, creds, "us-east-1", "s3", kExampleTime);
  CHECK(AuthorizationOf(r).find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                                "x-amz-security-token,") != std::string::npos);
  bool sent = false;
  for (const auto& [k, v] : r.headers)
    sent |= k == "x-amz-security-token" && v == creds.session_token;
  CHECK(sent);
}

TEST_CASE("sigv4: URI encoding keeps unreserved characters and slashes only in paths") {
  CHECK(UriEncode("a b+c=d/é~._-", true) == "a%20b%2Bc%3Dd/%C3%A9~._-");
  CHECK(UriEncode("a/b", false) == "a%2Fb");
  CHECK(AmzDate(kExampleTime) == "20130524T000000Z");
}

// botocore (Debian python3-botocore) as an independent signer: the same requests at the same
// instant must give byte-identical Authorization headers.
struct BotoCase {
  std::string method, host, path;
  std::vector<std::pair<std::string, std::string>> query;
  HeaderList headers;
  std::string body;
  std::string region;
  AwsCredentials creds;
};

std::string BotoScript() {
  return R"PY(
import datetime, json, sys
from unittest import mock
import botocore.auth, botocore.awsrequest, botocore.credentials
FIXED = datetime.datetime(2026, 11, 25, 12, 34, 56)
class Clock(datetime.datetime):
    @classmethod
    def utcnow(cls): return FIXED
    @classmethod
    def now(cls, tz=None): return FIXED.replace(tzinfo=tz) if tz else FIXED
for line in sys.stdin:
    c = json.loads(line)
    creds = botocore.credentials.Credentials(c["ak"], c["sk"], c["token"] or None)
    req = botocore.awsrequest.AWSRequest(method=c["method"], url=c["url"],
                                         headers=c["headers"], data=c["body"].encode())
    with mock.patch.object(botocore.auth.datetime, "datetime", Clock):
        botocore.auth.S3SigV4Auth(creds, "s3", c["region"]).add_auth(req)
    print(req.headers["Authorization"])
)PY";
}

TEST_CASE("sigv4: botocore signs the same requests with byte-identical Authorization headers") {
  REQUIRE_MESSAGE(access("/usr/lib/python3/dist-packages/botocore/auth.py", R_OK) == 0,
                  "python3-botocore is not installed (make deps)");
  AwsCredentials plain{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
  AwsCredentials temp{"ASIAEXAMPLE", "secret/with+chars", "IQoJb3JpZ2luX2Vj//+token="};
  std::vector<BotoCase> cases = {
      {"GET",
       "examplebucket.s3.amazonaws.com",
       "/test.txt",
       {},
       {{"Range", "bytes=0-9"}},
       "",
       "us-east-1",
       plain},
      {"PUT",
       "127.0.0.1:4568",
       "/bucket/sessions/date=2026-11-25/ns/pod a/c+1/0193.cast",
       {},
       {{"Content-Type", "application/x-asciicast"},
        {"x-amz-checksum-sha256", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg="},
        {"x-amz-object-lock-mode", "COMPLIANCE"},
        {"x-amz-object-lock-retain-until-date", "2027-11-25T12:34:56Z"},
        {"x-amz-server-side-encryption", "aws:kms"}},
       "[0.5, \"o\", \"hello\"]\n",
       "eu-central-1",
       temp},
      {"GET",
       "bucket.s3.eu-west-3.amazonaws.com",
       "/",
       {{"list-type", "2"},
        {"prefix", "p/live/"},
        {"continuation-token", "1ue/Abc+d=="},
        {"max-keys", "1000"}},
       {},
       "",
       "eu-west-3",
       plain},
      {"POST",
       "localhost:9000",
       "/b/big%object",
       {{"uploadId", "abc/def=="}, {"partNumber", "3"}},
       {{"X-Custom", "  two   spaces  "}},
       std::string(1000, 'x'),
       "ap-southeast-2",
       temp},
      {"POST", "s3.amazonaws.com", "/b/k", {{"uploads", ""}}, {}, "", "us-east-1", plain},
      {"DELETE", "s3.us-west-2.amazonaws.com", "/b/ключ ü", {}, {}, "", "us-west-2", temp},
  };
  char in_path[] = "/tmp/ttyaudit-sigv4-XXXXXX";
  int fd = mkstemp(in_path);
  REQUIRE(fd >= 0);
  std::string input;
  for (const auto& c : cases) {
    std::string query;
    for (const auto& [k, v] : c.query)
      query += (query.empty() ? "?" : "&") + UriEncode(k, false) + "=" + UriEncode(v, false);
    JsonWriter w;
    w.BeginObject().Key("method").String(c.method);
    w.Key("url").String("http://" + c.host + UriEncode(c.path, true) + query);
    w.Key("headers").BeginObject();
    for (const auto& [k, v] : c.headers) w.Key(k).String(v);
    w.EndObject();
    w.Key("body").String(c.body).Key("region").String(c.region);
    w.Key("ak").String(c.creds.access_key_id).Key("sk").String(c.creds.secret_access_key);
    w.Key("token").String(c.creds.session_token).EndObject();
    input += w.str() + "\n";
  }
  REQUIRE(write(fd, input.data(), input.size()) == static_cast<ssize_t>(input.size()));
  close(fd);
  std::string script_path = std::string(in_path) + ".py";
  FILE* sf = fopen(script_path.c_str(), "w");
  REQUIRE(sf);
  fputs(BotoScript().c_str(), sf);
  fclose(sf);
  std::string cmd = "python3 " + script_path + " < " + in_path;
  FILE* p = popen(cmd.c_str(), "r");
  REQUIRE(p);
  std::vector<std::string> boto;
  char line[4096];
  while (fgets(line, sizeof line, p)) {
    std::string s(line);
    if (!s.empty() && s.back() == '\n') s.pop_back();
    boto.push_back(s);
  }
  int rc = pclose(p);
  unlink(in_path);
  unlink(script_path.c_str());
  REQUIRE(rc == 0);
  REQUIRE(boto.size() == cases.size());
  const int64_t fixed = 1795610096;  // 2026-11-25T12:34:56Z
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    SigV4Request req{c.method, c.host, c.path, c.query, c.headers, Sha256Hex(c.body)};
    SigV4Result r = SignRequestV4(req, c.creds, c.region, "s3", fixed);
    CAPTURE(i);
    CAPTURE(r.canonical_request);
    CHECK(AuthorizationOf(r) == boto[i]);
  }
}

}  // namespace
}  // namespace ttyaudit
