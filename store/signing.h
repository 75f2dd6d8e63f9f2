// The node's Ed25519 key: signing sealed sessions, publishing the public part, and checking.
//
// The uploader signs each sealed session's manifest, byte for byte as it goes into the store,
// after it has checked the session's hash chain against that manifest (record/chain.h). The
// manifest carries the chain's end (head, blocks, size, header hash) and the node's session
// number, so the signature covers the whole recording and its place in the node's sequence.
// Objects, beside the session's own:
//   <session key without .cast>.sig   {"version":1,"alg":"ed25519","node":N,"key_id":K,
//                                      "manifest_sha256":H,"signature":BASE64}
//   keys/<node>/<key_id>.pub          one line: `ttyaudit-ed25519 <key_id> <base64 key> <node>`
// key_id is the first 16 hex digits of SHA-256 of the raw 32-byte public key. A trusted keys
// file for `ttyaudit verify --keys` holds such lines, one per key.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

struct PublicKey {
  std::string node;
  std::string key_id;
  std::string raw;  // 32 bytes
};

/// `ttyaudit-ed25519 <key_id> <base64> <node>\n`
std::string PublicKeyLine(const PublicKey& k);
/// Parses one such line; checks that key_id matches the key.
Result<PublicKey> ParsePublicKeyLine(std::string_view line);
/// Every key line of a keys file's text (blank lines and '#' comments skipped).
Result<std::vector<PublicKey>> ParsePublicKeys(std::string_view text, const std::string& origin);
/// The key id of a raw public key.
std::string KeyIdOf(std::string_view raw_public_key);

class NodeKey {
 public:
  /// Loads the PEM private key at `path`, or makes one there (0600, its directory 0700) when
  /// there is none. Refuses a key file that others can read or that another user owns.
  static Result<NodeKey> LoadOrCreate(const std::string& path, const std::string& node);
  /// Loads the key at `path` as LoadOrCreate does, but never makes one (`ttyaudit doctor`).
  static Result<NodeKey> Load(const std::string& path, const std::string& node);
  NodeKey(NodeKey&&) noexcept;
  NodeKey& operator=(NodeKey&&) noexcept;
  ~NodeKey();

  const PublicKey& public_key() const { return pub_; }
  /// The signature document (.sig object) of `manifest`.
  Result<std::string> SignManifest(std::string_view manifest) const;

 private:
  NodeKey() = default;
  void* pkey_ = nullptr;  // EVP_PKEY
  PublicKey pub_;
};

/// True when `sig` (64 bytes) is `key`'s Ed25519 signature of `message`.
bool VerifyEd25519(std::string_view raw_public_key, std::string_view message, std::string_view sig);

struct SignatureDoc {
  std::string node;
  std::string key_id;
  std::string manifest_sha256;  // hex
  std::string signature;        // raw
};
Result<SignatureDoc> ParseSignatureDoc(std::string_view text);

/// keys/<node>/<key_id>.pub of `k` (store/keys.h).
std::string PublicKeyObjectKey(const PublicKey& k);

}  // namespace ttyaudit
