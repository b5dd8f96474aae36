/* procstat -- see measure.h. */
#define _GNU_SOURCE
#include "measure.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long long measure_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long measure_cpu_ms(pid_t pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(line, 1, sizeof line - 1, f);
    fclose(f);
    line[n] = '\0';
    /* "pid (comm) state ppid ..."; comm may hold spaces: start after ')'.
     * utime and stime are fields 14 and 15, in clock ticks. */
    const char *s = strrchr(line, ')');
    unsigned long long ut, st;
    if (!s || sscanf(s + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (long long)((ut + st) * 1000ULL / (unsigned long long)hz) : -1;
}

long measure_peak_rss_kb(pid_t pid)
{
    char path[64], line[256];
    long kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

int measure_open_fds(pid_t pid)
{
    char path[64];
    int n = 0;
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

int measure_set_fd_limit(pid_t pid, long n, long *old)
{
#ifdef __linux__
    struct rlimit rl;
    if (prlimit(pid, RLIMIT_NOFILE, NULL, &rl) < 0)
        return -1;
    if (old)
        *old = (long)rl.rlim_cur;
    rl.rlim_cur = (rlim_t)n;
    return prlimit(pid, RLIMIT_NOFILE, &rl, NULL);
#else
    (void)pid;
    (void)n;
    (void)old;
    errno = ENOSYS;
    return -1;
#endif
}

long long measure_rusage_ms(const struct rusage *ru)
{
    return (long long)(ru->ru_utime.tv_sec + ru->ru_stime.tv_sec) * 1000 +
           (ru->ru_utime.tv_usec + ru->ru_stime.tv_usec) / 1000;
}
