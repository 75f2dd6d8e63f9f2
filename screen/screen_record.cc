#include "screen/screen_record.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <unordered_set>

#include "record/cast_reader.h"
#include "record/session_meta_read.h"
#include "screen/emulator.h"

namespace ttyaudit {
namespace {

constexpr size_t kMaxCommandMarks = 100000;
constexpr size_t kMaxSeenLines = 200000;  // lines remembered for dedup; later ones are not
// Cells that keyframes may read: this much, plus this many per output byte fed.
constexpr uint64_t kKeyframeCellBase = 20000000;
constexpr uint64_t kKeyframeCellsPerByte = 64;

// The screen text: each line once, in the order it first appeared, up to a size.
class TextCollector : public ScreenLineSink {
 public:
  explicit TextCollector(size_t max) : max_(max) {}
  void Line(std::string_view line) override {
    if (text_.size() + line.size() + 1 > max_) {
      truncated_ = true;
      return;
    }
    uint64_t h = std::hash<std::string_view>()(line);
    if (seen_.count(h)) return;
    if (seen_.size() < kMaxSeenLines) seen_.insert(h);
    text_.append(line);
    text_.push_back('\n');
  }
  std::string& text() { return text_; }
  bool truncated() const { return truncated_; }

 private:
  size_t max_;
  std::string text_;
  std::unordered_set<uint64_t> seen_;
  bool truncated_ = false;
};

// "COLSxROWS" of a resize event.
bool ParseSize(const std::string& s, int& cols, int& rows) {
  size_t x = s.find('x');
  if (x == std::string::npos || x == 0 || x > 6 || s.size() - x - 1 > 6) return false;
  char* end = nullptr;
  long c = std::strtol(s.c_str(), &end, 10);
  if (end != s.c_str() + x) return false;
  long r = std::strtol(s.c_str() + x + 1, &end, 10);
  if (*end || c <= 0 || r <= 0) return false;
  cols = static_cast<int>(c);
  rows = static_cast<int>(r);
  return true;
}

// Keyframes within their bounds: when one bound is reached, every other keyframe goes (the
// first stays) and the spacing between them doubles, so a session of any length keeps
// keyframes spread over all of it.
class KeyframeSet {
 public:
  explicit KeyframeSet(const ScreenLimits& l) : limits_(l), every_(l.keyframe_every_s) {}
  bool Due(double t, bool command) const {
    if (frames_.empty()) return true;
    double since = t - frames_.back().time;
    return command ? since >= min_gap_ : since >= every_;
  }
  void Add(Keyframe k) {
    bytes_ += k.screen.size();
    frames_.push_back(std::move(k));
    while (frames_.size() > 1 &&
           (frames_.size() > limits_.max_keyframes || bytes_ > limits_.max_keyframe_bytes)) {
      thinned_ = true;
      std::vector<Keyframe> kept;
      bytes_ = 0;
      for (size_t i = 0; i < frames_.size(); ++i)
        if (i % 2 == 0) {
          bytes_ += frames_[i].screen.size();
          kept.push_back(std::move(frames_[i]));
        }
      frames_ = std::move(kept);
      every_ *= 2;
      min_gap_ = std::max(1.0, min_gap_ * 2);
    }
  }
  std::vector<Keyframe>& frames() { return frames_; }
  bool thinned() const { return thinned_; }

 private:
  const ScreenLimits& limits_;
  double every_;
  double min_gap_ = 0;
  size_t bytes_ = 0;
  bool thinned_ = false;
  std::vector<Keyframe> frames_;
};

}  // namespace

std::vector<CommandMark> CommandMarks(std::string_view commands_json) {
  std::vector<CommandMark> out;
  simdjson::dom::parser parser;
  simdjson::dom::array commands;
  if (commands_json.empty() ||
      parser.parse(commands_json.data(), commands_json.size()).get_array().get(commands))
    return out;
  for (auto c : commands) {
    if (out.size() >= kMaxCommandMarks) break;
    double start;
    simdjson::dom::array argv;
    if (c["start"].get_double().get(start) || c["argv"].get_array().get(argv)) continue;
    if (!std::isfinite(start)) continue;
    CommandMark m;
    m.start = std::max(0.0, start);
    for (auto a : argv) {
      std::string_view s;
      if (a.get_string().get(s)) continue;
      if (!m.line.empty()) m.line.push_back(' ');
      m.line.append(s);
    }
    out.push_back(std::move(m));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const CommandMark& a, const CommandMark& b) { return a.start < b.start; });
  return out;
}

Result<ScreenRecord> BuildScreenRecord(const std::string& cast_path,
                                       const std::vector<double>& marks,
                                       const ScreenLimits& limits) {
  auto reader = CastReader::Open(cast_path);
  if (!reader.ok()) return reader.error();
  int cols = 80, rows = 24;
  if (auto meta = SessionMetaFromHeader(reader->header()); meta.ok()) {
    cols = meta->width;
    rows = meta->height;
  }
  std::vector<double> pending(marks);
  std::sort(pending.begin(), pending.end());
  size_t next_mark = 0;

  TextCollector text(limits.max_text_bytes);
  ScreenEmulator emu(cols, rows, &text);
  KeyframeSet frames(limits);
  ScreenRecord rec;
  uint64_t fed_at_last_frame = 0;
  uint64_t frame_cells = 0;
  double last_time = 0;
  // A keyframe of the screen now, replay resuming at `offset`; skipped once keyframes have read
  // more cells than their budget allows.
  auto take = [&](const char* why, uint64_t offset) {
    frame_cells += static_cast<uint64_t>(emu.cols()) * static_cast<uint64_t>(emu.rows());
    if (frame_cells > kKeyframeCellBase + kKeyframeCellsPerByte * emu.bytes_fed()) return;
    emu.SnapshotText();
    Keyframe k;
    k.time = last_time;
    k.offset = offset;
    k.cols = emu.cols();
    k.rows = emu.rows();
    k.why = why;
    k.screen = emu.Repaint();
    frames.Add(std::move(k));
    fed_at_last_frame = emu.bytes_fed();
  };
  take("start", reader->offset());

  CastEvent ev;
  for (;;) {
    uint64_t before = reader->offset();
    auto more = reader->Next(ev);
    if (!more.ok()) return more.error();
    if (!*more) break;
    double t = std::isfinite(ev.time) ? std::max(last_time, ev.time) : last_time;
    // Keyframes due before this event: the screen as it has been since the last one.
    bool command = false;
    while (next_mark < pending.size() && pending[next_mark] <= t) {
      command = true;
      ++next_mark;
    }
    const bool changed = emu.bytes_fed() != fed_at_last_frame;
    // The reader has read this event already: the keyframe resumes at its line.
    if (changed && !rec.output_truncated &&
        (command ? frames.Due(last_time, true) : frames.Due(t, false)))
      take(command ? "command" : "time", before);
    last_time = t;
    if (ev.code == "o") {
      rec.output_bytes += ev.data.size();
      if (rec.output_truncated) continue;
      if (emu.bytes_fed() + ev.data.size() > limits.max_output_bytes) {
        rec.output_truncated = true;
        continue;
      }
      emu.Feed(ev.data);
      if (emu.exhausted()) rec.output_truncated = true;
    } else if (ev.code == "r" && !rec.output_truncated) {
      int c, r;
      if (ParseSize(ev.data, c, r)) emu.Resize(c, r);
    }
  }
  emu.SnapshotText();
  rec.text = std::move(text.text());
  rec.text_truncated = text.truncated();
  rec.keyframes = std::move(frames.frames());
  rec.keyframes_thinned = frames.thinned();
  rec.duration = last_time;
  return rec;
}

}  // namespace ttyaudit
