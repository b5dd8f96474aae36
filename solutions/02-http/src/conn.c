/* conn -- an event loop that owns every socket, and a small pool of worker
 * threads that run the handler. See conn.h for the contracts.
 *
 * The loop thread waits in poll() for all connections at once, reads,
 * parses, answers and writes: a busy server serves many ready connections
 * per wakeup instead of switching threads for each request -- which is how
 * nginx gets its speed. A request whose handler may block (handler.h:
 * handler_may_block(); /delay here, SQLite and password hashing in later
 * chapters) goes to a small pool of worker threads instead, so it stalls
 * only itself; the loop writes the response when the worker is done.
 *
 * A connection is always in one of three states, and only its owner
 * touches it: READ (the loop: waiting for a request), WORK (a worker: the
 * handler runs), WRITE (the loop: sending the response). Every wait has a
 * deadline. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
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
#define WORKERS 4

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

enum state { C_READ, C_WORK, C_WRITE };

struct conn {
    int fd;
    enum state state;
    struct buf in;           /* received, not yet answered */
    struct buf out;          /* to send: head, body, or a file chunk */
    size_t out_sent;         /* bytes of out already sent */
    int file_fd;             /* a large file still being sent, or -1 */
    off_t file_off, file_left;
    int close_after;         /* close once everything is sent */
    int continued;           /* "100 Continue" sent for this request */
    int eof;                 /* the client has shut down its side */
    long long started;       /* first byte of the current request, or -1 */
    long long deadline;      /* the current wait ends then */
    struct conn *next;       /* in the job or done queue */
};

struct loop {
    const struct server_config *cfg;
    struct conn **conns;     /* every open connection */
    size_t nconns, cap;
    int pooled;              /* 0: run handlers on the loop thread */
    int done_pipe[2];        /* a worker writes a byte when a job is done */
};

/* ---- the worker pool --------------------------------------------------- */

static pthread_mutex_t q_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t q_cond = PTHREAD_COND_INITIALIZER;
static struct conn *jobs, **jobs_tail = &jobs;   /* for the workers */
static struct conn *done;                        /* for the loop */
static int q_closing;
static const struct server_config *pool_cfg;
static int pool_done_w = -1;

static volatile sig_atomic_t stop_requested;
static int wake_pipe[2] = { -1, -1 };

/* Builds the response to the request at the start of c->in (complete: the
 * loop checked) into c->out, and removes the request from c->in. On the
 * loop thread, rq, in_info and head are the loop's own parse; on a worker
 * they are NULL and it parses again. */
static void serve(const struct server_config *cfg, struct conn *c, const struct http_request *rq,
                  const struct http_head_info *in_info, int head)
{
    struct http_request req;
    struct http_head_info info;
    struct response resp;
    struct buf body;
    size_t used = 0;

    if (rq) {
        req = *rq;
        info = *in_info;
    } else {
        /* on a worker: parse again (the loop checked it already) */
        head = http_parse_request(c->in.data, c->in.len, &req);
        http_check_head(&req, &info);
    }
    buf_init(&body);
    response_init(&resp);
    if (info.body == HTTP_BODY_LENGTH) {
        used = (size_t)info.content_length;
        buf_append(&body, c->in.data + head, used);
    } else if (info.body == HTTP_BODY_CHUNKED) {
        struct chunked dec;
        int fin = 0;
        chunked_init(&dec);
        int n = chunked_decode(&dec, c->in.data + head, c->in.len - (size_t)head, &body,
                               cfg->max_body, &fin);
        used = n > 0 ? (size_t)n : 0;
    }

    handler_serve(cfg->site, &req, &body, &resp);
    resp.close = !info.keep_alive || stop_requested;
    c->close_after = resp.close;
    c->out.len = 0;
    c->out_sent = 0;
    if (response_head(&resp, time(NULL), &c->out) < 0) {
        c->close_after = 1;
    } else if (!resp.head_only && resp.status != 304 && resp.status != 204) {
        if (resp.file_fd < 0) {
            buf_append(&c->out, resp.body.data ? resp.body.data : "", resp.body.len);
        } else if (resp.file_len <= FILE_CHUNK) {
            /* A small file goes out with its head in one send(). */
            char *data = malloc(resp.file_len ? (size_t)resp.file_len : 1);
            ssize_t n = data ? pread(resp.file_fd, data, (size_t)resp.file_len, resp.file_off) : -1;
            if (n == (ssize_t)resp.file_len)
                buf_append(&c->out, data, (size_t)n);
            else
                c->close_after = 1;
            free(data);
        } else {
            c->file_fd = resp.file_fd; /* the loop sends it chunk by chunk */
            c->file_off = resp.file_off;
            c->file_left = resp.file_len;
            resp.file_fd = -1;
        }
    }
    response_free(&resp);
    buf_free(&body);
    buf_consume(&c->in, (size_t)head + used);
}

static void *worker(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&q_lock);
        while (!jobs && !q_closing)
            pthread_cond_wait(&q_cond, &q_lock);
        if (!jobs) {
            pthread_mutex_unlock(&q_lock);
            return NULL;
        }
        struct conn *c = jobs;
        jobs = c->next;
        if (!jobs)
            jobs_tail = &jobs;
        pthread_mutex_unlock(&q_lock);

        serve(pool_cfg, c, NULL, NULL, 0);

        pthread_mutex_lock(&q_lock);
        c->next = done;
        done = c;
        pthread_mutex_unlock(&q_lock);
        char b = 1;
        ssize_t n = write(pool_done_w, &b, 1); /* a full pipe: the loop is awake */
        (void)n;
    }
}

/* ---- sending ---------------------------------------------------------------- */

/* Sends what the socket takes now. Returns 1 when everything is sent, 0
 * when more is to come (wait for POLLOUT), -1 on an error. */
static int flush(struct conn *c)
{
    for (;;) {
        if (c->out_sent == c->out.len && c->file_fd >= 0 && c->file_left > 0) {
            size_t want = c->file_left < FILE_CHUNK ? (size_t)c->file_left : FILE_CHUNK;
            c->out.len = 0;
            c->out_sent = 0;
            char *chunk = malloc(want);
            ssize_t n = chunk ? pread(c->file_fd, chunk, want, c->file_off) : -1;
            if (n <= 0 || buf_append(&c->out, chunk, (size_t)n) < 0) {
                free(chunk);
                return -1;
            }
            free(chunk);
            c->file_off += n;
            c->file_left -= n;
        }
        if (c->out_sent == c->out.len)
            return 1;
        ssize_t n = send(c->fd, c->out.data + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
        if (n > 0)
            c->out_sent += (size_t)n;
        else if (n < 0 && errno == EINTR)
            continue;
        else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        else
            return -1;
    }
}

/* ---- connections ------------------------------------------------------------ */

static void conn_close(struct loop *l, size_t i)
{
    struct conn *c = l->conns[i];
    close(c->fd);
    if (c->file_fd >= 0)
        close(c->file_fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
    l->conns[i] = l->conns[--l->nconns];
}

static int conn_add(struct loop *l, int fd)
{
    if (l->nconns == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct conn **v = realloc(l->conns, cap * sizeof *v);
        if (!v)
            return -1;
        l->conns = v;
        l->cap = cap;
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return -1;
    c->fd = fd;
    c->file_fd = -1;
    c->state = C_READ;
    c->started = -1;
    c->deadline = now_ms() + l->cfg->timeout_ms;
    buf_init(&c->in);
    buf_init(&c->out);
    l->conns[l->nconns++] = c;
    return 0;
}

/* Queues an error response that closes the connection. */
static void fail(struct conn *c, int status)
{
    struct response resp;
    response_init(&resp);
    resp.close = 1;
    c->out.len = 0;
    c->out_sent = 0;
    if (response_error(&resp, status) == 0 && response_head(&resp, time(NULL), &c->out) == 0)
        buf_append(&c->out, resp.body.data, resp.body.len);
    response_free(&resp);
    c->close_after = 1;
    c->state = C_WRITE;
}

/* Answers a complete request here -- or, when the handler says it may
 * block, hands it to a worker so that the loop goes on serving others. */
static void dispatch(struct loop *l, struct conn *c, const struct http_request *req,
                     const struct http_head_info *info, int head)
{
    c->state = C_WORK;
    if (!l->pooled || !handler_may_block(req)) {
        serve(l->cfg, c, req, info, head);
        c->state = C_WRITE;
        c->deadline = now_ms() + l->cfg->timeout_ms;
        return;
    }
    c->next = NULL;
    pthread_mutex_lock(&q_lock);
    *jobs_tail = c;
    jobs_tail = &c->next;
    pthread_cond_signal(&q_cond);
    pthread_mutex_unlock(&q_lock);
}

/* Looks at c->in: a whole request goes to dispatch(); a broken one gets
 * its error response; an unfinished one keeps waiting. */
static void try_request(struct loop *l, struct conn *c)
{
    const struct server_config *cfg = l->cfg;
    struct http_request req;
    struct http_head_info info;

    if (c->in.len == 0) {
        c->started = -1;
        c->deadline = now_ms() + cfg->timeout_ms; /* idle between requests */
        return;
    }
    if (c->started < 0) {
        c->started = now_ms();
        c->deadline = c->started + cfg->timeout_ms; /* the whole request */
        c->continued = 0;
    }
    int head = http_parse_request(c->in.data, c->in.len, &req);
    if (head == HTTP_INCOMPLETE)
        return;
    if (head < 0) {
        fail(c, -head);
        return;
    }
    int rc = http_check_head(&req, &info);
    if (rc < 0) {
        fail(c, -rc);
        return;
    }
    size_t have = c->in.len - (size_t)head;
    if (info.body == HTTP_BODY_LENGTH) {
        if (info.content_length > cfg->max_body) {
            fail(c, 413);
            return;
        }
        if (have < info.content_length) {
            const struct http_slice *e = http_header_get(&req, "Expect");
            if (e && req.minor >= 1 && !c->continued && have == 0 &&
                http_slice_eq_nocase(*e, "100-continue")) {
                static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
                send(c->fd, cont, sizeof cont - 1, MSG_NOSIGNAL); /* tiny: fits */
                c->continued = 1;
            }
            return;
        }
    } else if (info.body == HTTP_BODY_CHUNKED) {
        /* Decode into a scratch buffer to learn whether the body is all
         * here; the worker decodes it again. */
        struct chunked dec;
        struct buf scratch;
        int fin = 0;
        chunked_init(&dec);
        buf_init(&scratch);
        int n = chunked_decode(&dec, c->in.data + head, have, &scratch, cfg->max_body, &fin);
        buf_free(&scratch);
        if (n < 0) {
            fail(c, -n);
            return;
        }
        if (!fin)
            return;
    }
    dispatch(l, c, &req, &info, head);
}

/* The response is out: close, or wait for (or start on) the next request. */
static int finish(struct loop *l, size_t i)
{
    struct conn *c = l->conns[i];
    if (c->close_after) {
        conn_close(l, i);
        return 0;
    }
    if (c->file_fd >= 0)
        close(c->file_fd);
    c->file_fd = -1;
    c->out.len = 0;
    c->out_sent = 0;
    c->state = C_READ;
    c->started = -1;
    try_request(l, c); /* a pipelined request may be here already */
    if (c->state == C_READ && c->eof) {
        conn_close(l, i); /* nothing more will come */
        return 0;
    }
    return 1;
}

/* Reads what c's socket has. Returns 0, or -1 when the connection ended
 * with nothing left to answer. At EOF after data, c->eof is set and the
 * requests already received are still answered (printf ... | nc). */
static int read_more(struct conn *c)
{
    char chunk[READ_CHUNK];
    for (;;) {
        ssize_t n = recv(c->fd, chunk, sizeof chunk, 0);
        if (n > 0) {
            if (buf_append(&c->in, chunk, (size_t)n) < 0)
                return -1;
            if ((size_t)n < sizeof chunk)
                return 0;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n == 0 && c->in.len > 0) {
            c->eof = 1;
            return 0;
        }
        return -1; /* EOF with nothing pending, or an error */
    }
}

/* Serves the connections of l (and new ones from listen_fd, if >= 0) until
 * a stop is requested, or -- without a listener -- until the last
 * connection closes. */
static int run_loop(struct loop *l, int listen_fd)
{
    const struct server_config *cfg = l->cfg;
    struct pollfd *pfds = NULL;
    size_t pcap = 0;
    long long stop_deadline = -1;

    for (;;) {
        if (stop_requested && stop_deadline < 0) {
            stop_deadline = now_ms() + cfg->timeout_ms;
            listen_fd = -1;
            /* idle connections close at once; busy ones finish */
            for (size_t i = l->nconns; i-- > 0;)
                if (l->conns[i]->state == C_READ && l->conns[i]->in.len == 0)
                    conn_close(l, i);
        }
        if ((listen_fd < 0 && l->nconns == 0) || (stop_deadline >= 0 && now_ms() >= stop_deadline))
            break;

        size_t n = l->nconns + 3;
        if (n > pcap) {
            struct pollfd *p = realloc(pfds, n * sizeof *p);
            if (!p)
                break;
            pfds = p;
            pcap = n;
        }
        long long now = now_ms(), next = -1;
        int full = (int)l->nconns >= cfg->max_clients;
        pfds[0] = (struct pollfd){ .fd = full ? -1 : listen_fd, .events = POLLIN };
        pfds[1] = (struct pollfd){ .fd = wake_pipe[0], .events = POLLIN };
        pfds[2] = (struct pollfd){ .fd = l->pooled ? l->done_pipe[0] : -1, .events = POLLIN };
        for (size_t i = 0; i < l->nconns; i++) {
            struct conn *c = l->conns[i];
            short ev = c->state == C_READ ? POLLIN : c->state == C_WRITE ? POLLOUT : 0;
            pfds[i + 3] = (struct pollfd){ .fd = ev ? c->fd : -1, .events = ev };
            if (ev && (next < 0 || c->deadline < next))
                next = c->deadline;
        }
        if (stop_deadline >= 0 && (next < 0 || stop_deadline < next))
            next = stop_deadline;
        int timeout = next < 0 ? -1 : next <= now ? 0 : (int)(next - now);
        if (poll(pfds, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        now = now_ms();

        /* Answers the workers finished: their connections come back. */
        if (pfds[2].fd >= 0 && (pfds[2].revents & POLLIN)) {
            char junk[256];
            while (read(l->done_pipe[0], junk, sizeof junk) > 0)
                ;
            pthread_mutex_lock(&q_lock);
            struct conn *d = done;
            done = NULL;
            pthread_mutex_unlock(&q_lock);
            for (; d; d = d->next) {
                d->state = C_WRITE;
                d->deadline = now + cfg->timeout_ms;
            }
        }

        /* Backwards: conn_close() moves the last connection into slot i. */
        for (size_t i = l->nconns; i-- > 0;) {
            struct conn *c = l->conns[i];
            short re = i + 3 < n ? pfds[i + 3].revents : 0;
            if (pfds[i + 3].fd != c->fd)
                re = 0; /* a connection that moved into this slot */
            if (c->state == C_READ && (re & (POLLIN | POLLHUP | POLLERR))) {
                if (read_more(c) < 0) {
                    conn_close(l, i);
                    continue;
                }
                try_request(l, c);
                if (c->state == C_READ && c->eof) {
                    conn_close(l, i); /* an unfinished request that never will be */
                    continue;
                }
            }
            if (c->state == C_WRITE) {
                int f = flush(c);
                if (f < 0) {
                    conn_close(l, i);
                    continue;
                }
                if (f == 1) {
                    if (!finish(l, i))
                        continue;
                    if (c->state == C_WRITE && flush(c) == 1 && !finish(l, i))
                        continue;
                }
            }
            if (c->state != C_WORK && now >= c->deadline) {
                /* slowloris: 408 for a started request; else just close */
                if (c->state == C_READ && c->started >= 0) {
                    fail(c, 408);
                    flush(c);
                }
                conn_close(l, i);
            }
        }

        if (pfds[0].fd >= 0 && (pfds[0].revents & POLLIN)) {
            while ((int)l->nconns < cfg->max_clients) {
                int fd = net_accept(listen_fd);
                if (fd < 0)
                    break; /* EAGAIN, or EMFILE and friends: later */
                /* Responses are written whole: no Nagle delay on the last
                 * segment of one. */
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                if (net_set_nonblocking(fd) < 0 || conn_add(l, fd) < 0)
                    close(fd);
            }
        }
    }
    /* Connections a worker still holds are left to the process exit. */
    for (size_t i = l->nconns; i-- > 0;)
        if (l->conns[i]->state != C_WORK)
            conn_close(l, i);
    free(pfds);
    free(l->conns);
    return 0;
}

void conn_serve(const struct server_config *cfg, int fd)
{
    struct loop l = { .cfg = cfg, .pooled = 0, .done_pipe = { -1, -1 } };
    if (net_set_nonblocking(fd) < 0 || conn_add(&l, fd) < 0) {
        close(fd);
        free(l.conns);
        return;
    }
    run_loop(&l, -1);
}

/* ---- start and stop ------------------------------------------------------------- */

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
    pthread_t workers[WORKERS];
    int nworkers = 0;
    struct loop l = { .cfg = cfg, .pooled = 1 };

    if (make_pipe(wake_pipe) < 0 || make_pipe(l.done_pipe) < 0)
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

    pool_cfg = cfg;
    pool_done_w = l.done_pipe[1];
    for (; nworkers < WORKERS; nworkers++)
        if (pthread_create(&workers[nworkers], NULL, worker, NULL) != 0)
            break;
    if (nworkers == 0)
        l.pooled = 0;

    run_loop(&l, cfg->listen_fd);

    pthread_mutex_lock(&q_lock);
    q_closing = 1;
    pthread_cond_broadcast(&q_cond);
    pthread_mutex_unlock(&q_lock);
    for (int i = 0; i < nworkers; i++)
        pthread_join(workers[i], NULL);
    return 0;
}
