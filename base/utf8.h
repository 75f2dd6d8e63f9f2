// UTF-8 checks for recording terminal bytes into asciicast (JSON) strings.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ttyaudit {

/// True when `s` is entirely well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF).
bool IsValidUtf8(std::string_view s);

/// Length of a trailing prefix of a multi-byte sequence that `s` ends with and that more bytes
/// could still complete (0 to 3). Such a tail is held back so a character split across two
/// reads is recorded whole.
size_t IncompleteUtf8Tail(std::string_view s);

/// `s` with every byte that is not part of a well-formed sequence replaced by U+FFFD, as a
/// terminal displays it.
std::string ToValidUtf8Lossy(std::string_view s);

/// Appends code point `cp` to `out` in UTF-8: one to four bytes by its size. It is not checked
/// (a surrogate or a value past U+10FFFF comes out as the same bit pattern).
void AppendUtf8(std::string& out, uint32_t cp);

}  // namespace ttyaudit
