#include "base/utf8.h"

#include <doctest/doctest.h>

using namespace ttyaudit;

TEST_CASE("utf8: accepts well-formed text and rejects overlongs, surrogates and stray bytes") {
  CHECK(IsValidUtf8("plain ascii, long enough to take the fast path"));
  CHECK(IsValidUtf8("w\xC3\xB6rld \xE2\x82\xAC \xF0\x9F\x98\x80"));
  CHECK_FALSE(IsValidUtf8("\xFF"));
  CHECK_FALSE(IsValidUtf8("\xC0\xAF"));          // overlong '/'
  CHECK_FALSE(IsValidUtf8("\xED\xA0\x80"));      // surrogate
  CHECK_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(IsValidUtf8("abc\xE2\x82"));       // cut short
}

TEST_CASE("utf8: holds back only a tail that more bytes could complete") {
  CHECK(IncompleteUtf8Tail("abc") == 0);
  CHECK(IncompleteUtf8Tail("abc\xE2") == 1);
  CHECK(IncompleteUtf8Tail("abc\xE2\x82") == 2);
  CHECK(IncompleteUtf8Tail("abc\xF0\x9F\x98") == 3);
  CHECK(IncompleteUtf8Tail("abc\xE2\x82\xAC") == 0);  // complete
  CHECK(IncompleteUtf8Tail("abc\xFF") == 0);          // never valid
  CHECK(IncompleteUtf8Tail("abc\xED\xA0") == 0);      // would be a surrogate
}

TEST_CASE("utf8: lossy conversion shows each bad byte as U+FFFD, as a terminal does") {
  CHECK(ToValidUtf8Lossy("a\xFF"
                         "b") ==
        "a\xEF\xBF\xBD"
        "b");
  CHECK(ToValidUtf8Lossy("\xC3\xB6") == "\xC3\xB6");
}

TEST_CASE("utf8: a code point is appended in one to four bytes") {
  std::string out;
  for (uint32_t cp : {0x41u, 0xFCu, 0x20ACu, 0x1F600u}) AppendUtf8(out, cp);
  CHECK(out == "A\xC3\xBC\xE2\x82\xAC\xF0\x9F\x98\x80");
  CHECK(IsValidUtf8(out));
}
