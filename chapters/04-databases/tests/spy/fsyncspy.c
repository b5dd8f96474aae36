/* fsyncspy -- preloaded into restd by stage 8's tests (LD_PRELOAD): it
 * notes, in the file WB_SPY_LOG names, every fsync() and fdatasync() once
 * it has returned ("sync /path/items.db-wal"), and every answer that
 * starts "HTTP/1.1 201" as it is sent ("201"). The order of the lines is
 * the order of the events: a 201 must come after the sync of the WAL that
 * holds its item. Linux only (/proc/self/fd). Not part of the program. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

static int log_fd(void)
{
    static int fd = -2;
    if (fd == -2) {
        const char *path = getenv("WB_SPY_LOG");
        fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600) : -1;
    }
    return fd;
}

/* One line, one write(): O_APPEND keeps the lines of threads whole. */
static void note(const char *line, size_t n)
{
    int fd = log_fd();
    if (fd >= 0 && write(fd, line, n) < 0)
        return;
}

static void note_sync(int fd)
{
    char link[64], path[512], line[600];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    path[n > 0 ? n : 0] = '\0';
    int len = snprintf(line, sizeof line, "sync %s\n", path);
    note(line, (size_t)len);
}

int fsync(int fd)
{
    static int (*real)(int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "fsync");
    int rc = real(fd);
    note_sync(fd);
    return rc;
}

int fdatasync(int fd)
{
    static int (*real)(int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "fdatasync");
    int rc = real(fd);
    note_sync(fd);
    return rc;
}

ssize_t send(int fd, const void *buf, size_t len, int flags)
{
    static ssize_t (*real)(int, const void *, size_t, int);
    if (!real)
        *(void **)&real = dlsym(RTLD_NEXT, "send");
    if (len >= 12 && memcmp(buf, "HTTP/1.1 201", 12) == 0)
        note("201\n", 4);
    return real(fd, buf, len, flags);
}
