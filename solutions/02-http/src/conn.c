/* conn -- a thread per connection, reading requests and writing
 * responses with deadlines. See conn.h for the contracts.
 *
 * Every socket is non-blocking and every wait is a poll() with a deadline,
 * so no client can hold a thread longer than the timeouts allow. The main
 * thread only accepts; it keeps a registry of the open connections so that
 * a shutdown can wake them all. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "http.h"
#include "net.h"
#include "response.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

#define READ_CHUNK 16384
#define FILE_CHUNK 65536

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the registry of open connections -------------------------------- */

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reg_changed = PTHREAD_COND_INITIALIZER;
static int *reg_fds;           /* open connections, nreg of them */
static int nreg, capreg;
static int slot_pipe[2] = { -1, -1 }; /* a byte each time a connection ends */
static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };  /* written by the signal handler */

static int reg_add(int fd)
{
    int rc = 0;
    pthread_mutex_lock(&reg_lock);
    if (nreg == capreg) {
        int cap = capreg ? capreg * 2 : 64;
        int *v = realloc(reg_fds, (size_t)cap * sizeof *v);
        if (!v)
            rc = -1;
        else {
            reg_fds = v;
            capreg = cap;
        }
    }
    if (rc == 0)
        reg_fds[nreg++] = fd;
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

/* Removes fd and closes it, under the lock: the shutdown loop never sees
 * an fd number that was closed and reused. */
static void reg_close(int fd)
{
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < nreg; i++) {
        if (reg_fds[i] == fd) {
            reg_fds[i] = reg_fds[--nreg];
            break;
        }
    }
    close(fd);
    pthread_cond_broadcast(&reg_changed);
    pthread_mutex_unlock(&reg_lock);
    if (slot_pipe[1] >= 0) {
        char b = 1;
        ssize_t n = write(slot_pipe[1], &b, 1);
        (void)n;
    }
}

/* ---- socket I/O with deadlines ----------------------------------------- */

/* Waits until fd is ready for events or deadline (ms, monotonic) passes.
 * Returns 1 ready, 0 timed out, -1 error. */
static int wait_for(int fd, short events, long long deadline)
{
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0)
            return 0;
        struct pollfd pfd = { .fd = fd, .events = events };
        int r = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
        if (r > 0)
            return 1;
        if (r < 0 && errno != EINTR)
            return -1;
    }
}

/* Sends p[0..n) before deadline. Returns 0, or -1 (timeout or error). */
static int send_all(int fd, const char *p, size_t n, long long deadline)
{
    while (n > 0) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k > 0) {
            p += k;
            n -= (size_t)k;
        } else if (k < 0 && errno == EINTR) {
            continue;
        } else if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (wait_for(fd, POLLOUT, deadline) != 1)
                return -1;
        } else {
            return -1;
        }
    }
    return 0;
}

/* Reads what is there into in (waiting until deadline). Returns the byte
 * count, 0 at EOF, -1 on error, -2 on timeout. wait_first: poll() before
 * the first recv() -- right after a response the next request is rarely
 * there yet, and a recv() that fails with EAGAIN is a wasted system call. */
static long read_some(int fd, struct buf *in, long long deadline, int wait_first)
{
    char chunk[READ_CHUNK];
    if (wait_first) {
        int w = wait_for(fd, POLLIN, deadline);
        if (w <= 0)
            return w == 0 ? -2 : -1;
    }
    for (;;) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n > 0)
            return buf_append(in, chunk, (size_t)n) < 0 ? -1 : (long)n;
        if (n == 0)
            return 0;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        int w = wait_for(fd, POLLIN, deadline);
        if (w == 0)
            return -2;
        if (w < 0)
            return -1;
    }
}

/* Sends the head, then the body or the file region. Returns 0 or -1. */
static int send_response(int fd, const struct response *resp, long long deadline)
{
    struct buf head;
    int rc = -1;
    buf_init(&head);
    if (response_head(resp, time(NULL), &head) < 0)
        goto out;
    if (resp->head_only || resp->status == 304 || resp->status == 204) {
        rc = send_all(fd, head.data, head.len, deadline);
        goto out;
    }
    if (resp->file_fd < 0) {
        /* one buffer, one send for small responses */
        if (buf_append(&head, resp->body.data ? resp->body.data : "", resp->body.len) < 0)
            goto out;
        rc = send_all(fd, head.data, head.len, deadline);
        goto out;
    }
    if (resp->file_len <= FILE_CHUNK) {
        /* A small file goes out with its head in one send(): two small
         * sends in a row can wait for the client's delayed ACK. */
        char *data = malloc(resp->file_len ? (size_t)resp->file_len : 1);
        ssize_t n = data ? pread(resp->file_fd, data, (size_t)resp->file_len, resp->file_off) : -1;
        if (n == (ssize_t)resp->file_len && buf_append(&head, data, (size_t)n) == 0)
            rc = send_all(fd, head.data, head.len, deadline);
        free(data);
        goto out;
    }
    if (send_all(fd, head.data, head.len, deadline) < 0)
        goto out;
    char *chunk = malloc(FILE_CHUNK);
    if (!chunk)
        goto out;
    off_t off = resp->file_off, left = resp->file_len;
    while (left > 0) {
        size_t want = left < FILE_CHUNK ? (size_t)left : FILE_CHUNK;
        ssize_t n = pread(resp->file_fd, chunk, want, off);
        if (n <= 0 || send_all(fd, chunk, (size_t)n, deadline) < 0)
            break;
        off += n;
        left -= n;
    }
    free(chunk);
    rc = left == 0 ? 0 : -1;
out:
    buf_free(&head);
    return rc;
}

/* An error response that closes the connection. */
static void send_error(int fd, int status, long long deadline)
{
    struct response resp;
    response_init(&resp);
    resp.close = 1;
    if (response_error(&resp, status) == 0)
        send_response(fd, &resp, deadline);
    response_free(&resp);
}

/* ---- one connection ------------------------------------------------------ */

/* Reads the body of the request whose head is in->data[0..head) into body.
 * Returns the bytes of in the body used (>= 0), or minus an error status.
 * -1 means the client went away or was too slow to send the body. */
static long read_body(const struct server_config *cfg, int fd, struct buf *in, size_t head,
                      const struct http_request *req, const struct http_head_info *info,
                      struct buf *body, long long deadline)
{
    const struct http_slice *expect = http_header_get(req, "Expect");
    int wants_continue = expect && req->minor >= 1 && http_slice_eq_nocase(*expect, "100-continue");

    if (info->body == HTTP_BODY_NONE)
        return 0;
    if (info->body == HTTP_BODY_LENGTH && info->content_length > cfg->max_body)
        return -413;
    if (wants_continue && in->len == head) {
        static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
        if (send_all(fd, cont, sizeof cont - 1, deadline) < 0)
            return -1;
    }

    if (info->body == HTTP_BODY_LENGTH) {
        size_t need = (size_t)info->content_length;
        while (in->len - head < need) {
            long n = read_some(fd, in, deadline, 0);
            if (n == -2)
                return -408;
            if (n <= 0)
                return -1;
        }
        if (buf_append(body, in->data + head, need) < 0)
            return -500;
        return (long)need;
    }

    struct chunked dec;
    size_t used = 0;
    int done = 0;
    chunked_init(&dec);
    for (;;) {
        int n = chunked_decode(&dec, in->data + head + used, in->len - head - used, body,
                               cfg->max_body, &done);
        if (n < 0)
            return n;
        used += (size_t)n;
        if (done)
            return (long)used;
        long r = read_some(fd, in, deadline, 0);
        if (r == -2)
            return -408;
        if (r <= 0)
            return -1;
    }
}

void conn_serve(const struct server_config *cfg, int fd)
{
    struct buf in, body;
    buf_init(&in);
    buf_init(&body);
    /* Every wait below is a poll() with a deadline; that only works on a
     * non-blocking socket. */
    if (net_set_nonblocking(fd) < 0)
        goto out;

    for (;;) {
        /* Between requests a connection may idle timeout_ms; once the
         * first byte of a request is here, the whole request (head and
         * body) must arrive within timeout_ms: a slowloris gets 408. */
        long long idle_deadline = now_ms() + cfg->timeout_ms;
        long long deadline = in.len > 0 ? now_ms() + cfg->timeout_ms : -1;
        struct http_request req;
        int head;

        while ((head = in.len ? http_parse_request(in.data, in.len, &req) : 0) == HTTP_INCOMPLETE) {
            long n = read_some(fd, &in, deadline >= 0 ? deadline : idle_deadline, in.len == 0);
            if (n == -2 && deadline >= 0)
                send_error(fd, 408, now_ms() + cfg->timeout_ms);
            if (n <= 0)
                goto out;
            if (deadline < 0)
                deadline = now_ms() + cfg->timeout_ms;
        }
        if (head < 0) {
            send_error(fd, -head, deadline + cfg->timeout_ms);
            goto out;
        }

        struct http_head_info info;
        int rc = http_check_head(&req, &info);
        if (rc < 0) {
            send_error(fd, -rc, deadline + cfg->timeout_ms);
            goto out;
        }

        body.len = 0;
        long used = read_body(cfg, fd, &in, (size_t)head, &req, &info, &body, deadline);
        if (used == -1)
            goto out;
        if (used < 0) {
            send_error(fd, (int)-used, now_ms() + cfg->timeout_ms);
            goto out;
        }
        /* read_body() may have grown (moved) in: parse the head again so
         * the slices point into the buffer as it is now. */
        http_parse_request(in.data, in.len, &req);

        struct response resp;
        response_init(&resp);
        handler_serve(cfg->site, &req, &body, &resp);
        resp.close = !info.keep_alive || stop_requested;
        int sent = send_response(fd, &resp, now_ms() + cfg->timeout_ms);
        int close_now = resp.close;
        response_free(&resp);
        if (sent < 0 || close_now)
            goto out;
        buf_consume(&in, (size_t)head + (size_t)used);
    }
out:
    buf_free(&in);
    buf_free(&body);
    reg_close(fd);
}

/* ---- the accept loop ----------------------------------------------------- */

struct job {
    const struct server_config *cfg;
    int fd;
};

static void *conn_thread(void *arg)
{
    struct job job = *(struct job *)arg;
    free(arg);
    conn_serve(job.cfg, job.fd);
    return NULL;
}

static void on_stop(int sig)
{
    int saved = errno;
    (void)sig;
    stop_requested = 1;
    char b = 1;
    ssize_t n = write(wake_pipe[1], &b, 1);
    (void)n;
    errno = saved;
}

static int make_pipe(int p[2])
{
    if (pipe(p) < 0)
        return -1;
    for (int i = 0; i < 2; i++)
        if (net_set_nonblocking(p[i]) < 0 || fcntl(p[i], F_SETFD, FD_CLOEXEC) < 0)
            return -1;
    return 0;
}

int server_run(const struct server_config *cfg)
{
    struct sigaction sa;
    pthread_attr_t attr;

    if (make_pipe(wake_pipe) < 0 || make_pipe(slot_pipe) < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    if (net_set_nonblocking(cfg->listen_fd) < 0)
        return -1;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);

    while (!stop_requested) {
        pthread_mutex_lock(&reg_lock);
        int full = nreg >= cfg->max_clients;
        pthread_mutex_unlock(&reg_lock);
        /* At the cap, stop accepting: new clients wait in the backlog
         * until a connection ends (a byte on slot_pipe). */
        struct pollfd pfds[3] = {
            { .fd = full ? -1 : cfg->listen_fd, .events = POLLIN },
            { .fd = wake_pipe[0], .events = POLLIN },
            { .fd = slot_pipe[0], .events = POLLIN },
        };
        if (poll(pfds, 3, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (pfds[2].revents & POLLIN) {
            char junk[64];
            while (read(slot_pipe[0], junk, sizeof junk) > 0)
                ;
        }
        if (!(pfds[0].revents & POLLIN))
            continue;
        int fd = net_accept(cfg->listen_fd);
        if (fd < 0)
            continue; /* EAGAIN, ECONNABORTED, EMFILE: try again later */
        struct job *job = malloc(sizeof *job);
        pthread_t t;
        /* Responses are written whole; don't let Nagle's algorithm hold
         * back the last segment of one. */
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (!job || net_set_nonblocking(fd) < 0 || reg_add(fd) < 0) {
            free(job);
            close(fd);
            continue;
        }
        *job = (struct job){ cfg, fd };
        if (pthread_create(&t, &attr, conn_thread, job) != 0) {
            free(job);
            reg_close(fd);
        }
    }
    pthread_attr_destroy(&attr);

    /* Wake every connection: a thread waiting for a request sees EOF; one
     * busy with a response finishes it (SHUT_RD leaves writing alone). */
    pthread_mutex_lock(&reg_lock);
    for (int i = 0; i < nreg; i++)
        shutdown(reg_fds[i], SHUT_RD);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += cfg->timeout_ms / 1000 + 1;
    while (nreg > 0 && pthread_cond_timedwait(&reg_changed, &reg_lock, &until) == 0)
        ;
    pthread_mutex_unlock(&reg_lock);
    return 0;
}
