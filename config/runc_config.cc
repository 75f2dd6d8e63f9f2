#include "config/runc_config.h"

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "base/files.h"
#include "base/utf8.h"
#include "config/trust.h"

namespace ttyaudit {
namespace {

// Deeper nesting than any config has; bounds the recursion on hostile text.
constexpr int kMaxDepth = 64;

// RFC 8259 grammar over UTF-8 text already checked to be well formed. Each reader consumes one
// token or value from pos() and returns false at the first byte that does not fit.
class JsonScanner {
 public:
  explicit JsonScanner(std::string_view s) : s_(s) {}
  size_t pos() const { return i_; }
  bool AtEnd() const { return i_ == s_.size(); }

  void SkipSpace() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r'))
      ++i_;
  }
  bool Peek(char c) const { return i_ < s_.size() && s_[i_] == c; }
  bool Eat(char c) {
    if (!Peek(c)) return false;
    ++i_;
    return true;
  }

  // A string, unescaped into `*out` when `out` is not null.
  bool String(std::string* out) {
    if (!Eat('"')) return false;
    while (i_ < s_.size()) {
      unsigned char c = static_cast<unsigned char>(s_[i_++]);
      if (c == '"') return true;
      if (c < 0x20) return false;
      if (c != '\\') {
        if (out) out->push_back(static_cast<char>(c));
        continue;
      }
      if (!Escape(out)) return false;
    }
    return false;
  }

  // Any value, skipped; `depth` counts the objects and arrays around it.
  bool Value(int depth) {
    SkipSpace();
    if (i_ >= s_.size()) return false;
    switch (s_[i_]) {
      case '"':
        return String(nullptr);
      case '{':
        return Object(depth + 1, [&](const std::string&) { return Value(depth + 1); });
      case '[':
        return Array(depth + 1);
      case 't':
        return Word("true");
      case 'f':
        return Word("false");
      case 'n':
        return Word("null");
      default:
        return Number();
    }
  }

  // An object; `member(key)` reads each member's value from just after the colon.
  template <class Member>
  bool Object(int depth, Member member) {
    if (depth > kMaxDepth || !Eat('{')) return false;
    SkipSpace();
    if (Eat('}')) return true;
    for (;;) {
      SkipSpace();
      std::string key;
      if (!String(&key)) return false;
      SkipSpace();
      if (!Eat(':') || !member(key)) return false;
      SkipSpace();
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }

 private:
  bool Array(int depth) {
    if (depth > kMaxDepth || !Eat('[')) return false;
    SkipSpace();
    if (Eat(']')) return true;
    for (;;) {
      if (!Value(depth)) return false;
      SkipSpace();
      if (Eat(']')) return true;
      if (!Eat(',')) return false;
    }
  }

  bool Escape(std::string* out) {
    if (i_ >= s_.size()) return false;
    char e = s_[i_++];
    char plain = 0;
    switch (e) {
      case '"':
      case '\\':
      case '/':
        plain = e;
        break;
      case 'b':
        plain = '\b';
        break;
      case 'f':
        plain = '\f';
        break;
      case 'n':
        plain = '\n';
        break;
      case 'r':
        plain = '\r';
        break;
      case 't':
        plain = '\t';
        break;
      case 'u': {
        uint32_t cp;
        if (!Hex4(cp)) return false;
        if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a low surrogate alone
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t low;
          if (!Eat('\\') || !Eat('u') || !Hex4(low) || low < 0xDC00 || low > 0xDFFF) return false;
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        }
        if (out) AppendUtf8(*out, cp);
        return true;
      }
      default:
        return false;
    }
    if (out) out->push_back(plain);
    return true;
  }

  bool Hex4(uint32_t& v) {
    if (s_.size() - i_ < 4) return false;
    v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[i_++];
      uint32_t d;
      if (c >= '0' && c <= '9')
        d = static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        d = static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        d = static_cast<uint32_t>(c - 'A' + 10);
      else
        return false;
      v = v << 4 | d;
    }
    return true;
  }

  bool Digits() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    return i_ > start;
  }

  // -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    Eat('-');
    if (!Eat('0') && !(i_ < s_.size() && s_[i_] >= '1' && s_[i_] <= '9' && Digits())) return false;
    if (Eat('.') && !Digits()) return false;
    if (Eat('e') || Eat('E')) {
      if (!Eat('+')) Eat('-');
      if (!Digits()) return false;
    }
    return true;
  }

  bool Word(std::string_view w) {
    if (s_.substr(i_, w.size()) != w) return false;
    i_ += w.size();
    return true;
  }

  std::string_view s_;
  size_t i_ = 0;
};

// `[` and `]` with only JSON white space between.
bool IsEmptyArray(std::string_view v) {
  if (v.size() < 2 || v.front() != '[' || v.back() != ']') return false;
  return v.substr(1, v.size() - 2).find_first_not_of(" \t\n\r") == std::string_view::npos;
}

}  // namespace

std::string ConfigPath() {
  const char* env = std::getenv("TTYAUDIT_CONFIG");
  return env && *env ? env : "/etc/ttyaudit/config.json";
}

Result<RuncConfig> ParseRuncConfig(std::string_view json, const std::string& origin) {
  if (!IsValidUtf8(json)) return Error{origin + ": not valid JSON (not UTF-8)"};
  RuncConfig c;
  std::string bad_key;
  JsonScanner scan(json);
  scan.SkipSpace();
  if (!scan.Peek('{')) {
    if (scan.Value(0)) return Error{origin + ": want a JSON object"};
    return Error{origin + ": not valid JSON at byte " + std::to_string(scan.pos())};
  }
  bool ok = scan.Object(1, [&](const std::string& key) {
    if (key == "fail_closed") {
      scan.SkipSpace();
      size_t start = scan.pos();
      if (!scan.Value(1)) return false;
      std::string_view v = json.substr(start, scan.pos() - start);
      c.any_fail_closed = !(v == "false" || IsEmptyArray(v));
      return true;
    }
    std::string* out = key == "runc" ? &c.runc : key == "log_file" ? &c.log_file : nullptr;
    if (!out) return scan.Value(1);
    scan.SkipSpace();
    if (scan.Peek('"')) {
      out->clear();
      return scan.String(out);
    }
    bad_key = key;
    return false;
  });
  if (!bad_key.empty()) return Error{origin + ": " + bad_key + ": want a string"};
  scan.SkipSpace();
  if (!ok || !scan.AtEnd())
    return Error{origin + ": not valid JSON at byte " + std::to_string(scan.pos())};
  return c;
}

Result<RuncConfig> LoadRuncConfig() {
  std::string path = ConfigPath();
  if (::access(path.c_str(), F_OK) == 0)
    if (Status st = CheckConfigTrusted(path); !st) return Error{"config: " + st.message()};
  auto text = ReadSmallFile(path);
  if (!text) {
    const char* named = std::getenv("TTYAUDIT_CONFIG");
    if (!(named && *named) && ::access(path.c_str(), F_OK) != 0 && errno == ENOENT)
      return RuncConfig{};
    return Error{"config: " + text.message()};
  }
  return ParseRuncConfig(text.value(), path);
}

}  // namespace ttyaudit
