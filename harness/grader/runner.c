/* runner.c -- see runner.h. */
#define _GNU_SOURCE
#include "runner.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "measure.h"
#include "util.h"

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
    got_signal = sig;
}

int runner_interrupted(void)
{
    return got_signal != 0;
}

/* While a child runs, the signals a terminal sends only set a flag; the
 * wait loop then stops the child's group and returns. */
static void catch_signals(struct sigaction *old)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old[0]);
    sigaction(SIGTERM, &sa, &old[1]);
    sigaction(SIGHUP, &sa, &old[2]);
}

static void restore_signals(const struct sigaction *old)
{
    sigaction(SIGINT, &old[0], NULL);
    sigaction(SIGTERM, &old[1], NULL);
    sigaction(SIGHUP, &old[2], NULL);
}

/* Stops a process group: SIGTERM, half a second, then SIGKILL. */
static void stop_group(pid_t pid, int *status)
{
    kill(-pid, SIGTERM);
    for (int i = 0; i < 25 && waitpid(pid, status, WNOHANG) == 0; i++)
        poll(NULL, 0, 20);
    kill(-pid, SIGKILL);
    waitpid(pid, status, 0);
}

void runner_clear_logs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0) {
            char p[PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

static void child_environment(const struct run *r, const char *report)
{
    setenv("CR_REPORT", report, 1);
    setenv("WB_LOGDIR", r->logdir, 1);
    if (!getenv("ASAN_OPTIONS"))
        /* Leak checks stay off: LeakSanitizer runs when a process exits,
         * after its test has been decided, and a server that leaks would
         * fail its shutdown tests with a puzzling status. */
        setenv("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0", 1);
    if (!getenv("UBSAN_OPTIONS"))
        setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:abort_on_error=1", 1);
    /* make tsan: the first data race stops the program, and its report is
     * in the program's stderr, which the test shows. */
    if (!getenv("TSAN_OPTIONS"))
        setenv("TSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:second_deadlock_stack=1", 1);
    if (r->program)
        setenv("WB_PROGRAM", r->program, 1);
}

cJSON *runner_run(const struct run *r, char *why, size_t whylen)
{
    char report[PATH_MAX + 64], log[PATH_MAX + 32];
    snprintf(report, sizeof report, "%s/report-%s.json", r->logdir, r->tag ? r->tag : "all");
    snprintf(log, sizeof log, "%s/criterion.txt", r->logdir);
    unlink(report);

    if (access(r->tests, X_OK) != 0) {
        snprintf(why, whylen, "no test program at %s (did the build fail?)", r->tests);
        return NULL;
    }

    struct sigaction old[3];
    catch_signals(old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        restore_signals(old);
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return NULL;
    }
    if (pid == 0) {
        restore_signals(old);
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | (r->append_log ? O_APPEND : O_TRUNC), 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        child_environment(r, report);
        char jarg[32], farg[1024];
        snprintf(jarg, sizeof jarg, "-j%d", r->jobs > 0 ? r->jobs : 2);
        char *argv[4];
        int argc = 0;
        argv[argc++] = (char *)r->tests;
        argv[argc++] = jarg;
        if (r->filter) {
            snprintf(farg, sizeof farg, "--filter=%s", r->filter);
            argv[argc++] = farg;
        }
        argv[argc] = NULL;
        execv(r->tests, argv);
        fprintf(stderr, "cannot run %s: %s\n", r->tests, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);

    /* An outer deadline: Criterion's per-test timeouts can be lost (its
     * sandbox drops deadlines when tests with different timeouts run in
     * parallel), and a hung harness teaches nothing. */
    long long deadline = measure_now_ms() + (long long)(r->timeout_s > 0 ? r->timeout_s : 300) * 1000;
    int status = 0, timed_out = 0;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        if (got_signal) {
            stop_group(pid, &status);
            break;
        }
        if (measure_now_ms() >= deadline) {
            timed_out = 1;
            stop_group(pid, &status);
            break;
        }
        poll(NULL, 0, 20);
    }
    restore_signals(old);
    if (got_signal) {
        snprintf(why, whylen, "stopped (signal %d): the tests did not finish", (int)got_signal);
        return NULL;
    }
    if (timed_out) {
        snprintf(why, whylen, "the tests did not finish within %d s and were stopped; see %s",
                 r->timeout_s, log);
        return NULL;
    }
    cJSON *j = read_json(report);
    if (!j) {
        snprintf(why, whylen, "the test program ended (%s %d) without a report; its output is in %s",
                 WIFSIGNALED(status) ? "signal" : "status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), log);
        return NULL;
    }
    /* Criterion reports suites and tests in reverse order: turn them back
     * into the order of the test files, and leave out what it skipped
     * (tests the filter did not select). */
    cJSON *rev = cJSON_GetObjectItemCaseSensitive(j, "tests");
    cJSON *tests = cJSON_CreateArray();
    for (int k = cJSON_GetArraySize(rev) - 1; k >= 0; k--) {
        cJSON *t = cJSON_GetArrayItem(rev, k);
        if (strcmp(jstr(t, "status", ""), "SKIPPED") != 0)
            cJSON_AddItemToArray(tests, cJSON_Duplicate(t, 1));
    }
    cJSON_Delete(j);
    return tests;
}

/* make's own error lines: "make: *** [...] Error 1", "make[2]: *** ..." */
static int is_make_error(const char *line)
{
    const char *p = strstr(line, ": *** ");
    if (!p || strncmp(line, "make", 4) != 0)
        return 0;
    for (const char *s = line + 4; s < p; s++)
        if (!(*s == '[' || *s == ']' || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int runner_build(const char *cmd)
{
    int pipefd[2];
    if (pipe(pipefd) < 0)
        die("pipe: %s", strerror(errno));
    struct sigaction old[3];
    catch_signals(old);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        restore_signals(old);
        close(pipefd[0]);
        dup2(pipefd[1], STDERR_FILENO);
        close(pipefd[1]);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    close(pipefd[1]);
    /* The compiler's messages go on to our stderr, line by line. */
    FILE *in = fdopen(pipefd[0], "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while (in && (n = getline(&line, &cap, in)) >= 0)
        if (!is_make_error(line))
            fwrite(line, 1, (size_t)n, stderr);
    free(line);
    if (in)
        fclose(in);
    if (got_signal)
        kill(pid, SIGTERM);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    restore_signals(old);
    if (got_signal)
        return 130;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
