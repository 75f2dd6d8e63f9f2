// Load for bench/tracking.sh: forks RATE processes a second for SECONDS (each execs /bin/true,
// or exits at once with --no-exec), paced on an absolute clock. Prints the achieved rate and the
// CPU it used per process started (the kernel's cost of broadcasting proc events to every
// listening socket is charged to the forking process) as one JSON object.
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char** argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: tracking_load RATE SECONDS [--no-exec]\n");
    return 2;
  }
  const double rate = atof(argv[1]), secs = atof(argv[2]);
  const int do_exec = !(argc > 3 && strcmp(argv[3], "--no-exec") == 0);
  signal(SIGCHLD, SIG_IGN);  // children are reaped by the kernel
  struct timespec start, next, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  next = start;
  const long step_ns = (long)(1e9 / rate);
  long started = 0;
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &now);
    double el = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
    if (el >= secs) break;
    pid_t p = fork();
    if (p == 0) {
      if (do_exec) execl("/bin/true", "true", (char*)NULL);
      _exit(0);
    }
    if (p > 0) ++started;
    next.tv_nsec += step_ns;
    while (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
  }
  clock_gettime(CLOCK_MONOTONIC, &now);
  double el = (now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
               (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("{\"forks\":%ld,\"seconds\":%.3f,\"forks_per_s\":%.1f,\"parent_cpu_us_per_fork\":%.2f}\n",
         started, el, started / el, started ? cpu * 1e6 / started : 0.0);
  return 0;
}
