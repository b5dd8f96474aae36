/* watch.c -- `grade watch`: reruns a command (make check for a chapter)
 * each time a file in the watched folders is saved, the way rustlings
 * watch does. Linux tells us through inotify; elsewhere the folders are
 * looked at twice a second.
 *
 * On a terminal, keys work while it waits: Enter reruns, h shows the hint,
 * q or Ctrl-C quits. The terminal is put in a mode where Ctrl-C is a key,
 * not a signal, so make and the shell see nothing and print nothing; it is
 * restored on every way out. The command runs in its own process group,
 * and quitting stops that whole group: no test or server is left behind. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif

#include "commands.h"
#include "measure.h"
#include "util.h"

/* A file's modification time in nanoseconds, portably. */
#if defined(__APPLE__)
#define MTIME_NS(st) ((long long)(st).st_mtimespec.tv_sec * 1000000000LL + (st).st_mtimespec.tv_nsec)
#else
#define MTIME_NS(st) ((long long)(st).st_mtim.tv_sec * 1000000000LL + (st).st_mtim.tv_nsec)
#endif

static volatile sig_atomic_t quit_signal;
static struct termios saved_tty;
static int tty_raw;

static void on_quit(int sig)
{
    quit_signal = sig;
}

static void restore_tty(void)
{
    if (tty_raw) {
        tcsetattr(STDIN_FILENO, TCSANOW, &saved_tty);
        tty_raw = 0;
    }
}

/* Keys without Enter, no echo, and Ctrl-C as a byte (no SIGINT). */
static void raw_tty(void)
{
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &saved_tty) < 0)
        return;
    struct termios t = saved_tty;
    t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ISIG);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    if (tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0) {
        tty_raw = 1;
        atexit(restore_tty);
    }
}

/* A signature of the watched folders' files: names, sizes and times. */
static uint64_t signature(struct opts *o)
{
    uint64_t h = FNV_START;
    for (int i = 0; i < o->nwatch; i++) {
        DIR *d = opendir(o->watch[i]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char p[PATH_MAX + 300];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", o->watch[i], e->d_name);
            if (stat(p, &st) < 0)
                continue;
            long long v[2] = {(long long)st.st_size, MTIME_NS(st)};
            h = fnv1a(h, e->d_name, strlen(e->d_name));
            h = fnv1a(h, v, sizeof v);
        }
        if (d)
            closedir(d);
    }
    return h;
}

/* Editors save through temporary files and renames; those are not ours. */
static int ignored_name(const char *name)
{
    size_t n = strlen(name);
    return name[0] == '.' || name[0] == '#' || (n && name[n - 1] == '~') ||
           (n > 4 && strcmp(name + n - 4, ".swp") == 0) || strstr(name, ".tmp") != NULL ||
           (n > 4 && strcmp(name + n - 4, ".swx") == 0) || strcmp(name, "4913") == 0;
}

struct watcher {
    int fd;          /* inotify, or -1: polling */
    uint64_t sig;    /* polling: the last signature */
};

static void watcher_open(struct watcher *w, struct opts *o)
{
    w->fd = -1;
#ifdef __linux__
    w->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    for (int i = 0; w->fd >= 0 && i < o->nwatch; i++)
        if (inotify_add_watch(w->fd, o->watch[i],
                              IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE) < 0) {
            close(w->fd);
            w->fd = -1;
        }
#endif
    w->sig = signature(o);
}

/* 1 when a watched file changed since the last call (drains the events). */
static int watcher_changed(struct watcher *w, struct opts *o)
{
    int changed = 0;
#ifdef __linux__
    if (w->fd >= 0) {
        char buf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n;
        while ((n = read(w->fd, buf, sizeof buf)) > 0) {
            for (char *p = buf; p < buf + n;) {
                struct inotify_event *ev = (struct inotify_event *)p;
                if (ev->len && !ignored_name(ev->name))
                    changed = 1;
                p += sizeof *ev + ev->len;
            }
        }
        return changed;
    }
#endif
    uint64_t s = signature(o);
    changed = s != w->sig;
    w->sig = s;
    return changed;
}

/* Runs the command in its own process group; watches the keys and the
 * signals while it runs. Returns 1 when the learner asked to quit. */
static int run_command(const char *cmd)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        setpgid(0, 0);
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    int quit = 0, status;
    for (;;) {
        if (waitpid(pid, &status, WNOHANG) == pid)
            break;
        struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
        int ready = tty_raw ? poll(&p, 1, 50) : poll(NULL, 0, 50);
        if (ready > 0) {
            char k;
            if (read(STDIN_FILENO, &k, 1) == 1 && (k == 'q' || k == 3 || k == 4))
                quit = 1;
        }
        if (quit || quit_signal) {
            /* The grader in the group stops its tests on SIGTERM. */
            kill(-pid, SIGTERM);
            long long until = measure_now_ms() + 3000;
            while (waitpid(pid, &status, WNOHANG) == 0 && measure_now_ms() < until)
                poll(NULL, 0, 20);
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            return 1;
        }
    }
    return 0;
}

int cmd_watch(struct opts *o)
{
    if (!o->command || o->nwatch == 0)
        die("watch needs --command and at least one --watch DIR");
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    raw_tty();

    struct watcher w;
    watcher_open(&w, o);
    const char *how = w.fd >= 0 ? "inotify" : "looking twice a second";
    for (int quit = 0; !quit;) {
        printf("%s\n", color ? "\033[2J\033[H" : "");
        quit = run_command(o->command);
        if (quit || quit_signal)
            break;
        printf("\n%s-- watching %s for changes (%s). %s%s\n", DIM, o->watch[0], how,
               tty_raw ? "Enter: run again, h: hint, q: quit." : "Stop: Ctrl-C.", RESET);
        fflush(stdout);
        /* Wait for a save, a key or a signal. A burst of events (an editor
         * writing a file in steps) becomes one run: 150 ms of quiet first. */
        for (;;) {
            struct pollfd p[2];
            int np = 0, key = -1;
            if (w.fd >= 0)
                p[np++] = (struct pollfd){.fd = w.fd, .events = POLLIN};
            if (tty_raw)
                p[np++] = (struct pollfd){.fd = STDIN_FILENO, .events = POLLIN};
            int r = poll(p, (nfds_t)np, w.fd >= 0 ? 1000 : 500);
            if (quit_signal) {
                quit = 1;
                break;
            }
            if (r < 0 && errno != EINTR)
                die("poll: %s", strerror(errno));
            if (tty_raw && r > 0 && (p[np - 1].revents & POLLIN)) {
                char k;
                if (read(STDIN_FILENO, &k, 1) == 1)
                    key = k;
            }
            if (key == 'q' || key == 3 || key == 4) {
                quit = 1;
                break;
            }
            if (key == '\n' || key == '\r' || key == 'r')
                break;
            if (key == 'h' && o->chapter) {
                char cmd[PATH_MAX * 2];
                snprintf(cmd, sizeof cmd, "make --no-print-directory -s -C '%s' hint", o->chapter);
                fflush(stdout);
                if (system(cmd) != 0)
                    printf("(no hint)\n");
                continue;
            }
            if (watcher_changed(&w, o)) {
                long long until = measure_now_ms() + 150;
                while (measure_now_ms() < until) {
                    poll(NULL, 0, 50);
                    watcher_changed(&w, o);
                }
                break;
            }
        }
    }
    restore_tty();
    printf("\nwatch: stopped.\n");
    if (w.fd >= 0)
        close(w.fd);
    return 0;
}
