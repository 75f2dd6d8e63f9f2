#include "common/host_info.h"

#include <pwd.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <climits>

namespace ttyaudit {

std::string NodeName(const std::string& configured) {
  if (!configured.empty()) return configured;
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) < 0) return "unknown";
  return buf;
}

std::string MachineId() {
  sd_id128_t id;
  if (sd_id128_get_machine(&id) < 0) return "";
  char s[SD_ID128_STRING_MAX];
  return sd_id128_to_string(id, s);
}

std::string UserName(int64_t uid) {
  passwd pw, *res = nullptr;
  char buf[4096];
  if (uid >= 0 && getpwuid_r(static_cast<uid_t>(uid), &pw, buf, sizeof buf, &res) == 0 && res)
    return res->pw_name;
  return std::to_string(uid);
}

std::string CurrentDir() {
  char buf[PATH_MAX];
  return getcwd(buf, sizeof buf) ? buf : "";
}

}  // namespace ttyaudit
