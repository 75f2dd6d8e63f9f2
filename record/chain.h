// The hash chain over a session's events, kept inside the .cast itself.
//
// After the header line, every block the recorder writes (one Flush) ends with a chain line
//   [T, "h", "<64 hex digits>"]
// whose digits are SHA-256(previous link, 32 raw bytes || every byte of the file since the end
// of the previous chain line, or of the header line || this line up to and including the quote
// that opens the digits). The first "previous link" is SHA-256("ttyaudit-chain-v1\n" + session
// id). Every byte after the header line is therefore covered by the chain line that follows it,
// so a live session is covered up to its last flush, and a changed, inserted, removed or
// reordered byte breaks the chain from that block on. The header, which the recorder rewrites in
// place at the end, and the end of the file are covered by the manifest's "chain" object
// (head, blocks, size, header_sha256), which the node's key signs.
//
// asciicast players ignore the unknown "h" code, as they ignore "b"; ttyaudit's reader skips it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/json.h"
#include "base/result.h"
#include "base/sha256.h"

namespace ttyaudit {

/// The recorder's side: links each block to the one before.
class ChainWriter {
 public:
  explicit ChainWriter(std::string_view session_id);
  /// Appends to `block` (whole event lines about to be written) the chain line that covers it.
  void Seal(std::string& block, double t);
  /// The last link (raw), and how many blocks are chained.
  const std::string& head() const { return head_; }
  uint64_t blocks() const { return blocks_; }

 private:
  std::string head_;
  uint64_t blocks_ = 0;
};

/// What a check of a .cast's chain found.
struct ChainCheck {
  bool chain_ok = false;          // every chain line matched, and nothing follows the last one
  uint64_t blocks = 0;            // chain lines that matched
  uint64_t covered = 0;           // bytes from the start of the file through the last good link
  uint64_t size = 0;              // bytes seen
  std::string head_hex;           // the last good link
  std::string header_sha256_hex;  // of the header line, padding and '\n' included
  std::string problem;            // why not chain_ok: the first break, or the unchained tail
};

/// Checks a .cast's bytes, fed in pieces of any size. Memory: the longest line.
class ChainVerifier {
 public:
  explicit ChainVerifier(std::string_view session_id);
  void Update(std::string_view data);
  /// The result; `tail_ok` accepts bytes after the last link (a session still recording).
  ChainCheck Finish(bool tail_ok = false);

 private:
  void Line(std::string_view line);  // one whole line, '\n' included
  Sha256 block_;
  std::string prev_;
  std::string partial_;
  bool in_header_ = true;
  bool broken_ = false;
  uint64_t offset_ = 0;  // file offset of the next byte to be fed to Line
  uint64_t block_start_ = 0;
  Sha256 header_;
  ChainCheck out_;
};

/// The manifest's "chain" member for a session whose check `c` passed: `"chain":{...}`.
std::string ChainManifestMember(const ChainCheck& c);

/// The "chain" object a manifest carries, as the reader of a manifest needs it.
struct ManifestChain {
  bool present = false;
  std::string head;
  uint64_t blocks = 0;
  uint64_t size = 0;
  std::string header_sha256;
};

/// Compares a check of the .cast with the manifest's claim; an empty string when they agree,
/// else what differs.
std::string CompareChain(const ChainCheck& c, const ManifestChain& m);

}  // namespace ttyaudit

namespace ttyaudit {

/// The "chain" object of a manifest's text (record_read: simdjson); `present` false when the
/// manifest has none. An error for a malformed one.
Result<ManifestChain> ReadManifestChain(std::string_view manifest);

/// Checks the .cast at `path` (for `session_id`): reads it once.
Result<ChainCheck> CheckCastFile(const std::string& path, const std::string& session_id,
                                 bool tail_ok);

}  // namespace ttyaudit
