// ttyaudit-hook STAGE: an OCI hook (createRuntime, poststop) installed by ttyaudit-runtime.
// Reads the container state JSON on stdin; exits 0 quickly; a failure is logged and never
// blocks the container unless fail_closed applies to it.
// ttyaudit-hook install BUNDLE: adds itself to BUNDLE/config.json (what ttyaudit-runtime does at
// create), for plain runc and tests; TTYAUDIT_CONFIG and TTYAUDIT_RUN_DIR are passed on.
#include <limits.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "base/log.h"
#include "base/version.h"
#include "config/config.h"
#include "oci-hook/hook.h"
#include "oci/oci_bundle.h"

namespace {

constexpr const char* kUsage =
    "usage: ttyaudit-hook createRuntime|poststop   (OCI state JSON on stdin)\n"
    "       ttyaudit-hook install BUNDLE\n"
    "       ttyaudit-hook --version\n"
    "\n"
    "The OCI hook that ttyaudit-runtime adds to each container at create (runc runs it, it is\n"
    "not for people): createRuntime records the container's metadata for the recorders of later\n"
    "execs; poststop seals the container's sessions still open and removes that metadata.\n"
    "  install   adds both hooks to BUNDLE/config.json, keeping the hooks already there\n";

}  // namespace

int main(int argc, char** argv) {
  using namespace ttyaudit;
  if (argc == 2 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    fputs(kUsage, stdout);
    return 0;
  }
  if (argc == 2 && std::string(argv[1]) == "--version") {
    printf("ttyaudit-hook %s\n", Version());
    return 0;
  }
  if (argc == 3 && std::string(argv[1]) == "install") {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return perror("readlink /proc/self/exe"), 1;
    self[n] = '\0';
    HookOptions opts;
    for (const char* name : {"TTYAUDIT_CONFIG", "TTYAUDIT_RUN_DIR"})
      if (const char* v = getenv(name)) opts.env.push_back(std::string(name) + "=" + v);
    Status s = AddHooks(argv[2], self, opts);
    if (!s) fprintf(stderr, "ttyaudit-hook: %s\n", s.message().c_str());
    return s ? 0 : 1;
  }
  Logger log("ttyaudit-hook", "/var/log/ttyaudit.log");
  if (argc != 2) {
    fputs(kUsage, stderr);
    log.Error("usage: ttyaudit-hook createRuntime|poststop (state JSON on stdin)");
    return 2;
  }
  HookContext ctx;
  ctx.run_dir = DefaultRunDir();
  auto cfg = LoadConfig();
  if (cfg) {
    log.SetLogFile(cfg->log_file);
    ctx.fail_policy = cfg->fail_policy;
  } else {
    log.Error(cfg.message() + " (using defaults)");
  }
  std::string state;
  char buf[65536];
  while (state.size() < (4u << 20)) {
    ssize_t n = read(0, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    state.append(buf, static_cast<size_t>(n));
  }
  HookOutcome out = RunHookStage(argv[1], state, ctx);
  if (!out.status.ok()) log.Error(out.status.message());
  if (out.sessions_sealed > 0)
    log.Info("poststop " + out.container_id + ": sealed " + std::to_string(out.sessions_sealed) +
             " open session(s)");
  return out.block ? 1 : 0;
}
