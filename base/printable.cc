#include "base/printable.h"

#include "base/utf8.h"

namespace ttyaudit {

std::string EscapeControlChars(std::string_view s) {
  std::string valid = ToValidUtf8Lossy(s);
  std::string out;
  out.reserve(valid.size());
  for (size_t i = 0; i < valid.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(valid[i]);
    if (c < 0x20) {
      out += '^';
      out += static_cast<char>(c + 0x40);
    } else if (c == 0x7f) {
      out += "^?";
    } else if (c == 0xc2 && i + 1 < valid.size() &&
               static_cast<unsigned char>(valid[i + 1]) < 0xa0) {
      // U+0080..U+009F: the second byte of a well-formed sequence is 0x80..0x9f.
      out += "M-^";
      out += static_cast<char>(static_cast<unsigned char>(valid[++i]) - 0x80 + 0x40);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

}  // namespace ttyaudit
