#include "base/version.h"

namespace ttyaudit {

// TTYAUDIT_VERSION is defined for this file alone (CMakeLists.txt), so that a new version
// rebuilds one file.
const char* Version() { return TTYAUDIT_VERSION; }

}  // namespace ttyaudit
