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
/* The ids of a process at a rename, which an exec does before it installs its new ids: what a
 * setuid() just before the exec changed. Not a ProcEvent: the reader derives uid changes. */
#define TTYA_EV_IDS 100

/* argv is read at the exec: at most this many bytes of the argument area. */
#define TTYA_ARGV_BYTES 4096
/* The tracked set: processes of subscribed trees. */
#define TTYA_MAX_TRACKED 65536

/* flags */
#define TTYA_ARGV_TRUNCATED 1 /* the argument area was longer than TTYA_ARGV_BYTES */
#define TTYA_EXE_SETUID 2
#define TTYA_EXE_SETGID 4
#define TTYA_ARGV_UNREAD 8 /* the argument area could not be read */

/* Every record starts with this; fork, uid and exit records are nothing more. */
struct ttya_event {
  __u8 kind;
  __u8 flags;
  __u16 argv_len;    /* bytes of data[] (exec only): NUL-separated arguments */
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
};

/* An exec record: the event, then argv_len bytes of the argument area. */
struct ttya_exec {
  struct ttya_event e;
  char data[TTYA_ARGV_BYTES];
};

#endif
