/* measure -- the harness's clock, and what a process costs, read from /proc
 * and wait4() (Linux). One copy for the test library (wbtest.c), the
 * grader and the hostile-load check (harness/load/hostile.c). The
 * functions about a process return -1 where they cannot tell: another
 * system, or a process that is gone. */
#ifndef MEASURE_H
#define MEASURE_H

#include <sys/resource.h>
#include <sys/types.h>

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC). */
long long measure_now_ms(void);

/* CPU time pid has used so far, user + system, in ms. */
long long measure_cpu_ms(pid_t pid);

/* pid's peak resident memory so far (VmHWM), in KiB. */
long measure_peak_rss_kb(pid_t pid);

/* How many file descriptors pid has open. */
int measure_open_fds(pid_t pid);

/* Sets pid's soft limit on open files (RLIMIT_NOFILE) to n, as `ulimit -n`
 * would have, and stores the limit it had in *old when old is not NULL.
 * Returns 0, or -1 with errno set. */
int measure_set_fd_limit(pid_t pid, long n, long *old);

/* The CPU time in ru (from wait4()), user + system, in ms. */
long long measure_rusage_ms(const struct rusage *ru);

#endif
