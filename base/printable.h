// Showing untrusted text (recorded argv, user names, paths, bucket keys) on a terminal or in a
// log line without letting it drive the terminal: control characters become visible notation.
#pragma once

#include <string>
#include <string_view>

namespace ttyaudit {

/// `s` with every control character shown in caret notation, as `cat -v` does: C0 controls as
/// ^@ .. ^_ (ESC is ^[), DEL as ^?, C1 controls (U+0080..U+009F) as M-^@ .. M-^_. Bytes that
/// are not well-formed UTF-8 become U+FFFD first. Everything else is kept.
std::string EscapeControlChars(std::string_view s);

}  // namespace ttyaudit
