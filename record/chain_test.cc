#include "record/chain.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace ttyaudit;

namespace {

// A .cast as the recorder writes it: a padded header line, then three chained blocks.
struct Cast {
  std::string bytes;
  std::vector<size_t> block_ends;  // offsets just past each chain line
};

Cast MakeCast(const std::string& id) {
  Cast c;
  c.bytes =
      "{\"version\": 2, \"ttyaudit\": {\"id\": \"" + id + "\"}}" + std::string(40, ' ') + "\n";
  ChainWriter w(id);
  for (int i = 0; i < 3; ++i) {
    std::string block = "[0." + std::to_string(i) + "00000, \"o\", \"block " + std::to_string(i) +
                        "\\r\\n\"]\n[0." + std::to_string(i) + "50000, \"i\", \"x\"]\n";
    w.Seal(block, 0.1 * i);
    c.bytes += block;
    c.block_ends.push_back(c.bytes.size());
  }
  return c;
}

ChainCheck Check(const std::string& id, const std::string& bytes, bool tail_ok = false) {
  ChainVerifier v(id);
  // Fed in uneven pieces, as reads deliver them.
  for (size_t at = 0; at < bytes.size(); at += 7) v.Update(std::string_view(bytes).substr(at, 7));
  return v.Finish(tail_ok);
}

ManifestChain Claim(const ChainCheck& c) {
  return ManifestChain{true, c.head_hex, c.blocks, c.size, c.header_sha256_hex};
}

}  // namespace

TEST_CASE("chain: an untouched recording verifies, and matches what the writer sealed") {
  Cast c = MakeCast("s1");
  ChainCheck k = Check("s1", c.bytes);
  CHECK(k.chain_ok);
  CHECK(k.blocks == 3);
  CHECK(k.size == c.bytes.size());
  CHECK(k.covered == c.bytes.size());
  CHECK(CompareChain(k, Claim(k)) == "");
}

TEST_CASE("chain: every way of tampering with the bytes is found") {
  Cast c = MakeCast("s1");
  ChainCheck good = Check("s1", c.bytes);
  ManifestChain claim = Claim(good);
  auto broken = [&](const std::string& bytes) { return CompareChain(Check("s1", bytes), claim); };

  std::string changed = c.bytes;
  changed[c.block_ends[0] + 20] ^= 1;  // a byte of block 2's output
  CHECK(broken(changed).find("block 2") != std::string::npos);

  std::string inserted = c.bytes;
  inserted.insert(c.block_ends[1], "[0.7, \"o\", \"forged\"]\n");
  CHECK(broken(inserted) != "");

  std::string removed = c.bytes;
  removed.erase(c.block_ends[0] + 3, 1);
  CHECK(broken(removed) != "");

  // Blocks 2 and 3 swapped, each with its own chain line.
  std::string b1 = c.bytes.substr(0, c.block_ends[0]);
  std::string b2 = c.bytes.substr(c.block_ends[0], c.block_ends[1] - c.block_ends[0]);
  std::string b3 = c.bytes.substr(c.block_ends[1]);
  CHECK(broken(b1 + b3 + b2) != "");

  // Cut after a whole block: the chain alone holds, the manifest's size and head do not.
  std::string truncated = c.bytes.substr(0, c.block_ends[1]);
  CHECK(Check("s1", truncated).chain_ok);
  CHECK(broken(truncated).find("truncated") != std::string::npos);

  std::string header = c.bytes;
  header[3] = 'V';
  CHECK(broken(header) == "the header line was changed");

  std::string chain_time = c.bytes;  // the time of a chain line is covered too
  size_t h = chain_time.find("\"h\"");
  chain_time[h - 4] = chain_time[h - 4] == '9' ? '8' : '9';
  CHECK(broken(chain_time) != "");

  CHECK(CompareChain(Check("another-id", c.bytes), claim) != "");  // moved to another session
}

TEST_CASE("chain: bytes after the last link are uncovered unless the session still records") {
  Cast c = MakeCast("s1");
  std::string live = c.bytes + "[1.0, \"o\", \"not yet flushed\"]\n";
  ChainCheck sealed = Check("s1", live);
  CHECK_FALSE(sealed.chain_ok);
  CHECK(sealed.problem.find("not covered") != std::string::npos);
  ChainCheck running = Check("s1", live, true);
  CHECK(running.chain_ok);
  CHECK(running.covered == c.bytes.size());
}
