/* hostile -- a server chapter's program under hostile load, with its CPU
 * time and peak memory measured and bounded (make load; make test runs it
 * against the reference).
 *
 *   hostile --request STR --expect STR [--hog STR] [--root] [--max-cpu-ms N]
 *           [--max-rss-mb N] [--drain-ms N] -- PROGRAM ARGS...
 *
 * STR may hold C escapes (\r \n \\ \xHH). --hog is what a client that never
 * reads sends, again and again (default: the request); it should ask for
 * much more than it sends. With --root, "{ROOT}" at the start of an
 * argument in ARGS becomes a fresh temporary folder holding hello.txt
 * ("hello\n") and big.bin (1 MiB) -- "{ROOT}/items.db" a file the program
 * may create there. The folder and all it holds are removed at the end.
 *
 * The phases, one after the other, while the earlier troublemakers stay
 * connected: many connections at once; requests sent one byte per write;
 * clients that send and never read; clients that stall halfway through a
 * request; file descriptors run out (the program's limit is lowered, as
 * `ulimit -n` would); then SIGTERM with all of that open. Each phase checks
 * that an ordinary client is still answered in time. At the end: the
 * program's exit status, CPU time and peak memory, from wait4().
 *
 * Linux only (prlimit, /proc). Exits 0 when every check held, 1 when one
 * failed, 2 on a usage or setup error. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

#define MANY 500          /* connections at once */
#define BYTEWISE 50       /* clients sending one byte per write */
#define HOGS 20           /* clients that never read */
#define HOG_RCVBUF 4096   /* their receive buffer: answers back up at once
                             (not after megabytes of kernel buffers) */
#define STALLED 100       /* clients holding half a request */
#define STARVED 60        /* clients waiting while fds are exhausted */
#define FAIR_MS 1000      /* how long an ordinary client may wait */
#define SPIN_MS 150       /* CPU a waiting program may use in a second */
#define SETTLE_MS 20000   /* time to answer what never-readers pipelined */

static const char *req, *expect, *hog;
static size_t reqlen, explen, hoglen;
static pid_t pid = -1;
static int port, failures;
static char dir[] = "/tmp/hostile-XXXXXX"; /* --root: the program's folder */
static int made_dir;

static void remove_dir(void);

static void check(int ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %s ", ok ? "ok  " : "FAIL");
    vprintf(fmt, ap);
    printf("\n");
    fflush(stdout);
    va_end(ap);
    if (!ok)
        failures++;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "hostile: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (pid > 0) {
        kill(-pid, SIGKILL);
        waitpid(pid, NULL, 0);
    }
    remove_dir();
    exit(2);
}

/* Decodes C escapes in s, in place. Returns the length. */
static size_t unescape(char *s)
{
    char *o = s;
    for (const char *p = s; *p; p++) {
        if (*p != '\\' || !p[1]) {
            *o++ = *p;
            continue;
        }
        p++;
        switch (*p) {
        case 'r': *o++ = '\r'; break;
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'x': {
            char hex[3] = { p[1], p[1] ? p[2] : 0, 0 };
            *o++ = (char)strtol(hex, NULL, 16);
            p += p[1] ? (p[2] ? 2 : 1) : 0;
            break;
        }
        default: *o++ = *p; break;
        }
    }
    return (size_t)(o - s);
}

static long long cpu_ms(void)
{
    return measure_cpu_ms(pid);
}

/* ---- clients ------------------------------------------------------------------ */

/* A non-blocking connection to the program (connect completes later). */
/* A connection to the program, not yet established. rcvbuf > 0 sets the
 * socket's receive buffer first (a small window). */
static int connect_with(int rcvbuf)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) < 0 && errno != EINPROGRESS)
        die("connect: %s", strerror(errno));
    return fd;
}

static int connect_nb(void)
{
    return connect_with(0);
}

static int wait_for(int fd, short ev, long long deadline)
{
    struct pollfd p = { .fd = fd, .events = ev };
    for (;;) {
        long long left = deadline - measure_now_ms();
        if (left <= 0)
            return 0;
        int r = poll(&p, 1, (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return 0;
    }
}

/* Sends p[0..n) by writes of at most piece bytes before deadline. */
static int send_by(int fd, const char *p, size_t n, size_t piece, long long deadline)
{
    while (n > 0) {
        if (!wait_for(fd, POLLOUT, deadline))
            return -1;
        ssize_t w = send(fd, p, n < piece ? n : piece, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads until the expected answer's explen bytes arrived (they must be
 * exactly expect) -- the rest of a longer answer is left. */
static int read_answer(int fd, long long deadline)
{
    char got[256];
    size_t have = 0, want = explen < sizeof got ? explen : sizeof got;
    while (have < want) {
        if (!wait_for(fd, POLLIN, deadline))
            return -1;
        ssize_t r = recv(fd, got + have, want - have, 0);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    return memcmp(got, expect, want) == 0 ? 0 : -1;
}

/* An ordinary client: connect, ask, read the answer. Returns the time it
 * took in ms, or -1. */
static long long ordinary(void)
{
    long long t0 = measure_now_ms(), deadline = t0 + 5000;
    int fd = connect_nb();
    int ok = send_by(fd, req, reqlen, reqlen, deadline) == 0 && read_answer(fd, deadline) == 0;
    close(fd);
    return ok ? measure_now_ms() - t0 : -1;
}

/* An ordinary client is answered in time, and a second with nothing new
 * happening costs the program (almost) no CPU: a loop that spins on one
 * of the troublemakers shows here. */
static void check_ordinary(const char *while_what)
{
    long long t = ordinary();
    check(t >= 0 && t <= FAIR_MS, "%s: an ordinary client was answered in %lld ms (max %d)",
          while_what, t, FAIR_MS);
    long long c0 = cpu_ms();
    usleep(1000 * 1000);
    long long used = cpu_ms() - c0;
    check(used >= 0 && used <= SPIN_MS, "%s: a second of waiting cost %lld ms of CPU (max %d)",
          while_what, used, SPIN_MS);
}

/* Waits until the program is quiet: a window of 200 ms using at most
 * SPIN_MS / 15 (10 ms). The clients that never read have pipelined thousands
 * of requests, and the program answers them until the socket buffers
 * between it and them are full (its own send buffer grows to megabytes):
 * real work, which is not the spinning a second of waiting measures. */
static void settle(const char *while_what)
{
    long long t0 = measure_now_ms(), used;
    do {
        long long c0 = cpu_ms();
        usleep(200 * 1000);
        used = cpu_ms() - c0;
    } while (used > SPIN_MS / 15 && measure_now_ms() - t0 < SETTLE_MS);
    long long took = measure_now_ms() - t0;
    check(used <= SPIN_MS / 15, "%s: the program answered what they had sent, until their "
          "answers filled the socket buffers, and went quiet after %lld ms (max %d)",
          while_what, took, SETTLE_MS);
}

/* ---- phases ---------------------------------------------------------------------- */

/* n clients send the request by pieces of `piece` bytes, taking turns,
 * then read their answers. Returns how many were answered. */
static int crowd(int n, size_t piece, long long *took)
{
    int *fds = calloc((size_t)n, sizeof *fds), answered = 0;
    long long t0 = measure_now_ms(), deadline = t0 + 20000;
    for (int i = 0; i < n; i++)
        fds[i] = connect_nb();
    for (size_t off = 0; off < reqlen; off += piece) {
        size_t k = reqlen - off < piece ? reqlen - off : piece;
        for (int i = 0; i < n; i++)
            if (fds[i] >= 0 && send_by(fds[i], req + off, k, k, deadline) < 0) {
                close(fds[i]);
                fds[i] = -1;
            }
    }
    for (int i = 0; i < n; i++) {
        if (fds[i] >= 0 && read_answer(fds[i], deadline) == 0)
            answered++;
        if (fds[i] >= 0)
            close(fds[i]);
    }
    *took = measure_now_ms() - t0;
    free(fds);
    return answered;
}

/* Clients that send, never read, and go on sending until the program
 * stops reading from them: its output to them has backed up. */
static void start_hogs(int *fds)
{
    size_t k = 65536 / hoglen + 1;
    char *many = malloc(hoglen * k);
    for (size_t j = 0; j < k; j++)
        memcpy(many + j * hoglen, hog, hoglen);
    for (int i = 0; i < HOGS; i++) {
        fds[i] = connect_with(HOG_RCVBUF);
        wait_for(fds[i], POLLOUT, measure_now_ms() + 2000);
        long long until = measure_now_ms() + 3000;
        while (measure_now_ms() < until) {
            ssize_t w = send(fds[i], many, hoglen * k, MSG_NOSIGNAL);
            if (w < 0 && errno == EAGAIN && !wait_for(fds[i], POLLOUT, measure_now_ms() + 200))
                break; /* 200 ms without room: the program stopped reading */
            if (w < 0 && errno != EAGAIN && errno != EINTR)
                break;
        }
    }
    free(many);
}

/* Clients that send half a request and stall. */
static void start_stalled(int *fds)
{
    size_t half = reqlen / 2 ? reqlen / 2 : 1;
    for (int i = 0; i < STALLED; i++) {
        fds[i] = connect_nb();
        send_by(fds[i], req, half, half, measure_now_ms() + 2000);
    }
}

static void exhaust_fds(void)
{
    int before = measure_open_fds(pid);
    long old;
    if (before < 0 || measure_set_fd_limit(pid, before + 8, &old) < 0) {
        check(0, "file descriptors: cannot read or set the program's limit (%s)", strerror(errno));
        return;
    }
    int fds[STARVED];
    for (int i = 0; i < STARVED; i++) {
        fds[i] = connect_nb();
        send_by(fds[i], req, reqlen, reqlen, measure_now_ms() + 1000);
    }
    usleep(200 * 1000);
    long long c0 = cpu_ms();
    usleep(1000 * 1000); /* the subject: a second with clients it cannot accept */
    long long used = cpu_ms() - c0;
    check(used >= 0 && used <= SPIN_MS,
          "file descriptors exhausted (limit: %d open + 8), %d clients waiting: one second "
          "cost %lld ms of CPU (max %d)", before, STARVED, used, SPIN_MS);
    for (int i = 0; i < STARVED; i++)
        close(fds[i]);
    measure_set_fd_limit(pid, old, NULL);
    long long t0 = measure_now_ms(), t;
    while ((t = ordinary()) < 0 && measure_now_ms() - t0 < 5000)
        usleep(50 * 1000);
    check(t >= 0, "file descriptors back: an ordinary client was answered %lld ms after the "
          "waiting ones left", measure_now_ms() - t0);
}

/* Removes dir and the files in it (the program's database and its -wal,
 * -shm, too). */
static void remove_dir(void)
{
    if (!made_dir)
        return;
    made_dir = 0;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        char path[512];
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path)
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* ---- the program --------------------------------------------------------------- */

static void start(char **argv)
{
    int out[2];
    if (pipe(out) < 0)
        die("pipe: %s", strerror(errno));
    pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        int devnull = open("/dev/null", O_RDWR);
        dup2(devnull, STDIN_FILENO);
        signal(SIGPIPE, SIG_DFL);
        execv(argv[0], argv);
        fprintf(stderr, "hostile: cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    close(out[1]);
    char line[256];
    size_t have = 0;
    long long deadline = measure_now_ms() + 5000;
    while (!memchr(line, '\n', have) && have < sizeof line - 1) {
        if (!wait_for(out[0], POLLIN, deadline))
            die("no \"listening on\" line from %s within 5 s", argv[0]);
        ssize_t r = read(out[0], line + have, sizeof line - 1 - have);
        if (r <= 0)
            die("%s exited before it said \"listening on\"", argv[0]);
        have += (size_t)r;
    }
    line[have] = '\0';
    char *colon = strrchr(line, ':');
    if (strncmp(line, "listening on ", 13) != 0 || !colon)
        die("unexpected first line: %s", line);
    port = atoi(colon + 1);
}

int main(int argc, char **argv)
{
    long max_cpu = 8000, max_rss = 128, drain = 1000;
    int root = 0, i = 1;
    char *rq = NULL, *ex = NULL, *hg = NULL;
    for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--root") == 0) {
            root = 1;
            continue;
        }
        if (!v)
            die("%s needs a value", a);
        i++;
        if (strcmp(a, "--request") == 0)
            rq = strdup(v);
        else if (strcmp(a, "--expect") == 0)
            ex = strdup(v);
        else if (strcmp(a, "--hog") == 0)
            hg = strdup(v);
        else if (strcmp(a, "--max-cpu-ms") == 0)
            max_cpu = atol(v);
        else if (strcmp(a, "--max-rss-mb") == 0)
            max_rss = atol(v);
        else if (strcmp(a, "--drain-ms") == 0)
            drain = atol(v);
        else
            die("unknown option %s", a);
    }
    if (!rq || !ex || i + 1 >= argc)
        die("usage: hostile --request STR --expect STR [--hog STR] [--root] [--max-cpu-ms N] "
            "[--max-rss-mb N] [--drain-ms N] -- PROGRAM ARGS...");
    reqlen = unescape(rq);
    explen = unescape(ex);
    req = rq;
    expect = ex;
    hog = hg ? hg : rq;
    hoglen = hg ? unescape(hg) : reqlen;

    /* Room for our own connections. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);

    char file[64], big[64];
    if (root) {
        if (!mkdtemp(dir))
            die("mkdtemp: %s", strerror(errno));
        made_dir = 1;
        snprintf(file, sizeof file, "%s/hello.txt", dir);
        snprintf(big, sizeof big, "%s/big.bin", dir);
        FILE *f = fopen(file, "w"), *b = fopen(big, "w");
        if (!f || !b)
            die("%s: %s", dir, strerror(errno));
        fputs("hello\n", f);
        for (int k = 0; k < 1024 * 1024; k++)
            fputc('a' + k % 26, b);
        fclose(f);
        fclose(b);
    }
    char **pargv = calloc((size_t)(argc - i + 1), sizeof *pargv);
    int n = 0;
    for (int k = i + 1; k < argc; k++) {
        pargv[n] = argv[k];
        if (root && strncmp(argv[k], "{ROOT}", 6) == 0 &&
            asprintf(&pargv[n], "%s%s", dir, argv[k] + 6) < 0)
            die("out of memory");
        n++;
    }
    start(pargv);

    printf("hostile load on %s (port %d):\n", pargv[0], port);
    long long took;
    int got = crowd(MANY, reqlen, &took);
    check(got == MANY, "%d connections at once, one request each: %d answered in %lld ms", MANY,
          got, took);
    got = crowd(BYTEWISE, 1, &took);
    check(got == BYTEWISE, "%d clients sending their request one byte per write: %d answered "
          "in %lld ms", BYTEWISE, got, took);
    int hogs[HOGS], stalled[STALLED];
    start_hogs(hogs);
    settle("20 clients that sent until the program stopped reading, and never read");
    check_ordinary("20 clients that sent until the program stopped reading, and never read");
    start_stalled(stalled);
    check_ordinary("and 100 clients holding half a request");
    exhaust_fds();

    /* SIGTERM in the middle of things: fresh clients that never read,
     * clients halfway through a request, and requests in flight. */
    int hogs2[HOGS], stalled2[STALLED], flying[MANY / 5];
    start_hogs(hogs2);
    start_stalled(stalled2);
    for (int k = 0; k < MANY / 5; k++) {
        flying[k] = connect_nb();
        send_by(flying[k], req, reqlen, reqlen, measure_now_ms() + 1000);
    }
    long long t0 = measure_now_ms(), cpu_before = cpu_ms();
    kill(pid, SIGTERM);
    int status = 0;
    struct rusage ru;
    pid_t r;
    while ((r = wait4(pid, &status, WNOHANG, &ru)) == 0 && measure_now_ms() - t0 < drain + 3000)
        usleep(10 * 1000);
    long long exited = measure_now_ms() - t0;
    if (r != pid) {
        kill(-pid, SIGKILL);
        wait4(pid, &status, 0, &ru);
    }
    pid = -1;
    check(r > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "SIGTERM with %d requests in flight, %d clients that never read and %d halfway "
          "through a request: exit status %d after %lld ms (max %ld)", MANY / 5, HOGS, STALLED,
          WIFEXITED(status) ? WEXITSTATUS(status) : -1, exited, drain + 3000);
    long long cpu = measure_rusage_ms(&ru);
    check(cpu - cpu_before <= 2 * SPIN_MS, "between SIGTERM and the exit: %lld ms of CPU (max "
          "%d): answering what is in flight, then waiting without spinning",
          cpu - cpu_before, 2 * SPIN_MS);
    check(cpu <= max_cpu, "CPU time in all: %lld ms (max %ld)", cpu, max_cpu);
    check(ru.ru_maxrss / 1024 <= max_rss, "peak memory: %ld MB (max %ld)", ru.ru_maxrss / 1024,
          max_rss);

    for (int k = 0; k < HOGS; k++) {
        close(hogs[k]);
        close(hogs2[k]);
    }
    for (int k = 0; k < STALLED; k++) {
        close(stalled[k]);
        close(stalled2[k]);
    }
    for (int k = 0; k < MANY / 5; k++)
        close(flying[k]);
    remove_dir();
    printf("hostile load: %s\n", failures ? "FAILED" : "every check held");
    return failures ? 1 : 0;
}
