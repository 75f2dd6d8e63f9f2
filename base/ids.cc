#include "base/ids.h"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <ctime>

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

Result<int64_t> ParseTime(std::string_view s, int64_t now_nanos) {
  std::string str(s);
  auto bad = [&] {
    return Error{"bad time `" + str +
                 "`: want RFC 3339 (2026-11-25T12:00:00Z), a date, Unix seconds, or -2h/30m/7d"};
  };
  if (str.empty()) return bad();
  // Relative: [-]N{s,m,h,d}
  {
    size_t i = str[0] == '-' ? 1 : 0;
    char* end = nullptr;
    long long n = std::strtoll(str.c_str() + i, &end, 10);
    if (end != str.c_str() + i && end[0] && !end[1] && n >= 0) {
      long long unit = end[0] == 's' ? 1 : end[0] == 'm' ? 60 : end[0] == 'h' ? 3600
                     : end[0] == 'd' ? 86400 : 0;
      if (unit) return now_nanos - n * unit * 1000000000LL;
    }
    if (end && !*end && end != str.c_str()) return static_cast<int64_t>(n) * 1000000000LL;
  }
  int Y, M, D, h = 0, m = 0, sec = 0, consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2d%n", &Y, &M, &D, &consumed) != 3) return bad();
  const char* p = str.c_str() + consumed;
  int64_t frac_ns = 0, offset_s = 0;
  if (*p == 'T' || *p == 't' || *p == ' ') {
    int c2 = 0;
    if (std::sscanf(p + 1, "%2d:%2d:%2d%n", &h, &m, &sec, &c2) != 3) return bad();
    p += 1 + c2;
    if (*p == '.') {
      int64_t scale = 100000000;
      for (++p; *p >= '0' && *p <= '9'; ++p, scale /= 10) frac_ns += (*p - '0') * scale;
    }
    if (*p == 'Z' || *p == 'z') {
      ++p;
    } else if (*p == '+' || *p == '-') {
      int oh, om;
      if (std::sscanf(p + 1, "%2d:%2d", &oh, &om) != 2) return bad();
      offset_s = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
      p += 6;
    }
  }
  if (*p) return bad();
  tm t{};
  t.tm_year = Y - 1900;
  t.tm_mon = M - 1;
  t.tm_mday = D;
  t.tm_hour = h;
  t.tm_min = m;
  t.tm_sec = sec;
  time_t secs = timegm(&t);
  return (static_cast<int64_t>(secs) - offset_s) * 1000000000LL + frac_ns;
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
  if (!text.empty() && text.back() == '=') pad = text.size() > 1 && text[text.size() - 2] == '=' ? 2 : 1;
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
