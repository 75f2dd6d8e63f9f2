// Session ids, clocks and small encodings shared by every binary.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/result.h"

namespace ttyaudit {

/// A new UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; sorts by creation time.
std::string NewUuidV7();

/// Milliseconds since the epoch encoded in a UUIDv7, or an error if `id` is not one.
Result<int64_t> UuidV7Millis(std::string_view id);

/// Wall-clock time in nanoseconds since the epoch.
int64_t RealtimeNanos();
/// CLOCK_MONOTONIC in nanoseconds.
int64_t MonotonicNanos();
inline int64_t MonotonicMillis() { return MonotonicNanos() / 1000000; }

/// RFC 3339 UTC with milliseconds: 2026-11-25T12:00:00.123Z.
std::string FormatRfc3339(int64_t unix_nanos);
/// YYYY-MM-DD (UTC) of a time.
std::string FormatDate(int64_t unix_nanos);
/// Parses RFC 3339 (with Z or an offset, optional fraction), a date (YYYY-MM-DD), Unix seconds,
/// or a relative "-2h"/"30m"/"7d" back from now. Returns nanoseconds since the epoch.
Result<int64_t> ParseTime(std::string_view s, int64_t now_nanos);

std::string Base64Encode(std::string_view bytes);
/// Decodes standard base64 (with padding); an error for any other character.
Result<std::string> Base64Decode(std::string_view text);

/// Replaces every character outside [A-Za-z0-9._-] with '_', so that a value from outside
/// (an annotation, a name) is one safe storage-key component; never empty, never "." or "..".
std::string SanitizeKeyComponent(std::string_view s, size_t max_len = 128);

}  // namespace ttyaudit
