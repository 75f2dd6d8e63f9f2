#include "cli/terminal_filter.h"

#include <cstring>
#include <vector>

namespace ttyaudit {
namespace {

constexpr unsigned char kEsc = 0x1b;
constexpr unsigned char kCan = 0x18;
constexpr unsigned char kSub = 0x1a;
constexpr unsigned char kEnq = 0x05;

bool In(unsigned char c, const char* set) { return c && std::strchr(set, c) != nullptr; }

// DEC private modes that only change what the screen shows. Every other one is dropped: the
// mouse and focus reports (9, 1000-1006, 1015, 1016), bracketed paste (2004), in-band resize
// and palette reports (2048, 2031), key encodings (1, 66, 67, 1034-1039, 1050-1061) and VT52
// mode (2, which would change how the terminal parses everything after it).
bool SafeDecMode(std::string_view mode) {
  static constexpr std::string_view kSafe[] = {"3",    "4",    "5",    "6",    "7",   "12",
                                               "25",   "40",   "45",   "47",   "69",  "95",
                                               "1047", "1048", "1049", "2026", "2027"};
  for (std::string_view m : kSafe)
    if (mode == m) return true;
  return false;
}

// `params` ("1049;1000") without the modes that `safe` refuses, or empty if none is left.
std::string KeepModes(std::string_view params, bool (*safe)(std::string_view)) {
  std::string kept;
  size_t start = 0;
  while (start <= params.size()) {
    size_t end = params.find(';', start);
    if (end == std::string_view::npos) end = params.size();
    std::string_view mode = params.substr(start, end - start);
    if (safe(mode)) kept += (kept.empty() ? "" : ";") + std::string(mode);
    start = end + 1;
  }
  return kept;
}

bool SafeAnsiMode(std::string_view mode) { return mode == "4"; }  // insert mode; not 2, 12, 20

}  // namespace

void TerminalFilter::Feed(std::string_view in, std::string& out) {
  for (char ch : in) {
    auto c = static_cast<unsigned char>(ch);
    switch (state_) {
      case State::kGround:
        Ground(c, out);
        break;
      case State::kEscape:
        Escape(c, out);
        break;
      case State::kCsi:
        Csi(c, out);
        break;
      case State::kString:
        String(c, out);
        break;
    }
  }
}

void TerminalFilter::Finish(std::string& out) {
  if (held_c2_) out.push_back(static_cast<char>(0xc2));
  held_c2_ = false;
  utf8_pending_ = 0;
  state_ = State::kGround;
  seq_.clear();
  drop_ = false;
}

void TerminalFilter::Control(unsigned char c, std::string& out) {
  if (c != kEnq) out.push_back(static_cast<char>(c));  // ENQ asks for the answerback
}

void TerminalFilter::Append(unsigned char c) {
  if (seq_.size() >= kMaxSequence)
    drop_ = true;
  else
    seq_.push_back(static_cast<char>(c));
}

void TerminalFilter::Ground(unsigned char c, std::string& out) {
  if (held_c2_) {
    held_c2_ = false;
    if (c >= 0x80 && c <= 0x9f) return;  // U+0080..U+009F: a C1 control, such as CSI or OSC
    out.push_back(static_cast<char>(0xc2));
    if (c >= 0xa0 && c <= 0xbf) {
      out.push_back(static_cast<char>(c));
      return;
    }
  }
  if (utf8_pending_ > 0 && c >= 0x80 && c <= 0xbf) {
    --utf8_pending_;
    out.push_back(static_cast<char>(c));
    return;
  }
  utf8_pending_ = 0;
  if (c == kEsc) {
    state_ = State::kEscape;
    seq_.assign(1, static_cast<char>(kEsc));
    drop_ = false;
  } else if (c < 0x20) {
    Control(c, out);
  } else if (c >= 0x80 && c <= 0x9f) {
    // Not part of a character: an 8-bit C1 control to a terminal that is not in UTF-8 mode.
  } else if (c == 0xc2) {
    held_c2_ = true;
  } else {
    if (c >= 0xc3 && c <= 0xdf)
      utf8_pending_ = 1;
    else if (c >= 0xe0 && c <= 0xef)
      utf8_pending_ = 2;
    else if (c >= 0xf0 && c <= 0xf4)
      utf8_pending_ = 3;
    out.push_back(static_cast<char>(c));
  }
}

void TerminalFilter::Escape(unsigned char c, std::string& out) {
  if (c == kEsc) {
    seq_.assign(1, static_cast<char>(kEsc));
    drop_ = false;
    return;
  }
  if (c == kCan || c == kSub) {
    state_ = State::kGround;
    Control(c, out);
    return;
  }
  if (c < 0x20) return Control(c, out);
  if (c >= 0x20 && c <= 0x2f) return Append(c);  // intermediate
  if (c >= 0x80) {                               // not an escape sequence after all
    state_ = State::kGround;
    return Ground(c, out);
  }
  if (c == 0x7f) return;
  state_ = State::kGround;
  if (seq_.size() == 1) {
    if (c == '[') {
      state_ = State::kCsi;
      seq_.push_back('[');
      return;
    }
    if (In(c, "]PX^_")) {  // OSC, DCS, SOS, PM, APC: strings, all dropped
      state_ = State::kString;
      return;
    }
    // Cursor save/restore, keypad modes, index, next line, tab set, reverse index, single
    // shifts, full reset, back/forward index, locking shifts. Not ESC Z (DECID, a query).
    if (In(c, "78=>DEHMNOc69Fno|}~")) out += seq_ + static_cast<char>(c);
    return;
  }
  if (drop_) return;
  char first = seq_[1];
  bool charset = In(first, "()*+-./") && seq_.size() <= 3;              // designate G0..G3
  bool line_size = first == '#' && seq_.size() == 2 && In(c, "34568");  // DECDHL, DECALN...
  // Not ESC SP F/G (7- or 8-bit replies) nor ESC % (leaving UTF-8 would turn bytes into C1).
  if (charset || line_size) out += seq_ + static_cast<char>(c);
}

void TerminalFilter::Csi(unsigned char c, std::string& out) {
  if (c == kEsc) {
    state_ = State::kEscape;
    seq_.assign(1, static_cast<char>(kEsc));
    drop_ = false;
    return;
  }
  if (c == kCan || c == kSub) {
    state_ = State::kGround;
    Control(c, out);
    return;
  }
  if (c < 0x20) return Control(c, out);  // executed in the middle of a sequence
  if (c == 0x7f) return;
  if (c >= 0x80) {
    drop_ = true;
    return;
  }
  if (c >= 0x40) {  // final byte
    state_ = State::kGround;
    Append(c);
    if (!drop_) EmitCsiIfSafe(out);
    return;
  }
  // Parameter bytes (0x30..0x3f), then intermediates (0x20..0x2f). A private marker (<=>?)
  // comes first; anything out of that order makes the sequence malformed.
  bool intermediate_seen = seq_.size() > 2 && static_cast<unsigned char>(seq_.back()) < 0x30;
  if (c >= 0x30 && (intermediate_seen || (c >= 0x3c && seq_.size() > 2))) drop_ = true;
  Append(c);
}

void TerminalFilter::String(unsigned char c, std::string& out) {
  if (c == 0x07) {  // BEL ends an OSC (xterm)
    state_ = State::kGround;
  } else if (c == kEsc) {  // ESC \ (ST) ends it; ESC anything else starts a new sequence
    state_ = State::kEscape;
    seq_.assign(1, static_cast<char>(kEsc));
    drop_ = false;
  } else if (c == kCan || c == kSub) {
    state_ = State::kGround;
    Control(c, out);
  }
}

void TerminalFilter::EmitCsiIfSafe(std::string& out) {
  std::string_view body(seq_);
  body.remove_prefix(2);  // ESC [
  char final_byte = body.back();
  body.remove_suffix(1);
  char marker = 0;
  if (!body.empty() && In(static_cast<unsigned char>(body[0]), "<=>?")) {
    marker = body[0];
    body.remove_prefix(1);
  }
  size_t i = body.find_first_not_of("0123456789;:");
  std::string_view params = body.substr(0, i == std::string_view::npos ? body.size() : i);
  std::string_view inter = body.substr(params.size());
  auto f = static_cast<unsigned char>(final_byte);
  bool safe = false;
  if (marker == 0 && inter.empty()) {
    if (f == 'h' || f == 'l') {  // SM, RM
      std::string kept = KeepModes(params, SafeAnsiMode);
      if (!kept.empty()) out += "\x1b[" + kept + final_byte;
      return;
    }
    // Cursor movement and position, erasing, insert/delete, scrolling, tabs, SGR, margins,
    // repeat, cursor save/restore. Not n (DSR), c (DA), t (window ops and reports), x
    // (DECREQTPARM), i (printer), q (LEDs), y (tests) and the rest.
    safe = In(f, "@ABCDEFGHIJKLMPSTXZ`abdefgjkmrsu");
  } else if (marker == 0 && inter.size() == 1) {
    switch (inter[0]) {
      case ' ':
        safe = In(f, "q@A");
        break;  // cursor style, shift left/right
      case '!':
        safe = f == 'p';
        break;  // soft reset
      case '"':
        safe = f == 'q';
        break;  // character protection
      case '$':
        safe = In(f, "rtvxz{");
        break;  // rectangular areas; not $p (DECRQM)
      case '\'':
        safe = In(f, "}~");
        break;  // insert/delete columns; not the locator
      case '*':
        safe = f == 'x';
        break;  // attribute change extent; not *y (checksum)
    }
  } else if (marker == '?' && inter.empty()) {
    if (f == 'h' || f == 'l') {  // DECSET, DECRST
      std::string kept = KeepModes(params, SafeDecMode);
      if (!kept.empty()) out += "\x1b[?" + kept + final_byte;
      return;
    }
    safe = In(f, "JK");  // selective erase
  }
  if (safe) out += seq_;
}

}  // namespace ttyaudit
