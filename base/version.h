// The version every ttyaudit binary reports: the CMake project version (CMakeLists.txt).
#pragma once

namespace ttyaudit {

/// The project version, e.g. "0.1.0".
const char* Version();

}  // namespace ttyaudit
