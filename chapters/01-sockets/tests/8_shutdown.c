/* Stage 8: graceful shutdown on SIGTERM/SIGINT -- the wake-up pipe, a
 * drain that sends what is queued within its time and never spins -- and
 * idle clients. */
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echo.h"
#include "loop.h"
#include "net.h"
#include "wbtest.h"

WB_SUITE(shutdown);

#define EXIT_MS 2000

/* CPU time a waiting program may use in a second: a loop that spins uses
 * all of it (1000 ms), one that sleeps in poll() almost nothing. */
#define SPIN_MS 250

static void expect_clean_exit(struct wb_proc *p, const char *what)
{
    int status = 0;
    int exited = wb_wait_exit(p, EXIT_MS, &status);
    cr_assert(exited, "%s: the program did not exit within %d ms\n%s", what, EXIT_MS,
              wb_describe(p));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    cr_assert(eq(int, code, 0), "%s: expected exit status 0 (a requested stop is not an "
              "error)\n%s", what, wb_describe(p));
}

/* ---- a loop on a thread of the test --------------------------------------- */

struct runner {
    struct loop *l;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished, rc;
};

static void *run_it(void *arg)
{
    struct runner *r = arg;
    int rc = loop_run(r->l);
    pthread_mutex_lock(&r->lock);
    r->rc = rc;
    r->finished = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

static void start_runner(struct runner *r, struct loop *l)
{
    r->l = l;
    r->finished = 0;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    cr_assert(eq(int, pthread_create(&r->thread, NULL, run_it, r), 0), "test setup: pthread_create");
}

/* Waits up to ms for loop_run() to return. Returns 1 (and joins) if it did. */
static int runner_finished(struct runner *r, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->finished && pthread_cond_timedwait(&r->cond, &r->lock, &ts) == 0)
        ;
    int done = r->finished;
    pthread_mutex_unlock(&r->lock);
    if (done)
        pthread_join(r->thread, NULL);
    return done;
}

Test(shutdown, loop_handle_signals_makes_sigterm_stop_the_loop)
{
    char err[256] = "";
    int fd = net_listen("127.0.0.1", "0", SOCK_STREAM, err, sizeof err);
    cr_assert(fd >= 0, "test setup: net_listen: %s", err);
    struct loop_config cfg = { .listen_fd = fd, .svc = &echo_service };
    struct loop *l = loop_new(&cfg, err, sizeof err);
    cr_assert(l != NULL, "loop_new() failed: %s", err);
    cr_assert(eq(int, loop_handle_signals(l), 0), "loop_handle_signals() did not return 0");
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    cr_assert(sa.sa_handler == SIG_IGN, "SIGPIPE is not ignored: a write to a client who left "
              "would kill the server");
    sigaction(SIGTERM, NULL, &sa);
    int restart = (sa.sa_flags & SA_RESTART) != 0;
    cr_assert(eq(int, restart, 0), "SIGTERM's handler has SA_RESTART: blocking calls would resume "
              "instead of returning EINTR");
    cr_assert(sa.sa_handler != SIG_DFL && sa.sa_handler != SIG_IGN,
              "SIGTERM has no handler after loop_handle_signals(): sigaction() it");

    /* The signal comes before loop_run() even starts: its byte must wait
     * in the pipe, so that poll() returns at once. */
    raise(SIGTERM);
    struct runner r;
    start_runner(&r, l);
    int done = runner_finished(&r, 2000);
    cr_assert(done, "SIGTERM arrived just before loop_run() started; 2 s later loop_run() had "
              "not returned. The handler must write a byte to the loop's wake-up pipe, and "
              "loop_run() must poll the pipe's read end, read it empty and, for an 'S', stop");
    cr_assert(eq(int, r.rc, 0), "loop_run() returned %d after SIGTERM; a requested stop is not "
              "an error: 0", r.rc);
    loop_free(l);
    close(fd);
}

Test(shutdown, loop_stop_sends_what_is_queued_then_closes)
{
    /* An echo client whose 200 000 bytes the loop has read, and whose
     * echo waits in the loop's queue: a stop must send it all, then
     * close -- not drop it. */
    enum { TOTAL = 200000 };
    static char data[TOTAL], got[TOTAL + 1];
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "test setup: socketpair");
    int small = 16384;
    setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    struct loop_config cfg = { .listen_fd = -1, .svc = &echo_service, .drain_ms = 3000 };
    struct loop *l = loop_new(&cfg, NULL, 0);
    cr_assert(l != NULL, "loop_new() failed");
    cr_assert(eq(int, loop_add(l, sv[0]), 0), "loop_add() failed");
    wb_random_bytes(data, sizeof data);
    struct runner r;
    start_runner(&r, l);

    /* Send everything without reading, and wait until the loop has read
     * it all (the socket's send queue is empty). */
    size_t sent = 0;
    long long give_up = wb_now_ms() + 3000;
    int queued = 1;
    while ((sent < TOTAL || queued > 0) && wb_now_ms() < give_up) {
        if (sent < TOTAL) {
            ssize_t n = send(sv[1], data + sent, TOTAL - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        if (ioctl(sv[1], TIOCOUTQ, &queued) < 0)
            queued = 0;
        poll(NULL, 0, 5);
    }
    cr_assert(eq(sz, sent, (size_t)TOTAL), "the echo loop took only %zu of %d bytes from a client "
              "that does not read yet (its queue may hold up to out_max / 2 before the loop "
              "stops reading)", sent, TOTAL);

    loop_stop(l);
    size_t n = wb_recv(sv[1], got, sizeof got, 3000);
    int eof = wb_wait_eof(sv[1], 2000);
    int done = runner_finished(&r, 2000);
    cr_assert(done, "loop_stop() was called with one client whose echo was queued; the client "
              "then read it all, but loop_run() did not return within 2 s");
    cr_assert(eq(sz, n, (size_t)TOTAL), "after loop_stop() the client received %zu of the %d "
              "bytes the loop had read from it: on a stop, send what is queued (stop reading, "
              "keep flushing c->out) and close each connection once its queue is empty, or "
              "when drain_ms is over", n, TOTAL);
    cr_assert(memcmp(got, data, TOTAL) == 0, "the echo after loop_stop() is not what was sent");
    cr_assert(eq(int, eof, 1), "after sending what was queued, the loop must close the "
              "connection");
    cr_assert(eq(int, r.rc, 0), "loop_run() returned %d after loop_stop(); expected 0", r.rc);
    loop_free(l);
    close(sv[1]);
}

Test(shutdown, sigterm_stops_the_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "ping\n");
    wb_expect_str(p, fd, "ping\n", "a client's echo before the stop");
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM with a client connected");
    wb_expect_eof(p, fd, WB_IO_MS, "the connected client after the stop");
}

Test(shutdown, sigint_stops_the_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    wb_signal(p, SIGINT);
    expect_clean_exit(p, "SIGINT (what Ctrl-C sends) with no client");
}

Test(shutdown, a_stopped_server_no_longer_accepts)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM");
    int fd = wb_try_connect(p->host, p->port);
    cr_assert(fd < 0, "after the program exited, a connection to its port still succeeded");
}

Test(shutdown, sigterm_stops_the_udp_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM in --mode kv");
}

Test(shutdown, sigterm_stops_a_chat_with_members)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int a = wb_connect(p), b = wb_connect(p);
    wb_send_str(p, a, "alice\n");
    wb_send_str(p, b, "bob\n");
    char line[128];
    wb_recv_line(b, line, sizeof line, WB_IO_MS);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM in --mode chat with two members");
}

Test(shutdown, an_idle_client_is_closed_after_the_timeout)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--idle-timeout", "300", NULL);
    int fd = wb_connect(p);
    long long start = wb_now_ms();
    int r = wb_wait_eof(fd, 3000);
    long long took = wb_now_ms() - start;
    cr_assert(eq(int, r, 1), "with --idle-timeout 300, a client that sends nothing was not "
              "closed within 3 s\n%s", wb_describe(p));
    cr_assert(took >= 200, "the idle client was closed after %lld ms; the timeout is 300 ms",
              took);
}

Test(shutdown, an_active_client_is_not_closed)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--idle-timeout", "300", NULL);
    int idle = wb_connect(p);
    int fd = wb_connect(p);
    /* 6 messages 100 ms apart: 600 ms in all, never 300 ms silent. The
     * pauses are the subject of this test. */
    for (int i = 0; i < 6; i++) {
        wb_send_str(p, fd, "tick\n");
        wb_expect_str(p, fd, "tick\n", "message %d of an active client (--idle-timeout 300, a "
                      "message every 100 ms): it must not be closed; the time counts from "
                      "the last bytes received", i + 1);
        wb_pause_ms(100);
    }
    cr_assert(eq(int, wb_wait_eof(idle, 0), 1), "a silent client next to the active one was "
              "still open after 600 ms of --idle-timeout 300");
}

Test(shutdown, a_stop_with_a_client_that_never_reads_ends_in_time_without_spinning)
{
    /* A client that sends and never reads: its echo cannot be sent. The
     * stop may wait for it up to the drain time (1 s), not longer, and
     * the waiting must cost no CPU: a wake-up byte left in the pipe, or a
     * socket polled for an event that stays true, makes poll() return at
     * once, round after round. */
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int hog = wb_connect(p);
    size_t sent = wb_send_until_blocked(hog, 200);
    long long cpu0 = wb_cpu_ms(p), t0 = wb_now_ms();
    wb_signal(p, SIGTERM);
    int status = 0;
    int exited = wb_wait_exit(p, 3000, &status);
    long long took = wb_now_ms() - t0;
    cr_assert(exited, "SIGTERM with a client that sent %zu bytes and reads nothing: the program "
              "was still running 3 s later; after drain_ms (1 s) close what is left and "
              "return\n%s", sent, wb_describe(p));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    cr_assert(eq(int, code, 0), "expected exit status 0 after SIGTERM\n%s", wb_describe(p));
    long long cpu = wb_cpu_ms(p) - cpu0;
    cr_assert(cpu0 < 0 || cpu < SPIN_MS,
              "between SIGTERM and its exit %lld ms later, the program used %lld ms of CPU "
              "(at most %d expected): its loop spun while it waited. Read the wake-up pipe "
              "empty each time it is readable, and ask poll() only for events you will act "
              "on (no POLLIN for a closing connection)", took, cpu, SPIN_MS);
}
