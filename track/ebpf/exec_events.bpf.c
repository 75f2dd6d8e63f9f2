// The kernel side of ttyaudit's eBPF process-event source (ebpf_source.h): fork, exec and exit
// of the tracked processes, with argv, ids and the program file read at the exec itself, and
// the ids after every setuid-family syscall that changed them, written to one ring buffer in
// the order they happened. commit_creds itself cannot be traced where the kernel refuses
// fentry and has no kprobes (this VM's); the return of the syscalls that call it can, on the
// raw sys_exit tracepoint (tp_btf: no tracefs needed). Compiled at build time against the
// running kernel's BTF (CO-RE) and embedded in ttyaudit-tracker as a skeleton.
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
  __type(value, struct ttya_ids);
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

static __always_inline struct ttya_ids* known_ids(__s32 tgid) {
  return bpf_map_lookup_elem(&tracked, &tgid);
}

static __always_inline int is_tracked(__s32 tgid) { return known_ids(tgid) != 0; }

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

// One walk up a cwd (read_cwd), one step per bpf_loop iteration: the verifier checks the step
// once instead of every path through 64 unrolled ones.
struct cwd_walk {
  struct dentry* d;
  struct vfsmount* vm;
  struct mount* m;
  struct dentry* root;
  struct vfsmount* root_mnt;
  __u64 mnt_off;  // of struct mount's vfsmount (CO-RE)
  __u32 len;
  __u8 flags;
  __u8 done;
};

static long cwd_step(__u32 i, struct cwd_walk* w) {
  // Locals, not w's members, inside BPF_CORE_READ: its relocations are for kernel types only.
  struct dentry* d = w->d;
  struct vfsmount* vm = w->vm;
  struct mount* m = w->m;
  if (d == w->root && vm == w->root_mnt) goto done;
  if (d == BPF_CORE_READ(vm, mnt_root)) {
    struct mount* parent = BPF_CORE_READ(m, mnt_parent);
    if (parent == m) goto done;  // the namespace's root: the path is relative to it
    w->d = BPF_CORE_READ(m, mnt_mountpoint);
    w->m = parent;
    w->vm = (struct vfsmount*)((char*)parent + w->mnt_off);
    return 0;
  }
  struct dentry* up = BPF_CORE_READ(d, d_parent);
  if (up == d) {  // the root of a file system that is not mounted here
    w->flags |= TTYA_CWD_UNRESOLVED;
    goto done;
  }
  if (w->len >= TTYA_CWD_BYTES - TTYA_NAME_MAX) return 1;  // cut: len stays under the bound
  __u32 zero = 0;
  struct ttya_exec* x = bpf_map_lookup_elem(&scratch, &zero);
  if (!x) return 1;
  const unsigned char* name = BPF_CORE_READ(d, d_name.name);
  long n = bpf_probe_read_kernel_str(x->data + (w->len & (TTYA_CWD_BYTES - 1)), TTYA_NAME_MAX,
                                     name);
  if (n <= 0) {
    w->flags |= TTYA_CWD_UNRESOLVED;
    goto done;
  }
  w->len += n;
  w->d = up;
  return 0;
done:
  w->done = 1;
  return 1;
}

// `t`'s working directory, walked from it up to the process's root in the kernel, as the
// kernel's d_path does: names into the scratch record's data[] (leaf first, each with its
// NUL), mounts crossed to their mount points, the walk ending at the root of the process (a
// container's root) or of its mount namespace. Returns the bytes written and sets TTYA_CWD_* in
// e->flags when the path is cut (deeper or longer than the walk reads) or cannot be resolved
// (deleted, a name that cannot be read, a dentry outside the root).
static __always_inline __u32 read_cwd(struct ttya_event* e, struct task_struct* t) {
  struct fs_struct* fs = BPF_CORE_READ(t, fs);
  if (!fs) {
    e->flags |= TTYA_CWD_UNRESOLVED;
    return 0;
  }
  struct dentry* d = BPF_CORE_READ(fs, pwd.dentry);
  struct cwd_walk w = {};
  w.d = d;
  w.vm = BPF_CORE_READ(fs, pwd.mnt);
  w.root = BPF_CORE_READ(fs, root.dentry);
  w.root_mnt = BPF_CORE_READ(fs, root.mnt);
  w.mnt_off = bpf_core_field_offset(struct mount, mnt);
  w.m = (struct mount*)((char*)w.vm - w.mnt_off);
  if (BPF_CORE_READ(d, d_hash.pprev) == 0 && BPF_CORE_READ(d, d_parent) != d) {
    e->flags |= TTYA_CWD_UNRESOLVED;  // deleted (unhashed): d_path's " (deleted)"
    return 0;
  }
  bpf_loop(TTYA_CWD_STEPS, cwd_step, &w, 0);
  e->flags |= w.flags;
  if (!w.done) e->flags |= TTYA_CWD_TRUNCATED;
  return w.len & (TTYA_CWD_BYTES - 1);
}

static __always_inline struct ttya_exec* scratch_record(void) {
  __u32 zero = 0;
  struct ttya_exec* x = bpf_map_lookup_elem(&scratch, &zero);
  if (x) __builtin_memset(&x->e, 0, sizeof x->e);
  return x;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct* parent, struct task_struct* child) {
  __s32 pid = BPF_CORE_READ(child, pid);
  __s32 tgid = BPF_CORE_READ(child, tgid);
  // As the proc connector: the parent is the child's real parent (CLONE_PARENT).
  __s32 ptgid = BPF_CORE_READ(child, real_parent, tgid);
  if (pid != tgid || !is_tracked(ptgid)) return 0;  // a thread, or not ours
  struct ttya_ids ids = {.uid = BPF_CORE_READ(child, cred, uid.val),
                         .euid = BPF_CORE_READ(child, cred, euid.val)};
  if (bpf_map_update_elem(&tracked, &tgid, &ids, BPF_ANY) != 0)
    __sync_fetch_and_add(&untracked_children, 1);
  struct ttya_exec* x = scratch_record();
  if (!x) return 0;
  struct ttya_event* e = &x->e;
  e->kind = TTYA_EV_FORK;
  e->pid = pid;
  e->tgid = tgid;
  e->parent_tgid = ptgid;
  e->time_ns = bpf_ktime_get_ns();
  fill_ids(e, child);
  // The child's cwd: its parent's, which it shares or copied (CLONE_FS or not).
  e->cwd_len = read_cwd(e, child);
  __u64 size = sizeof(struct ttya_event) + (e->cwd_len & (TTYA_CWD_BYTES - 1));
  emit(x, size);
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct* p, pid_t old_pid, struct linux_binprm* bprm) {
  __s32 tgid = BPF_CORE_READ(p, tgid);
  struct ttya_ids* known = known_ids(tgid);
  if (!known) return 0;
  struct ttya_exec* x = scratch_record();
  if (!x) return 0;
  struct ttya_event* e = &x->e;
  e->kind = TTYA_EV_EXEC;
  e->pid = tgid;
  e->tgid = tgid;
  e->time_ns = bpf_ktime_get_ns();
  fill_ids(e, p);
  known->uid = e->uid;
  known->euid = e->euid;
  struct inode* ino = BPF_CORE_READ(bprm, file, f_inode);
  e->exe_ino = BPF_CORE_READ(ino, i_ino);
  e->exe_mode = BPF_CORE_READ(ino, i_mode);
  e->exe_uid = BPF_CORE_READ(ino, i_uid.val);
  e->exe_gid = BPF_CORE_READ(ino, i_gid.val);
  if (e->exe_mode & 04000) e->flags |= TTYA_EXE_SETUID;
  if ((e->exe_mode & 02010) == 02010) e->flags |= TTYA_EXE_SETGID;  // g+s with g+x
  e->cgroup_id = bpf_get_current_cgroup_id();
  const __u32 cwd_len = read_cwd(e, p) & (TTYA_CWD_BYTES - 1);
  e->cwd_len = cwd_len;
  // The argument area was just written by the exec: its pages are present.
  unsigned long start = BPF_CORE_READ(p, mm, arg_start);
  unsigned long end = BPF_CORE_READ(p, mm, arg_end);
  unsigned long len = end > start ? end - start : 0;
  if (len > TTYA_ARGV_BYTES) {
    len = TTYA_ARGV_BYTES;
    e->flags |= TTYA_ARGV_TRUNCATED;
  }
  if (len > 0) {
    if (bpf_probe_read_user(x->data + cwd_len, len, (const void*)start) == 0)
      e->argv_len = len;
    else
      e->flags |= TTYA_ARGV_UNREAD;
  }
  __u64 size = sizeof(struct ttya_event) + cwd_len + (e->argv_len & (TTYA_ARGV_BYTES * 2 - 1));
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
  struct ttya_ids* known = known_ids(tgid);
  if (!known) return 0;
  struct ttya_event e = {};
  e.kind = TTYA_EV_IDS;
  e.pid = tgid;
  e.tgid = tgid;
  e.time_ns = bpf_ktime_get_ns();
  fill_ids(&e, t);
  known->uid = e.uid;
  known->euid = e.euid;
  emit(&e, sizeof e);
  return 0;
}

// The syscalls that set the real or effective uid: x86-64's and arm64's own, and the 32-bit
// ABI's (ia32 through int 0x80, arm32), with 16- and 32-bit ids, which a 64-bit process can
// call too. The numbers of the two ABIs overlap with other syscalls: a match costs one more
// hash lookup, and a record is written only when the ids did change.
static __always_inline int may_set_uid(long nr) {
#if defined(__TARGET_ARCH_x86)
  if (nr == 105 || nr == 113 || nr == 117) return 1;  // setuid, setreuid, setresuid
#elif defined(__TARGET_ARCH_arm64)
  if (nr == 146 || nr == 145 || nr == 147) return 1;  // setuid, setreuid, setresuid
#endif
  // setuid, setreuid, setresuid; setuid32, setreuid32, setresuid32
  return nr == 23 || nr == 70 || nr == 164 || nr == 213 || nr == 203 || nr == 208;
}

// The return of a syscall (every syscall of the node, once attached: the hub attaches it only
// while a session is tracked). A setuid-family call that changed a tracked process's uid or
// euid reports the ids after the change, at that moment: a setuid program that calls
// setuid(0) and drops back to its user before it exits shows its time as root.
SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs* regs, long ret) {
  if (ret != 0) return 0;  // the setuid family returns 0 on success
#if defined(__TARGET_ARCH_x86)
  long nr = regs->orig_ax;  // a BTF pointer: a plain load, no helper call
#elif defined(__TARGET_ARCH_arm64)
  long nr = regs->syscallno;
#else
  long nr = -1;
#endif
  if (!may_set_uid(nr)) return 0;
  __s32 tgid = bpf_get_current_pid_tgid() >> 32;
  struct ttya_ids* known = known_ids(tgid);
  if (!known) return 0;
  struct ttya_event e = {};
  fill_ids(&e, (struct task_struct*)bpf_get_current_task());
  if (e.uid == known->uid && e.euid == known->euid) return 0;
  known->uid = e.uid;
  known->euid = e.euid;
  e.kind = TTYA_EV_IDS;
  e.flags = TTYA_IDS_SYSCALL;
  e.pid = tgid;
  e.tgid = tgid;
  e.time_ns = bpf_ktime_get_ns();
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
