#include "screen/emulator.h"

#include <vterm.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace ttyaudit {
namespace {

constexpr size_t kMaxParams = 64;  // a CSI's parameters kept for the scanner; longer: ignored

int Clamp(int v, int max) { return std::max(1, std::min(v, max)); }

// Appends codepoint `c` as UTF-8; a control character as '?', a codepoint that is not one as
// U+FFFD. The screen can hold what a hostile stream put there: none of it may act on a
// terminal when painted back.
void AppendUtf8(std::string& out, uint32_t c) {
  if (c < 0x20 || (c >= 0x7f && c < 0xa0)) c = '?';
  if (c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff)) c = 0xfffd;
  if (c < 0x80) {
    out.push_back(static_cast<char>(c));
  } else if (c < 0x800) {
    out.push_back(static_cast<char>(0xc0 | (c >> 6)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else if (c < 0x10000) {
    out.push_back(static_cast<char>(0xe0 | (c >> 12)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  } else {
    out.push_back(static_cast<char>(0xf0 | (c >> 18)));
    out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3f)));
    out.push_back(static_cast<char>(0x80 | (c & 0x3f)));
  }
}

bool IsContinuation(const VTermScreenCell& c) { return c.chars[0] == static_cast<uint32_t>(-1); }

// Appends a cell's characters (a blank cell as a space).
void AppendCell(std::string& out, const VTermScreenCell& c) {
  if (c.chars[0] == 0) {
    out.push_back(' ');
    return;
  }
  for (int i = 0; i < VTERM_MAX_CHARS_PER_CELL && c.chars[i]; ++i) AppendUtf8(out, c.chars[i]);
}

std::string CellsText(const VTermScreenCell* cells, int n) {
  std::string line;
  for (int i = 0; i < n; ++i)
    if (!IsContinuation(cells[i])) AppendCell(line, cells[i]);
  size_t end = line.find_last_not_of(' ');
  line.resize(end == std::string::npos ? 0 : end + 1);
  return line;
}

void AppendColour(std::string& sgr, const VTermColor& c, bool fg) {
  if (fg ? VTERM_COLOR_IS_DEFAULT_FG(&c) : VTERM_COLOR_IS_DEFAULT_BG(&c)) return;
  if (VTERM_COLOR_IS_INDEXED(&c)) {
    int i = c.indexed.idx;
    if (i < 8)
      sgr += ";" + std::to_string((fg ? 30 : 40) + i);
    else if (i < 16)
      sgr += ";" + std::to_string((fg ? 90 : 100) + i - 8);
    else
      sgr += std::string(fg ? ";38;5;" : ";48;5;") + std::to_string(i);
  } else {
    sgr += std::string(fg ? ";38;2;" : ";48;2;") + std::to_string(c.rgb.red) + ";" +
           std::to_string(c.rgb.green) + ";" + std::to_string(c.rgb.blue);
  }
}

// The SGR sequence that sets exactly these attributes from any pen.
std::string Sgr(bool bold, int underline, bool italic, bool blink, bool reverse, bool strike,
                const VTermColor& fg, const VTermColor& bg) {
  std::string s = "\x1b[0";
  if (bold) s += ";1";
  if (italic) s += ";3";
  if (underline) s += ";4";
  if (blink) s += ";5";
  if (reverse) s += ";7";
  if (strike) s += ";9";
  AppendColour(s, fg, true);
  AppendColour(s, bg, false);
  return s + "m";
}

std::string CellSgr(const VTermScreenCell& c) {
  return Sgr(c.attrs.bold, c.attrs.underline, c.attrs.italic, c.attrs.blink, c.attrs.reverse,
             c.attrs.strike, c.fg, c.bg);
}

bool IsBlank(const VTermScreenCell& c) {
  return (c.chars[0] == 0 || c.chars[0] == ' ') && !c.attrs.reverse && !c.attrs.underline &&
         !c.attrs.strike && VTERM_COLOR_IS_DEFAULT_BG(&c.bg);
}

std::string Cup(int row, int col) {
  return "\x1b[" + std::to_string(row + 1) + ";" + std::to_string(col + 1) + "H";
}

// The numbers of a CSI's parameters ("2;5" -> {2, 5}; an empty one is 0).
std::vector<int> Numbers(std::string_view p) {
  std::vector<int> out;
  for (;;) {
    size_t semi = p.find(';');
    std::string_view n = p.substr(0, semi);
    int v = 0;
    for (char c : n)
      if (c >= '0' && c <= '9') v = std::min(v * 10 + (c - '0'), 100000);
    out.push_back(v);
    if (semi == std::string_view::npos) break;
    p.remove_prefix(semi + 1);
  }
  return out;
}

}  // namespace

struct ScreenEmulator::Callbacks {
  static int Damage(VTermRect r, void* user) {
    static_cast<ScreenEmulator*>(user)->OnDamage(r.start_row, r.end_row);
    return 1;
  }
  static int SetTermProp(VTermProp prop, VTermValue* val, void* user) {
    auto* self = static_cast<ScreenEmulator*>(user);
    if (prop == VTERM_PROP_ALTSCREEN) self->alt_screen_ = val->boolean;
    if (prop == VTERM_PROP_CURSORVISIBLE) self->cursor_visible_ = val->boolean;
    return 1;
  }
  static int PushLine(int cols, const VTermScreenCell* cells, void* user) {
    static_cast<ScreenEmulator*>(user)->OnPushLine(cols, cells);
    return 1;
  }
  static void Output(const char*, size_t, void*) {}  // the emulator's answers: nobody asked
};

ScreenEmulator::ScreenEmulator(int cols, int rows, ScreenLineSink* sink, uint64_t max_work)
    : sink_(sink), cols_(Clamp(cols, kMaxCols)), rows_(Clamp(rows, kMaxRows)), max_work_(max_work) {
  dirty_.assign(static_cast<size_t>(rows_), false);  // before any callback can come
  vt_ = vterm_new(rows_, cols_);
  vterm_set_utf8(vt_, 1);
  vterm_output_set_callback(vt_, &Callbacks::Output, nullptr);
  screen_ = vterm_obtain_screen(vt_);
  state_ = vterm_obtain_state(vt_);
  static const VTermScreenCallbacks kCallbacks = {&Callbacks::Damage,      nullptr, nullptr,
                                                  &Callbacks::SetTermProp, nullptr, nullptr,
                                                  &Callbacks::PushLine,    nullptr};
  vterm_screen_set_callbacks(screen_, &kCallbacks, this);
  vterm_screen_set_damage_merge(screen_, VTERM_DAMAGE_SCREEN);
  vterm_screen_enable_altscreen(screen_, 1);
  vterm_screen_reset(screen_, 1);
}

ScreenEmulator::~ScreenEmulator() { vterm_free(vt_); }

void ScreenEmulator::OnDamage(int start_row, int end_row) {
  for (int r = std::max(0, start_row); r < std::min<int>(end_row, dirty_.size()); ++r)
    dirty_[static_cast<size_t>(r)] = true;
}

void ScreenEmulator::OnPushLine(int cols, const void* cells) {
  SendLine(CellsText(static_cast<const VTermScreenCell*>(cells), cols));
}

void ScreenEmulator::SendLine(std::string line) {
  if (sink_ && !line.empty()) sink_->Line(line);
}

std::string ScreenEmulator::RowText(int row) const {
  std::vector<VTermScreenCell> cells(static_cast<size_t>(cols_));
  for (int c = 0; c < cols_; ++c) vterm_screen_get_cell(screen_, VTermPos{row, c}, &cells[c]);
  return CellsText(cells.data(), cols_);
}

void ScreenEmulator::SnapshotText() {
  vterm_screen_flush_damage(screen_);
  for (int r = 0; r < rows_; ++r) {
    if (!dirty_[static_cast<size_t>(r)]) continue;
    dirty_[static_cast<size_t>(r)] = false;
    snapshot_cells_ += static_cast<uint64_t>(cols_);
    SendLine(RowText(r));
  }
}

size_t ScreenEmulator::Scan(std::string_view bytes, size_t from, Act& what) {
  const uint64_t area = static_cast<uint64_t>(cols_) * static_cast<uint64_t>(rows_);
  for (size_t i = from; i < bytes.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c >= 0x0a && c <= 0x0c) work_ += area;  // LF, VT, FF: at the bottom, a scroll
    switch (scan_) {
      case ScanState::kGround:
        if (c == 0x1b) scan_ = ScanState::kEscape;
        break;
      case ScanState::kEscape:
        if (c == '[') {
          scan_ = ScanState::kCsi;
          params_.clear();
        } else if (c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X') {
          scan_ = ScanState::kString;
        } else if (c == '(' || c == ')' || c == '*' || c == '+') {
          scan_ = ScanState::kCharset;
        } else if (c != 0x1b) {
          scan_ = ScanState::kGround;
          if (std::strchr("cDEM#", c)) work_ += area;  // RIS, IND, NEL, RI, DECALN
          if (c == 'c') {
            what = Act::kReset;
            return i;
          }
        }
        break;
      case ScanState::kCharset:
        scan_ = ScanState::kGround;
        break;
      case ScanState::kString:
        if (c == 0x07 || c == 0x18 || c == 0x1a) scan_ = ScanState::kGround;
        if (c == 0x1b) scan_ = ScanState::kStringEsc;
        break;
      case ScanState::kStringEsc:
        scan_ = c == '\\' ? ScanState::kGround : ScanState::kEscape;
        if (c != '\\') --i;  // the ESC began a new sequence: read this byte as its next
        break;
      case ScanState::kCsi:
        if (c == 0x1b) {
          scan_ = ScanState::kEscape;
        } else if (c == 0x18 || c == 0x1a) {
          scan_ = ScanState::kGround;
        } else if (c >= 0x20 && c <= 0x3f) {
          if (params_.size() < kMaxParams) params_.push_back(static_cast<char>(c));
        } else if (c >= 0x40 && c <= 0x7e) {
          scan_ = ScanState::kGround;
          // Erases and scrolls: the screen, or a line.
          if (std::strchr("JLMST", c)) work_ += area;
          if (std::strchr("@KPXb", c)) work_ += static_cast<uint64_t>(cols_);
          const bool priv = !params_.empty() && params_[0] == '?';
          const bool plain = params_.find_first_not_of("0123456789;") == std::string::npos;
          what = Act::kNone;
          if (c == 'J' && plain) {
            int n = Numbers(params_)[0];
            if (n == 2 || n == 3) what = Act::kClear;
            if (n == 0) what = Act::kClearIfHome;
          } else if ((c == 'h' || c == 'l') && priv) {
            for (int n : Numbers(std::string_view(params_).substr(1)))
              if (n == 47 || n == 1047 || n == 1049) what = Act::kAlt;
          } else if (c == 'r' && plain) {
            what = Act::kRegion;
          }
          if (what != Act::kNone) return i;
        }
        break;
    }
  }
  what = Act::kNone;
  return std::string_view::npos;
}

void ScreenEmulator::Feed(std::string_view bytes) {
  // In slices, so that the budget is checked while one large write goes in.
  constexpr size_t kSlice = 256;  // at most 256 scrolls past the budget
  for (size_t at = 0; at < bytes.size() && !exhausted(); at += kSlice)
    FeedSlice(bytes.substr(at, kSlice));
}

void ScreenEmulator::FeedSlice(std::string_view bytes) {
  size_t pos = 0;
  for (;;) {
    Act what;
    size_t at = Scan(bytes, pos, what);
    size_t end = at == std::string_view::npos ? bytes.size() : at;
    if (end > pos) vterm_input_write(vt_, bytes.data() + pos, end - pos);
    bytes_fed_ += end - pos;
    work_ += end - pos;
    pos = end;
    if (at == std::string_view::npos) break;
    // Before the sequence's final byte: the screen it is about to clear is still there.
    bool snapshot = what == Act::kClear || what == Act::kAlt || what == Act::kReset;
    if (what == Act::kClearIfHome) {
      VTermPos cursor;
      vterm_state_get_cursorpos(state_, &cursor);
      snapshot = cursor.row == 0 && cursor.col == 0;
    }
    if (snapshot && snapshot_cells_ < kSnapshotCellBase + kSnapshotCellsPerByte * bytes_fed_)
      SnapshotText();
    vterm_input_write(vt_, bytes.data() + pos, 1);
    ++bytes_fed_;
    ++pos;
    if (what == Act::kReset) region_top_ = region_bottom_ = 0;
    if (what == Act::kRegion) {
      std::vector<int> n = Numbers(params_);
      int top = std::max(1, n[0]);
      int bottom = n.size() > 1 && n[1] > 0 ? std::min(n[1], rows_) : rows_;
      if (top < bottom) {  // as the terminal does: a region of one row or less is ignored
        bool whole = top == 1 && bottom == rows_;
        region_top_ = whole ? 0 : top;
        region_bottom_ = whole ? 0 : bottom;
      }
    }
  }
}

void ScreenEmulator::Resize(int cols, int rows) {
  cols = Clamp(cols, kMaxCols);
  rows = Clamp(rows, kMaxRows);
  if (cols == cols_ && rows == rows_) return;
  SnapshotText();
  dirty_.assign(static_cast<size_t>(std::max(rows, rows_)), true);  // callbacks during the resize
  work_ += static_cast<uint64_t>(cols) * static_cast<uint64_t>(rows);  // a new buffer
  vterm_set_size(vt_, rows, cols);
  cols_ = cols;
  rows_ = rows;
  dirty_.assign(static_cast<size_t>(rows_), true);
  region_top_ = region_bottom_ = 0;
}

std::string ScreenEmulator::Repaint() const {
  std::string out = "\x1b[0m";
  if (alt_screen_) out += "\x1b[?1049h";
  out += "\x1b[r\x1b[H\x1b[2J";
  std::vector<VTermScreenCell> cells(static_cast<size_t>(cols_));
  for (int r = 0; r < rows_; ++r) {
    int last = -1;
    for (int c = 0; c < cols_; ++c) {
      vterm_screen_get_cell(screen_, VTermPos{r, c}, &cells[c]);
      if (!IsContinuation(cells[c]) && !IsBlank(cells[c])) last = c;
    }
    if (last < 0) continue;
    out += Cup(r, 0);
    std::string pen = "\x1b[0m";
    for (int c = 0; c <= last; ++c) {
      if (IsContinuation(cells[c])) continue;
      std::string sgr = CellSgr(cells[c]);
      if (sgr != pen) out += pen = sgr;
      AppendCell(out, cells[c]);
    }
    out += "\x1b[0m";
  }
  if (region_top_)
    out += "\x1b[" + std::to_string(region_top_) + ";" + std::to_string(region_bottom_) + "r";
  VTermPos cursor;
  vterm_state_get_cursorpos(state_, &cursor);
  out += Cup(std::min(cursor.row, rows_ - 1), std::min(cursor.col, cols_ - 1));
  VTermValue v;
  bool bold = false, italic = false, blink = false, reverse = false, strike = false;
  int underline = 0;
  VTermColor fg, bg;
  vterm_state_get_default_colors(state_, &fg, &bg);
  if (vterm_state_get_penattr(state_, VTERM_ATTR_BOLD, &v)) bold = v.boolean;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_UNDERLINE, &v)) underline = v.number;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_ITALIC, &v)) italic = v.boolean;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_BLINK, &v)) blink = v.boolean;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_REVERSE, &v)) reverse = v.boolean;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_STRIKE, &v)) strike = v.boolean;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_FOREGROUND, &v)) fg = v.color;
  if (vterm_state_get_penattr(state_, VTERM_ATTR_BACKGROUND, &v)) bg = v.color;
  out += Sgr(bold, underline, italic, blink, reverse, strike, fg, bg);
  out += cursor_visible_ ? "\x1b[?25h" : "\x1b[?25l";
  return out;
}

}  // namespace ttyaudit
