// The kernel side of ttyaudit's eBPF process-event source (ebpf_source.h): fork, exec and exit
// of the tracked processes, with argv, ids and the program file read at the exec itself,
// written to one ring buffer in the order they happened. Every record carries the process's
// ids at that moment, from which the reader derives uid changes: tracing commit_creds needs
// fentry or kprobes, which not every kernel allows (tp_btf programs load where they do not). Compiled at build time
// against the running kernel's BTF (CO-RE) and embedded in ttyaudit-tracker as a skeleton.
//
// The filter is in the kernel: `tracked` holds the tgids of the subscribed trees (the hub adds
// each subscriber's root), a tracked process's fork adds its child before the child can run,
// an exit removes it. Everything else costs one hash lookup.
#include "vmlinux.h"

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "track/ebpf/exec_events.h"

char LICENSE[] SEC("license") = "GPL";

struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, TTYA_MAX_TRACKED);
  __type(key, __s32);
  __type(value, __u8);
} tracked SEC(".maps");

struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 8 << 20);
} events SEC(".maps");

// Scratch space for an exec record (too big for the stack).
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct ttya_exec);
} scratch SEC(".maps");

// Records that did not fit the ring buffer, and children that did not fit `tracked`: the
// reader resyncs from /proc when either grows.
__u64 dropped = 0;
__u64 untracked_children = 0;

static __always_inline int is_tracked(__s32 tgid) {
  return bpf_map_lookup_elem(&tracked, &tgid) != 0;
}

static __always_inline void emit(void* rec, __u64 size) {
  if (bpf_ringbuf_output(&events, rec, size, 0) != 0) __sync_fetch_and_add(&dropped, 1);
}

static __always_inline void fill_ids(struct ttya_event* e, struct task_struct* t) {
  const struct cred* c = BPF_CORE_READ(t, cred);
  e->uid = BPF_CORE_READ(c, uid.val);
  e->euid = BPF_CORE_READ(c, euid.val);
  e->gid = BPF_CORE_READ(c, gid.val);
  e->egid = BPF_CORE_READ(c, egid.val);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  __s32 pid = BPF_CORE_READ(child, pid);
  __s32 tgid = BPF_CORE_READ(child, tgid);
  // As the proc connector: the parent is the child's real parent (CLONE_PARENT).
  __s32 ptgid = BPF_CORE_READ(child, real_parent, tgid);
  if (pid != tgid || !is_tracked(ptgid)) return 0;  // a thread, or not ours
  __u8 one = 1;
  if (bpf_map_update_elem(&tracked, &tgid, &one, BPF_ANY) != 0)
    __sync_fetch_and_add(&untracked_children, 1);
  struct ttya_event e = {};
  e.kind = TTYA_EV_FORK;
  e.pid = pid;
  e.tgid = tgid;
  e.parent_tgid = ptgid;
  e.time_ns = bpf_ktime_get_ns();
  fill_ids(&e, child);
  emit(&e, sizeof e);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  __s32 tgid = BPF_CORE_READ(p, tgid);
  if (!is_tracked(tgid)) return 0;
  __u32 zero = 0;
  struct ttya_exec* x = bpf_map_lookup_elem(&scratch, &zero);
  if (!x) return 0;
  struct ttya_event* e = &x->e;
  __builtin_memset(e, 0, sizeof *e);
  e->kind = TTYA_EV_EXEC;
  e->pid = tgid;
  e->tgid = tgid;
  e->time_ns = bpf_ktime_get_ns();
  fill_ids(e, p);
  struct inode* ino = BPF_CORE_READ(bprm, file, f_inode);
  e->exe_ino = BPF_CORE_READ(ino, i_ino);
  e->exe_mode = BPF_CORE_READ(ino, i_mode);
  e->exe_uid = BPF_CORE_READ(ino, i_uid.val);
  e->exe_gid = BPF_CORE_READ(ino, i_gid.val);
  if (e->exe_mode & 04000) e->flags |= TTYA_EXE_SETUID;
  if ((e->exe_mode & 02010) == 02010) e->flags |= TTYA_EXE_SETGID;  // g+s with g+x
  e->cgroup_id = bpf_get_current_cgroup_id();
  // The argument area was just written by the exec: its pages are present.
  unsigned long start = BPF_CORE_READ(p, mm, arg_start);
  unsigned long end = BPF_CORE_READ(p, mm, arg_end);
  unsigned long len = end > start ? end - start : 0;
  if (len > TTYA_ARGV_BYTES) {
    len = TTYA_ARGV_BYTES;
    e->flags |= TTYA_ARGV_TRUNCATED;
  }
  if (len > 0) {
    if (bpf_probe_read_user(x->data, len, (const void*)start) == 0)
      e->argv_len = len;
    else
      e->flags |= TTYA_ARGV_UNREAD;
  }
  __u64 size = sizeof(struct ttya_event) + (e->argv_len & (TTYA_ARGV_BYTES * 2 - 1));
  if (size > sizeof(*x)) size = sizeof(*x);
  emit(x, size);
  return 0;
}

// An exec renames the process before it commits the program's ids: the ids here are those
// before the exec (a runtime's or su's setuid() just before it shows apart from a setuid
// program's own change). prctl(PR_SET_NAME) lands here too: one more look at the ids.
SEC("tp_btf/task_rename")
int BPF_PROG(on_rename, struct task_struct* t, const char* comm) {
  __s32 tgid = BPF_CORE_READ(t, tgid);
  if (!is_tracked(tgid)) return 0;
  struct ttya_event e = {};
  e.kind = TTYA_EV_IDS;
  e.pid = tgid;
  e.tgid = tgid;
  e.time_ns = bpf_ktime_get_ns();
  fill_ids(&e, t);
  emit(&e, sizeof e);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct* p) {
  __s32 pid = BPF_CORE_READ(p, pid);
  __s32 tgid = BPF_CORE_READ(p, tgid);
  if (pid != tgid || !is_tracked(tgid)) return 0;  // a thread's exit: the process goes on
  bpf_map_delete_elem(&tracked, &tgid);
  struct ttya_event e = {};
  e.kind = TTYA_EV_EXIT;
  e.pid = pid;
  e.tgid = tgid;
  e.time_ns = bpf_ktime_get_ns();
  e.exit_code = BPF_CORE_READ(p, exit_code);
  fill_ids(&e, p);
  emit(&e, sizeof e);
  return 0;
}
