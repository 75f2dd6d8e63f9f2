// Least privilege for a ttyaudit process: no_new_privs, every capability it does not need
// dropped (effective, permitted, inheritable, ambient and the bounding set, through libcap),
// then a seccomp allowlist (libseccomp) whose default action kills the whole process.
//
// A program enters in two steps, because capabilities belong to a thread and a seccomp filter
// is best loaded once setup is over:
//   1. DropPrivileges(profile) before the process starts any thread (threads made afterwards
//      inherit the reduced sets and no_new_privs), and after anything it execs that needs more
//      (ttyaudit rec's shell, the tracker hub a recorder may start);
//   2. LoadSyscallFilter(profile) once its ptys, sockets and files are set up. The filter is
//      synchronised onto every thread of the process (SECCOMP_FILTER_FLAG_TSYNC).
// EnterSandbox does both at once, for a program that has no such split.
//
// Each program's allowlist is a Profile (sandbox/profiles.h): the syscalls it makes after
// setup, each with the reason it is there, and the capabilities it keeps. The sandbox is on
// unless the config's `sandbox.enabled` is false or TTYAUDIT_SANDBOX=off is in the environment
// (SandboxWanted), for debugging and for the benchmark's "before". TTYAUDIT_SANDBOX=log loads
// the filter with a default action that allows and logs (dmesg) instead of killing.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace ttyaudit {

/// One allowed syscall and why the program makes it after setup.
struct SyscallRule {
  const char* name;  // as libseccomp names it ("read", "clock_nanosleep")
  const char* why;
  int arg = -1;        // >= 0: allowed only when argument `arg` (0-5) equals `value`
  uint64_t value = 0;  // e.g. ioctl's request (argument 1)
};

/// What a program keeps once sandboxed.
struct SandboxProfile {
  std::string program;                // for messages: "ttyaudit-rec"
  std::vector<int> keep_caps;         // CAP_* values; every other capability is dropped
  std::vector<SyscallRule> syscalls;  // allowed after setup; any other kills the process
  bool threads_only = true;           // clone only with CLONE_THREAD: threads, never processes
};

/// True unless `config_enabled` is false or $TTYAUDIT_SANDBOX is "off" or "0".
bool SandboxWanted(bool config_enabled);

/// Sets no_new_privs, then keeps only `profile.keep_caps` (those the process has) in its
/// effective and permitted sets, clears the inheritable and ambient sets and drops every other
/// capability from the bounding set. Applies to the calling thread and to the threads and
/// processes it starts later. An error names the step that failed.
Status DropPrivileges(const SandboxProfile& profile);

/// Loads the seccomp filter of `profile` onto every thread of the process: the listed syscalls
/// are allowed, clone3 fails with ENOSYS (so that glibc falls back to clone, whose flags a
/// filter can see), clone is allowed only with CLONE_THREAD when `threads_only`, and any other
/// syscall kills the process (SIGSYS). Needs no_new_privs (DropPrivileges) or CAP_SYS_ADMIN. A
/// name libseccomp does not know on this architecture is skipped.
Status LoadSyscallFilter(const SandboxProfile& profile);

/// DropPrivileges, then LoadSyscallFilter.
Status EnterSandbox(const SandboxProfile& profile);

/// no_new_privs and no capability at all (effective, permitted, inheritable, ambient, bounding)
/// for the calling thread alone: for a thread that needs none and starts before its process
/// drops its own (the spool writer's fsync thread, started with the session file while the
/// recorder may still fork or start the tracker hub). Capabilities, the bounding set and
/// no_new_privs are each thread's own: the process's other threads keep theirs. `who` names
/// the thread in an error.
Status DropThreadPrivileges(const std::string& who);

/// The syscalls a filter for `profile` allows, as the kernel numbers them on this machine,
/// for tests; names unknown here are left out.
std::vector<int> ResolveSyscalls(const SandboxProfile& profile);

}  // namespace ttyaudit
