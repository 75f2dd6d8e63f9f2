#include "runtime/create_hooks.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>

#include "oci/oci_bundle.h"

namespace ttyaudit {

std::string HookBinaryBeside(const std::string& self_exe) {
  size_t slash = self_exe.rfind('/');
  if (slash == std::string::npos) return "";
  std::string hook = self_exe.substr(0, slash) + "/ttyaudit-hook";
  return ::access(hook.c_str(), X_OK) == 0 ? hook : "";
}

void PrepareCreate(const ExecContext& ctx) {
  char self[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return;
  self[n] = '\0';
  std::string hook = HookBinaryBeside(self);
  if (hook.empty()) return;
  std::string bundle = ctx.args.create.bundle;
  if (bundle.empty()) {
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) return;
    bundle = cwd;  // runc's default bundle is the current directory
  }
  HookOptions opts;
  for (const char* name : {"TTYAUDIT_CONFIG", "TTYAUDIT_RUN_DIR"}) {
    if (const char* v = std::getenv(name); v && *v) opts.env.push_back(std::string(name) + "=" + v);
  }
  if (auto st = AddHooks(bundle, hook, opts); !st)
    ctx.log.Error("container " + ctx.args.create.container_id +
                  " starts without ttyaudit-hook (fail-open): " + st.message());
}

}  // namespace ttyaudit
