#include "store/signing.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

#include "base/ids.h"
#include "base/json.h"
#include "base/json_read.h"
#include "base/sha256.h"
#include "base/unique_fd.h"
#include "store/keys.h"

namespace ttyaudit {
namespace {

bool IsHex(std::string_view s) {
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

Result<std::string> RawPublic(EVP_PKEY* pkey) {
  std::string raw(32, '\0');
  size_t len = raw.size();
  if (EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(raw.data()), &len) != 1 ||
      len != 32)
    return Error{"node key: not an Ed25519 key"};
  return raw;
}

Status CheckKeyFile(int fd, const std::string& path) {
  struct stat st;
  if (fstat(fd, &st) != 0) return SysError("stat", path, errno);
  if (!S_ISREG(st.st_mode)) return Error{"node key `" + path + "`: not a regular file"};
  if (st.st_uid != geteuid())
    return Error{"node key `" + path + "`: owned by uid " + std::to_string(st.st_uid) +
                 ", not by uid " + std::to_string(geteuid()) + "; refusing to sign with it"};
  if (st.st_mode & 077) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%03o", st.st_mode & 0777);
    return Error{"node key `" + path + "`: mode " + mode +
                 " lets group or others at it; refusing to sign with it (chmod 600, or remove it "
                 "to make a new key)"};
  }
  return {};
}

Status CreateKeyFile(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = path.substr(0, slash);
    for (size_t i = 1; i <= dir.size(); ++i) {
      if (i != dir.size() && dir[i] != '/') continue;
      std::string part = dir.substr(0, i);
      if (mkdir(part.c_str(), 0700) < 0 && errno != EEXIST) return SysError("mkdir", part, errno);
    }
  }
  EVP_PKEY* pkey = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
  if (!pkey) return Error{"node key: Ed25519 key generation failed"};
  std::string tmp = path + ".tmp." + std::to_string(getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) {
    EVP_PKEY_free(pkey);
    return SysError("create", tmp, errno);
  }
  FILE* f = fdopen(fd.release(), "w");
  bool ok = f && PEM_write_PrivateKey(f, pkey, nullptr, nullptr, 0, nullptr, nullptr) == 1 &&
            fflush(f) == 0 && fsync(fileno(f)) == 0;
  if (f) fclose(f);
  EVP_PKEY_free(pkey);
  if (!ok) {
    unlink(tmp.c_str());
    return Error{"node key: cannot write `" + tmp + "`"};
  }
  // link(), not rename(): two uploaders starting at once keep the first key.
  if (link(tmp.c_str(), path.c_str()) != 0 && errno != EEXIST) {
    int err = errno;
    unlink(tmp.c_str());
    return SysError("link", path, err);
  }
  unlink(tmp.c_str());
  return {};
}

}  // namespace

std::string KeyIdOf(std::string_view raw_public_key) {
  return ToHex(Sha256Of(raw_public_key)).substr(0, 16);
}

std::string PublicKeyLine(const PublicKey& k) {
  return "ttyaudit-ed25519 " + k.key_id + " " + Base64Encode(k.raw) + " " + k.node + "\n";
}

Result<PublicKey> ParsePublicKeyLine(std::string_view line) {
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r' || line.back() == ' '))
    line.remove_suffix(1);
  std::vector<std::string_view> f;
  while (!line.empty()) {
    size_t sp = line.find(' ');
    f.push_back(line.substr(0, sp));
    if (sp == std::string_view::npos) break;
    line.remove_prefix(sp + 1);
  }
  if (f.size() != 4 || f[0] != "ttyaudit-ed25519")
    return Error{"want `ttyaudit-ed25519 KEY_ID BASE64 NODE`"};
  auto raw = Base64Decode(f[2]);
  if (!raw.ok() || raw->size() != 32) return Error{"public key: want 32 bytes in base64"};
  PublicKey k{std::string(f[3]), std::string(f[1]), std::move(raw.value())};
  if (KeyIdOf(k.raw) != k.key_id)
    return Error{"public key: key id " + k.key_id + " is not its key's"};
  return k;
}

Result<std::vector<PublicKey>> ParsePublicKeys(std::string_view text, const std::string& origin) {
  std::vector<PublicKey> keys;
  int n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    ++n;
    if (line.empty() || line[0] == '#') continue;
    auto k = ParsePublicKeyLine(line);
    if (!k.ok()) return Error{origin + ":" + std::to_string(n) + ": " + k.message()};
    keys.push_back(std::move(k.value()));
  }
  return keys;
}

Result<NodeKey> NodeKey::LoadOrCreate(const std::string& path, const std::string& node) {
  struct stat sb;
  if (lstat(path.c_str(), &sb) != 0 && errno == ENOENT)
    if (Status st = CreateKeyFile(path); !st) return Error{st.message()};
  return Load(path, node);
}

Result<NodeKey> NodeKey::Load(const std::string& path, const std::string& node) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd) return SysError("open node key", path, errno);
  if (Status st = CheckKeyFile(fd.get(), path); !st) return Error{st.message()};
  FILE* f = fdopen(fd.release(), "r");
  if (!f) return SysError("fdopen", path, errno);
  EVP_PKEY* pkey = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  fclose(f);
  if (!pkey) return Error{"node key `" + path + "`: not a PEM private key"};
  NodeKey k;
  k.pkey_ = pkey;
  if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_ED25519)
    return Error{"node key `" + path + "`: not an Ed25519 key"};
  auto raw = RawPublic(pkey);
  if (!raw.ok()) return raw.error();
  k.pub_.node = node;
  k.pub_.raw = std::move(raw.value());
  k.pub_.key_id = KeyIdOf(k.pub_.raw);
  return k;
}

NodeKey::NodeKey(NodeKey&& o) noexcept { *this = std::move(o); }
NodeKey& NodeKey::operator=(NodeKey&& o) noexcept {
  if (this != &o) {
    if (pkey_) EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
    pkey_ = std::exchange(o.pkey_, nullptr);
    pub_ = std::move(o.pub_);
  }
  return *this;
}
NodeKey::~NodeKey() {
  if (pkey_) EVP_PKEY_free(static_cast<EVP_PKEY*>(pkey_));
}

Result<std::string> NodeKey::SignManifest(std::string_view manifest) const {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  std::string sig(64, '\0');
  size_t len = sig.size();
  bool ok =
      ctx &&
      EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, static_cast<EVP_PKEY*>(pkey_)) == 1 &&
      EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(manifest.data()), manifest.size()) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != 64) return Error{"Ed25519 signing failed"};
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(1);
  w.Key("alg").String("ed25519");
  w.Key("node").String(pub_.node);
  w.Key("key_id").String(pub_.key_id);
  w.Key("manifest_sha256").String(ToHex(Sha256Of(manifest)));
  w.Key("signature").String(Base64Encode(sig));
  w.EndObject();
  return w.Take() + "\n";
}

bool VerifyEd25519(std::string_view raw_public_key, std::string_view message,
                   std::string_view sig) {
  if (raw_public_key.size() != 32 || sig.size() != 64) return false;
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(raw_public_key.data()), 32);
  if (!pkey) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok =
      ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
      EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

Result<SignatureDoc> ParseSignatureDoc(std::string_view text) {
  JsonObjectText json;
  if (Status st = json.Open(text, "signature"); !st) return Error{st.message()};
  SignatureDoc d;
  std::string alg, sig64;
  int64_t version = 0;
  if (Status st = DecodeJsonObject(json.object(), JsonPlace("signature"),
                                   {
                                       {"version", JsonInteger(version)},
                                       {"alg", JsonString(alg)},
                                       {"node", JsonString(d.node)},
                                       {"key_id", JsonString(d.key_id)},
                                       {"manifest_sha256", JsonString(d.manifest_sha256)},
                                       {"signature", JsonString(sig64)},
                                   },
                                   JsonUnknownKeys::kSkip);
      !st)
    return Error{st.message()};
  if (version != 1 || alg != "ed25519") return Error{"signature: want version 1, alg ed25519"};
  if (d.key_id.size() != 16 || !IsHex(d.key_id)) return Error{"signature: bad key_id"};
  auto raw = Base64Decode(sig64);
  if (!raw.ok() || raw->size() != 64) return Error{"signature: want 64 bytes in base64"};
  d.signature = std::move(raw.value());
  return d;
}

std::string PublicKeyObjectKey(const PublicKey& k) { return NodePublicKeyKey(k.node, k.key_id); }

}  // namespace ttyaudit
