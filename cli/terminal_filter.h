// Replaying a recording to the auditor's own terminal without letting it talk to that terminal.
//
// A recording is whatever a container printed. Played back byte for byte, its terminal queries
// (cursor position and status reports, device attributes, DECRQSS, colour and title reports)
// make the auditor's terminal answer on its input, where the answer lands on the shell prompt;
// its OSC strings write the clipboard (OSC 52), set titles and hyperlinks; other sequences
// switch on mouse or focus reports or change how keys are encoded, which outlives the replay.
//
// TerminalFilter is an escape-sequence state machine (after the DEC/ECMA-48 parser of
// vt100.net's "A parser for DEC's ANSI-compatible video terminals"). It passes text, C0
// controls, SGR, cursor movement, erasing, scrolling and screen modes unchanged, and drops
// every other sequence: a known-safe list, not a list of known-bad ones. Every OSC, DCS, SOS,
// PM and APC string is dropped whole (titles, clipboard, hyperlinks, colours, DECRQSS, sixel,
// user-defined keys), as are C1 controls (U+0080..U+009F and stray 0x80..0x9f bytes), ENQ
// (the answerback) and, in DEC private mode sets, the modes that make the terminal send input
// (mouse, focus, ...). Sequences split across Feed calls are recognised whole; a sequence's
// bytes are held until its end (at most kMaxSequence bytes; a longer one is dropped).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ttyaudit {

class TerminalFilter {
 public:
  static constexpr size_t kMaxSequence = 256;

  /// Appends to `out` what of `in` may reach a terminal.
  void Feed(std::string_view in, std::string& out);
  /// Ends the stream: a sequence still open is dropped; a held UTF-8 lead byte is appended.
  void Finish(std::string& out);

 private:
  enum class State { kGround, kEscape, kCsi, kString };
  void Ground(unsigned char c, std::string& out);
  void Escape(unsigned char c, std::string& out);
  void Csi(unsigned char c, std::string& out);
  void String(unsigned char c, std::string& out);
  void Append(unsigned char c);  // to seq_, up to kMaxSequence; past it the sequence is dropped
  // A C0 control inside or outside a sequence: executed at once by terminals.
  void Control(unsigned char c, std::string& out);
  void EmitCsiIfSafe(std::string& out);

  State state_ = State::kGround;
  std::string seq_;       // the sequence so far, from its ESC
  bool drop_ = false;     // the sequence is malformed or too long: dropped at its end
  int utf8_pending_ = 0;  // continuation bytes the current UTF-8 character still needs
  bool held_c2_ = false;  // a 0xc2 lead byte: U+0080..U+009F (C1) or text, by the next byte
};

}  // namespace ttyaudit
