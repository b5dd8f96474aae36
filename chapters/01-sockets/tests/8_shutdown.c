/* Stage 8: graceful shutdown on SIGTERM/SIGINT -- the wake-up pipe, a
 * drain that sends what is queued within its time and never spins -- and
 * idle clients. */
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "echo.h"
#include "inproc.h"
#include "loop.h"
#include "net.h"
#include "wbtest.h"

WB_SUITE(shutdown);

#define EXIT_MS 2000


static void expect_clean_exit(struct wb_proc *p, const char *what)
{
    int status = 0;
    int exited = wb_wait_exit(p, EXIT_MS, &status);
    cr_assert(exited, "%s: the program did not exit within %d ms\n%s", what, EXIT_MS,
              wb_describe(p));
    int killed = WIFSIGNALED(status) &&
                 (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGINT);
    cr_assert(eq(int, killed, 0), "%s: the signal killed the program -- its default action. "
              "loop_handle_signals() must install a handler (sigaction) that asks the loop to "
              "stop instead\n%s", what, wb_describe(p));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    cr_assert(eq(int, code, 0), "%s: expected exit status 0 (a requested stop is not an "
              "error)\n%s", what, wb_describe(p));
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
    ip_start(&r, l);
    int done = ip_finished(&r, 2000);
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
    int client, small = 16384;
    struct loop_config cfg = { .drain_ms = 3000 };
    struct loop *l = ip_loop_with_client(&echo_service, &cfg, &client);
    setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    setsockopt(loop_conn(l, 0)->fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    wb_random_bytes(data, sizeof data);
    struct runner r;
    ip_start(&r, l);

    /* Send everything without reading, and wait until the loop has read
     * it all (the socket's send queue is empty). */
    size_t sent = 0;
    long long give_up = wb_now_ms() + 3000;
    int queued = 1;
    while ((sent < TOTAL || queued > 0) && wb_now_ms() < give_up) {
        if (sent < TOTAL) {
            ssize_t n = send(client, data + sent, TOTAL - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (n > 0)
                sent += (size_t)n;
        }
        if (ioctl(client, TIOCOUTQ, &queued) < 0)
            queued = 0;
        poll(NULL, 0, 5);
    }
    cr_assert(eq(sz, sent, (size_t)TOTAL), "the echo loop took only %zu of %d bytes from a client "
              "that does not read yet (its queue may hold up to out_max / 2 before the loop "
              "stops reading)", sent, TOTAL);

    loop_stop(l);
    size_t n = wb_recv(client, got, sizeof got, 3000);
    int eof = wb_wait_eof(client, 2000);
    int done = ip_finished(&r, 2000);
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
    close(client);
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
    cr_assert(cpu0 < 0 || cpu < WB_SPIN_MS,
              "between SIGTERM and its exit %lld ms later, the program used %lld ms of CPU "
              "(at most %d expected): its loop spun while it waited. Read the wake-up pipe "
              "empty each time it is readable, and ask poll() only for events you will act "
              "on (no POLLIN for a closing connection)", took, cpu, WB_SPIN_MS);
}

/* ---- the loop's contract: deadlines, jobs, and stopping with them ------------- */

/* A service with a deadline: 100 ms after connecting it says "tick" and
 * sets a new deadline; at the second one it says "bye" and closes. */
static int tick_open(struct loop *l, struct conn *c)
{
    (void)l;
    c->data = calloc(1, sizeof(int));
    c->deadline_ms = loop_now_ms() + 100;
    return c->data ? 0 : LOOP_CLOSE;
}

static int tick_timeout(struct loop *l, struct conn *c)
{
    int *ticks = c->data;
    if ((*ticks)++ == 0) {
        c->deadline_ms = loop_now_ms() + 100;
        return loop_send(l, c, "tick\n", 5) < 0 ? LOOP_CLOSE : 0;
    }
    loop_send(l, c, "bye\n", 4);
    return LOOP_CLOSE;
}

static void free_data(struct loop *l, struct conn *c)
{
    (void)l;
    free(c->data);
    c->data = NULL;
}

static const struct service tick_service = {
    .name = "tick",
    .on_open = tick_open,
    .on_timeout = tick_timeout,
    .on_close = free_data,
};

Test(shutdown, a_deadline_calls_on_timeout_which_may_go_on_or_close)
{
    int client;
    struct loop *l = ip_loop_with_client(&tick_service, NULL, &client);
    struct runner r;
    ip_start(&r, l);
    long long t0 = wb_now_ms();
    char got[64] = "";
    size_t n = wb_recv(client, got, 9, 3000);
    long long took = wb_now_ms() - t0;
    cr_assert(n == 9 && memcmp(got, "tick\nbye\n", 9) == 0,
              "a service set c->deadline_ms to 100 ms after connecting; its on_timeout says "
              "\"tick\\n\" and sets a deadline 100 ms later, then says \"bye\\n\" and returns "
              "LOOP_CLOSE. The client received %s in 3 s. poll() must wake up at the earliest "
              "deadline (its timeout), and the loop call on_timeout once a deadline passed",
              wb_escape(got, n, 64, (char[160]){ 0 }, 160));
    cr_assert(ge(long, (long)took, 150L), "the two deadlines of 100 ms passed after %lld ms", took);
    cr_assert(eq(int, wb_wait_eof(client, 2000), 1), "on_timeout returned LOOP_CLOSE: the "
              "connection must be closed once \"bye\\n\" is sent");
    cr_assert(ip_finished(&r, 2000), "loop_run() did not return after its only connection closed");
    loop_free(l);
    close(client);
}

/* A service that answers "fast" at once and hands "slow N" to a worker,
 * which sleeps N ms (giving up when cancelled) and says how it went. */
struct job_state {
    long ms;
    int outcome; /* 0: slept, -1: cancelled */
};

static void job_work(struct conn *c, const struct loop_job *job)
{
    struct job_state *st = c->data;
    st->outcome = loop_job_sleep(job, st->ms);
}

static void job_done(struct loop *l, struct conn *c)
{
    struct job_state *st = c->data;
    const char *say = st->outcome == 0 ? "slept\n" : "cancelled\n";
    if (loop_send(l, c, say, strlen(say)) < 0)
        c->closing = 1;
}

static int job_open(struct loop *l, struct conn *c)
{
    (void)l;
    c->data = calloc(1, sizeof(struct job_state));
    return c->data ? 0 : LOOP_CLOSE;
}

static int job_data(struct loop *l, struct conn *c)
{
    struct job_state *st = c->data;
    char *nl = memchr(c->in.data, '\n', c->in.len);
    if (!nl)
        return 0;
    *nl = '\0';
    if (strncmp(c->in.data, "slow ", 5) == 0) {
        st->ms = atol(c->in.data + 5);
        buf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
        return loop_submit(l, c, job_work, job_done) < 0 ? LOOP_CLOSE : 0;
    }
    buf_consume(&c->in, (size_t)(nl - c->in.data) + 1);
    return loop_send(l, c, "fast\n", 5) < 0 ? LOOP_CLOSE : 0;
}

static const struct service job_service = {
    .name = "jobs",
    .on_open = job_open,
    .on_data = job_data,
    .on_close = free_data,
};

/* A loop with two workers for job_service, two connections, on a thread. */
static struct loop *job_loop(int drain_ms, int *a, int *b, struct runner *r)
{
    struct loop_config cfg = { .workers = 2, .drain_ms = drain_ms };
    struct loop *l = ip_loop_with_client(&job_service, &cfg, a);
    *b = ip_add_client(l);
    ip_start(r, l);
    return l;
}

Test(shutdown, a_job_runs_on_a_worker_and_its_answer_comes_back_through_the_loop)
{
    int a, b;
    struct runner r;
    struct loop *l = job_loop(1000, &a, &b, &r);
    long long t0 = wb_now_ms();
    wb_send_str(NULL, a, "slow 400\n");
    wb_send_str(NULL, b, "fast\n");
    char got[32] = "";
    size_t n = wb_recv(b, got, 5, 300);
    cr_assert(eq(sz, n, (size_t)5), "while a job slept 400 ms on a worker for one connection, "
              "another connection's request was not answered within 300 ms: the loop must go "
              "on serving while jobs run (loop_submit hands them to the pool)");
    n = wb_recv(a, got, 6, 3000);
    long long took = wb_now_ms() - t0;
    cr_assert(n == 6 && memcmp(got, "slept\n", 6) == 0,
              "a job slept 400 ms on a worker; its done() callback queues \"slept\\n\", but the "
              "client received %zu bytes in 3 s. When the pool writes 'J' to the wake-up pipe, "
              "read the pipe empty and call collect_jobs(l): it runs the done() callbacks", n);
    cr_assert(ge(long, (long)took, 350L), "the job's answer came after %lld ms; the job sleeps "
              "400 ms", took);
    loop_stop(l);
    cr_assert(ip_finished(&r, 3000), "loop_stop() with two idle connections: loop_run() did not "
              "return within 3 s");
    loop_free(l);
    close(a);
    close(b);
}

Test(shutdown, a_stop_lets_a_job_finish_within_drain_ms_and_cancels_it_after)
{
    /* drain_ms 1000: a job of 300 ms ends normally; one of 10 s is
     * cancelled after the drain time, and gets LOOP_CANCEL_MS to come
     * back -- its answer then says so. Then loop_run() returns. */
    int a, b;
    struct runner r;
    struct loop *l = job_loop(1000, &a, &b, &r);
    wb_send_str(NULL, a, "slow 300\n");
    wb_send_str(NULL, b, "slow 10000\n");
    wb_pause_ms(50); /* the subject: jobs running when the stop comes */
    long long t0 = wb_now_ms();
    loop_stop(l);
    char got[32] = "";
    size_t n = wb_recv(a, got, 6, 2000);
    cr_assert(n == 6 && memcmp(got, "slept\n", 6) == 0,
              "a job of 300 ms was running when loop_stop() was called (drain_ms 1000): it "
              "must be allowed to finish, and its answer sent; the client got %zu bytes", n);
    cr_assert(eq(int, wb_wait_eof(a, 1000), 1), "after its job's answer, a connection of a "
              "stopping loop is closed (on_stop NULL: closing = 1)");
    n = wb_recv(b, got, 10, 3000);
    long long took = wb_now_ms() - t0;
    cr_assert(n == 10 && memcmp(got, "cancelled\n", 10) == 0,
              "a job of 10 s was running when loop_stop() was called (drain_ms 1000). At the "
              "end of drain_ms the loop must cancel the jobs (cancel_jobs: loop_job_sleep() "
              "returns -1 at once) and give them LOOP_CANCEL_MS to come back; the job's done() "
              "then queues \"cancelled\\n\". The client got %zu bytes", n);
    cr_assert(took <= 1800 && took >= 900,
              "the cancelled job's answer came %lld ms after loop_stop(); with drain_ms 1000 it "
              "is due just after 1000 ms", took);
    cr_assert(ip_finished(&r, 2000), "every connection was done, but loop_run() did not return");
    cr_assert(eq(int, r.rc, 0), "loop_run() returned %d after loop_stop(); expected 0", r.rc);
    loop_free(l);
    close(a);
    close(b);
}

Test(shutdown, a_client_that_hangs_up_while_its_job_runs_costs_no_cpu)
{
    /* While a job runs for a connection, the loop wants nothing from its
     * socket. Polling it anyway, with no events, is a trap: poll() still
     * reports a hang-up, at once, every round -- the loop spins until the
     * job is done. Such a connection gets fd -1 in the pollfd array. */
    int a, b;
    struct runner r;
    struct loop *l = job_loop(1000, &a, &b, &r);
    wb_send_str(NULL, a, "slow 700\n");
    wb_pause_ms(50);
    wb_reset(a); /* gone, with an RST, while its job sleeps */
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    wb_pause_ms(500); /* the subject: what the loop does meanwhile */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    long long cpu = (long long)(c1.tv_sec - c0.tv_sec) * 1000 + (c1.tv_nsec - c0.tv_nsec) / 1000000;
    cr_assert(cpu < WB_SPIN_MS / 2,
              "a client hung up while a job ran for it; in the next 500 ms the loop used %lld ms "
              "of CPU (at most %d expected): it spun. Give a connection that wants nothing "
              "(a job runs, nothing to send) fd -1 in the pollfd array", cpu, WB_SPIN_MS / 2);
    wb_send_str(NULL, b, "fast\n");
    char got[8];
    cr_assert(eq(sz, wb_recv(b, got, 5, 2000), (size_t)5), "another client was not answered");
    loop_stop(l);
    cr_assert(ip_finished(&r, 3000), "loop_run() did not return after loop_stop()");
    loop_free(l);
    close(b);
}

Test(shutdown, two_loops_in_one_process_serve_and_stop_on_their_own)
{
    /* A loop keeps everything in its struct loop -- no module globals --
     * so one process can run several, and stopping one leaves the other
     * serving. Freeing a loop gives back every fd it opened. */
    struct runner r1, r2;
    int a, b, a2, b2;
    int fds_before = 0;
    for (int fd = 0; fd < 1024; fd++)
        fds_before += fcntl(fd, F_GETFD) >= 0;
    struct loop *l1 = job_loop(1000, &a, &b, &r1);
    struct loop *l2 = job_loop(1000, &a2, &b2, &r2);
    wb_send_str(NULL, a, "fast\n");
    wb_send_str(NULL, a2, "fast\n");
    char got[8];
    cr_assert(eq(sz, wb_recv(a, got, 5, 2000), (size_t)5), "the first of two loops in one "
              "process did not answer");
    cr_assert(eq(sz, wb_recv(a2, got, 5, 2000), (size_t)5), "the second of two loops in one "
              "process did not answer: a loop's state must live in its struct loop, not in "
              "module globals");
    loop_stop(l1);
    cr_assert(ip_finished(&r1, 3000), "loop_stop() on the first loop: it did not return");
    wb_send_str(NULL, b2, "fast\n");
    cr_assert(eq(sz, wb_recv(b2, got, 5, 2000), (size_t)5), "after the first of two loops "
              "stopped, the second stopped answering: loop_stop() must stop only its loop");
    loop_stop(l2);
    cr_assert(ip_finished(&r2, 3000), "loop_stop() on the second loop: it did not return");
    loop_free(l1);
    loop_free(l2);
    close(a);
    close(b);
    close(a2);
    close(b2);
    int fds_after = 0;
    for (int fd = 0; fd < 1024; fd++)
        fds_after += fcntl(fd, F_GETFD) >= 0;
    cr_assert(eq(int, fds_after, fds_before), "two loops were created, run, stopped and freed, "
              "and their clients closed: %d fds were open before, %d after. loop_free() must "
              "close the wake-up pipe and every connection's socket", fds_before, fds_after);
}

Test(shutdown, a_connection_the_server_ends_is_closed_in_stages)
{
    /* A line too long: the lines service answers "ERR line too long" and
     * ends the connection while the client is still sending. Closing at
     * once with unread input makes the kernel answer the client's next
     * bytes with a reset -- which can destroy the ERR line before the
     * client read it. The loop shuts its sending side instead (the client
     * reads the end), and reads and throws away what still comes until
     * the client closes too (or LOOP_LINGER_MS). */
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    static char junk[65536];
    memset(junk, 'x', sizeof junk);
    wb_send(p, fd, junk, 2000); /* longer than LINES_MAX, no '\n' */
    wb_expect_str(p, fd, "ERR line too long\n", "a line longer than LINES_MAX");
    wb_expect_eof(p, fd, WB_IO_MS, "after \"ERR line too long\" the server ends the connection: "
                  "shutdown(fd, SHUT_WR) first, so that the client reads the end");
    /* The client has not noticed yet, and goes on sending. */
    ssize_t n = send(fd, junk, sizeof junk, MSG_NOSIGNAL);
    wb_pause_ms(100); /* the subject: what comes back meanwhile */
    ssize_t m = send(fd, junk, 1, MSG_NOSIGNAL);
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    cr_assert(n > 0 && m == 1 && err == 0,
              "after the server ended the connection, the client still sent %d bytes; they got "
              "a reset back (%s): the server closed its socket with input unread. Close in "
              "stages (RFC 9112 section 9.6): once c->out is sent, shutdown(fd, SHUT_WR), then "
              "keep reading and throwing away what comes until the peer closes (recv() returns "
              "0) or LOOP_LINGER_MS passed -- only then close()\n%s", (int)sizeof junk,
              strerror(err ? err : errno), wb_describe(p));
    close(fd);
}
