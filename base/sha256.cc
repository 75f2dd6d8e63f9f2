// OpenSSL 3 marks the low-level SHA-256 calls deprecated in favour of EVP, but EVP would pull the
// provider machinery into the lean binaries; the low-level calls pull only the hash itself.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "base/sha256.h"

#include <openssl/sha.h>

#include <cstring>

namespace ttyaudit {

static_assert(sizeof(SHA256_CTX) <= 112, "Sha256::ctx_ is too small for SHA256_CTX");

Sha256::Sha256() { SHA256_Init(reinterpret_cast<SHA256_CTX*>(ctx_)); }
Sha256::~Sha256() { std::memset(ctx_, 0, sizeof ctx_); }
Sha256::Sha256(const Sha256& o) { std::memcpy(ctx_, o.ctx_, sizeof ctx_); }
Sha256& Sha256::operator=(const Sha256& o) {
  std::memcpy(ctx_, o.ctx_, sizeof ctx_);
  return *this;
}

void Sha256::Update(std::string_view data) {
  SHA256_Update(reinterpret_cast<SHA256_CTX*>(ctx_), data.data(), data.size());
}

std::string Sha256::Final() {
  std::string out(kSize, '\0');
  SHA256_Final(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<SHA256_CTX*>(ctx_));
  SHA256_Init(reinterpret_cast<SHA256_CTX*>(ctx_));
  return out;
}

std::string Sha256Of(std::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Final();
}

std::string ToHex(std::string_view bytes) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace ttyaudit
