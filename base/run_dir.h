// Where ttyaudit keeps its runtime state (tmpfs, root-only): container metadata, session lists,
// the tracker hub's socket. Kept apart from container_meta so that the lean recorders can
// resolve it without linking what container metadata needs.
#pragma once

#include <string>

namespace ttyaudit {

/// The run directory: $TTYAUDIT_RUN_DIR, else /run/ttyaudit.
std::string DefaultRunDir();

}  // namespace ttyaudit
