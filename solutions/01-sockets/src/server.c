/* server -- the poll() connection loop, the UDP loop, signals, and the
 * echo service. See server.h for the contracts.
 *
 * One thread serves every client: poll() says which sockets are ready,
 * and every socket is non-blocking, so no single client can stall the
 * loop. What this loop deliberately does not do: use threads, cap the
 * number of clients, or flush queued output on shutdown (it closes). */
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
    if (buf_append(&c->out, c->in.data, c->in.len) < 0)
        return SERVICE_CLOSE;
    buf_consume(&c->in, c->in.len);
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

static volatile sig_atomic_t stop_requested;
static int wakeup[2] = { -1, -1 };

static void on_stop_signal(int sig)
{
    int saved = errno; /* a handler must not change errno under main's feet */
    (void)sig;
    stop_requested = 1;
    if (wakeup[1] >= 0) {
        char b = 1;
        ssize_t n = write(wakeup[1], &b, 1); /* full pipe: already awake */
        (void)n;
    }
    errno = saved;
}

int server_handle_signals(void)
{
    if (wakeup[0] < 0) {
        if (pipe(wakeup) < 0)
            return -1;
        for (int i = 0; i < 2; i++) {
            if (net_set_nonblocking(wakeup[i]) < 0 ||
                fcntl(wakeup[i], F_SETFD, FD_CLOEXEC) < 0)
                return -1;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = 0; /* no SA_RESTART: blocking calls return EINTR */
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;

    sa.sa_handler = SIG_IGN; /* a write to a closed peer: EPIPE, not death */
    if (sigaction(SIGPIPE, &sa, NULL) < 0)
        return -1;
    return 0;
}

int server_stop_requested(void)
{
    return stop_requested != 0;
}

int server_wakeup_fd(void)
{
    return wakeup[0];
}

/* ---- the TCP loop ------------------------------------------------------- */

/* Accepts every client waiting on the non-blocking listening socket. */
static void accept_clients(struct server *srv)
{
    for (;;) {
        int fd = net_accept(srv->listen_fd);
        if (fd < 0) {
            /* EAGAIN: none left. EMFILE and friends: try again on the
             * next round; the client waits in the backlog meanwhile. */
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        struct conn *c = NULL;
        if (net_set_nonblocking(fd) < 0 || !(c = conn_new(fd))) {
            close(fd);
            continue;
        }
        if (server_add_conn(srv, c) < 0) {
            conn_free(c);
            continue;
        }
        if (srv->svc->on_open && srv->svc->on_open(srv, c) == SERVICE_CLOSE)
            c->closing = 1;
    }
}

/* Sends what c->out holds, as much as the socket takes now.
 * Returns 0, or -1 when the connection is broken. */
static int flush_some(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return 0; /* the client is slow: POLLOUT will tell us */
            return -1;
        }
        buf_consume(&c->out, (size_t)n);
    }
    return 0;
}

/* Reads from c and runs the service. Returns 0, or -1 to drop c now. */
static int serve_input(struct server *srv, struct conn *c, long long now)
{
    long n = server_read_some(c);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : -1;
    if (n == 0) {
        c->closing = 1; /* end of stream: answer what came, then close */
        return 0;
    }
    c->last_active_ms = now;
    if (srv->svc->on_data && srv->svc->on_data(srv, c) == SERVICE_CLOSE)
        c->closing = 1;
    return 0;
}

/* How long poll() may sleep before the next idle timeout is due. */
static int poll_timeout(const struct server *srv, long long now)
{
    if (srv->idle_timeout_ms <= 0 || srv->nconns == 0)
        return -1;
    long long next = -1;
    for (size_t i = 0; i < srv->nconns; i++) {
        long long due = srv->conns[i]->last_active_ms + srv->idle_timeout_ms;
        if (next < 0 || due < next)
            next = due;
    }
    return next <= now ? 0 : (int)(next - now);
}

int server_run(struct server *srv)
{
    struct pollfd *pfds = NULL;
    size_t pcap = 0;
    int rc = -1, saved = 0;

    if (net_set_nonblocking(srv->listen_fd) < 0)
        return -1;

    while (!server_stop_requested()) {
        /* pfds[0]: new clients, pfds[1]: the stop signal, then one per
         * connection, in srv->conns order. */
        size_t n = srv->nconns + 2;
        if (n > pcap) {
            struct pollfd *p = realloc(pfds, n * sizeof *p);
            if (!p) {
                saved = ENOMEM;
                goto out;
            }
            pfds = p;
            pcap = n;
        }
        pfds[0] = (struct pollfd){ .fd = srv->listen_fd, .events = POLLIN };
        pfds[1] = (struct pollfd){ .fd = server_wakeup_fd(), .events = POLLIN };
        for (size_t i = 0; i < srv->nconns; i++) {
            struct conn *c = srv->conns[i];
            short ev = 0;
            /* Backpressure: stop reading while the client does not read. */
            if (!c->closing && c->out.len < SERVER_OUT_MAX)
                ev |= POLLIN;
            if (c->out.len > 0)
                ev |= POLLOUT;
            pfds[i + 2] = (struct pollfd){ .fd = c->fd, .events = ev };
        }

        if (poll(pfds, (nfds_t)n, poll_timeout(srv, server_now_ms())) < 0) {
            if (errno == EINTR)
                continue;
            saved = errno;
            goto out;
        }

        long long now = server_now_ms();
        /* Backwards, so that server_drop_conn() moving the last connection
         * into slot i only moves one that was already served. */
        for (size_t i = srv->nconns; i-- > 0;) {
            struct conn *c = srv->conns[i];
            short re = pfds[i + 2].revents;
            if ((re & (POLLIN | POLLHUP | POLLERR)) && !c->closing &&
                serve_input(srv, c, now) < 0) {
                server_drop_conn(srv, i);
                continue;
            }
            if (flush_some(c) < 0 || (c->closing && c->out.len == 0) ||
                (srv->idle_timeout_ms > 0 &&
                 now - c->last_active_ms >= srv->idle_timeout_ms)) {
                server_drop_conn(srv, i);
                continue;
            }
        }

        if (pfds[0].revents & POLLIN)
            accept_clients(srv);
    }
    rc = 0;

out:
    while (srv->nconns > 0)
        server_drop_conn(srv, srv->nconns - 1);
    free(pfds);
    if (rc < 0)
        errno = saved;
    return rc;
}

/* ---- the UDP loop ------------------------------------------------------- */

int server_run_udp(int fd, struct kv *kv)
{
    /* One byte more than the largest request, to see one that is too big. */
    char req[KV_DGRAM_MAX + 1];
    char reply[2 * KV_DGRAM_MAX];

    if (net_set_nonblocking(fd) < 0)
        return -1;
    while (!server_stop_requested()) {
        struct pollfd pfds[2] = {
            { .fd = fd, .events = POLLIN },
            { .fd = server_wakeup_fd(), .events = POLLIN },
        };
        if (poll(pfds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (!(pfds[0].revents & POLLIN))
            continue;

        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, req, sizeof req, 0, (struct sockaddr *)&from,
                             &fromlen);
        if (n < 0)
            continue; /* EAGAIN, EINTR, or an ICMP error from an old peer */

        int r = kv_handle(kv, req, (size_t)n, reply, sizeof reply);
        if (r > 0) {
            /* UDP has no send-all: a datagram goes out whole or not at
             * all, and a lost answer is the client's to ask again. */
            ssize_t sent = sendto(fd, reply, (size_t)r, 0,
                                  (struct sockaddr *)&from, fromlen);
            (void)sent;
        }
    }
    return 0;
}
