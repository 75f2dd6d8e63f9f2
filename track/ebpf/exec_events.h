/* The records that exec_events.bpf.c writes to its ring buffer and ebpf_source.cc reads: one
 * layout for both sides (C, fixed-width types, no padding surprises). */
#ifndef TTYAUDIT_TRACK_EBPF_EXEC_EVENTS_H_
#define TTYAUDIT_TRACK_EBPF_EXEC_EVENTS_H_

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

/* Event kinds: the values of ProcEvent::Kind (uid changes are derived by the reader). */
#define TTYA_EV_FORK 1
#define TTYA_EV_EXEC 2
#define TTYA_EV_EXIT 4
/* The ids of a process after they changed: at a rename, which an exec does before it installs
 * its new ids (what a setuid() just before the exec changed), and at the return of a
 * successful setuid-family syscall that changed them. Not a ProcEvent: the reader derives uid
 * changes. */
#define TTYA_EV_IDS 100

/* argv is read at the exec: at most this many bytes of the argument area. */
#define TTYA_ARGV_BYTES 4096
/* cwd is walked in the kernel from the process's working directory up to its root: at most
 * this many steps (a path component, or a mount crossed) and this many bytes of names. */
#define TTYA_CWD_STEPS 64
#define TTYA_CWD_BYTES 2048
#define TTYA_NAME_MAX 256 /* a component's name and its NUL */
/* The tracked set: processes of subscribed trees. */
#define TTYA_MAX_TRACKED 65536

/* flags */
#define TTYA_ARGV_TRUNCATED 1 /* the argument area was longer than TTYA_ARGV_BYTES */
#define TTYA_EXE_SETUID 2
#define TTYA_EXE_SETGID 4
#define TTYA_ARGV_UNREAD 8     /* the argument area could not be read */
#define TTYA_IDS_SYSCALL 16    /* an IDS record from a setuid-family syscall's return */
#define TTYA_CWD_TRUNCATED 32  /* cwd was deeper or longer than the walk reads */
#define TTYA_CWD_UNRESOLVED 64 /* cwd was deleted, or a name or mount could not be read */

/* The value of the tracked map: the uid and euid last reported for the process, so that a
 * syscall's return reports only a change. */
struct ttya_ids {
  __u32 uid, euid;
};

/* Every record starts with this; ids and exit records are nothing more. */
struct ttya_event {
  __u8 kind;
  __u8 flags;
  __u16 argv_len;    /* exec only: bytes of NUL-separated arguments after the cwd's */
  __s32 pid;         /* fork: the child's pid; exit: the task's; exec, uid: the tgid */
  __s32 tgid;        /* fork: the child's tgid; else the process */
  __s32 parent_tgid; /* fork only */
  __u64 time_ns;     /* CLOCK_MONOTONIC */
  __u32 uid, euid;   /* the process's ids then (fork: the child's, the parent's too) */
  __u32 gid, egid;
  __u32 exit_code; /* exit only: the raw wait status */
  __u32 exe_uid;   /* exec only: the program file's owner, group and mode */
  __u32 exe_gid;
  __u32 exe_mode;
  __u64 exe_ino;
  __u64 cgroup_id;
  __u16 cwd_len; /* fork and exec: bytes of the cwd's names, first after the event */
  __u16 reserved[3];
};

/* A fork or exec record: the event, then cwd_len bytes of the cwd (its components' names, each
 * with its NUL, from the working directory up: "c\0b\0a\0" is /a/b/c, none is /), then (exec)
 * argv_len bytes of the argument area. */
struct ttya_exec {
  struct ttya_event e;
  char data[TTYA_CWD_BYTES + TTYA_ARGV_BYTES];
};

#endif
