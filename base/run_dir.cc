#include "base/run_dir.h"

#include <cstdlib>

namespace ttyaudit {

std::string DefaultRunDir() {
  const char* d = std::getenv("TTYAUDIT_RUN_DIR");
  return d && *d ? d : "/run/ttyaudit";
}

}  // namespace ttyaudit
