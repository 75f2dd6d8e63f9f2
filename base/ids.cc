#include "base/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>

namespace ttyaudit {

std::string NewUuidV7() {
  unsigned char b[16];
  size_t got = 0;
  while (got < sizeof b) {
    ssize_t n = getrandom(b + got, sizeof b - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // getrandom cannot fail for 16 bytes once the pool is up
    got += static_cast<size_t>(n);
  }
  uint64_t ms = static_cast<uint64_t>(RealtimeNanos() / 1000000);
  for (int i = 0; i < 6; ++i) b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | (b[6] & 0x0F));
  b[8] = static_cast<unsigned char>(0x80 | (b[8] & 0x3F));
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[b[i] >> 4]);
    s.push_back(kHex[b[i] & 15]);
  }
  return s;
}

Result<int64_t> UuidV7Millis(std::string_view id) {
  if (id.size() != 36 || id[8] != '-' || id[13] != '-' || id[14] != '7' || id[18] != '-' ||
      id[23] != '-')
    return Error{"not a UUIDv7: " + std::string(id)};
  int64_t ms = 0;
  for (char c : std::string(id.substr(0, 8)) + std::string(id.substr(9, 4))) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return Error{"not a UUIDv7: " + std::string(id)};
    ms = ms * 16 + v;
  }
  return ms;
}

int64_t RealtimeNanos() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int64_t MonotonicNanos() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

std::string FormatRfc3339(int64_t unix_nanos) {
  time_t secs = static_cast<time_t>(unix_nanos / 1000000000LL);
  int ms = static_cast<int>((unix_nanos / 1000000LL) % 1000);
  tm t;
  gmtime_r(&secs, &t);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.tm_year + 1900,
                t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ms);
  return buf;
}

std::string FormatDate(int64_t unix_nanos) { return FormatRfc3339(unix_nanos).substr(0, 10); }

namespace {
// Exactly `n` decimal digits at s[at...], as a number; -1 otherwise.
int Digits(const std::string& s, size_t at, size_t n) {
  if (at + n > s.size()) return -1;
  int v = 0;
  for (size_t i = at; i < at + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}
int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}
}  // namespace

Result<int64_t> ParseTime(std::string_view s, int64_t now_nanos) {
  // Nanoseconds in an int64_t reach from 1677 to 2262: a time outside, or an age longer than
  // that, is refused rather than overflowed.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / 1000000000LL - 1;
  constexpr const char* kOutOfRange = "out of range (years 1678 to 2261)";
  std::string str(s);
  auto bad = [&](const std::string& why) {
    return Error{"bad time `" + str + "`: " + why +
                 "; want RFC 3339 (2026-11-25T12:00:00Z), a date (2026-11-25), Unix seconds, "
                 "or an age: 90s, 30m, 2h, 7d (or -2h), meaning that long ago"};
  };
  if (str.empty()) return bad("empty");
  // An age: [-]N{s,m,h,d}; or Unix seconds: N.
  size_t i = str[0] == '-' ? 1 : 0;
  size_t digits = 0;
  while (i + digits < str.size() && str[i + digits] >= '0' && str[i + digits] <= '9') ++digits;
  if (digits > 0 && digits <= 12 && i + digits + 1 == str.size() &&
      std::strchr("smhd", str.back())) {
    long long n = std::atoll(str.c_str() + i);
    long long unit = str.back() == 's'   ? 1
                     : str.back() == 'm' ? 60
                     : str.back() == 'h' ? 3600
                                         : 86400;
    int64_t at = 0;
    if (n * unit > kMaxSeconds || __builtin_sub_overflow(now_nanos, n * unit * 1000000000LL, &at))
      return bad(kOutOfRange);
    return at;
  }
  if (i == 0 && digits == str.size() && digits <= 12) {
    long long secs = std::atoll(str.c_str());
    if (secs > kMaxSeconds) return bad(kOutOfRange);
    return static_cast<int64_t>(secs) * 1000000000LL;
  }
  int Y = Digits(str, 0, 4), M = Digits(str, 5, 2), D = Digits(str, 8, 2);
  if (Y < 0 || M < 0 || D < 0 || str[4] != '-' || str[7] != '-') return bad("not a date");
  if (M < 1 || M > 12) return bad("no month " + std::to_string(M));
  if (D < 1 || D > DaysInMonth(Y, M))
    return bad("no day " + std::to_string(D) + " in " + str.substr(0, 7));
  int h = 0, m = 0, sec = 0;
  int64_t frac_ns = 0, offset_s = 0;
  size_t p = 10;
  if (p < str.size()) {
    if (str[p] != 'T' && str[p] != 't' && str[p] != ' ') return bad("not a date");
    h = Digits(str, p + 1, 2), m = Digits(str, p + 4, 2), sec = Digits(str, p + 7, 2);
    if (h < 0 || m < 0 || sec < 0 || str[p + 3] != ':' || str[p + 6] != ':')
      return bad("want a time HH:MM:SS after the date");
    if (h > 23 || m > 59 || sec > 59) return bad("no time " + str.substr(p + 1, 8));
    p += 9;
    if (p < str.size() && str[p] == '.') {
      int64_t scale = 100000000;
      size_t start = ++p;
      for (; p < str.size() && str[p] >= '0' && str[p] <= '9'; ++p, scale /= 10)
        frac_ns += (str[p] - '0') * scale;
      if (p == start) return bad("want digits after the decimal point");
    }
    if (p < str.size() && (str[p] == 'Z' || str[p] == 'z')) {
      ++p;
    } else if (p < str.size() && (str[p] == '+' || str[p] == '-')) {
      int oh = Digits(str, p + 1, 2), om = Digits(str, p + 4, 2);
      if (oh < 0 || om < 0 || p + 3 >= str.size() || str[p + 3] != ':' || oh > 23 || om > 59)
        return bad("bad UTC offset");
      offset_s = (oh * 3600 + om * 60) * (str[p] == '+' ? 1 : -1);
      p += 6;
    } else {
      return bad("want Z or a UTC offset (+01:00) after the time");
    }
  }
  if (p != str.size()) return bad("unexpected `" + str.substr(p) + "`");
  tm t{};
  t.tm_year = Y - 1900;
  t.tm_mon = M - 1;
  t.tm_mday = D;
  t.tm_hour = h;
  t.tm_min = m;
  t.tm_sec = sec;
  int64_t secs = static_cast<int64_t>(timegm(&t)) - offset_s;
  if (secs > kMaxSeconds || secs < -kMaxSeconds) return bad(kOutOfRange);
  return secs * 1000000000LL + frac_ns;
}

// Base64 is written out here rather than taken from libcrypto: ttyaudit-runtime runs on every
// runc call, and loading libcrypto (for this alone) cost it ~0.6 ms per call.
namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
int B64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve(4 * ((bytes.size() + 2) / 3));
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data());
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (uint32_t{b[i]} << 16) | (uint32_t{b[i + 1]} << 8) | b[i + 2];
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], kB64[(v >> 6) & 63], kB64[v & 63]};
  }
  if (size_t left = bytes.size() - i; left) {
    uint32_t v = uint32_t{b[i]} << 16 | (left == 2 ? uint32_t{b[i + 1]} << 8 : 0);
    out += {kB64[v >> 18], kB64[(v >> 12) & 63], left == 2 ? kB64[(v >> 6) & 63] : '=', '='};
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4) return Error{"base64: length is not a multiple of 4"};
  size_t pad = 0;
  if (!text.empty() && text.back() == '=')
    pad = text.size() > 1 && text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(3 * text.size() / 4);
  for (size_t i = 0; i < text.size(); i += 4) {
    bool last = i + 4 == text.size();
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      char c = text[i + j];
      int d = (last && c == '=' && j >= 4 - pad) ? 0 : B64Value(c);
      if (d < 0) return Error{"base64: invalid character"};
      v = v << 6 | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>(v >> 16));
    if (!last || pad < 2) out.push_back(static_cast<char>((v >> 8) & 255));
    if (!last || pad < 1) out.push_back(static_cast<char>(v & 255));
  }
  return out;
}

std::string SanitizeKeyComponent(std::string_view s, size_t max_len) {
  std::string out;
  for (char c : s.substr(0, max_len)) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    out.push_back(ok ? c : '_');
  }
  if (out.empty() || out == "." || out == "..") out = "_";
  return out;
}

}  // namespace ttyaudit
