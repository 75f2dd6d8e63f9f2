#include "cli/terminal_filter.h"

#include <doctest/doctest.h>

#include <string>

namespace ttyaudit {
namespace {

std::string Filtered(std::string_view in) {
  TerminalFilter f;
  std::string out;
  f.Feed(in, out);
  f.Finish(out);
  return out;
}

// The same stream fed in pieces of every size from 1 to 7 bytes.
std::string FilteredInPieces(std::string_view in, size_t piece) {
  TerminalFilter f;
  std::string out;
  for (size_t i = 0; i < in.size(); i += piece) f.Feed(in.substr(i, piece), out);
  f.Finish(out);
  return out;
}

}  // namespace

TEST_CASE("terminal filter: text, colours, cursor movement and erasing pass unchanged") {
  std::string screen =
      "plain \xc3\xa9t\xc3\xa9 \xe2\x80\x9cquoted\xe2\x80\x9d \xf0\x9f\x99\x82\r\n"
      "\x1b[1;31mred\x1b[0m \x1b[38;2;10;20;30mrgb\x1b[m\x1b[2J\x1b[H\x1b[10;5Hx\x1b[3A\x1b[K"
      "\x1b[?1049h\x1b[?25l\x1b[1;24r\x1b"
      "7\x1b"
      "8\x1bM\x1b(0qq\x1b(B\x1b[4h\x1b[4l"
      "\x1b[2 q\x1b[!p\t\b\a\x1b[?1049l\x1b[?25h";
  CHECK(Filtered(screen) == screen);
}

TEST_CASE("terminal filter: queries that make the terminal answer are dropped") {
  CHECK(Filtered("a\x1b[6nb") == "ab");                          // DSR, cursor position
  CHECK(Filtered("a\x1b[5nb") == "ab");                          // DSR, status
  CHECK(Filtered("a\x1b[?6nb") == "ab");                         // DECXCPR
  CHECK(Filtered("a\x1b[cb\x1b[0c") == "ab");                    // primary DA
  CHECK(Filtered("a\x1b[>cb\x1b[=c") == "ab");                   // secondary and tertiary DA
  CHECK(Filtered("a\x1bZb") == "ab");                            // DECID
  CHECK(Filtered("a\x1bP$qm\x1b\\b") == "ab");                   // DECRQSS
  CHECK(Filtered("a\x1bP+q544e\x1b\\b") == "ab");                // XTGETTCAP
  CHECK(Filtered("a\x1b[?2004$pb\x1b[4$p") == "ab");             // DECRQM
  CHECK(Filtered("a\x1b[21tb\x1b[14t\x1b[8;100;200t") == "ab");  // title report, window ops
  CHECK(Filtered("a\x1b[>qb\x1b[x") == "ab");                    // XTVERSION, DECREQTPARM
  CHECK(Filtered("a\x1b]11;?\x07"
                 "b\x1b]4;1;?\x1b\\") == "ab");  // colour queries
  CHECK(Filtered("a\x05"
                 "b") == "ab");  // ENQ: the answerback
}

TEST_CASE("terminal filter: clipboard writes, titles and hyperlinks are dropped") {
  CHECK(Filtered("a\x1b]52;c;ZWNobyBvd25lZA==\x07"
                 "b") == "ab");
  CHECK(Filtered("a\x1b]0;title\x1b\\b\x1b]1;icon\x07\x1b]2;window\x07") == "ab");
  CHECK(Filtered("\x1b]8;;https://evil.example/\x1b\\link\x1b]8;;\x1b\\") == "link");
  CHECK(Filtered("a\x1b_Gf=100;AAAA\x1b\\b\x1b^pm\x1b\\\x1bXsos\x1b\\") == "ab");  // APC PM SOS
}

TEST_CASE("terminal filter: modes that send input or change keys are dropped, the rest kept") {
  CHECK(Filtered("\x1b[?1000h\x1b[?1006h\x1b[?1004h\x1b[?2004h\x1b[?1h\x1b[?2l") == "");
  CHECK(Filtered("\x1b[?1049;1000;1006h") == "\x1b[?1049h");
  CHECK(Filtered("\x1b[2h\x1b[12l\x1b[20h") == "");       // keyboard lock, local echo, newline mode
  CHECK(Filtered("\x1b[>1u\x1b[>4;2m\x1b[=1;1u") == "");  // kitty and xterm key encodings
  CHECK(Filtered("\x1b%@\x1b%G\x1b G") == "");            // leaving UTF-8; 8-bit replies
}

TEST_CASE("terminal filter: C1 controls are dropped, as UTF-8 and as bytes") {
  CHECK(Filtered("a\xc2\x9b"
                 "6nb") == "a6nb");  // U+009B CSI: the rest is plain text
  CHECK(Filtered("a\xc2\x9d"
                 "52;c;eA==\x07") == "a52;c;eA==\x07");
  CHECK(Filtered("a\x9b"
                 "6n\x90x") == "a6nx");               // stray 8-bit C1 bytes
  CHECK(Filtered("\xc2\xa0\xc2") == "\xc2\xa0\xc2");  // no-break space; a lone lead byte
}

TEST_CASE("terminal filter: malformed, endless and unfinished sequences are dropped") {
  CHECK(Filtered("a\x1b[1?hb") == "ab");
  CHECK(Filtered("a\x1b[" + std::string(100000, '1') + "mb") == "ab");
  CHECK(Filtered("a\x1b[1\x1b[6nb") == "ab");  // ESC restarts a sequence
  CHECK(Filtered("a\x1b[6\x18"
                 "b") ==
        "a\x18"
        "b");  // CAN cancels one
  CHECK(Filtered("a\x1b]0;never ends") == "a");
  CHECK(Filtered("a\x1b[6") == "a");
}

TEST_CASE("terminal filter: a sequence split across reads is recognised whole") {
  std::string stream =
      "text \x1b[1;32mgreen\x1b[0m\x1b[6n\x1b]52;c;eA==\x07\xc2\x9b"
      "5n\xe2\x80\x9cq\xe2\x80\x9d"
      "\x1bP$qm\x1b\\\x1b[?1049;1000h\x1b]0;t\x1b\\end\r\n";
  std::string whole = Filtered(stream);
  CHECK(whole == "text \x1b[1;32mgreen\x1b[0m5n\xe2\x80\x9cq\xe2\x80\x9d\x1b[?1049hend\r\n");
  for (size_t piece = 1; piece <= 7; ++piece) {
    CAPTURE(piece);
    CHECK(FilteredInPieces(stream, piece) == whole);
  }
}

}  // namespace ttyaudit
