#include "store/signing.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

using namespace ttyaudit;

namespace {

std::string TempDir() {
  char tmpl[] = "/tmp/ttyaudit-sign-test.XXXXXX";
  REQUIRE(mkdtemp(tmpl));
  return tmpl;
}

void RemoveDir(const std::string& dir) { std::system(("rm -rf '" + dir + "'").c_str()); }

}  // namespace

TEST_CASE("signing: a node key is made once, 0600, and signs what verify accepts") {
  std::string dir = TempDir();
  std::string path = dir + "/state/node.key";
  auto key = NodeKey::LoadOrCreate(path, "node-a");
  REQUIRE(key.ok());
  struct stat st;
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  auto again = NodeKey::LoadOrCreate(path, "node-a");
  REQUIRE(again.ok());
  CHECK(again->public_key().key_id == key->public_key().key_id);

  auto sig = key->SignManifest("{\"manifest\":1}\n");
  REQUIRE(sig.ok());
  auto doc = ParseSignatureDoc(*sig);
  REQUIRE(doc.ok());
  CHECK(doc->key_id == key->public_key().key_id);
  CHECK(doc->node == "node-a");
  CHECK(VerifyEd25519(key->public_key().raw, "{\"manifest\":1}\n", doc->signature));
  CHECK_FALSE(VerifyEd25519(key->public_key().raw, "{\"manifest\":2}\n", doc->signature));

  auto line = ParsePublicKeyLine(PublicKeyLine(key->public_key()));
  REQUIRE(line.ok());
  CHECK(line->raw == key->public_key().raw);
  CHECK(line->node == "node-a");
  CHECK(PublicKeyObjectKey(*line) == "keys/node-a/" + line->key_id + ".pub");
  RemoveDir(dir);
}

TEST_CASE("signing: a key file others can read is refused, naming its mode") {
  std::string dir = TempDir();
  std::string path = dir + "/node.key";
  REQUIRE(NodeKey::LoadOrCreate(path, "n").ok());
  REQUIRE(chmod(path.c_str(), 0644) == 0);
  auto key = NodeKey::LoadOrCreate(path, "n");
  REQUIRE_FALSE(key.ok());
  CHECK(key.message().find("mode 644") != std::string::npos);
  RemoveDir(dir);
}

TEST_CASE("signing: a public key line whose id is not its key's is refused") {
  PublicKey k{"n", "0000000000000000", std::string(32, 'k')};
  CHECK_FALSE(ParsePublicKeyLine(PublicKeyLine(k)).ok());
  k.key_id = KeyIdOf(k.raw);
  CHECK(ParsePublicKeyLine(PublicKeyLine(k)).ok());
}
