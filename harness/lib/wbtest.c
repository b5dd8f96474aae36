/* wbtest -- see wbtest.h. The program under test runs in its own process
 * group, with PR_SET_PDEATHSIG where there is one, and a watchdog process
 * kills the group when the test process goes away -- also after a crash or
 * a timeout, when Criterion runs no teardown. */
#define _GNU_SOURCE
#include "wbtest.h"

#include "measure.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netdb.h>
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
#ifdef __linux__
#include <sys/prctl.h>
#endif

#ifndef WB_PROGRAM
#error "build with -DWB_PROGRAM='\"path/to/program\"' (harness/chapter.mk does)"
#endif

/* The program to start: $WB_PROGRAM when set (make tsan runs the usual
 * tests against a ThreadSanitizer build of the program), else the one
 * this file was built for. */
static const char *program_path(void)
{
    const char *p = getenv("WB_PROGRAM");
    return p && *p ? p : WB_PROGRAM;
}

/* ---- suites ----------------------------------------------------------- */

static volatile int test_finished;
static struct wb_proc procs[WB_MAX_PROCS];
static int nprocs;

static void remove_tmpdir(void);

/* Code under test that calls exit() would end the worker with a PASS. */
static void exit_guard(void)
{
    if (!test_finished) {
        fprintf(stderr, "the code under test called exit() during the test\n");
        _exit(86);
    }
}

/* Keeps this test's stderr and stdout (sanitizer reports, the learner's
 * debug prints) in $WB_LOGDIR/SUITE--TEST.log for the grader to show. */
static void capture_output(void)
{
    const char *dir = getenv("WB_LOGDIR");
    if (!dir || !*dir || !criterion_current_test)
        return;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s--%s.log", dir,
             criterion_current_test->category, criterion_current_test->name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    fflush(NULL);
    dup2(fd, STDERR_FILENO);
    dup2(fd, STDOUT_FILENO);
    close(fd);
    setvbuf(stdout, NULL, _IOLBF, 0);
}

void wb_test_init(void)
{
    capture_output();
    signal(SIGPIPE, SIG_IGN); /* a write to a dead program fails, not kills */
    /* Backstop for lost Criterion timeouts: a stuck test dies by SIGALRM. */
    alarm(WB_TIMEOUT + 5);
    atexit(exit_guard);
}

void wb_test_fini(void)
{
    test_finished = 1;
    for (int i = 0; i < nprocs; i++)
        wb_stop(&procs[i], 1000);
    remove_tmpdir(); /* after the programs: they may have files open there */
}

/* ---- time --------------------------------------------------------------- */

long long wb_now_ms(void)
{
    return measure_now_ms();
}

void wb_pause_ms(int ms)
{
    long long end = wb_now_ms() + ms;
    long long left;
    while ((left = end - wb_now_ms()) > 0)
        poll(NULL, 0, (int)left);
}

int wb_ms_left(long long deadline)
{
    long long left = deadline - wb_now_ms();
    return left > 0 ? (left > 1000000000 ? 1000000000 : (int)left) : 0;
}

/* ---- bytes -------------------------------------------------------------- */

/* wb_escape() and wb_escape_text(): quoted C-style, or a line as text. */
static char *escape(const void *p, size_t n, size_t max, char *out, size_t cap, int quoted)
{
    const unsigned char *s = p;
    size_t o = 0, i;
    if (cap < 16) {
        if (cap)
            out[0] = '\0';
        return out;
    }
    if (quoted)
        out[o++] = '"';
    for (i = 0; i < n && i < max; i++) {
        char tmp[8];
        unsigned char c = s[i];
        if (!quoted)
            snprintf(tmp, sizeof tmp, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
        else
            switch (c) {
            case '\n': strcpy(tmp, "\\n"); break;
            case '\r': strcpy(tmp, "\\r"); break;
            case '\t': strcpy(tmp, "\\t"); break;
            case '\\': strcpy(tmp, "\\\\"); break;
            case '"': strcpy(tmp, "\\\""); break;
            case '\0': strcpy(tmp, "\\0"); break;
            default:
                snprintf(tmp, sizeof tmp, c >= 0x20 && c < 0x7f ? "%c" : "\\x%02x", c);
            }
        size_t tl = strlen(tmp);
        if (o + tl + 40 >= cap)
            break;
        memcpy(out + o, tmp, tl);
        o += tl;
    }
    if (quoted)
        out[o++] = '"';
    out[o] = '\0';
    if (i < n)
        snprintf(out + o, cap - o, "... (%zu more bytes)", n - i);
    return out;
}

char *wb_escape(const void *p, size_t n, size_t max, char *out, size_t cap)
{
    return escape(p, n, max, out, cap, 1);
}

char *wb_escape_text(const void *p, size_t n, size_t max, char *out, size_t cap)
{
    return escape(p, n, max, out, cap, 0);
}

char *wb_msgbuf(size_t cap)
{
    static char *slots[WB_MSG_SLOTS];
    static unsigned next;
    unsigned i = next++ % WB_MSG_SLOTS;
    free(slots[i]);
    slots[i] = malloc(cap ? cap : 1);
    if (!slots[i])
        cr_fatal("out of memory");
    slots[i][0] = '\0';
    return slots[i];
}

const char *wb_esc(const void *p, size_t n, size_t max)
{
    size_t cap = (max < n ? max : n) * 4 + 64;
    return wb_escape(p, n, max, wb_msgbuf(cap), cap);
}

const char *wb_diff(const void *want, size_t wlen, const void *got, size_t glen, size_t max)
{
    const unsigned char *w = want, *g = got;
    size_t at = 0;
    while (at < wlen && at < glen && w[at] == g[at])
        at++;
    if (at == wlen && at == glen)
        return "no difference";
    /* show the bytes around the first difference */
    size_t from = at > 40 ? at - 40 : 0, ecap = max * 4 + 64;
    char *e = malloc(ecap), *r = malloc(ecap);
    if (!e || !r)
        cr_fatal("out of memory");
    wb_escape(w + from, wlen - from, max, e, ecap);
    wb_escape(g + from, glen - from, max, r, ecap);
    size_t cap = 2 * ecap + 200;
    char *out = wb_msgbuf(cap);
    snprintf(out, cap, "first difference at byte %zu\n%sexpected: %s\nreceived: %s", at,
             from ? "(both shown from 40 bytes before the difference)\n" : "", e, r);
    free(e);
    free(r);
    return out;
}

static uint64_t rng_state;
static uint64_t seed_value;

uint64_t wb_seed(void)
{
    if (!seed_value) {
        const char *s = getenv("WB_SEED");
        seed_value = s && *s ? strtoull(s, NULL, 10) : 0;
        if (!seed_value) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            seed_value = ((uint64_t)ts.tv_nsec ^ (uint64_t)getpid() << 20) % 1000000 + 1;
        }
        rng_state = seed_value * 0x9E3779B97F4A7C15ull;
    }
    return seed_value;
}

static uint64_t rng_next(void)
{
    wb_seed();
    /* splitmix64: tiny, and good enough for test data */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

uint32_t wb_random_u32(void)
{
    return (uint32_t)(rng_next() >> 32);
}

void wb_random_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t r = rng_next();
        for (size_t j = 0; j < 8 && i + j < n; j++)
            p[i + j] = (unsigned char)(r >> (8 * j));
    }
}

/* ---- the program under test --------------------------------------------- */

static void describe_status(int status, char *out, size_t cap)
{
    if (WIFEXITED(status))
        snprintf(out, cap, "the program exited with status %d",
                 WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, cap, "the program was killed by signal %d (%s)%s",
                 WTERMSIG(status), strsignal(WTERMSIG(status)),
                 WTERMSIG(status) == SIGABRT
                     ? " -- a sanitizer report or a failed assert() aborts"
                     : WTERMSIG(status) == SIGSEGV
                           ? " -- a bad pointer: run it under gdb, or read the sanitizer report"
                           : "");
    else
        snprintf(out, cap, "the program stopped (status 0x%x)", status);
}

/* Has the program exited? Reaps it if so. */
static int poll_exit(struct wb_proc *p)
{
    if (p->reaped)
        return 1;
    if (p->pid <= 0)
        return 0;
    struct rusage ru;
    pid_t r = wait4(p->pid, &p->status, WNOHANG, &ru);
    if (r == p->pid) {
        p->reaped = 1;
        p->exit_cpu_ms = measure_rusage_ms(&ru);
        p->exit_rss_kb = ru.ru_maxrss; /* KiB on Linux */
        return 1;
    }
    return 0;
}

const char *wb_stderr_tail(struct wb_proc *p, size_t cap)
{
    static char tail[8192];
    if (cap > sizeof tail)
        cap = sizeof tail;
    tail[0] = '\0';
    struct stat st;
    if (p->log_fd < 0 || fstat(p->log_fd, &st) < 0 || cap < 2)
        return tail;
    off_t from = st.st_size > (off_t)(cap - 1) ? st.st_size - (off_t)(cap - 1) : 0;
    ssize_t n = pread(p->log_fd, tail, cap - 1, from);
    tail[n > 0 ? n : 0] = '\0';
    /* NULs would cut the message short */
    for (ssize_t i = 0; i < n; i++)
        if (tail[i] == '\0')
            tail[i] = '?';
    return tail;
}

static char tmpdir_path[4096];
static pid_t tmpdir_owner;

/* "(the test's temporary directory: PATH ...)" when it has one, else "". */
static const char *tmpdir_note(void)
{
    static char note[4200];
    if (!tmpdir_path[0])
        return "";
    snprintf(note, sizeof note, "(the test's temporary directory: %s -- removed at its end; "
             "WB_KEEP_TMP=1 keeps it)", tmpdir_path);
    return note;
}

const char *wb_describe(struct wb_proc *p)
{
    static char out[8192 + 4200];
    char state[256];
    if (!p) {
        const char *note = tmpdir_note();
        snprintf(out, sizeof out, "(code under test in this process: no program)%s%s",
                 *note ? "\n" : "", note);
        return out;
    }
    /* A program that just closed a connection may be busy dying (a
     * sanitizer report takes a moment): give it a little time to say so. */
    wb_wait_exit(p, 500, NULL);
    if (poll_exit(p))
        describe_status(p->status, state, sizeof state);
    else
        snprintf(state, sizeof state, "the program is still running");
    const char *tail = wb_stderr_tail(p, 3000);
    const char *note = tmpdir_note();
    snprintf(out, sizeof out, "(%s: %s)\n%s%s--- its stderr %s---\n%s%s", state, p->args, note,
             *note ? "\n" : "", *tail ? "(last lines) " : "", *tail ? tail : "(empty)\n",
             *tail && tail[strlen(tail) - 1] != '\n' ? "\n" : "");
    return out;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

/* Reads the first stdout line; fills p->host and p->port. */
static int read_listening_line(struct wb_proc *p, int ms, char *why,
                               size_t whylen)
{
    char line[512];
    size_t used = 0;
    long long deadline = wb_now_ms() + ms;

    for (;;) {
        char *nl = memchr(line, '\n', used);
        if (nl) {
            *nl = '\0';
            break;
        }
        if (used == sizeof line - 1) {
            line[used] = '\0';
            break;
        }
        struct pollfd pfd = { .fd = p->out_fd, .events = POLLIN };
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r == 0) {
            char esc[300];
            if (poll_exit(p)) {
                char st[200];
                describe_status(p->status, st, sizeof st);
                snprintf(why, whylen, "%s before printing its \"listening on HOST:PORT\" line", st);
            } else {
                snprintf(why, whylen,
                         "no \"listening on HOST:PORT\" line on stdout within %d ms%s%s "
                         "(forgot fflush(stdout)? stdout is a pipe here, so printf() output waits in a buffer)",
                         ms, used ? "; it printed " : "",
                         used ? wb_escape(line, used, 120, esc, sizeof esc) : "");
            }
            return -1;
        }
        ssize_t n = read(p->out_fd, line + used, sizeof line - 1 - used);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* EOF: the program closed stdout, most likely by exiting */
            for (int i = 0; i < 100 && !poll_exit(p); i++)
                poll(NULL, 0, 10);
            char st[200];
            if (p->reaped)
                describe_status(p->status, st, sizeof st);
            else
                snprintf(st, sizeof st, "the program closed its stdout");
            snprintf(why, whylen, "%s before printing its \"listening on HOST:PORT\" line", st);
            return -1;
        }
        used += (size_t)n;
    }

    const char *prefix = "listening on ";
    char *colon = strrchr(line, ':');
    char esc[600];
    if (strncmp(line, prefix, strlen(prefix)) != 0 || !colon) {
        snprintf(why, whylen,
                 "the first line on stdout must be \"listening on HOST:PORT\"; it was %s",
                 wb_escape(line, strlen(line), 200, esc, sizeof esc));
        return -1;
    }
    char *host = line + strlen(prefix);
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end || end == colon + 1 || port <= 0 || port > 65535) {
        snprintf(why, whylen,
                 "the port in %s is not a number from 1 to 65535 (with --port 0 print the port the "
                 "kernel picked: getsockname())",
                 wb_escape(line, strlen(line), 200, esc, sizeof esc));
        return -1;
    }
    *colon = '\0';
    if (host[0] == '[' && colon > host + 1 && colon[-1] == ']') {
        host++;
        colon[-1] = '\0';
    }
    size_t hlen = strlen(host);
    if (hlen == 0 || hlen >= sizeof p->host) {
        snprintf(why, whylen, "the host in the \"listening on\" line is %s: not an address",
                 hlen ? "too long" : "empty");
        return -1;
    }
    memcpy(p->host, host, hlen + 1);
    p->port = (int)port;
    return 0;
}

struct wb_proc *wb_try_start(char *why, size_t whylen, const char *const *args)
{
    if (nprocs >= WB_MAX_PROCS) {
        snprintf(why, whylen, "test bug: more than %d programs in one test", WB_MAX_PROCS);
        return NULL;
    }
    struct wb_proc *p = &procs[nprocs];
    memset(p, 0, sizeof *p);
    p->pid = p->watchdog = -1;
    p->out_fd = p->log_fd = p->dead_w = -1;

    const char *argv[WB_MAX_ARGS + 4];
    int argc = 0, has_port = 0;
    argv[argc++] = program_path();
    for (int i = 0; args[i] && argc < WB_MAX_ARGS; i++) {
        if (strcmp(args[i], "--port") == 0)
            has_port = 1;
        argv[argc++] = args[i];
    }
    if (!has_port) {
        argv[argc++] = "--port";
        argv[argc++] = "0";
    }
#ifdef WB_START_ARGS
    /* The chapter's own arguments (see wbtest.h), unless the test gave
     * that flag itself. */
    static char extra[WB_MAX_ARGS][1024];
    int nextra = 0;
    const char *spec = WB_START_ARGS;
    while (*spec && argc < WB_MAX_ARGS && nextra < WB_MAX_ARGS) {
        size_t n = strcspn(spec, " ");
        char *o = extra[nextra];
        size_t len = 0;
        for (size_t i = 0; i < n && len + 1 < sizeof extra[0]; i++) {
            if (strncmp(spec + i, "{tmp}", 5) == 0) {
                len += (size_t)snprintf(o + len, sizeof extra[0] - len, "%s", wb_tmpdir());
                i += 4;
            } else {
                o[len++] = spec[i];
            }
        }
        o[len < sizeof extra[0] ? len : sizeof extra[0] - 1] = '\0';
        nextra++;
        spec += n + (spec[n] == ' ');
    }
    int given = 0;
    for (int i = 1; i < argc && nextra; i++)
        given |= strcmp(argv[i], extra[0]) == 0;
    for (int i = 0; i < nextra && !given && argc < WB_MAX_ARGS; i++)
        argv[argc++] = extra[i];
#endif
    argv[argc] = NULL;
    const char *base = strrchr(program_path(), '/');
    base = base ? base + 1 : program_path();
    size_t o = (size_t)snprintf(p->args, sizeof p->args, "%s", base);
    for (int i = 1; i < argc && o < sizeof p->args; i++)
        o += (size_t)snprintf(p->args + o, sizeof p->args - o, " %s", argv[i]);

    int out[2] = { -1, -1 }, dead[2] = { -1, -1 };
    char log_path[4096];
    const char *tmp = getenv("TMPDIR");
    snprintf(log_path, sizeof log_path, "%s/wb-stderr-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    int logfd = mkstemp(log_path);
    if (logfd < 0 || pipe(out) < 0 || pipe(dead) < 0) {
        snprintf(why, whylen, "test setup: %s", strerror(errno));
        if (logfd >= 0)
            close(logfd);
        return NULL;
    }
    unlink(log_path); /* gone with the last fd, even if the test dies */
    for (int i = 0; i < 2; i++) {
        fcntl(out[i], F_SETFD, FD_CLOEXEC);
        fcntl(dead[i], F_SETFD, FD_CLOEXEC);
    }

    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return NULL;
    }
    if (pid == 0) {
        setpgid(0, 0);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
        if (getppid() != parent)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        signal(SIGPIPE, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGALRM, SIG_DFL);
        alarm(0);
        dup2(out[1], STDOUT_FILENO);
        dup2(logfd, STDERR_FILENO);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
        /* Criterion's worker marker: a program linked with libcriterion
         * that inherits it aborts at start-up. */
        unsetenv("BXFI_MAP");
        execv(argv[0], (char *const *)argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid); /* also in the parent: no race with the child */
    close(out[1]);
    p->log_fd = fcntl(logfd, F_DUPFD_CLOEXEC, 3);
    close(logfd);

    pid_t wd = fork();
    if (wd == 0) {
        for (int fd = 3; fd < 1024; fd++)
            if (fd != dead[0])
                close(fd);
        setpgid(0, 0);
        char c;
        while (read(dead[0], &c, 1) < 0 && errno == EINTR)
            ;
        kill(-pid, SIGKILL);
        _exit(0);
    }
    close(dead[0]);
    p->pid = pid;
    p->watchdog = wd;
    p->dead_w = dead[1];
    p->out_fd = out[0];
    nprocs++;

    if (read_listening_line(p, WB_START_MS, why, whylen) < 0)
        return NULL; /* fini (or wb_stop) cleans up */
    return p;
}

struct wb_proc *wb_start(const char *arg, ...)
{
    const char *args[WB_MAX_ARGS + 1];
    int n = 0;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && n < WB_MAX_ARGS; a = va_arg(ap, const char *))
        args[n++] = a;
    va_end(ap);
    args[n] = NULL;

    char why[1024];
    struct wb_proc *p = wb_try_start(why, sizeof why, args);
    if (!p) {
        struct wb_proc *last = wb_last();
        const char *tail = last ? wb_stderr_tail(last, 3000) : "";
        cr_fatal("could not start the program: %s\n"
                 "command: %s\n--- its stderr ---\n%s",
                 why, last ? last->args : program_path(), *tail ? tail : "(empty)");
    }
    return p;
}

struct wb_proc *wb_last(void)
{
    return nprocs ? &procs[nprocs - 1] : NULL;
}

void wb_signal(struct wb_proc *p, int sig)
{
    if (p->pid > 0 && !p->reaped)
        kill(-p->pid, sig);
}

int wb_wait_exit(struct wb_proc *p, int ms, int *status)
{
    long long deadline = wb_now_ms() + ms;
    while (!poll_exit(p)) {
        if (wb_now_ms() >= deadline)
            return 0;
        poll(NULL, 0, 5);
    }
    if (status)
        *status = p->status;
    return 1;
}

/* Copies the program's stderr into the test's own log (the grader's
 * SUITE--TEST.log), so that the log holds everything of the test. */
static void log_program_stderr(struct wb_proc *p)
{
    char buf[8192];
    ssize_t n;
    off_t at = 0;
    int header = 0;
    if (p->log_fd < 0)
        return;
    while ((n = pread(p->log_fd, buf, sizeof buf, at)) > 0) {
        if (!header++) {
            fflush(stderr);
            dprintf(STDERR_FILENO, "--- stderr of %s (pid %d) ---\n", program_path(), (int)p->pid);
        }
        if (write(STDERR_FILENO, buf, (size_t)n) < 0)
            return;
        at += n;
    }
    if (header)
        dprintf(STDERR_FILENO, "\n--- end of its stderr ---\n");
}

int wb_stop(struct wb_proc *p, int grace_ms)
{
    if (p->pid <= 0)
        return p->status;
    if (!poll_exit(p)) {
        kill(-p->pid, SIGTERM);
        if (!wb_wait_exit(p, grace_ms, NULL)) {
            kill(-p->pid, SIGKILL);
            waitpid(p->pid, &p->status, 0);
            p->reaped = 1;
        }
    }
    kill(-p->pid, SIGKILL); /* anything it forked is still in the group */
    close_fd(&p->dead_w);   /* the watchdog wakes up and exits */
    if (p->watchdog > 0) {
        waitpid(p->watchdog, NULL, 0);
        p->watchdog = -1;
    }
    close_fd(&p->out_fd);
    log_program_stderr(p);
    close_fd(&p->log_fd);
    p->pid = -1;
    return p->status;
}

/* ---- clients ------------------------------------------------------------ */

/* wb_try_connect(), from the local address from (NULL: any). */
static int try_connect_from(const char *host, int port, const char *from)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", port);
    int rc = getaddrinfo(host, portstr, &hints, &res);
    if (rc != 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(res->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        return -1;
    }
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (from) {
        struct sockaddr_in local = {.sin_family = AF_INET};
        if (res->ai_family != AF_INET || inet_pton(AF_INET, from, &local.sin_addr) != 1 ||
            bind(fd, (struct sockaddr *)&local, sizeof local) < 0) {
            int e = res->ai_family != AF_INET ? EAFNOSUPPORT : errno;
            freeaddrinfo(res);
            close(fd);
            errno = e;
            return -1;
        }
    }
    rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        if (poll(&pfd, 1, WB_IO_MS) == 1) {
            int err = 0;
            socklen_t len = sizeof err;
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
            rc = err ? -1 : 0;
            errno = err;
        } else {
            errno = ETIMEDOUT;
        }
    }
    if (rc < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    /* blocking again: every read and write below has its own deadline */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

int wb_try_connect(const char *host, int port)
{
    return try_connect_from(host, port, NULL);
}

int wb_connect_from(struct wb_proc *p, const char *from)
{
    int fd = try_connect_from(p->host, p->port, from);
    if (fd < 0)
        cr_fatal("connect to %s port %d from %s failed: %s (on Linux every 127.x.y.z is "
                 "loopback; the test needs one to stand for another client)\n%s",
                 p->host, p->port, from, strerror(errno), wb_describe(p));
    return fd;
}

int wb_connect(struct wb_proc *p)
{
    int fd = wb_try_connect(p->host, p->port);
    if (fd < 0)
        cr_fatal("connect to %s port %d failed: %s\n%s", p->host, p->port,
                 strerror(errno), wb_describe(p));
    return fd;
}

int wb_udp_connect(struct wb_proc *p)
{
    struct addrinfo hints, *res = NULL;
    char portstr[16];
    memset(&hints, 0, sizeof hints);
    hints.ai_socktype = SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    snprintf(portstr, sizeof portstr, "%d", p->port);
    if (getaddrinfo(p->host, portstr, &hints, &res) != 0)
        cr_fatal("bad address %s port %d", p->host, p->port);
    int fd = socket(res->ai_family, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, res->ai_addr, res->ai_addrlen) < 0)
        cr_fatal("UDP socket to %s port %d: %s", p->host, p->port, strerror(errno));
    freeaddrinfo(res);
    return fd;
}

void wb_send(struct wb_proc *p, int fd, const void *data, size_t len)
{
    const char *s = data;
    long long deadline = wb_now_ms() + WB_IO_MS;
    while (len > 0) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r == 0)
            cr_fatal("the program stopped reading: %zu bytes could not be sent within %d ms\n%s",
                     len, WB_IO_MS, wb_describe(p));
        ssize_t n = send(fd, s, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            cr_fatal("send to the program failed: %s (it closed the connection?)\n%s",
                     strerror(errno), wb_describe(p));
        }
        s += n;
        len -= (size_t)n;
    }
}

void wb_send_str(struct wb_proc *p, int fd, const char *s)
{
    wb_send(p, fd, s, strlen(s));
}

void wb_send_bytewise(struct wb_proc *p, int fd, const void *data, size_t len)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t i = 0; i < len; i++)
        wb_send(p, fd, (const char *)data + i, 1);
}

size_t wb_send_until_blocked(int fd, int ms)
{
    static char junk[65536];
    memset(junk, 'x', sizeof junk);
    size_t total = 0;
    long long give_up = wb_now_ms() + 5000;
    while (wb_now_ms() < give_up) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int r = poll(&pfd, 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* nothing taken for ms: blocked */
        ssize_t n = send(fd, junk, sizeof junk, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            break;
        }
        total += (size_t)n;
    }
    return total;
}

void wb_reset(int fd)
{
    struct linger lg = { .l_onoff = 1, .l_linger = 0 };
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    close(fd);
}

size_t wb_exchange(struct wb_proc *p, int fd, const void *out, size_t outlen,
                   void *in, size_t inlen, int ms)
{
    size_t sent = 0, got = 0;
    long long deadline = wb_now_ms() + ms;
    while (got < inlen) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        if (sent < outlen)
            pfd.events |= POLLOUT;
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (pfd.revents & POLLOUT) {
            ssize_t n = send(fd, (const char *)out + sent, outlen - sent,
                             MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0)
                sent += (size_t)n;
            else if (n < 0 && errno != EAGAIN && errno != EINTR)
                cr_fatal("send failed after %zu of %zu bytes: %s\n%s", sent, outlen,
                         strerror(errno), wb_describe(p));
        }
        if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(fd, (char *)in + got, inlen - got, MSG_DONTWAIT);
            if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                break;
            if (n > 0)
                got += (size_t)n;
        }
    }
    return got;
}

size_t wb_recv(int fd, void *buf, size_t len, int ms)
{
    size_t got = 0;
    long long deadline = wb_now_ms() + ms;
    while (got < len) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t n = recv(fd, (char *)buf + got, len - got, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

size_t wb_recv_line(int fd, char *buf, size_t cap, int ms)
{
    size_t got = 0;
    long long deadline = wb_now_ms() + ms;
    while (got + 1 < cap) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        ssize_t n = recv(fd, buf + got, 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        got++;
        if (buf[got - 1] == '\n')
            break;
    }
    buf[got] = '\0';
    return got;
}

int wb_wait_eof(int fd, int ms)
{
    char junk[4096];
    long long deadline = wb_now_ms() + ms;
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, wb_ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        ssize_t n = recv(fd, junk, sizeof junk, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        return n > 0 ? 0 : 1;
    }
}

int wb_silent(int fd, int ms)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    return poll(&pfd, 1, ms) == 0;
}

/* ---- what the program costs ------------------------------------------------ */

/* These read /proc and call prlimit(), which only Linux has: elsewhere the
 * test is skipped, with the reason in its output, rather than failed. */
static void need_linux(long long got, const char *what)
{
#ifdef __linux__
    (void)got;
    (void)what;
#else
    if (got < 0)
        cr_skip_test("this test measures the program's %s through Linux's /proc; "
                     "skipped on this system", what);
#endif
}

long long wb_cpu_ms(struct wb_proc *p)
{
    long long ms = p->reaped ? p->exit_cpu_ms : measure_cpu_ms(p->pid);
    need_linux(ms, "CPU time");
    return ms;
}

long wb_peak_rss_kb(struct wb_proc *p)
{
    long kb = p->reaped ? p->exit_rss_kb : measure_peak_rss_kb(p->pid);
    need_linux(kb, "memory");
    return kb;
}

int wb_open_fds(struct wb_proc *p)
{
    int n = measure_open_fds(p->pid);
    need_linux(n, "open file descriptors");
    return n;
}

void wb_limit_fds(struct wb_proc *p, long n)
{
    if (measure_set_fd_limit(p->pid, n, NULL) < 0) {
        if (errno == ENOSYS)
            need_linux(-1, "open-file limit (prlimit)");
        cr_fatal("test setup: cannot lower the program's open-file limit (prlimit): %s",
                 strerror(errno));
    }
}

/* ---- assertions --------------------------------------------------------- */

void wb_expect_bytes(struct wb_proc *p, int fd, const void *expected,
                     size_t len, int ms, const char *context_fmt, ...)
{
    char context[1024];
    va_list ap;
    va_start(ap, context_fmt);
    vsnprintf(context, sizeof context, context_fmt, ap);
    va_end(ap);

    char *got = malloc(len + 1);
    cr_assert(got != NULL, "out of memory");
    size_t n = wb_recv(fd, got, len, ms);
    if (n == len && memcmp(got, expected, len) == 0) {
        free(got);
        return;
    }

    const char *what = n == len ? "different bytes"
                       : wb_wait_eof(fd, 0) == 1 ? "the connection was closed before the last byte"
                       : n == 0 ? "nothing arrived" : "too few bytes arrived";
    const char *diff = wb_diff(expected, len, got, n, 300);
    free(got);
    cr_fatal("%s\n"
             "%s within %d ms: %zu of %zu bytes received, %s\n"
             "%s",
             context, what, ms, n, len, diff, p ? wb_describe(p) : "");
}

void wb_expect_eof(struct wb_proc *p, int fd, int ms, const char *context_fmt, ...)
{
    char context[1024];
    va_list ap;
    va_start(ap, context_fmt);
    vsnprintf(context, sizeof context, context_fmt, ap);
    va_end(ap);
    int r = wb_wait_eof(fd, ms);
    if (r == 1)
        return;
    cr_fatal("%s\nexpected the connection to be closed (EOF) within %d ms, but %s\n%s",
             context, ms, r == 0 ? "more bytes arrived" : "it stayed open",
             p ? wb_describe(p) : "");
}

/* ---- files ------------------------------------------------------------------ */

static int keep_tmp(void)
{
    const char *keep = getenv("WB_KEEP_TMP");
    return keep && *keep && strcmp(keep, "0") != 0;
}

/* A test that crashes or times out runs no teardown. So a janitor process
 * waits on a pipe whose write end only the test process holds: when the
 * test process is gone, for any reason, the read returns and the janitor
 * runs rm -rf on the directory. It is in a process group of its own, like
 * the watchdog, so that nothing that kills the test's group kills it too.
 * Between fork() and exec() it calls only read(), close() and execv(),
 * which are safe in the child of a process with threads. */
static int janitor_w = -1;
static pid_t janitor = -1;

static void start_janitor(const char *path)
{
    int fds[2];
    if (pipe(fds) < 0)
        return; /* then only wb_test_fini() removes it */
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return;
    }
    if (pid == 0) {
        setpgid(0, 0);
        for (int fd = 3; fd < 1024; fd++)
            if (fd != fds[0])
                close(fd);
        char c;
        while (read(fds[0], &c, 1) < 0 && errno == EINTR)
            ;
        char *const argv[] = { "rm", "-rf", "--", (char *)path, NULL };
        execv("/bin/rm", argv);
        _exit(127);
    }
    close(fds[0]);
    janitor_w = fds[1];
    janitor = pid;
}

const char *wb_tmpdir(void)
{
    if (tmpdir_path[0])
        return tmpdir_path;
    const char *tmp = getenv("TMPDIR");
    const char *suite = criterion_current_test ? criterion_current_test->category : "test";
    const char *name = criterion_current_test ? criterion_current_test->name : "test";
    char path[sizeof tmpdir_path];
    /* Names are cut so that the path stays short; XXXXXX makes it unique. */
    snprintf(path, sizeof path, "%s/wb-%.40s-%.60s-XXXXXX", tmp && *tmp ? tmp : "/tmp", suite,
             name);
    if (!mkdtemp(path))
        cr_fatal("test setup: cannot create the test's temporary directory %s: %s", path,
                 strerror(errno));
    memcpy(tmpdir_path, path, sizeof path);
    tmpdir_owner = getpid();
    if (!keep_tmp())
        start_janitor(tmpdir_path);
    return tmpdir_path;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0; /* go on: remove what can be removed */
}

/* Removes the test's temporary directory, unless WB_KEEP_TMP asks to keep
 * it, and lets the janitor go. Only the process that made it does (not a
 * child the test forked). */
static void remove_tmpdir(void)
{
    if (!tmpdir_path[0] || getpid() != tmpdir_owner)
        return;
    if (keep_tmp()) {
        fprintf(stderr, "kept the test's temporary directory (WB_KEEP_TMP): %s\n", tmpdir_path);
        return;
    }
    nftw(tmpdir_path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    if (janitor_w >= 0) {
        close(janitor_w); /* it wakes, finds nothing left, and exits */
        janitor_w = -1;
        waitpid(janitor, NULL, 0);
        janitor = -1;
    }
    tmpdir_path[0] = '\0';
}
