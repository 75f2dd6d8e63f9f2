// What every fuzz target shares: the input as text or as a stream, and a check that aborts
// (so that libFuzzer keeps the input) when a property of a parser does not hold.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace ttyaudit::fuzz {

inline std::string_view Text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// The input as a read-only stream (fmemopen needs at least one byte: an empty input reads as
/// /dev/null would). The caller closes it.
inline FILE* Stream(const uint8_t* data, size_t size) {
  if (size == 0) return std::fopen("/dev/null", "rb");
  return fmemopen(const_cast<uint8_t*>(data), size, "rb");
}

/// Aborts with `what` on stderr when `ok` is false: a property the parser promises broke.
inline void Check(bool ok, const char* what) {
  if (ok) return;
  std::fprintf(stderr, "fuzz: property broken: %s\n", what);
  std::abort();
}

/// Splits the input at `sep` into the pieces a target builds its call from (annotations as
/// key, value, key, value...).
template <class F>
void ForEachPiece(std::string_view text, char sep, F&& f) {
  while (true) {
    size_t at = text.find(sep);
    f(text.substr(0, at));
    if (at == std::string_view::npos) return;
    text.remove_prefix(at + 1);
  }
}

/// `key` is `prefix` then exactly `parts` components joined by '/', none of them empty, `.` or
/// `..`, all printable ASCII: an object key that stays in its place in the bucket.
inline void CheckKeyShape(std::string_view key, std::string_view prefix, size_t parts) {
  Check(key.starts_with(prefix), "a key starts with its prefix");
  std::string_view rest = key.substr(prefix.size());
  size_t n = 0;
  ForEachPiece(rest, '/', [&](std::string_view c) {
    ++n;
    Check(!c.empty() && c != "." && c != "..", "no key component is empty, '.' or '..'");
    for (char ch : c)
      Check(static_cast<unsigned char>(ch) > 0x20 && static_cast<unsigned char>(ch) < 0x7f,
            "a key is printable ASCII");
  });
  Check(n == parts, "a key has as many components as its kind");
}

}  // namespace ttyaudit::fuzz
