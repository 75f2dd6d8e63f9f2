// For bench/tracking.sh: the cost of a cheap syscall (getppid) on this node, in ns per call, the
// median of ROUNDS rounds of N calls, printed as one JSON object. With the tracker hub's eBPF
// source tracking a session, every syscall of the node returns through the raw sys_exit
// tracepoint (the setuid-family check): this measures what that costs everyone else.
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return x < y ? -1 : x > y;
}

int main(int argc, char** argv) {
  const long n = argc > 1 ? atol(argv[1]) : 1000000;
  enum { kRounds = 9 };
  double ns[kRounds];
  for (int r = 0; r < kRounds; ++r) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (long i = 0; i < n; ++i) syscall(SYS_getppid);
    clock_gettime(CLOCK_MONOTONIC, &b);
    ns[r] = ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / (double)n;
  }
  qsort(ns, kRounds, sizeof ns[0], cmp);
  printf("{\"calls\":%ld,\"rounds\":%d,\"ns_per_call_median\":%.1f,\"ns_per_call_min\":%.1f}\n", n,
         kRounds, ns[kRounds / 2], ns[0]);
  return 0;
}
