// Test helper: removes a test's scratch dir with everything in it, sealed spool files included
// (they are immutable until an uploader takes them, so a plain `rm -rf` leaves them behind).
#pragma once

#include <filesystem>
#include <string>
#include <system_error>

#include "record/spool_writer.h"

namespace ttyaudit::testing {

inline void RemoveTestDir(const std::string& path) {
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec))
    if (e.is_regular_file(ec)) (void)ReleaseImmutable(e.path().string());
  std::filesystem::remove_all(path, ec);
}

}  // namespace ttyaudit::testing
