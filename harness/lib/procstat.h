/* procstat -- what a process costs, read from /proc and wait4() (Linux).
 * Used by the test library (wbtest.c) and the hostile-load check
 * (harness/load/hostile.c). Each function returns -1 where it cannot
 * tell: another system, or a process that is gone. */
#ifndef PROCSTAT_H
#define PROCSTAT_H

#include <sys/resource.h>
#include <sys/types.h>

/* CPU time pid has used so far, user + system, in ms. */
long long procstat_cpu_ms(pid_t pid);

/* pid's peak resident memory so far (VmHWM), in KiB. */
long procstat_peak_rss_kb(pid_t pid);

/* How many file descriptors pid has open. */
int procstat_open_fds(pid_t pid);

/* The CPU time in ru (from wait4()), user + system, in ms. */
long long procstat_rusage_ms(const struct rusage *ru);

#endif
