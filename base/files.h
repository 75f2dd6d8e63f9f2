// Reading the small files ttyaudit looks at: /proc entries, bundle and container configs.
#pragma once

#include <cstddef>
#include <string>

#include "base/result.h"

namespace ttyaudit {

/// Reads at most `max_bytes` of a file (what is beyond is ignored), growing the buffer as it
/// reads: these files are a few KiB, and zero-filling a worst-case buffer up front costs ms.
Result<std::string> ReadSmallFile(const std::string& path, size_t max_bytes = 4 << 20);

/// ReadSmallFile, with "" for a file that cannot be read (a /proc entry of a process that is
/// gone).
inline std::string ReadSmallFileOrEmpty(const std::string& path, size_t max_bytes) {
  auto r = ReadSmallFile(path, max_bytes);
  return r.ok() ? std::move(r.value()) : std::string();
}

}  // namespace ttyaudit
