#include "base/host_info.h"

#include <dlfcn.h>
#include <pwd.h>
#include <systemd/sd-id128.h>
#include <unistd.h>

#include <climits>
#include <cstdint>

#include "base/files.h"

namespace ttyaudit {

std::string NodeName(const std::string& configured) {
  if (!configured.empty()) return configured;
  char buf[HOST_NAME_MAX + 1] = {};
  if (gethostname(buf, sizeof buf - 1) < 0) return "unknown";
  return buf;
}

std::string MachineId() {
  // sd_id128_get_machine() reads this same file; reading it here spares every recorder loading
  // libsystemd (about 1 MiB of memory and 0.7 ms per exec). libsystemd is asked only when the
  // file does not hold a valid id, for the other sources it may know.
  {
    std::string s = ReadSmallFileOrEmpty("/etc/machine-id", 64);
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    if (s.size() == 32 && s.find_first_not_of("0123456789abcdef") == std::string::npos) return s;
  }
  using GetMachine = int (*)(sd_id128_t*);
  void* lib = dlopen("libsystemd.so.0", RTLD_LAZY | RTLD_LOCAL);
  auto get = lib ? reinterpret_cast<GetMachine>(dlsym(lib, "sd_id128_get_machine")) : nullptr;
  sd_id128_t id;
  if (!get || get(&id) < 0) return "";
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  for (uint8_t b : id.bytes) {
    s.push_back(kHex[b >> 4]);
    s.push_back(kHex[b & 15]);
  }
  return s;
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
