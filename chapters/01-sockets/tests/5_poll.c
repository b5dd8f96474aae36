/* Stage 5: many clients at once with poll() -- non-blocking sockets, one
 * loop that serves everyone, and its limits: backpressure, max_conns, and
 * running out of file descriptors. */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "inproc.h"
#include "loop.h"
#include "net.h"
#include "wbtest.h"

WB_SUITE(poll);

/* How long one client may wait while another misbehaves. */
#define FAIR_MS 2000


Test(poll, net_set_nonblocking_makes_reads_return_eagain)
{
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
              "test setup: socketpair() failed: %s", strerror(errno));
    cr_assert(eq(int, net_set_nonblocking(sv[0]), 0), "net_set_nonblocking() did not return 0");
    int flags = fcntl(sv[0], F_GETFL);
    int nonblocking = (flags & O_NONBLOCK) != 0, rdwr = (flags & O_ACCMODE) == O_RDWR;
    cr_assert(nonblocking, "O_NONBLOCK is not set: fcntl(fd, F_SETFL, flags | O_NONBLOCK)");
    cr_assert(rdwr, "the other file status flags were lost: F_GETFL first, then add "
              "O_NONBLOCK to them");
    char c;
    errno = 0;
    ssize_t n = recv(sv[0], &c, 1, 0);
    cr_assert(n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK),
              "recv() on an empty non-blocking socket returned %ld (errno %d); expected -1 "
              "with EAGAIN", (long)n, errno);
    close(sv[0]);
    close(sv[1]);
}

Test(poll, serves_five_clients_used_in_reverse_order)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fds[5];
    for (int i = 0; i < 5; i++)
        fds[i] = wb_connect(p);
    /* The last client to connect talks first: a server that serves one
     * client at a time is still busy with the first. */
    for (int i = 4; i >= 0; i--) {
        char msg[32];
        snprintf(msg, sizeof msg, "I am client %d\n", i + 1);
        wb_send_str(p, fds[i], msg);
        wb_expect_bytes(p, fds[i], msg, strlen(msg), FAIR_MS,
                        "5 clients connected at once; client %d (connected %s) sent a line "
                        "while the others stayed connected and silent. A server that serves "
                        "one client until it leaves never gets to the others: use poll()",
                        i + 1, i == 4 ? "last" : "earlier");
    }
}

Test(poll, a_silent_client_does_not_block_the_others)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int silent = wb_connect(p);
    (void)silent;
    int fd = wb_connect(p);
    wb_send_str(p, fd, "hello\n");
    wb_expect_bytes(p, fd, "olleh\n", 6, FAIR_MS,
                    "a first client connected and sent nothing; a second one sent \"hello\\n\". "
                    "A blocking recv() on the silent client stalls everyone");
}

Test(poll, half_a_line_from_one_client_does_not_block_another)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int a = wb_connect(p), b = wb_connect(p);
    wb_send_str(p, a, "abc");
    wb_send_str(p, b, "xyz\n");
    wb_expect_bytes(p, b, "zyx\n", 4, FAIR_MS,
                    "client A sent \"abc\" (no '\\n' yet), then client B sent \"xyz\\n\"");
    wb_send_str(p, a, "def\n");
    wb_expect_bytes(p, a, "fedcba\n", 7, FAIR_MS,
                    "client A then finished its line with \"def\\n\": each client has its "
                    "own input buffer");
}

Test(poll, a_client_that_never_reads_does_not_block_the_others)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int hog = wb_connect(p);
    /* The hog sends and never reads: its echo fills the socket buffers, and
     * a blocking send() to it would hang the whole server. */
    size_t sent = wb_send_until_blocked(hog, 200);
    cr_assert(sent > 0, "could not send anything to the server\n%s", wb_describe(p));

    int fd = wb_connect(p);
    wb_send_str(p, fd, "am I served?\n");
    wb_expect_bytes(p, fd, "am I served?\n", 13, FAIR_MS,
                    "another client sent %zu bytes and never read the echo. Sending to it "
                    "must not block the loop: non-blocking sockets, queue the rest in "
                    "c->out, ask poll() for POLLOUT, and stop reading from a client whose "
                    "queue passed out_max / 2 (backpressure)",
                    sent);
}

Test(poll, each_client_has_its_own_prices)
{
    unsigned char ins[9] = { 'I', 0, 0, 0, 1, 0, 0, 0, 100 };
    unsigned char q[9] = { 'Q', 0, 0, 0, 0, 0, 0, 0, 10 };
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int a = wb_connect(p), b = wb_connect(p);
    wb_send(p, a, ins, 9);
    wb_send(p, b, q, 9);
    wb_expect_bytes(p, b, "\0\0\0\0", 4, FAIR_MS,
                    "client A inserted a price of 100, then client B (connected at the same "
                    "time) asked for the mean: B has no prices, the answer is 0");
    wb_send(p, a, q, 9);
    wb_expect_bytes(p, a, "\0\0\0\x64", 4, FAIR_MS, "client A asked for its own mean: 100");
}

Test(poll, serves_fifty_clients_at_once)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fds[50];
    for (int i = 0; i < 50; i++)
        fds[i] = wb_connect(p);
    for (int i = 0; i < 50; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "client %02d\n", i);
        wb_send_str(p, fds[i], msg);
    }
    for (int i = 49; i >= 0; i--) {
        char msg[32];
        snprintf(msg, sizeof msg, "client %02d\n", i);
        wb_expect_bytes(p, fds[i], msg, strlen(msg), FAIR_MS,
                        "50 clients connected, each sent one line; client %d's echo", i);
    }
}

Test(poll, a_client_leaving_in_the_middle_does_not_disturb_the_others)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int a = wb_connect(p), b = wb_connect(p), c = wb_connect(p);
    wb_send_str(p, b, "bye");
    wb_reset(b);
    wb_send_str(p, a, "a\n");
    wb_send_str(p, c, "c\n");
    wb_expect_bytes(p, c, "c\n", 2, FAIR_MS,
                    "of three clients, the middle one reset its connection; the last one's "
                    "echo (dropping a connection must not skip or mix up the others)");
    wb_expect_bytes(p, a, "a\n", 2, FAIR_MS, "and the first one's echo");
}

Test(poll, at_max_clients_the_next_client_waits_until_one_leaves)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--max-clients", "2", NULL);
    int a = wb_connect(p), b = wb_connect(p);
    wb_send_str(p, a, "a\n");
    wb_expect_bytes(p, a, "a\n", 2, FAIR_MS, "the first of two clients (--max-clients 2)");
    wb_send_str(p, b, "b\n");
    wb_expect_bytes(p, b, "b\n", 2, FAIR_MS, "the second of two clients (--max-clients 2)");
    int c = wb_connect(p); /* the kernel completes it: it waits in the backlog */
    wb_send_str(p, c, "c\n");
    cr_assert(wb_silent(c, 300), "with --max-clients 2 and two clients connected, a third was "
              "answered: at most max_conns connections are served at once -- leave the "
              "listening socket out of poll() while at the limit, so the others wait in the "
              "backlog\n%s", wb_describe(p));
    close(a);
    wb_expect_bytes(p, c, "c\n", 2, FAIR_MS,
                    "with --max-clients 2, a third client waited while two were connected; "
                    "then one left, so the third must be accepted and served now");
}

Test(poll, running_out_of_file_descriptors_does_not_spin_and_recovers)
{
    /* With the open-file limit reached, accept() fails with EMFILE and
     * the client stays in the backlog -- so the listening socket stays
     * readable. A loop that polls it again at once spins at 100% CPU. */
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int before = wb_open_fds(p);
    cr_assert(before > 0, "test setup: cannot count the program's open files");
    wb_limit_fds(p, before + 2);
    int fds[6];
    for (int i = 0; i < 6; i++)
        fds[i] = wb_connect(p);
    for (int i = 0; i < 2; i++) {
        wb_send_str(p, fds[i], "hi\n");
        wb_expect_bytes(p, fds[i], "hi\n", 3, FAIR_MS, "client %d of 6, with room for 2 more "
                        "open files in the server", i + 1);
    }
    long long cpu0 = wb_cpu_ms(p);
    wb_pause_ms(1000); /* the subject: what the server does while it cannot accept */
    long long cpu = wb_cpu_ms(p) - cpu0;
    cr_assert(cpu < WB_SPIN_MS,
              "the server had room for 2 more open files and 6 clients connected: 4 wait in "
              "the backlog, and accept() fails with EMFILE (\"Too many open files\"). In the "
              "next second it used %lld ms of CPU (at most %d expected): its loop spins on a "
              "listener it cannot serve. On EMFILE, stop polling the listening socket until "
              "a connection closes (or a while has passed)\n%s", cpu, WB_SPIN_MS, wb_describe(p));
    close(fds[0]);
    close(fds[1]);
    wb_send_str(p, fds[2], "back\n");
    wb_expect_bytes(p, fds[2], "back\n", 5, FAIR_MS,
                    "two clients left, so two file descriptors are free again: a client that "
                    "waited in the backlog must now be accepted and served");
}

/* ---- the loop's contract: on_drain -------------------------------------------- */

/* A service that streams: 16 pieces of 64 KiB, the next one queued each
 * time the last one went out (how chapter 2 sends a large file). */
enum { PIECES = 16, PIECE = 65536 };

static void piece_bytes(char *p, int k)
{
    for (int i = 0; i < PIECE; i++)
        p[i] = (char)('a' + (k + i / 4096) % 26);
}

static int stream_next(struct loop *l, struct conn *c)
{
    static char piece[PIECE];
    int *sent = c->data;
    if (*sent == PIECES)
        return LOOP_CLOSE;
    piece_bytes(piece, *sent);
    (*sent)++;
    return loop_send(l, c, piece, PIECE) < 0 ? LOOP_CLOSE : 0;
}

static int stream_open(struct loop *l, struct conn *c)
{
    c->data = calloc(1, sizeof(int));
    return c->data ? stream_next(l, c) : LOOP_CLOSE;
}

static void stream_close(struct loop *l, struct conn *c)
{
    (void)l;
    free(c->data);
    c->data = NULL;
}

static const struct service stream_service = {
    .name = "stream",
    .on_open = stream_open,
    .on_drain = stream_next,
    .on_close = stream_close,
};

Test(poll, the_loop_calls_on_drain_each_time_a_queue_is_sent)
{
    /* A client with a small receive buffer: 1 MiB cannot be taken at
     * once. The loop must send as the client takes it, call on_drain when
     * c->out ran empty -- the service then queues the next piece -- and
     * close after LOOP_CLOSE. */
    int client;
    struct loop *l = ip_loop_with_client(&stream_service, NULL, &client);
    int small = 16384;
    setsockopt(client, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    struct runner r;
    ip_start(&r, l);
    static char got[PIECES * PIECE + 1], want[PIECE];
    size_t n = wb_recv(client, got, sizeof got, 5000);
    cr_assert(eq(sz, n, (size_t)PIECES * PIECE),
              "a service queued 64 KiB in on_open, and 64 KiB more from each on_drain until "
              "it had sent 16 pieces (1 MiB); the client received %zu bytes. Call on_drain "
              "each time c->out has been sent to its last byte", n);
    for (int k = 0; k < PIECES; k++) {
        piece_bytes(want, k);
        cr_assert(memcmp(got + (size_t)k * PIECE, want, PIECE) == 0,
                  "piece %d of 16 arrived changed or out of order", k + 1);
    }
    cr_assert(eq(int, wb_wait_eof(client, 2000), 1), "on_drain returned LOOP_CLOSE after the "
              "last piece: the loop must close the connection");
    cr_assert(ip_finished(&r, 2000), "the only connection of a loop without a listener closed; "
              "loop_run() must then return");
    cr_assert(eq(int, r.rc, 0), "loop_run() returned %d; expected 0", r.rc);
    loop_free(l);
    close(client);
}
