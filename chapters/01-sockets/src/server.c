/* server -- the connection loop, the UDP loop, signals, and the echo
 * service. See server.h for the contracts.
 *
 * The connection helpers (conn_new ... server_now_ms) are written for you;
 * the loops are yours: one client at a time in stage 2, every client at
 * once with poll() in stage 5, UDP in stage 7, signals and idle clients in
 * stage 8. */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kv.h"
#include "net.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* ---- echo ------------------------------------------------------------ */

static int echo_on_data(struct server *srv, struct conn *c)
{
    (void)srv;
    /* TODO(stage 2): append everything in c->in to c->out (buf_append),
     * then buf_consume() it from c->in. Return SERVICE_CLOSE if the
     * append fails (out of memory), else 0. */
    (void)c;
    return 0;
}

const struct service echo_service = {
    .name = "echo",
    .on_data = echo_on_data,
};

/* ---- connections -------------------------------------------------------- */

struct conn *conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    buf_init(&c->in);
    buf_init(&c->out);
    c->last_active_ms = server_now_ms();
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

int server_add_conn(struct server *srv, struct conn *c)
{
    if (srv->nconns == srv->capconns) {
        size_t cap = srv->capconns ? srv->capconns * 2 : 16;
        struct conn **v = realloc(srv->conns, cap * sizeof *v);
        if (!v)
            return -1;
        srv->conns = v;
        srv->capconns = cap;
    }
    srv->conns[srv->nconns++] = c;
    return 0;
}

void server_drop_conn(struct server *srv, size_t i)
{
    struct conn *c = srv->conns[i];
    if (srv->svc->on_close)
        srv->svc->on_close(srv, c);
    srv->conns[i] = srv->conns[--srv->nconns];
    conn_free(c);
}

long server_read_some(struct conn *c)
{
    char chunk[SERVER_READ_CHUNK];
    ssize_t n;

    do
        n = recv(c->fd, chunk, sizeof chunk, 0);
    while (n < 0 && errno == EINTR);
    if (n > 0 && buf_append(&c->in, chunk, (size_t)n) < 0) {
        errno = ENOMEM;
        return -1;
    }
    return (long)n;
}

long long server_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- signals ------------------------------------------------------------ */

int server_handle_signals(void)
{
    /* TODO(stage 8): make SIGTERM and SIGINT ask for a stop.
     *
     *  1. The self-pipe: pipe(), both ends non-blocking
     *     (net_set_nonblocking) and FD_CLOEXEC. Keep both fds in statics.
     *  2. sigaction() SIGTERM and SIGINT to a handler that sets a
     *     static volatile sig_atomic_t flag and write()s one byte to the
     *     pipe (save errno first and restore it: the handler interrupts
     *     code that may be about to read errno). sa_flags = 0: without
     *     SA_RESTART, a blocking call returns EINTR.
     *  3. sigaction() SIGPIPE to SIG_IGN.
     * Until this is done, SIGTERM simply kills the program. */
    return 0;
}

int server_stop_requested(void)
{
    /* TODO(stage 8): 1 once the handler has run. */
    return 0;
}

int server_wakeup_fd(void)
{
    /* TODO(stage 8): the read end of the self-pipe. */
    return -1;
}

/* ---- the TCP loop ------------------------------------------------------- */

int server_run(struct server *srv)
{
    /* TODO(stage 2): serve one client after another (blocking sockets).
     *
     *   for each fd = net_accept(srv->listen_fd):
     *       c = conn_new(fd); call srv->svc->on_open if it is not NULL
     *       loop: n = server_read_some(c)
     *             n > 0:  call srv->svc->on_data (if not NULL), then send
     *                     c->out with net_send_all() and empty it
     *                     (buf_consume); SERVICE_CLOSE: close after that
     *             n == 0: the client shut down its side: send what is
     *                     left in c->out, then close
     *             n < 0:  an error (server_read_some() already retried
     *                     EINTR): close
     *       call srv->svc->on_close (if not NULL), conn_free(c)
     *   net_accept() failing with EINTR or ECONNABORTED is not fatal.
     *
     * TODO(stage 5): serve every client at once with poll() instead:
     * non-blocking sockets, a struct pollfd per connection, c->out sent
     * bit by bit as the socket takes it, srv->conns with server_add_conn()
     * and server_drop_conn(). See the lesson.
     *
     * TODO(stage 8): leave the loop and return 0 when
     * server_stop_requested(); close clients silent for
     * srv->idle_timeout_ms.
     *
     * Until stage 2, this loop accepts each client and hangs up at once. */
    for (;;) {
        int fd = net_accept(srv->listen_fd);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return -1;
        }
        close(fd);
    }
}

/* ---- the UDP loop ------------------------------------------------------- */

int server_run_udp(int fd, struct kv *kv)
{
    /* TODO(stage 7): answer datagrams until a stop is requested.
     *
     *   loop: poll() fd and server_wakeup_fd() for POLLIN
     *         recvfrom(fd, req, KV_DGRAM_MAX + 1, 0, &from, &fromlen)
     *         n = kv_handle(kv, req, len, reply, sizeof reply)
     *         n > 0: sendto(fd, reply, n, 0, &from, fromlen)
     *
     * One recvfrom() returns exactly one datagram: no framing needed. */
    (void)fd;
    (void)kv;
    errno = ENOSYS;
    return -1;
}
