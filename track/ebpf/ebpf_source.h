// The kernel's process events read with eBPF (exec_events.bpf.c): the tracker hub's source
// where bpf() is allowed. Compared with the proc connector (proc_connector_source.h):
//  - argv, the ids and the program file (inode, owner, mode: setuid/setgid) are read in the
//    kernel at the exec itself, so a process that lives 0.2 ms, or execs again at once (env,
//    nohup, `exec` in a script), is recorded with its own argv. At most the first 4 KiB of
//    the argument area, and 64 arguments; more sets argv_truncated.
//  - Filtered in the kernel to the tracked set (a BPF hash map: the hub adds subscribers'
//    roots, a tracked fork adds its child before the child runs, an exit removes it), so an
//    idle node costs a hash lookup per fork, exec and exit and no wake-up.
//  - uid changes are derived from the ids every record carries (a fork's child, an exec, an
//    exit, and the rename an exec does before it installs the program's ids): a change shows
//    at the process's next such record, stamped with that time; a setuid() just before a
//    setuid program's exec shows apart from the program's own change. Exact commit_creds
//    tracing needs fentry or kprobes, which this source does not require.
//  - cwd is not read in the kernel: the reader reads /proc/PID/cwd when the record arrives
//    (empty when the process is gone by then).
//  - Records that did not fit the ring buffer (8 MiB by default), and children that did not fit the
//    tracked map, are counted in the kernel; the reader reports them as lost events with a
//    scan of /proc, as the proc connector's overruns.
#pragma once

#include <memory>

#include "base/result.h"
#include "track/proc_event_source.h"

namespace ttyaudit {

/// Loads and attaches the programs (CO-RE against the kernel's BTF). Errors say why ("ebpf:
/// ...": no BTF, bpf() not permitted, a kernel too old, or built without eBPF).
/// `ring_bytes`: the ring buffer's size (a power of two, at least a page), 0: the default. A
/// small ring makes overruns easy to force (tests).
Result<std::unique_ptr<ProcEventSource>> OpenEbpfSource(size_t ring_bytes = 0);

}  // namespace ttyaudit
