// SHA-256 for the lean binaries: OpenSSL's implementation, linked statically from libcrypto.a so
// that a binary that hashes still loads only libc (only the SHA-256 objects are pulled in).
#pragma once

#include <string>
#include <string_view>

namespace ttyaudit {

class Sha256 {
 public:
  static constexpr size_t kSize = 32;
  Sha256();
  ~Sha256();
  Sha256(const Sha256& o);
  Sha256& operator=(const Sha256& o);
  void Update(std::string_view data);
  /// The raw 32-byte digest. The object is reset afterwards.
  std::string Final();

 private:
  alignas(8) unsigned char ctx_[112];  // SHA256_CTX, opaque here so no OpenSSL header leaks
};

/// The raw digest of `data`.
std::string Sha256Of(std::string_view data);
/// Lower-case hex of `bytes`.
std::string ToHex(std::string_view bytes);

}  // namespace ttyaudit
