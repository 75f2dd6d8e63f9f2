// A terminal emulator for recorded output: libvterm (the neovim project's VT220/xterm
// emulation library) behind a small interface that turns hostile recorded bytes into what a
// terminal showed. It keeps the lines people saw (rows that scrolled off, and the screen at the
// moments it is read or about to be cleared) and paints the screen back as escape sequences.
//
// Every cost is bounded: the size is clamped to kMaxCols x kMaxRows; libvterm's work is linear
// in the bytes but for scrolls and erases, which move or clear up to the whole screen, so each
// is charged the cells it touches, and feeding stops (exhausted()) past a budget; and reading the
// screen (snapshots before a clear) stops once it has cost more than a fixed budget plus a multiple
// of the bytes fed. Input built to scroll or clear after every byte cannot make it do unbounded
// work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct VTerm;
struct VTermScreen;
struct VTermState;

namespace ttyaudit {

/// Where the lines that appeared on screen go, in the order they appeared, each without its
/// trailing blanks and never empty. Called from Feed, Resize and SnapshotText.
class ScreenLineSink {
 public:
  virtual ~ScreenLineSink() = default;
  virtual void Line(std::string_view utf8) = 0;
};

class ScreenEmulator {
 public:
  static constexpr int kMaxCols = 500;
  static constexpr int kMaxRows = 200;
  /// Cells a snapshot before a clear may read: this much, plus kSnapshotCellsPerByte for every
  /// byte fed.
  static constexpr uint64_t kSnapshotCellBase = 4000000;
  static constexpr uint64_t kSnapshotCellsPerByte = 16;
  /// Cells that scrolls and erases may touch in all, by default: a few seconds of libvterm's
  /// work (500,000 lines scrolled through an 80x24 screen).
  static constexpr uint64_t kMaxWork = 1000000000ULL;

  /// A screen of `cols` x `rows` (clamped to 1..kMax*), lines going to `sink` (may be null),
  /// with a budget of `max_work` cells for scrolls and erases.
  ScreenEmulator(int cols, int rows, ScreenLineSink* sink, uint64_t max_work = kMaxWork);
  ~ScreenEmulator();
  ScreenEmulator(const ScreenEmulator&) = delete;
  ScreenEmulator& operator=(const ScreenEmulator&) = delete;

  /// Feeds output bytes, none once exhausted(). Before a sequence that clears the screen or leaves
  /// it (ED 2 and 3, ED from the home position, RIS, the alternate screen switched on or off), the
  /// rows changed since they were last read go to the sink.
  void Feed(std::string_view bytes);
  /// Resizes (clamped), after sending the changed rows to the sink.
  void Resize(int cols, int rows);
  /// Sends the rows changed since they were last read to the sink (top to bottom).
  void SnapshotText();

  int cols() const { return cols_; }
  int rows() const { return rows_; }
  bool alt_screen() const { return alt_screen_; }
  uint64_t bytes_fed() const { return bytes_fed_; }
  /// True once the work budget is spent: later bytes are not fed.
  bool exhausted() const { return work_ > max_work_; }

  /// Escape sequences that paint the screen as it is now on a terminal of the same size from
  /// any state: attributes reset, the alternate screen if it is on, the screen cleared, every
  /// row with its colours and attributes, the scroll region, the cursor (position and
  /// visibility) and the pen the program writes with next. Only printable characters, SGR,
  /// cursor moves, ED, DECSTBM and DEC modes 25 and 1049.
  std::string Repaint() const;

  /// The text of row `row` (0-based), trailing blanks removed.
  std::string RowText(int row) const;

 private:
  struct Callbacks;
  friend struct Callbacks;
  // Scans for the sequences Feed acts on; returns the index of the next final byte of one
  // (kNone when none in `bytes` from `from`), with its kind in `what`.
  enum class Act { kNone, kClear, kClearIfHome, kAlt, kRegion, kReset };
  size_t Scan(std::string_view bytes, size_t from, Act& what);
  void FeedSlice(std::string_view bytes);
  void OnDamage(int start_row, int end_row);
  void OnPushLine(int cols, const void* cells);
  void SendLine(std::string line);

  VTerm* vt_ = nullptr;
  VTermScreen* screen_ = nullptr;
  VTermState* state_ = nullptr;
  ScreenLineSink* sink_;
  int cols_ = 0, rows_ = 0;
  bool alt_screen_ = false;
  bool cursor_visible_ = true;
  std::vector<bool> dirty_;  // rows changed since SnapshotText read them
  uint64_t bytes_fed_ = 0;
  uint64_t snapshot_cells_ = 0;
  uint64_t work_ = 0;  // cells charged for scrolls and erases, and one per byte
  uint64_t max_work_;
  int region_top_ = 0, region_bottom_ = 0;  // DECSTBM, 1-based; 0: the whole screen
  // The scanner's state, kept across Feed calls.
  enum class ScanState { kGround, kEscape, kCsi, kString, kStringEsc, kCharset };
  ScanState scan_ = ScanState::kGround;
  std::string params_;  // a CSI's parameter and intermediate bytes so far (bounded)
};

}  // namespace ttyaudit
