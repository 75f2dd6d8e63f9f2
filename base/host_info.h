// Facts about this node and the calling user, for session metadata.
#pragma once

#include <cstdint>
#include <string>

namespace ttyaudit {

/// The node name: config node_name if set, else the host name.
std::string NodeName(const std::string& configured);
/// /etc/machine-id through libsystemd, or empty when there is none.
std::string MachineId();
/// The user name for a uid, or the number as text when it has no passwd entry.
std::string UserName(int64_t uid);
/// The current working directory, or empty.
std::string CurrentDir();

}  // namespace ttyaudit
