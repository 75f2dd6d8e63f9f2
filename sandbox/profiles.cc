#include "sandbox/profiles.h"

#include <linux/capability.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <termios.h>

// Whether this is a build with AddressSanitizer: GCC says so with __SANITIZE_ADDRESS__, clang
// through __has_feature.
#if defined(__SANITIZE_ADDRESS__)
#define TTYAUDIT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TTYAUDIT_SANITIZED 1
#endif
#endif
#ifndef TTYAUDIT_SANITIZED
#define TTYAUDIT_SANITIZED 0
#endif

namespace ttyaudit {
namespace {

void Add(std::vector<SyscallRule>& to, std::initializer_list<SyscallRule> rules) {
  to.insert(to.end(), rules.begin(), rules.end());
}

// A recorder's own syscalls, in the runtime's and in `ttyaudit rec`'s: the console proxy, the
// spool writer and its seal, the tracker hub's client and its in-process fallback.
std::vector<SyscallRule> RecorderSyscalls() {
  std::vector<SyscallRule> s = BaseSyscalls();
  Add(s,
      {
          {"ioctl", "a pty's window size", 1, TIOCGWINSZ},
          {"ioctl", "resizing the inner pty as the user's terminal", 1, TIOCSWINSZ},
          {"ioctl", "tcgetattr", 1, TCGETS},
          {"ioctl", "tcsetattr: raw mode, and the user's back at the end", 1, TCSETS},
          {"ioctl", "tcsetattr(TCSADRAIN)", 1, TCSETSW},
          {"ioctl", "tcsetattr(TCSAFLUSH)", 1, TCSETSF},
          {"ioctl", "the seal: whether the filesystem keeps FS_IMMUTABLE_FL", 1, FS_IOC_GETFLAGS},
          {"ioctl", "the seal: sealed spool files made immutable", 1, FS_IOC_SETFLAGS},
          {"signalfd4", "the console proxy takes SIGWINCH, SIGCHLD, SIGTERM... on a signalfd"},
          {"kill", "the proxy forwards SIGHUP to the session's process group at hangup"},
          {"wait4", "reaping the recorded command (ttyaudit rec); waitpid on a traced exec"},
          {"fsync", "the spool file and its directory, at the seal"},
          {"fdatasync", "the spool file, every fsync_interval_s"},
          {"rename", "the manifest is written to a temporary name and renamed into place"},
          {"unlink", "a session that never started is removed; the run dir's registration"},
          {"fchmod", "sealed spool files are made read-only"},
          {"flock", "the spool's lock"},
          {"socket", "the tracker's in-process fallback opens a proc connector socket"},
          {"bind", "the proc connector socket joins the process-events group"},
          {"setsockopt", "the proc connector's receive buffer and event filter"},
          {"getsockopt", "the proc connector's receive buffer"},
          {"sendto", "subscribing the proc connector; the tracker hub's wire messages"},
          {"recvfrom", "events from the tracker hub or the proc connector"},
          {"recvmmsg", "proc connector events, in batches"},
          {"uname", "the proc connector's fallback checks the kernel's version"},
          {"sched_setscheduler", "the proc connector's reader runs at SCHED_FIFO 1"},
          {"setpriority", "else at nice -10"},
      });
  return s;
}

}  // namespace

std::vector<SyscallRule> BaseSyscalls() {
  return {
    {"read", "files, ptys, sockets"}, {"write", "files, ptys, sockets, the log"},
        {"pread64", "reading a file at an offset (the spool, /proc)"},
        {"pwrite64", "writing a file at an offset (the spool's header)"}, {"lseek", "files"},
        {"close", "every descriptor"}, {"openat", "files: the spool, /proc, the log"},
        {"newfstatat", "stat of a file or descriptor"}, {"fstat", "stat of a descriptor"},
        {"access", "whether a file exists (the journal's socket)"},
        {"readlink", "/proc/PID/exe and cwd of tracked processes"},
        {"getdents64", "listing a directory: the spool, /proc"},
        {"fcntl", "O_NONBLOCK on descriptors; copies with F_DUPFD_CLOEXEC"},
        {"poll", "every event loop"}, {"mmap", "malloc, thread stacks"},
        {"munmap", "free, thread exit"}, {"mprotect", "thread stacks' guard pages"},
        {"mremap", "realloc of large blocks"}, {"madvise", "malloc returning memory"},
        {"brk", "malloc"}, {"futex", "mutexes, condition variables, thread joins"},
        {"set_robust_list", "every new thread (glibc)"}, {"rseq", "every new thread (glibc)"},
        {"sched_yield", "spinning locks"},
        {"rt_sigprocmask", "blocking signals around the proxy loop; new threads"},
        {"rt_sigaction", "signal handlers (SIGPIPE ignored)"},
        {"rt_sigreturn", "return from a signal handler"},
        {"restart_syscall", "a syscall interrupted by a stop"},
        {"clock_gettime", "timestamps, where the vDSO falls back to the syscall"},
        {"clock_nanosleep", "sleeps and timed waits"}, {"nanosleep", "sleeps"},
        {"gettimeofday", "timestamps"}, {"getrandom", "session ids (UUIDv7), hash seeds"},
        {"getpid", "the log's pid; the recorder's own pid"}, {"gettid", "the log; abort()"},
        {"getuid", "who runs the program"},
        {"getgid", "who runs the program (the trust checks compare owners)"},
        {"getegid", "who runs the program (the trust checks compare owners)"},
        {"geteuid", "who runs the program"},
        {"tgkill", "abort() raising SIGABRT, so that a crash still dumps as one"},
        {"exit", "a thread's end"}, {"exit_group", "the program's end"},
#if TTYAUDIT_SANITIZED
        // Only in the sanitizer builds (make SANITIZE=ON, the fuzz targets): the ASan runtime's own
        // calls, so that a sandboxed program dies of what it does, not of being instrumented.
        {"pipe2", "sanitizer builds: ASan probes whether memory is readable through a pipe"},
        {"sigaltstack", "sanitizer builds: ASan gives each new thread a stack for SIGSEGV"},
        {"sched_getaffinity", "sanitizer builds: ASan's allocator counts the CPUs"},
#endif
  };
}

SandboxProfile RuntimeRecorderProfile() {
  SandboxProfile p;
  p.program = "ttyaudit-runtime recorder";
  p.keep_caps = {
      CAP_SYS_PTRACE,      // the exit hold traces the exec; /proc/PID of container processes
      CAP_NET_ADMIN,       // the proc connector (exit watcher; the tracker's fallback)
      CAP_SYS_NICE,        // the proc connector's reader at SCHED_FIFO 1
      CAP_LINUX_IMMUTABLE  // sealed spool files are made immutable until the uploader has them
  };
  p.syscalls = RecorderSyscalls();
  Add(p.syscalls, {
                      {"ptrace", "the exit hold: PTRACE_CONT, PTRACE_LISTEN, PTRACE_DETACH"},
                  });
  return p;
}

SandboxProfile RecProfile() {
  SandboxProfile p;
  p.program = "ttyaudit-rec";
  p.keep_caps = {
      CAP_SYS_PTRACE,       // /proc/PID of the session's processes that change user (su, sudo)
      CAP_NET_ADMIN,        // the tracker's in-process fallback (proc connector)
      CAP_SYS_NICE,         // its reader at SCHED_FIFO 1
      CAP_KILL,             // SIGHUP to the session's processes that changed user, at hangup
      CAP_LINUX_IMMUTABLE,  // sealed spool files are made immutable until the uploader has them
  };
  p.syscalls = RecorderSyscalls();
  return p;
}

SandboxProfile UploaderProfile() {
  SandboxProfile p;
  p.program = "ttyaudit-uploader";
  // The spool and archive are root's own (0700): an owner needs no capability to read, move or
  // remove its files. Clearing the immutable flag of a sealed file does.
  p.keep_caps = {CAP_LINUX_IMMUTABLE};
  p.syscalls = BaseSyscalls();
  Add(p.syscalls, {
                      {"socket", "HTTP(S) to S3; DNS; getaddrinfo's netlink query; the journal"},
                      {"connect", "HTTP(S) to S3; DNS; the journal; sd_notify"},
                      {"bind", "getaddrinfo's netlink query (AI_ADDRCONFIG)"},
                      {"getsockname", "getaddrinfo's netlink query"},
                      {"setsockopt", "TCP_NODELAY, send and receive timeouts"},
                      {"getsockopt", "connect's result (SO_ERROR)"},
                      {"shutdown", "closing a connection"},
                      {"sendto", "HTTP, DNS, netlink"},
                      {"sendmsg", "the journal; sd_notify"},
                      {"sendmmsg", "DNS (A and AAAA at once)"},
                      {"recvfrom", "HTTP, DNS"},
                      {"recvmsg", "getaddrinfo's netlink answer"},
                      {"ioctl", "DNS: the size of an answer", 1, FIONREAD},
                      {"ioctl", "whether a sealed file is immutable", 1, FS_IOC_GETFLAGS},
                      {"ioctl", "clearing a shipped file's immutable flag", 1, FS_IOC_SETFLAGS},
                      {"uname", "gethostname: the node name"},
                      {"getcwd", "the working directory in a session's metadata"},
                      {"mkdir", "the archive's date and node directories"},
                      {"rename", "spool files into the archive; atomic writes of state files"},
                      {"link", "the node key put in place without replacing one made at once"},
                      {"unlink", "shipped spool files, temporary files"},
                      {"fsync", "archive files and their directories"},
                      {"fdatasync", "archive files; the catalog's segment journal"},
                      {"ftruncate", "the catalog's segment journal cut back after a failed write"},
                      {"flock", "one uploader per spool; each session's upload state"},
                  });
  return p;
}

SandboxProfile TrackerHubProfile() {
  SandboxProfile p;
  p.program = "ttyaudit-tracker";
  // The eBPF programs are loaded and the proc connector bound by now: the hub only reads
  // /proc of processes of every user (argv, cwd, exe) and keeps its reader's priority.
  p.keep_caps = {CAP_SYS_PTRACE, CAP_SYS_NICE};
  p.syscalls = BaseSyscalls();
  Add(p.syscalls,
      {
          {"bpf",
           "the eBPF source's maps: the pids of recorded sessions, updated as they come and go"},
          {"accept4", "recorders connecting to the hub's socket"},
          {"sendto", "wire messages to subscribers (send)"},
          {"recvfrom", "subscribers' messages; proc connector events (recv)"},
          {"recvmmsg", "proc connector events, in batches"},
          {"setsockopt", "the proc connector's event filter"},
          {"getsockopt", "SO_PEERCRED: only root may subscribe"},
          {"getrusage", "its CPU time in --stats"},
          {"uname", "the proc connector source checks the kernel's version"},
          {"sched_setscheduler", "the reader at SCHED_FIFO 1"},
          {"setpriority", "else at nice -10"},
          {"unlink", "its socket and pid file at exit"},
          {"rename", "its stats and pid files"},
      });
  return p;
}

SandboxProfile ServeProfile() {
  SandboxProfile p;
  p.program = "ttyaudit serve";
  // It reads the store, the spool and the archive, which are its own user's (root's 0700 dirs
  // when root runs it), and writes only the catalog cache in its own cache dir: no capability.
  p.keep_caps = {};
  p.syscalls = BaseSyscalls();
  Add(p.syscalls, {
                      {"accept", "browsers connecting to the viewer"},
                      {"accept4", "browsers connecting to the viewer"},
                      {"socket", "HTTP(S) to S3; DNS; getaddrinfo's netlink query"},
                      {"connect", "HTTP(S) to S3; DNS"},
                      {"bind", "getaddrinfo's netlink query (AI_ADDRCONFIG)"},
                      {"getsockname", "getaddrinfo's netlink query; a connection's address"},
                      {"getpeername", "a browser's address"},
                      {"setsockopt", "TCP_NODELAY, send and receive timeouts"},
                      {"getsockopt", "connect's result (SO_ERROR)"},
                      {"shutdown", "closing a connection"},
                      {"sendto", "HTTP to browsers and S3, DNS, netlink"},
                      {"sendmsg", "HTTP to browsers (TLS), DNS"},
                      {"sendmmsg", "DNS (A and AAAA at once)"},
                      {"recvfrom", "HTTP, DNS"},
                      {"recvmsg", "getaddrinfo's netlink answer"},
                      {"select", "cpp-httplib waits for a socket"},
                      {"pselect6", "cpp-httplib waits for a socket"},
                      {"ppoll", "waits for a socket"},
                      {"ioctl", "DNS: the size of an answer", 1, FIONREAD},
                      {"uname", "gethostname: this node's name (the spool's sessions)"},
                      {"mkdir", "the catalog cache's directory"},
                      {"unlink", "SQLite's -wal and -shm files of the catalog cache"},
                      {"fsync", "the catalog cache (SQLite)"},
                      {"fdatasync", "the catalog cache (SQLite)"},
                      {"ftruncate", "the catalog cache's WAL (SQLite)"},
                      {"fchown", "SQLite gives its -wal and -shm the database's owner (as root)"},
                      {"fchmod", "the catalog cache is made 0600"},
                      {"flock", "whether a spool session's recorder still holds it (live)"},
                      {"inotify_init1", "following a spool session as it grows (live)"},
                      {"inotify_add_watch", "following a spool session as it grows (live)"},
                      {"inotify_rm_watch", "following a spool session as it grows (live)"},
                  });
  return p;
}

}  // namespace ttyaudit
