#include "record/chain.h"

#include <cstdio>

namespace ttyaudit {
namespace {

constexpr size_t kHexLen = 2 * Sha256::kSize;

std::string Seed(std::string_view session_id) {
  return Sha256Of(std::string("ttyaudit-chain-v1\n").append(session_id));
}

// The length of the prefix `[T, "h", "` of a chain line (the line as the writer makes it:
// a plain number, the code, then exactly 64 hex digits and `"]\n`), or 0 for any other line.
size_t ChainPrefixLength(std::string_view line) {
  static constexpr std::string_view kMid = ", \"h\", \"";
  if (line.size() < 2 || line[0] != '[') return 0;
  size_t i = 1;
  while (i < line.size() && ((line[i] >= '0' && line[i] <= '9') || line[i] == '.')) ++i;
  if (i == 1 || line.substr(i, kMid.size()) != kMid) return 0;
  size_t prefix = i + kMid.size();
  if (line.size() != prefix + kHexLen + 3 || line.substr(prefix + kHexLen) != "\"]\n") return 0;
  for (size_t k = prefix; k < prefix + kHexLen; ++k) {
    char c = line[k];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return 0;
  }
  return prefix;
}

}  // namespace

ChainWriter::ChainWriter(std::string_view session_id) : head_(Seed(session_id)) {}

void ChainWriter::Seal(std::string& block, double t) {
  char ts[48];
  int n = std::snprintf(ts, sizeof ts, "[%.6f, \"h\", \"", t < 0 ? 0.0 : t);
  block.append(ts, static_cast<size_t>(n));
  Sha256 h;
  h.Update(head_);
  h.Update(block);
  head_ = h.Final();
  block += ToHex(head_);
  block += "\"]\n";
  ++blocks_;
}

ChainVerifier::ChainVerifier(std::string_view session_id) : prev_(Seed(session_id)) {
  out_.head_hex = ToHex(prev_);
}

void ChainVerifier::Update(std::string_view data) {
  out_.size += data.size();
  while (!data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      partial_.append(data);
      return;
    }
    if (partial_.empty()) {
      Line(data.substr(0, nl + 1));
    } else {
      partial_.append(data.substr(0, nl + 1));
      Line(partial_);
      partial_.clear();
    }
    data.remove_prefix(nl + 1);
  }
}

void ChainVerifier::Line(std::string_view line) {
  const uint64_t at = offset_;
  offset_ += line.size();
  if (in_header_) {
    header_.Update(line);
    out_.header_sha256_hex = ToHex(header_.Final());
    in_header_ = false;
    out_.covered = offset_;
    block_start_ = offset_;
    block_ = Sha256();
    block_.Update(prev_);
    return;
  }
  if (broken_) return;
  size_t prefix = ChainPrefixLength(line);
  if (prefix == 0) {
    block_.Update(line);
    return;
  }
  block_.Update(line.substr(0, prefix));
  std::string link = block_.Final();
  if (ToHex(link) != line.substr(prefix, kHexLen)) {
    broken_ = true;
    out_.problem = "block " + std::to_string(out_.blocks + 1) + " (bytes " +
                   std::to_string(block_start_) + " to " + std::to_string(at + line.size()) +
                   ") does not match its chain line: bytes were changed, inserted, removed or "
                   "reordered there";
    return;
  }
  prev_ = link;
  ++out_.blocks;
  out_.head_hex = ToHex(link);
  out_.covered = offset_;
  block_start_ = offset_;
  block_.Update(prev_);
}

ChainCheck ChainVerifier::Finish(bool tail_ok) {
  ChainCheck c = out_;
  if (in_header_) {
    c.problem = "no header line";
    return c;
  }
  if (broken_) return c;
  if (c.covered < c.size && !tail_ok) {
    c.problem = std::to_string(c.size - c.covered) + " bytes after the last chain line (byte " +
                std::to_string(c.covered) + ") are not covered by the chain";
    return c;
  }
  c.chain_ok = true;
  return c;
}

std::string ChainManifestMember(const ChainCheck& c) {
  JsonWriter w;
  w.BeginObject();
  w.Key("version").Int(1);
  w.Key("head").String(c.head_hex);
  w.Key("blocks").Uint(c.blocks);
  w.Key("size").Uint(c.size);
  w.Key("header_sha256").String(c.header_sha256_hex);
  w.EndObject();
  return "\"chain\":" + w.Take();
}

std::string CompareChain(const ChainCheck& c, const ManifestChain& m) {
  if (!m.present) return "the manifest has no chain";
  if (!c.chain_ok) return c.problem;
  if (c.size != m.size)
    return "the recording is " + std::to_string(c.size) + " bytes, the manifest says " +
           std::to_string(m.size) + (c.size < m.size ? " (truncated)" : "");
  if (c.blocks != m.blocks)
    return "the recording has " + std::to_string(c.blocks) + " chained blocks, the manifest says " +
           std::to_string(m.blocks);
  if (c.head_hex != m.head) return "the chain's last link is not the manifest's";
  if (c.header_sha256_hex != m.header_sha256) return "the header line was changed";
  return "";
}

}  // namespace ttyaudit
