// The kernel's process events read with eBPF (exec_events.bpf.c): the tracker hub's source
// where bpf() is allowed. Compared with the proc connector (proc_connector_source.h):
//  - argv, the ids and the program file (inode, owner, mode: setuid/setgid) are read in the
//    kernel at the exec itself, so a process that lives 0.2 ms, or execs again at once (env,
//    nohup, `exec` in a script), is recorded with its own argv. At most the first 4 KiB of
//    the argument area, and 64 arguments; more sets argv_truncated.
//  - Filtered in the kernel to the tracked set (a BPF hash map: the hub adds subscribers'
//    roots, a tracked fork adds its child before the child runs, an exit removes it), so an
//    idle node costs a hash lookup per fork, exec and exit and no wake-up.
//  - uid changes: the return of every setuid-family syscall (setuid, setreuid, setresuid, in
//    both ABIs) that changed a tracked process's uid or euid reports the new ids at once
//    (the raw sys_exit tracepoint, attached only while something is tracked: once attached,
//    every syscall of the node takes the kernel's slower exit path). commit_creds itself
//    cannot be traced where the kernel refuses fentry and has no kprobes. The ids every other
//    record carries (a fork's child, an exec, an exit, the rename an exec does before it
//    installs the program's ids) catch any other change at the process's next such record; a
//    setuid() just before a setuid program's exec shows apart from the program's own change.
//  - cwd is walked in the kernel at the fork and at the exec, from the working directory up
//    to the process's root (a container's own root) across mounts, as d_path does: at most 64
//    steps and 2 KiB of names. A path cut there, or one the walk cannot resolve (deleted, a
//    dentry outside the root), is read from /proc/PID/cwd instead, and if the process is gone
//    by then, kept as the part read (relative) and flagged (cwd_truncated, cwd_unresolved).
//  - Records that did not fit the ring buffer (8 MiB by default), and children that did not fit the
//    tracked map, are counted in the kernel; the reader reports them as lost events with a
//    scan of /proc, as the proc connector's overruns.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "base/result.h"
#include "track/proc_event_source.h"

namespace ttyaudit {

/// Loads and attaches the programs (CO-RE against the kernel's BTF). Errors say why ("ebpf:
/// ...": no BTF, bpf() not permitted, a kernel too old, or built without eBPF).
/// `ring_bytes`: the ring buffer's size (a power of two, at least a page), 0: the default. A
/// small ring makes overruns easy to force (tests). `uid_syscalls` false leaves the sys_exit
/// program out: no cost at every syscall of the node, and uid changes seen only at the
/// process's next fork, exec or exit.
Result<std::unique_ptr<ProcEventSource>> OpenEbpfSource(size_t ring_bytes = 0,
                                                        bool uid_syscalls = true);

/// The path of the cwd whose components' names the kernel wrote leaf first, each ended by a
/// NUL ("c\0b\0a\0"): "/a/b/c"; none: "/".
std::string CwdFromKernelNames(std::string_view names);

}  // namespace ttyaudit
