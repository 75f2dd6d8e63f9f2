#include "sandbox/sandbox.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace ttyaudit {
namespace {

struct CapFree {
  void operator()(cap_t c) const { cap_free(c); }
};
using CapPtr = std::unique_ptr<std::remove_pointer_t<cap_t>, CapFree>;

struct SeccompRelease {
  void operator()(scmp_filter_ctx c) const { seccomp_release(c); }
};
using SeccompPtr = std::unique_ptr<void, SeccompRelease>;

bool Keeps(const SandboxProfile& p, int cap) {
  return std::find(p.keep_caps.begin(), p.keep_caps.end(), cap) != p.keep_caps.end();
}

Error Failed(const SandboxProfile& p, const std::string& call, int err) {
  return SysError(call, p.program + " sandbox", err);
}

// libseccomp returns -errno.
Error SeccompFailed(const SandboxProfile& p, const std::string& call, int rc) {
  return Failed(p, call, rc < 0 ? -rc : EINVAL);
}

}  // namespace

bool SandboxWanted(bool config_enabled) {
  const char* e = std::getenv("TTYAUDIT_SANDBOX");
  if (e && (std::strcmp(e, "off") == 0 || std::strcmp(e, "0") == 0)) return false;
  return config_enabled;
}

Status DropPrivileges(const SandboxProfile& profile) {
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
    return Failed(profile, "prctl PR_SET_NO_NEW_PRIVS", errno);
  CapPtr now(cap_get_proc());
  if (!now) return Failed(profile, "cap_get_proc", errno);
  cap_flag_value_t setpcap = CAP_CLEAR;
  cap_get_flag(now.get(), CAP_SETPCAP, CAP_EFFECTIVE, &setpcap);
  // The bounding set first, while CAP_SETPCAP is still effective. Without it (an ordinary
  // user) there is nothing to bound: no_new_privs already stops exec from adding capabilities.
  if (setpcap == CAP_SET) {
    for (int cap = 0; cap <= CAP_LAST_CAP; ++cap) {
      if (Keeps(profile, cap) || !CAP_IS_SUPPORTED(cap)) continue;
      if (cap_drop_bound(cap) < 0) return Failed(profile, "cap_drop_bound", errno);
    }
  }
  if (CAP_AMBIENT_SUPPORTED() && cap_reset_ambient() < 0)
    return Failed(profile, "cap_reset_ambient", errno);
  CapPtr keep(cap_init());
  if (!keep) return Failed(profile, "cap_init", errno);
  std::vector<cap_value_t> held;
  for (int cap : profile.keep_caps) {
    cap_flag_value_t v = CAP_CLEAR;
    if (cap_get_flag(now.get(), cap, CAP_PERMITTED, &v) == 0 && v == CAP_SET) held.push_back(cap);
  }
  if (!held.empty()) {
    const int n = static_cast<int>(held.size());
    if (cap_set_flag(keep.get(), CAP_PERMITTED, n, held.data(), CAP_SET) < 0 ||
        cap_set_flag(keep.get(), CAP_EFFECTIVE, n, held.data(), CAP_SET) < 0)
      return Failed(profile, "cap_set_flag", errno);
  }
  if (cap_set_proc(keep.get()) < 0) return Failed(profile, "cap_set_proc", errno);
  return {};
}

Status LoadSyscallFilter(const SandboxProfile& profile) {
  // TTYAUDIT_SANDBOX=log: allow what is not listed and have the kernel log it (dmesg), to find
  // what a new path needs without being killed for it.
  const char* mode = std::getenv("TTYAUDIT_SANDBOX");
  const bool log_only = mode && std::strcmp(mode, "log") == 0;
  SeccompPtr ctx(seccomp_init(log_only ? SCMP_ACT_LOG : SCMP_ACT_KILL_PROCESS));
  if (!ctx) return Failed(profile, "seccomp_init", ENOMEM);
  // Every thread, including those started before the filter (the tracker's, the exit hold's).
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_TSYNC, 1); rc < 0)
    return SeccompFailed(profile, "seccomp_attr_set TSYNC", rc);
  // A binary tree over the syscall numbers instead of one comparison after another: every
  // syscall the recorder makes (a read and a write per chunk of output) pays for the filter.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2); rc < 0)
    return SeccompFailed(profile, "seccomp_attr_set OPTIMIZE", rc);
  for (const SyscallRule& r : profile.syscalls) {
    int nr = seccomp_syscall_resolve_name(r.name);
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    int rc = r.arg < 0 ? seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, nr, 0)
                       : seccomp_rule_add(
                             ctx.get(), SCMP_ACT_ALLOW, nr, 1,
                             scmp_arg_cmp{static_cast<unsigned>(r.arg), SCMP_CMP_EQ, r.value, 0});
    if (rc < 0) return SeccompFailed(profile, std::string("seccomp_rule_add ") + r.name, rc);
  }
  // clone3 passes its flags in memory, where a filter cannot look: glibc's pthread_create
  // falls back to clone on ENOSYS, and clone's flags are in a register.
  if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0); rc < 0)
    return SeccompFailed(profile, "seccomp_rule_add clone3", rc);
  if (profile.threads_only) {
    if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 1,
                                  SCMP_A0(SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD));
        rc < 0)
      return SeccompFailed(profile, "seccomp_rule_add clone", rc);
  } else if (int rc = seccomp_rule_add(ctx.get(), SCMP_ACT_ALLOW, SCMP_SYS(clone), 0); rc < 0) {
    return SeccompFailed(profile, "seccomp_rule_add clone", rc);
  }
  if (int rc = seccomp_load(ctx.get()); rc < 0) return SeccompFailed(profile, "seccomp_load", rc);
#ifdef TTYAUDIT_TEST_HOOKS
  // The integration tests' proof that the filter is live: a forbidden syscall (an exec, as an
  // attacker who took over the process would make) must kill the process with SIGSYS. Only
  // once the file exists, so that a test can pick which of its sessions dies.
  if (const char* exe = std::getenv("TTYAUDIT_SANDBOX_TEST_EXEC");
      exe && *exe && ::access(exe, X_OK) == 0) {
    char* const argv[] = {const_cast<char*>(exe), nullptr};
    ::execv(exe, argv);
  }
#endif
  return {};
}

Status EnterSandbox(const SandboxProfile& profile) {
  if (Status st = DropPrivileges(profile); !st) return st;
  return LoadSyscallFilter(profile);
}

Status DropThreadPrivileges(const std::string& who) {
  SandboxProfile none;
  none.program = who;
  return DropPrivileges(none);
}

std::vector<int> ResolveSyscalls(const SandboxProfile& profile) {
  std::vector<int> out;
  for (const SyscallRule& r : profile.syscalls)
    if (int nr = seccomp_syscall_resolve_name(r.name); nr != __NR_SCMP_ERROR) out.push_back(nr);
  return out;
}

}  // namespace ttyaudit
