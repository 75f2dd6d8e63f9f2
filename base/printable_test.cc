#include "base/printable.h"

#include <doctest/doctest.h>

namespace ttyaudit {

TEST_CASE("printable: control characters are shown in caret notation") {
  CHECK(EscapeControlChars("plain text, ünïcödé") == "plain text, ünïcödé");
  CHECK(EscapeControlChars("\x1b[2J\x1b]0;owned\x07") == "^[[2J^[]0;owned^G");
  CHECK(EscapeControlChars(std::string("a\0b", 3)) == "a^@b");
  CHECK(EscapeControlChars("row\r\nfake row\tx\x7f") == "row^M^Jfake row^Ix^?");
  CHECK(EscapeControlChars("\x1f") == "^_");
}

TEST_CASE("printable: C1 controls are escaped and malformed bytes replaced") {
  CHECK(EscapeControlChars("\xc2\x9b"
                           "6n") == "M-^[6n");  // U+009B, CSI
  CHECK(EscapeControlChars("\xc2\x80\xc2\x9f") == "M-^@M-^_");
  CHECK(EscapeControlChars("\xc2\xa0") == "\xc2\xa0");  // no-break space is text
  // A raw 0x9b byte is not UTF-8: shown as U+FFFD, never passed on.
  CHECK(EscapeControlChars("a\x9b"
                           "b") ==
        "a\xef\xbf\xbd"
        "b");
}

}  // namespace ttyaudit
