/* Stage 8: slow clients, slow handlers, large files and stopping -- the
 * deadlines that keep any one client from holding a connection (the whole
 * request within --timeout of its first byte, --timeout of idleness
 * between requests, each piece of a response taken within --timeout), a
 * handler that may block handed to a worker, files sent in pieces, and a
 * stop that finishes what is in flight. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "client.h"
#include "conn.h"
#include "handler.h"
#include "http.h"
#include "wbtest.h"

WB_SUITE(concurrency);

/* How long a client may wait while others misbehave. */
#define FAIR_MS 2000

#define BIG_GET "GET /big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n"

/* ---- helpers --------------------------------------------------------------- */

static int ms_left(long long deadline)
{
    long long left = deadline - wb_now_ms();
    return left > 0 ? (int)left : 0;
}

/* What a client saw while it waited: when the first byte or the close
 * came (at == 0: nothing came), and the bytes. */
struct answer {
    long long at;
    int closed;
    size_t len;
    char got[2048];
};

/* Waits until deadline for the server to answer on fd or close it. After
 * the first bytes it waits at most 300 ms more for the close. */
static void wait_answer(int fd, long long deadline, struct answer *a)
{
    for (;;) {
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int r = poll(&pfd, 1, ms_left(deadline));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return;
        ssize_t n = recv(fd, a->got + a->len, sizeof a->got - 1 - a->len, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (!a->at)
            a->at = wb_now_ms();
        if (n <= 0) {
            a->closed = 1;
            return;
        }
        a->len += (size_t)n;
        a->got[a->len] = '\0';
        if (a->len == sizeof a->got - 1)
            return;
        if (deadline > wb_now_ms() + 300)
            deadline = wb_now_ms() + 300;
    }
}

/* Fails unless what a client got is nothing but a close, or a 408
 * response (and then, perhaps, the close). */
static void expect_408_or_close(struct wb_proc *p, const struct answer *a, const char *sent,
                                size_t sentlen, const char *context)
{
    if (a->len == 0)
        return;
    int is408 = a->len >= 13 && memcmp(a->got, "HTTP/1.", 7) == 0 &&
                memcmp(a->got + 8, " 408 ", 5) == 0;
    char e1[1024], e2[3000];
    cr_assert(is408, "%s\nsent (%zu bytes): %s\nreceived: %s\nexpected \"HTTP/1.1 408 Request "
              "Timeout\" (or a close without an answer)\n%s", context, sentlen,
              wb_escape(sent, sentlen, 300, e1, sizeof e1),
              wb_escape(a->got, a->len, 400, e2, sizeof e2), p ? wb_describe(p) : "");
}

/* Reads one response from fd within ms; a failure message starts with
 * context. */
static struct ht_response *must_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                                     int ms, const char *context)
{
    return ht_must_read(p, fd, raw, len, 0, ms, context);
}

/* Waits until nothing more arrives in fd's receive queue (the server is
 * blocked sending to it): the queue stayed the same size for 150 ms.
 * Returns the bytes queued. */
static size_t wait_until_stalled(int fd)
{
    int last = -1, now = 0;
    long long same_since = wb_now_ms(), give_up = wb_now_ms() + 3000;
    while (wb_now_ms() < give_up) {
        poll(NULL, 0, 20);
        if (ioctl(fd, FIONREAD, &now) < 0)
            break;
        if (now != last) {
            last = now;
            same_since = wb_now_ms();
        } else if (now > 0 && wb_now_ms() - same_since >= 150) {
            break;
        }
    }
    return now > 0 ? (size_t)now : 0;
}

/* A client that sends many pipelined GET /big.bin and never reads. */
static int start_hog(struct wb_proc *p, size_t *queued)
{
    char raw[sizeof BIG_GET * 30];
    size_t len = 0;
    for (int i = 0; i < 30; i++) {
        memcpy(raw + len, BIG_GET, sizeof BIG_GET - 1);
        len += sizeof BIG_GET - 1;
    }
    int hog = wb_connect(p);
    wb_send(p, hog, raw, len);
    *queued = wait_until_stalled(hog);
    return hog;
}

static void get_file(struct wb_proc *p, const char *path, const char *context)
{
    char raw[256];
    const struct ht_file *f = ht_file(path);
    cr_assert(f != NULL, "test bug: %s is not in the fixture", path);
    snprintf(raw, sizeof raw, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", path);
    long long t0 = wb_now_ms();
    struct ht_response *r = ht_exchange_str(p, raw);
    long long took = wb_now_ms() - t0;
    ht_expect_status(p, r, 200, NULL, 0, context);
    ht_expect_body(p, r, f->data, f->len, context);
    cr_assert(le(long, (long)took, (long)FAIR_MS), "%s\nthe response took %lld ms; expected "
              "well under %d ms\n%s", context, took, FAIR_MS, wb_describe(p));
    ht_free(r);
}

/* ---- conn_serve, without the server around it -------------------------------- */



Test(concurrency, conn_serve_gives_up_on_a_slow_head_after_timeout_ms)
{
    int fd = ht_start_conn_serve(300);

    const char *half = "GET /hello.txt HTTP/1.1\r\nHost: loc";
    cr_assert(eq(long, (long)send(fd, half, strlen(half), MSG_NOSIGNAL), (long)strlen(half)),
              "test setup: send");
    long long t0 = wb_now_ms();
    struct answer ans = { 0 };
    wait_answer(fd, t0 + 3 * 300, &ans);
    char e[256];
    cr_assert(ans.at != 0,
              "conn_serve() with timeout_ms = 300 got half a request head, %s, and nothing "
              "more; 900 ms later it had neither answered 408 nor closed the connection. "
              "Every wait for the client needs a deadline: poll() with the time left until "
              "timeout_ms after the head's first byte, then send 408 and close",
              wb_escape(half, strlen(half), 100, e, sizeof e));
    cr_assert(ge(long, (long)(ans.at - t0), 150L),
              "conn_serve() with timeout_ms = 300 got half a request head, %s, and gave up "
              "after %lld ms, long before its timeout. (Or the head was called malformed: an "
              "unfinished head is HTTP_INCOMPLETE -- wait for the rest, with a deadline)",
              wb_escape(half, strlen(half), 100, e, sizeof e), ans.at - t0);
    expect_408_or_close(NULL, &ans, half, strlen(half),
                        "conn_serve() timed out a half head (timeout_ms = 300)");
    if (!ans.closed) {
        int r = wb_wait_eof(fd, 1000);
        cr_assert(eq(int, r, 1), "conn_serve() answered the slow client 408 but did not close "
                  "the connection: after a 408 the rest of the request may still come, the "
                  "connection cannot be used again");
    }
    int done = ht_conn_serve_returned(1000);
    cr_assert(done, "conn_serve() closed the slow connection but did not return");
    close(fd);
}

/* ---- end to end ---------------------------------------------------------------- */

Test(concurrency, a_slowloris_gets_408_within_the_timeout_while_others_are_served)
{
    const int timeout = 800;
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--timeout", "800", NULL);
    const char *half = "GET /hello.txt HTTP/1.1\r\nHost: loc";
    int slow = wb_connect(p);
    wb_send_str(p, slow, half);
    long long t0 = wb_now_ms();

    for (int i = 0; i < 3; i++) {
        long long s = wb_now_ms();
        struct ht_response *r = ht_get(p, "/hello.txt");
        long long took = wb_now_ms() - s;
        ht_expect_status(p, r, 200, NULL, 0, "another client while a slowloris stalls");
        cr_assert(lt(long, (long)took, (long)timeout / 2),
                  "a slowloris client sent half a head and stalled; another client's GET "
                  "/hello.txt then took %lld ms (--timeout %d): no client may wait for "
                  "another one: never wait for one client (no blocking call in a callback)\n%s", took, timeout, wb_describe(p));
        ht_free(r);
    }

    struct answer a = { 0 };
    wait_answer(slow, t0 + 3 * timeout, &a);
    char e[256];
    cr_assert(a.at != 0,
              "a client sent half a request head, %s, and stalled; with --timeout %d the server "
              "must answer 408 Request Timeout and close, but after %d ms it had done "
              "neither\n%s", wb_escape(half, strlen(half), 100, e, sizeof e), timeout,
              3 * timeout, wb_describe(p));
    long long took = a.at - t0;
    cr_assert(ge(long, (long)took, (long)timeout / 2),
              "the server gave up on a stalled head after %lld ms, long before --timeout %d: "
              "a client has --timeout ms for its head", took, timeout);
    expect_408_or_close(p, &a, half, strlen(half),
                        "the answer to a head that did not arrive within --timeout");
}

Test(concurrency, a_head_trickling_in_one_byte_every_100ms_is_still_timed_out)
{
    const int timeout = 500;
    const char *req = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n"
                      "User-Agent: a trickle of one byte every 100 ms\r\n\r\n";
    size_t len = strlen(req), i = 0;
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--timeout", "500", NULL);
    int fd = wb_connect(p);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    long long t0 = wb_now_ms();
    struct answer a = { 0 };
    /* Each read the server does gets its byte well within the timeout; the
     * waits between the bytes are the subject of this test. */
    while (i < len && wb_now_ms() < t0 + 3 * timeout) {
        ssize_t n = send(fd, req + i, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n != 1) { /* the server closed (a reset) */
            a.at = wb_now_ms();
            a.closed = 1;
            break;
        }
        i++;
        wait_answer(fd, wb_now_ms() + 100, &a);
        if (a.at)
            break;
    }
    char e[256];
    cr_assert(a.at != 0,
              "a client sent its head one byte every 100 ms; %lld ms after the first byte "
              "(--timeout %d) the connection was still open after %zu bytes, %s. Each read "
              "came quickly, so a timeout per read never fires: the whole head must arrive "
              "within --timeout of its first byte (one deadline per request)\n%s",
              wb_now_ms() - t0, timeout, i, wb_escape(req, i, 100, e, sizeof e),
              wb_describe(p));
    long long took = a.at - t0;
    cr_assert(ge(long, (long)took, (long)timeout / 2),
              "the server gave up on a trickling head after %lld ms, long before --timeout %d",
              took, timeout);
    expect_408_or_close(p, &a, req, i, "the answer to a head that trickled in too slowly");
}

Test(concurrency, an_idle_keep_alive_connection_is_closed_after_the_timeout)
{
    const int timeout = 500;
    const char *raw = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--timeout", "500", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, raw);
    struct ht_response *r = must_read(p, fd, raw, strlen(raw), WB_IO_MS,
                                      "a first request on a keep-alive connection:");
    ht_expect_status(p, r, 200, NULL, 0, "GET /hello.txt");
    long long t0 = wb_now_ms();
    struct answer a = { 0 };
    wait_answer(fd, t0 + 3 * timeout, &a);
    cr_assert(a.at != 0,
              "after one answered request the client sent nothing more; with --timeout %d "
              "the server must close an idle connection, but after %d ms it was still open "
              "(an idle client holds an fd and memory: after each response, set c->deadline_ms to "
              "now + timeout_ms, and close in on_timeout)\n%s",
              timeout, 3 * timeout, wb_describe(p));
    long long took = a.at - t0;
    cr_assert(ge(long, (long)took, (long)timeout / 2),
              "the server closed a keep-alive connection after %lld ms of idleness; with "
              "--timeout %d it may stay idle that long", took, timeout);
    expect_408_or_close(p, &a, "", 0, "an idle keep-alive connection after --timeout");
    ht_free(r);
}

Test(concurrency, a_file_larger_than_a_connection_may_queue_is_sent_in_pieces)
{
    /* With --max-body 1000, a connection may queue about 200 KiB
     * (max_body + room for heads + a 64 KiB piece of a file): a 1 MiB
     * file cannot be queued whole. It goes out 64 KiB at a time, the next
     * piece each time the last one was sent (on_drain). */
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-body", "1000", NULL);
    get_file(p, "/big.bin", "GET /big.bin (1 MiB) with --max-body 1000: more than one "
             "connection may queue (loop_send() fails past out_max, and the loop drops the "
             "connection); send a large file in pieces: queue 64 KiB, and the next piece from "
             "on_drain, when the last one is out");
    get_file(p, "/hello.txt", "a small file after a large one");
}

Test(concurrency, a_client_that_never_reads_its_responses_blocks_no_one_else)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-body", "1000", NULL);
    size_t queued;
    int hog = start_hog(p, &queued);
    (void)hog;
    char ctx[300];
    snprintf(ctx, sizeof ctx, "another client pipelined 30 GET /big.bin (30 MiB of responses) "
             "and never reads them (%zu bytes wait in its socket); this client's requests "
             "must still be answered, a 1 MiB file too (in pieces: --max-body 1000)", queued);
    get_file(p, "/hello.txt", ctx);
    get_file(p, "/index.html", ctx);
    get_file(p, "/big.bin", ctx);
}

Test(concurrency, max_clients_holds_the_next_client_until_a_connection_ends)
{
    const char *raw = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-clients", "2",
                                 "--timeout", "5000", NULL);
    int idle[2];
    for (int i = 0; i < 2; i++) {
        idle[i] = wb_connect(p);
        wb_send_str(p, idle[i], raw);
        struct ht_response *r = must_read(p, idle[i], raw, strlen(raw), WB_IO_MS,
                                          "one of two clients that then stay connected:");
        ht_expect_status(p, r, 200, NULL, 0, "GET /hello.txt");
        ht_free(r);
    }
    int third = wb_connect(p); /* the kernel completes it: it waits in the backlog */
    wb_send_str(p, third, raw);
    struct pollfd pfd = { .fd = third, .events = POLLIN };
    cr_assert(eq(int, poll(&pfd, 1, 300), 0),
              "with --max-clients 2 and two connections open (idle, kept alive), a third "
              "client was answered (or closed) within 300 ms: at most --max-clients "
              "connections are served at once; the others wait in the listen backlog (stop "
              "accepting while at the limit)\n%s", wb_describe(p));
    close(idle[0]);
    long long t0 = wb_now_ms();
    struct ht_response *r = must_read(p, third, raw, strlen(raw), WB_IO_MS,
                                      "with --max-clients 2, a third client waited while two "
                                      "connections were open; one of them closed, so the "
                                      "third must be served now (accept again when a "
                                      "connection ends -- not only after --timeout 5000):");
    ht_expect_status(p, r, 200, NULL, 0, "the third client, once a slot was free");
    long long took = wb_now_ms() - t0;
    cr_assert(lt(long, (long)took, (long)FAIR_MS),
              "the third client was served %lld ms after a slot became free\n%s", took,
              wb_describe(p));
    ht_free(r);
}

Test(concurrency, clients_that_reset_mid_response_leave_the_server_serving)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-body", "1000", NULL);
    int fds[4];
    for (int i = 0; i < 4; i++) {
        fds[i] = wb_connect(p);
        wb_send_str(p, fds[i], BIG_GET);
    }
    static char part[65536];
    for (int i = 0; i < 3; i++) {
        size_t n = wb_recv(fds[i], part, sizeof part, WB_IO_MS);
        cr_assert(ge(sz, n, (size_t)1), "client %d sent GET /big.bin and got %zu bytes of "
                  "the response\n%s", i + 1, n, wb_describe(p));
        wb_reset(fds[i]); /* RST in the middle of the 1 MiB body */
    }
    wb_reset(fds[3]); /* and one before reading anything */
    get_file(p, "/hello.txt",
             "four clients asked for /big.bin (sent in pieces: --max-body 1000) and reset "
             "their connections: three after the first 64 KiB, one at once. The loop's send() "
             "to them fails, it closes them (on_close: free what the connection holds, the "
             "file's fd too); a new client must be served");
    get_file(p, "/big.bin", "after the resets, a whole /big.bin");
}

Test(concurrency, a_client_that_never_reads_is_dropped_after_the_timeout)
{
    const int timeout = 300;
    const char *raw = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-clients", "1",
                                 "--timeout", "300", NULL);
    size_t queued;
    int hog = start_hog(p, &queued);
    (void)hog;
    long long t0 = wb_now_ms();
    int fd = wb_connect(p);
    wb_send_str(p, fd, raw);
    char ctx[512];
    snprintf(ctx, sizeof ctx, "with --max-clients 1 and --timeout %d, the only connection is "
             "a client that pipelined 30 GET /big.bin and reads nothing (%zu bytes wait in "
             "its socket). A response must be taken within --timeout: the server must give "
             "up on it, close it, and serve this client", timeout, queued);
    struct ht_response *r = must_read(p, fd, raw, strlen(raw), 3000, ctx);
    ht_expect_status(p, r, 200, NULL, 0, ctx);
    long long took = wb_now_ms() - t0;
    cr_assert(le(long, (long)took, (long)(4 * timeout)),
              "%s\nit was served only %lld ms later\n%s", ctx, took, wb_describe(p));
    ht_free(r);
}

Test(concurrency, sigterm_answers_requests_in_flight_within_the_timeout_without_spinning)
{
    /* Three clients when SIGTERM comes, with --timeout 1000: one idle,
     * one whose GET /delay?ms=300 will be done within the timeout, and
     * one whose GET /delay?ms=8000 will not. The idle one is closed at
     * once; the first request is answered (saying "Connection: close");
     * the second is given up after --timeout: 503. The server then exits
     * 0 -- and while it waits it costs no CPU. */
    const char *quick_req = "GET /delay?ms=300 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    const char *slow_req = "GET /delay?ms=8000 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--timeout", "1000", NULL);
    int idle = wb_connect(p), quick = wb_connect(p), slow = wb_connect(p);
    struct ht_response *r = ht_get(p, "/hello.txt"); /* all three are accepted by now */
    ht_free(r);
    wb_send_str(p, slow, slow_req);
    wb_send_str(p, quick, quick_req);
    wb_pause_ms(100); /* the subject: requests in flight when the signal comes */
    long long cpu0 = wb_cpu_ms(p), t0 = wb_now_ms();
    wb_signal(p, SIGTERM);

    cr_assert(eq(int, wb_wait_eof(idle, 500), 1),
              "SIGTERM: an idle connection (it never sent a request) must be closed at once: "
              "there is nothing to finish on it\n%s", wb_describe(p));
    r = must_read(p, quick, quick_req, strlen(quick_req), 1500,
                  "SIGTERM came 100 ms after GET /delay?ms=300 (--timeout 1000): a request in "
                  "progress is finished and answered -- a stop must not cut it off:");
    ht_expect_status(p, r, 200, NULL, 0, "GET /delay?ms=300, in flight at SIGTERM");
    ht_expect_header(p, r, "Connection", "close",
                     "the answer to a request in flight at SIGTERM is the connection's last: "
                     "say \"Connection: close\"");
    ht_free(r);
    r = must_read(p, slow, slow_req, strlen(slow_req), 2000,
                  "SIGTERM came 100 ms after GET /delay?ms=8000 (--timeout 1000): a handler "
                  "still running when the timeout is over is cancelled -- loop_job_sleep() "
                  "returns early, the handler returns -1 -- and the client gets 503 Service "
                  "Unavailable, within about --timeout of the signal:");
    long long answered = wb_now_ms() - t0;
    ht_expect_status(p, r, 503, NULL, 0, "a request cancelled by the stop");
    ht_free(r);
    int status = 0;
    int exited = wb_wait_exit(p, 1500, &status);
    long long took = wb_now_ms() - t0;
    cr_assert(exited, "after SIGTERM and --timeout 1000, every request was answered, but the "
              "server was still running %lld ms after the signal: the loop returns once the "
              "last connection is closed -- and then waits for the workers, so a handler that "
              "ignores cancellation (nanosleep instead of loop_job_sleep) keeps the process "
              "alive\n%s", took, wb_describe(p));
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(clean, "after SIGTERM the server must exit with status 0 (a clean stop)\n%s",
              wb_describe(p));
    cr_assert(le(long, (long)answered, 1900L), "the cancelled request was answered %lld ms "
              "after SIGTERM; with --timeout 1000 that is too late", answered);
    long long cpu = wb_cpu_ms(p) - cpu0;
    cr_assert(cpu0 < 0 || cpu < WB_SPIN_MS,
              "between SIGTERM and its exit %lld ms later the server used %lld ms of CPU (at "
              "most %d expected): something spun while it waited. In your code: a handler "
              "that waits by checking the clock in a loop (sleep with loop_job_sleep()), or a "
              "deadline in the past that on_timeout does not move. (If you build on your own "
              "chapter 1 loop: read its wake-up pipe empty every time, and poll a busy "
              "connection as fd -1.)", took, cpu, WB_SPIN_MS);
}

Test(concurrency, a_slow_handler_stalls_no_other_client)
{
    /* /delay stands in for a handler that blocks (a database query,
     * password hashing): while it sleeps, the server answers others. */
    struct http_request rq;
    ht_make_request(&rq, "GET", "/delay?ms=1");
    cr_assert(eq(int, handler_may_block(NULL, &rq), 1), "handler_may_block(GET /delay?ms=1) returned "
              "0: /delay may block, so the connection loop must run it where it stalls no one");
    ht_make_request(&rq, "GET", "/hello.txt");
    cr_assert(eq(int, handler_may_block(NULL, &rq), 0), "handler_may_block(GET /hello.txt) returned 1: "
              "serving a file does not block for long");

    const char *slow_req = "GET /delay?ms=800 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int slow = wb_connect(p);
    long long start = wb_now_ms();
    wb_send_str(p, slow, slow_req);

    char ctx[512];
    snprintf(ctx, sizeof ctx, "while another client's GET /delay?ms=800 was being answered, a "
             "GET /hello.txt on a second connection must be answered at once (within %d ms): "
             "a handler that blocks must not block the loop that serves everyone else",
             FAIR_MS / 4);
    int fd = wb_connect(p);
    const char *fast_req = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    wb_send_str(p, fd, fast_req);
    struct ht_response *r = must_read(p, fd, fast_req, strlen(fast_req), FAIR_MS / 4, ctx);
    ht_expect_status(p, r, 200, NULL, 0, ctx);
    ht_free(r);

    r = must_read(p, slow, slow_req, strlen(slow_req), 4000, "GET /delay?ms=800");
    long long took = wb_now_ms() - start;
    ht_expect_status(p, r, 200, NULL, 0, "GET /delay?ms=800");
    ht_expect_body(p, r, "slept 800 ms\n", 13, "GET /delay?ms=800 answers \"slept 800 ms\\n\"");
    cr_assert(took >= 750, "GET /delay?ms=800 was answered after %lld ms: it must wait 800 ms",
              took);
    ht_free(r);

    r = ht_exchange_str(p, "GET /delay?ms=soon HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ht_expect_status(p, r, 400, NULL, 0, "GET /delay?ms=soon: ms must be a number from 0 to 10000");
    ht_free(r);
}
