#include "screen/emulator.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

using namespace ttyaudit;

namespace {

struct Lines : ScreenLineSink {
  std::vector<std::string> lines;
  void Line(std::string_view l) override { lines.emplace_back(l); }
  bool Has(const std::string& l) const {
    for (const auto& x : lines)
      if (x == l) return true;
    return false;
  }
};

// True when `s` holds nothing a terminal would act on but SGR, cursor moves, ED, DECSTBM and
// DEC modes 25 and 1049: every ESC starts a CSI, and no other control byte is there.
bool OnlySafeSequences(const std::string& s) {
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == 0x1b) {
      if (i + 1 >= s.size() || s[i + 1] != '[') return false;
      size_t j = i + 2;
      while (j < s.size() && ((s[j] >= '0' && s[j] <= '9') || s[j] == ';' || s[j] == '?')) ++j;
      if (j >= s.size() || std::string("mHJrhl").find(s[j]) == std::string::npos) return false;
      std::string params = s.substr(i + 2, j - i - 2);
      if ((s[j] == 'h' || s[j] == 'l') && params != "?25" && params != "?1049") return false;
      i = j;
    } else if (c < 0x20 || c == 0x7f) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST_CASE("screen: text drawn only with cursor moves reads as the line on screen") {
  Lines sink;
  ScreenEmulator emu(80, 24, &sink);
  emu.Feed("\x1b[5;10Hhid\x1b[5;20Hden");
  CHECK(emu.RowText(4) == "         hid       den");
  emu.SnapshotText();
  CHECK(sink.Has("         hid       den"));
  sink.lines.clear();
  emu.SnapshotText();  // nothing changed since: nothing read again
  CHECK(sink.lines.empty());
}

TEST_CASE("screen: rows that scroll off the top are kept, in order") {
  Lines sink;
  ScreenEmulator emu(40, 5, &sink);
  for (int i = 0; i < 12; ++i) emu.Feed("line " + std::to_string(i) + "\r\n");
  REQUIRE(sink.lines.size() >= 8);
  for (int i = 0; i < 8; ++i) CHECK(sink.lines[i] == "line " + std::to_string(i));
  CHECK(emu.RowText(0) == "line 8");
}

TEST_CASE("screen: a clear, a reset or leaving the alternate screen keeps what was there") {
  Lines sink;
  ScreenEmulator emu(80, 24, &sink);
  emu.Feed("before clear\r\n\x1b[H\x1b[2J");
  CHECK(sink.Has("before clear"));
  CHECK(emu.RowText(0).empty());
  emu.Feed("top screen\x1b[H\x1b[J");  // ED 0 from the home position clears it all too
  CHECK(sink.Has("top screen"));
  emu.Feed("\x1b[?1049h\x1b[3;3Hin the alt screen");
  CHECK(emu.alt_screen());
  emu.Feed("\x1b[?10");  // a sequence split across two writes
  emu.Feed("49l");
  CHECK_FALSE(emu.alt_screen());
  CHECK(sink.Has("  in the alt screen"));
  emu.Feed(
      "reset me\x1b"
      "c");
  CHECK(sink.Has("reset me"));
}

TEST_CASE("screen: a resize keeps the text first, then draws at the new size") {
  Lines sink;
  ScreenEmulator emu(80, 24, &sink);
  emu.Feed("\x1b[1;70Hwide text");
  emu.Resize(40, 10);
  CHECK(sink.Has(std::string(69, ' ') + "wide text"));
  CHECK(emu.cols() == 40);
  CHECK(emu.rows() == 10);
  emu.Feed("\x1b[10;35Hcorner");
  CHECK(emu.RowText(9) == std::string(34, ' ') + "corner");
}

TEST_CASE("screen: a repaint draws the same screen on another emulator") {
  ScreenEmulator a(60, 12, nullptr);
  a.Feed("\x1b[1;31mred\x1b[0m plain \x1b[7mreverse\x1b[0m\r\n");
  a.Feed("\x1b[38;5;200mindexed\x1b[48;2;10;20;30m rgb bg\x1b[0m\r\n");
  a.Feed("w\xc3\xb6rld \xe4\xb8\xad\xe6\x96\x87 wide\r\n");
  a.Feed("\x1b[3;8r\x1b[5;5Hcursor here\x1b[4m");
  std::string paint = a.Repaint();
  CHECK(OnlySafeSequences(paint));
  ScreenEmulator b(60, 12, nullptr);
  b.Feed("garbage everywhere\r\n\x1b[41m more");
  b.Feed(paint);
  for (int r = 0; r < 12; ++r) CHECK(b.RowText(r) == a.RowText(r));
  CHECK(b.Repaint() == paint);  // colours, attributes, region, cursor and pen too
}

TEST_CASE("screen: the alternate screen repaints as the alternate screen") {
  ScreenEmulator a(40, 8, nullptr);
  a.Feed("\x1b[?1049h\x1b[2;2Hvi here\x1b[?25l");
  std::string paint = a.Repaint();
  CHECK(paint.find("\x1b[?1049h") != std::string::npos);
  CHECK(paint.find("\x1b[?25l") != std::string::npos);
  ScreenEmulator b(40, 8, nullptr);
  b.Feed(paint);
  CHECK(b.alt_screen());
  CHECK(b.RowText(1) == " vi here");
}

TEST_CASE("screen: hostile input stays within its bounds") {
  SUBCASE("a huge size is clamped") {
    ScreenEmulator emu(1000000, 1000000, nullptr);
    CHECK(emu.cols() == ScreenEmulator::kMaxCols);
    CHECK(emu.rows() == ScreenEmulator::kMaxRows);
    emu.Resize(-5, 0);
    CHECK(emu.cols() == 1);
    CHECK(emu.rows() == 1);
  }
  SUBCASE("control characters on screen are never painted back") {
    ScreenEmulator emu(40, 5, nullptr);
    emu.Feed(
        "a\xc2\x9b"
        "6n b\x1b]52;c;aGk=\x07 c\x1bP+q\x1b\\ d\x1b[?1000h\x1b[c");
    CHECK(OnlySafeSequences(emu.Repaint()));
  }
  SUBCASE("clearing after every byte does not read the screen after every byte") {
    Lines sink;
    ScreenEmulator emu(ScreenEmulator::kMaxCols, ScreenEmulator::kMaxRows, &sink, 50000000);
    std::string evil;
    for (int i = 0; i < 20000; ++i) evil += "\x1b[" + std::to_string(1 + i % 200) + ";1Hx\x1b[2J";
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) emu.Feed(evil);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // 400,000 clears of a 500x200 screen: 4e10 cells if each cleared and read the screen.
    CHECK(s < 10);
    CHECK(emu.exhausted());
    CHECK(sink.lines.size() < 400000);
  }
  SUBCASE("line feeds at the bottom of a large screen stop at the work budget") {
    ScreenEmulator emu(ScreenEmulator::kMaxCols, ScreenEmulator::kMaxRows, nullptr, 50000000);
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100 && !emu.exhausted(); ++i) emu.Feed(std::string(1 << 20, '\n'));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    CHECK(emu.exhausted());
    CHECK(emu.bytes_fed() < 1000);  // each line feed at the bottom moves the whole screen
    CHECK(s < 10);
    uint64_t fed = emu.bytes_fed();
    emu.Feed("more");
    CHECK(emu.bytes_fed() == fed);
  }
  SUBCASE("an endless CSI is read through without holding it") {
    ScreenEmulator emu(80, 24, nullptr);
    emu.Feed("\x1b[" + std::string(1 << 20, '1') + "J" + "after");
    CHECK(emu.RowText(0).find("after") != std::string::npos);
  }
}
