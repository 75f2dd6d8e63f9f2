// The pty harness for `make bench` (bench/rec.sh): plays the user's terminal for one recorder.
//
// One binary, five modes:
//   produce BYTES      the producer: writes BYTES bytes of 80-column printable lines to stdout,
//                      then the end marker; if $BENCH_PRODUCER_RUSAGE names a file, writes its
//                      own user/sys seconds and peak RSS there as JSON.
//   echo               the keystroke echo: puts its terminal in raw mode, writes the ready marker,
//                      then echoes every byte back one read at a time until it reads 'Q'.
//   tput NAME -- CMD   runs CMD on the slave of a new pty, reads the master until the producer's
//   end
//                      marker, and prints one JSON line: wall time, the recorder's CPU (wait4 on
//                      it, which counts its whole tree), the producer's own CPU, peak RSS.
//   lat N NAME -- CMD [,, NAME -- CMD]...
//                      runs each CMD (a recorder around `echo`, or `echo` itself) on its own pty,
//                      all at once, then times N single-byte round trips on each (after a warm-up),
//                      alternating between them, and prints one JSON line per session with the
//                      median, p90, p99 and max in microseconds, and the CPU time the direct
//                      child (the recorder; for a bare pty the echo itself) used per keystroke.
//   relay -- CMD       the floor of every recorder that sits between two ptys: runs CMD on a new
//                      pty and copies bytes both ways between it and its own terminal (raw
//                      mode), and does nothing else: no record, no resize, no signals.
//
// Built by bench/rec.sh with g++ (not CMake): it is a measuring tool, not part of ttyaudit.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr std::string_view kEndMarker = "#BENCH-END#";
constexpr std::string_view kReadyMarker = "#BENCH-READY#";
constexpr int kTimeoutS = 240;

double Now() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "pty_harness: %s: %s\n", what, std::strerror(errno));
  std::exit(2);
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n) {
    ssize_t w = write(fd, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// --- produce ---------------------------------------------------------------------------------

int Produce(long long total) {
  // 64 KiB of 80-column lines (79 printable characters, no '#', then '\n'), written over and over.
  constexpr size_t kChunk = 64 * 1024;
  static char chunk[kChunk];
  const char alphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,;:-+=";
  const size_t alen = sizeof alphabet - 1;
  for (size_t i = 0; i < kChunk; ++i)
    chunk[i] = (i % 80 == 79) ? '\n' : alphabet[(i / 80 + i % 80) % alen];
  long long left = total;
  while (left > 0) {
    size_t n = static_cast<size_t>(std::min<long long>(left, kChunk));
    if (!WriteAll(1, chunk, n)) return 1;
    left -= static_cast<long long>(n);
  }
  std::string end = std::string(kEndMarker) + "\n";
  if (!WriteAll(1, end.data(), end.size())) return 1;
  if (const char* path = getenv("BENCH_PRODUCER_RUSAGE")) {
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    if (FILE* f = std::fopen(path, "w")) {
      std::fprintf(f, "{\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kib\":%ld}\n", Seconds(ru.ru_utime),
                   Seconds(ru.ru_stime), ru.ru_maxrss);
      std::fclose(f);
    }
  }
  return 0;
}

// --- echo ------------------------------------------------------------------------------------

int Echo() {
  termios t;
  if (tcgetattr(0, &t) == 0) {
    cfmakeraw(&t);
    tcsetattr(0, TCSANOW, &t);
  }
  if (!WriteAll(1, kReadyMarker.data(), kReadyMarker.size())) return 1;
  char c;
  for (;;) {
    ssize_t n = read(0, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return 0;
    if (c == 'Q') return 0;
    if (!WriteAll(1, &c, 1)) return 1;
  }
}

// --- ptys ------------------------------------------------------------------------------------

constexpr winsize kTermSize{24, 80, 0, 0};  // rows, columns: a terminal emulator's default

struct Pty {
  int master = -1;
  pid_t child = -1;
};

// Opens a pty of size `ws` (the kernel's default cooked mode) and runs argv on its slave as a
// session leader with the slave as its controlling terminal, like a terminal emulator does.
Pty Spawn(char** argv, winsize ws) {
  Pty p;
  p.master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (p.master < 0) Die("posix_openpt");
  if (grantpt(p.master) < 0 || unlockpt(p.master) < 0) Die("grantpt/unlockpt");
  ioctl(p.master, TIOCSWINSZ, &ws);
  const char* name = ptsname(p.master);
  if (!name) Die("ptsname");
  std::string slave_name = name;
  p.child = fork();
  if (p.child < 0) Die("fork");
  if (p.child == 0) {
    setsid();
    int s = open(slave_name.c_str(), O_RDWR);
    if (s < 0) _exit(126);
    ioctl(s, TIOCSCTTY, 0);
    for (int fd = 0; fd < 3; ++fd) dup2(s, fd);
    if (s > 2) close(s);
    execvp(argv[0], argv);
    std::fprintf(stderr, "pty_harness: exec %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  return p;
}

// --- relay -------------------------------------------------------------------------------------

int Relay(char** argv) {
  winsize ws = kTermSize;
  ioctl(0, TIOCGWINSZ, &ws);
  Pty p = Spawn(argv, ws);
  int master = p.master;
  termios saved, raw;
  bool tty = tcgetattr(0, &saved) == 0;
  if (tty) {
    raw = saved;
    cfmakeraw(&raw);
    tcsetattr(0, TCSANOW, &raw);
  }
  static char buf[65536];
  bool in_open = true;
  for (;;) {
    pollfd fds[2] = {{master, POLLIN, 0}, {0, static_cast<short>(in_open ? POLLIN : 0), 0}};
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[0].revents) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) break;  // EIO: the session's last fd on the slave closed
      if (!WriteAll(1, buf, static_cast<size_t>(n))) break;
    }
    if (fds[1].revents) {
      ssize_t n = read(0, buf, sizeof buf);
      if (n <= 0)
        in_open = false;
      else
        WriteAll(master, buf, static_cast<size_t>(n));
    }
  }
  if (tty) tcsetattr(0, TCSANOW, &saved);
  int status = 0;
  waitpid(p.child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// --- the terminal side -----------------------------------------------------------------------

// Peak resident set (VmHWM) of a live process in KiB, or -1.
long ReadHwm(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/status", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return -1;
  char line[256];
  long kib = -1;
  while (std::fgets(line, sizeof line, f))
    if (std::strncmp(line, "VmHWM:", 6) == 0) kib = std::strtol(line + 6, nullptr, 10);
  std::fclose(f);
  return kib;
}

// Reads the master until EIO/EOF (every slave closed) or `deadline`; returns the bytes read.
long long Drain(int master, double deadline) {
  char buf[65536];
  long long total = 0;
  for (;;) {
    int left_ms = static_cast<int>((deadline - Now()) * 1000);
    if (left_ms <= 0) return total;
    pollfd p{master, POLLIN, 0};
    int r = poll(&p, 1, std::min(left_ms, 1000));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    ssize_t n = read(master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return total;
    total += n;
  }
}

struct Reaped {
  int status = -1;
  rusage ru{};
};

Reaped Reap(pid_t pid, double deadline) {
  Reaped r;
  for (;;) {
    pid_t got = wait4(pid, &r.status, WNOHANG, &r.ru);
    if (got == pid) return r;
    if (Now() > deadline) {
      kill(pid, SIGKILL);
      wait4(pid, &r.status, 0, &r.ru);
      r.status = -1;
      return r;
    }
    usleep(2000);
  }
}

int Tput(const char* name, char** argv) {
  std::string tail;
  char buf[65536];
  double start = Now();
  Pty p = Spawn(argv, kTermSize);
  double deadline = start + kTimeoutS;
  long long seen = 0;
  long hwm = -1;
  double marker_at = -1, last_hwm = start, last_byte = start;
  while (marker_at < 0) {
    double now = Now();
    if (now > deadline) break;
    if (now - last_hwm > 0.1) {  // the recorder's own peak so far (its tree's is in wait4)
      hwm = std::max(hwm, ReadHwm(p.child));
      last_hwm = now;
    }
    pollfd pfd{p.master, POLLIN, 0};
    int r = poll(&pfd, 1, 100);
    if (r < 0 && errno != EINTR) Die("poll");
    if (r <= 0) continue;
    ssize_t n = read(p.master, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // the recorder went away before the end marker
    seen += n;
    last_byte = Now();
    // The marker may straddle two reads: look in the previous read's tail joined to this one's
    // head, then in this read.
    std::string_view chunk(buf, static_cast<size_t>(n));
    std::string edge = tail;
    edge.append(chunk.substr(0, std::min(chunk.size(), kEndMarker.size() - 1)));
    if (edge.find(kEndMarker) != std::string::npos ||
        chunk.find(kEndMarker) != std::string_view::npos) {
      marker_at = Now();
      break;
    }
    const size_t keep = kEndMarker.size() - 1;
    if (chunk.size() >= keep) {
      tail.assign(chunk.substr(chunk.size() - keep));
    } else {
      tail.append(chunk);
      if (tail.size() > keep) tail.erase(0, tail.size() - keep);
    }
  }
  hwm = std::max(hwm, ReadHwm(p.child));
  seen += Drain(p.master, deadline);
  Reaped rp = Reap(p.child, deadline);
  double exited_at = Now();
  close(p.master);
  // Without the marker the recorder lost the tail of the output (or timed out): the line says so
  // (ok false) and gives the time of the last byte seen instead.
  std::printf(
      "{\"name\":\"%s\",\"ok\":%s,\"bytes_seen\":%lld,\"wall_s\":%.6f,\"last_byte_s\":%.6f,"
      "\"exit_wall_s\":%.6f,\"tree_user_s\":%.6f,\"tree_sys_s\":%.6f,\"tree_maxrss_kib\":%ld,"
      "\"hwm_kib\":%ld,\"status\":%d}\n",
      name, marker_at > 0 ? "true" : "false", seen, marker_at > 0 ? marker_at - start : -1.0,
      last_byte - start, exited_at - start, Seconds(rp.ru.ru_utime), Seconds(rp.ru.ru_stime),
      rp.ru.ru_maxrss, hwm, rp.status);
  return rp.status == -1 ? 1 : 0;  // 1: killed at the deadline
}

// Reads from the master until `want` has been seen in the stream (or the deadline passes).
bool WaitFor(int master, std::string_view want, double deadline) {
  std::string seen;
  char buf[4096];
  while (Now() < deadline) {
    pollfd pfd{master, POLLIN, 0};
    int r = poll(&pfd, 1, 100);
    if (r <= 0) continue;
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) return false;
    seen.append(buf, static_cast<size_t>(n));
    if (seen.find(want) != std::string::npos) return true;
  }
  return false;
}

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// One keystroke: writes `c` and reads until it comes back; returns the microseconds taken, or -1.
double RoundTrip(int master, char c) {
  double t0 = Now();
  if (!WriteAll(master, &c, 1)) return -1;
  for (;;) {
    char got;
    ssize_t n = read(master, &got, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return -1;
    if (got == c) return (Now() - t0) * 1e6;  // anything else is the recorder's own output
  }
}

struct LatSession {
  const char* name;
  Pty pty;
  std::vector<double> us;
  long long cpu_ns = 0;  // the direct child's CPU time over the measured round trips
};

// CPU time the main thread of `pid` has had, in nanoseconds (/proc/PID/schedstat), or -1.
long long ReadCpuNs(pid_t pid) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%d/schedstat", static_cast<int>(pid));
  FILE* f = std::fopen(path, "re");
  if (!f) return -1;
  long long ns = -1;
  if (std::fscanf(f, "%lld", &ns) != 1) ns = -1;
  std::fclose(f);
  return ns;
}

// Runs every session at once and alternates the keystrokes between them (the order rotating), so
// that whatever else the machine does lands on all of them alike.
int Lat(int count, std::vector<std::pair<const char*, std::vector<char*>>> cmds) {
  double deadline = Now() + kTimeoutS;
  std::vector<LatSession> ss;
  for (auto& [name, argv] : cmds) {
    argv.push_back(nullptr);
    ss.push_back({name, Spawn(argv.data(), kTermSize), {}});
  }
  for (auto& s : ss) {
    if (!WaitFor(s.pty.master, kReadyMarker, deadline)) {
      std::fprintf(stderr, "pty_harness: %s: no ready marker\n", s.name);
      for (auto& k : ss) kill(k.pty.child, SIGKILL);
      return 1;
    }
  }
  usleep(100000);  // let the recorders settle (a first flush, a sync thread starting)
  const int warmup = 200;
  bool ok = true;
  for (int i = 0; i < warmup + count && ok; ++i) {
    if (i == warmup)
      for (auto& s : ss) s.cpu_ns = -ReadCpuNs(s.pty.child);
    char c = static_cast<char>('a' + i % 26);
    for (size_t k = 0; k < ss.size(); ++k) {
      LatSession& s = ss[(k + static_cast<size_t>(i)) % ss.size()];
      double us = RoundTrip(s.pty.master, c);
      if (us < 0) {
        std::fprintf(stderr, "pty_harness: %s: the echo stopped\n", s.name);
        ok = false;
        break;
      }
      if (i >= warmup) s.us.push_back(us);
    }
  }
  for (auto& s : ss) s.cpu_ns += ReadCpuNs(s.pty.child);
  for (auto& s : ss) {
    char q = 'Q';
    WriteAll(s.pty.master, &q, 1);
  }
  for (auto& s : ss) {
    Drain(s.pty.master, Now() + 30);
    Reaped rp = Reap(s.pty.child, Now() + 30);
    close(s.pty.master);
    if (!ok) continue;
    double sum = 0;
    for (double x : s.us) sum += x;
    std::printf(
        "{\"name\":\"%s\",\"n\":%zu,\"min_us\":%.2f,\"p10_us\":%.2f,\"median_us\":%.2f,"
        "\"p90_us\":%.2f,\"p99_us\":%.2f,"
        "\"max_us\":%.2f,\"mean_us\":%.2f,\"child_cpu_us_per_keystroke\":%.2f,\"status\":%d}\n",
        s.name, s.us.size(), Percentile(s.us, 0.0), Percentile(s.us, 0.1), Percentile(s.us, 0.5),
        Percentile(s.us, 0.9), Percentile(s.us, 0.99), Percentile(s.us, 1.0),
        sum / static_cast<double>(s.us.size()),
        static_cast<double>(s.cpu_ns) / 1e3 / static_cast<double>(s.us.size()), rp.status);
  }
  return ok ? 0 : 1;
}

int Usage() {
  std::fprintf(stderr,
               "usage: pty_harness produce BYTES | echo | relay -- CMD... | tput NAME -- CMD... | "
               "lat N NAME -- CMD... [,, NAME -- CMD...]...\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) return Usage();
  std::string_view mode = argv[1];
  if (mode == "produce" && argc == 3) return Produce(std::atoll(argv[2]));
  if (mode == "echo") return Echo();
  if (mode == "relay" && argc >= 4 && std::string_view(argv[2]) == "--") return Relay(argv + 3);
  if (mode == "tput" && argc >= 5 && std::string_view(argv[3]) == "--")
    return Tput(argv[2], argv + 4);
  if (mode == "lat" && argc >= 6) {
    // lat N NAME -- CMD... [,, NAME -- CMD...]...
    std::vector<std::pair<const char*, std::vector<char*>>> cmds;
    for (int i = 3; i < argc;) {
      if (i + 2 >= argc || std::string_view(argv[i + 1]) != "--") return Usage();
      cmds.push_back({argv[i], {}});
      for (i += 2; i < argc && std::string_view(argv[i]) != ",,"; ++i)
        cmds.back().second.push_back(argv[i]);
      if (i < argc) ++i;
    }
    return Lat(std::atoi(argv[2]), std::move(cmds));
  }
  return Usage();
}
