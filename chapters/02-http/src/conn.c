/* conn -- the HTTP connection state machine, as a service of the event
 * loop. See conn.h for the contracts, and loop.h for the loop's.
 *
 * The loop (chapter 1's loop.c) owns the sockets and calls us when bytes
 * arrived (on_data), when a response went out to its last byte
 * (on_drain), when a deadline passed (on_timeout), and when the server
 * stops (on_stop). Everything here works on buffers: c->in holds what
 * arrived and is not used yet; loop_send() queues what goes out.
 *
 * What is here to start with is the simplest service that works: one
 * request per connection, parsed again from the start after every read,
 * answered on the loop thread, the file read whole into memory, no
 * deadlines. It is enough to test stages 1 to 4 against a running server;
 * stages 5 to 8 turn it into the real thing. */
#include "conn.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "body.h"

/* A file is sent in pieces of this size (stage 8). */
#define FILE_CHUNK 65536

enum state { S_READ, S_WORK, S_WRITE };

/* One connection's HTTP state: c->data. The fields you will need are
 * here already; each stage says which it uses. */
struct http_conn {
    const struct server_config *cfg;
    enum state state;
    /* READ: the request as it arrives */
    struct http_scan scan;       /* stage 6: where the search for the head's end is */
    long long started;           /* stage 8: the request's first byte came then; -1: none */
    struct buf head;             /* the complete head; req's slices point into it */
    struct http_request req;
    struct http_head_info info;
    uint64_t body_left;          /* stage 7: Content-Length bytes still to come */
    struct chunked dec;          /* stage 7: the chunked decoder's place */
    struct buf body;             /* stage 7: the body, decoded */
    int continued;               /* stage 7: "100 Continue" was sent */
    /* WORK: the answer */
    struct response resp;
    int rc;                      /* what the handler returned */
    int cancelled;               /* stage 8: ... and whether the loop had given up on it */
    /* WRITE */
    struct buf scratch;          /* the response head, before it is queued */
    int file_fd;                 /* stage 8: a file still being sent, or -1 */
    off_t file_off, file_left;
    int close_after;             /* close once this response is out */
};

/* The size of c->out the loop must allow: the largest body we build in
 * memory (an echo of max_body bytes), its head, and a piece of a file. */
static size_t out_max(const struct server_config *cfg)
{
    return cfg->max_body + 2 * (size_t)HTTP_MAX_HEAD + FILE_CHUNK;
}

/* Makes h ready for the next request on the connection. */
static void request_reset(struct http_conn *h)
{
    h->state = S_READ;
    http_scan_init(&h->scan);
    h->started = -1;
    buf_consume(&h->head, h->head.len);
    buf_consume(&h->body, h->body.len);
    h->body_left = 0;
    chunked_init(&h->dec);
    h->continued = 0;
    response_free(&h->resp);
    response_init(&h->resp);
    h->rc = 0;
    h->cancelled = 0;
    if (h->file_fd >= 0)
        close(h->file_fd);
    h->file_fd = -1;
    h->file_left = 0;
}

/* Throws away the response being built and makes h->resp a fresh error
 * response with the given status that closes the connection: after a
 * failure, nothing of the failed one may go out. Returns 0, or -1 when
 * memory ran out. */
static int error_response(struct http_conn *h, int status)
{
    const struct http_handler *hd = &h->cfg->handler;
    int head_only = h->resp.head_only; /* an answer to HEAD has no body, errors too */
    response_free(&h->resp);
    response_init(&h->resp);
    h->resp.head_only = head_only;
    h->resp.close = h->close_after = 1;
    if (hd->error)
        return hd->error(hd->ctx, status, &h->resp);
    return response_error(&h->resp, status);
}

/* ---- writing ------------------------------------------------------------------ */

/* Queues h->resp: the head, then the body. Returns 0, -1 when the
 * response could not be built (nothing of it was sent), -2 when the
 * connection failed (loop_send). */
static int queue_response(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    struct response *r = &h->resp;

    buf_consume(&h->scratch, h->scratch.len);
    if (response_head(r, time(NULL), &h->scratch) < 0 || h->scratch.len == 0) {
        /* Until response_head() works (stage 3), a bare status line, so
         * that the status can be tested. */
        static const char bare[] = "HTTP/1.1 000 \r\n\r\n";
        char line[sizeof bare];
        memcpy(line, bare, sizeof bare);
        line[9] = (char)('0' + r->status / 100 % 10);
        line[10] = (char)('0' + r->status / 10 % 10);
        line[11] = (char)('0' + r->status % 10);
        return loop_send(l, c, line, sizeof bare - 1) < 0 ? -2 : 0;
    }
    if (loop_send(l, c, h->scratch.data, h->scratch.len) < 0)
        return -2;
    if (r->head_only || r->status < 200 || r->status == 204 || r->status == 304)
        return 0;
    if (r->file_fd < 0)
        return loop_send(l, c, r->body.data ? r->body.data : "", r->body.len) < 0 ? -2 : 0;
    /* TODO(stage 8): a file larger than FILE_CHUNK must not be read into
     * memory whole -- it may be larger than what a connection may queue
     * (out_max), and a 1 GiB file would need 1 GiB of memory. Move the
     * file to the connection (h->file_fd, file_off, file_left; r->file_fd
     * = -1), queue its first piece of at most FILE_CHUNK bytes here (pread
     * it into a buffer, loop_send it), and each further piece from
     * on_drain, when the last one is out. For now: all of it at once. */
    size_t len = (size_t)r->file_len;
    char *all = malloc(len ? len : 1);
    ssize_t n = all ? pread(r->file_fd, all, len, r->file_off) : -1;
    int rc = n == (ssize_t)len ? (loop_send(l, c, all, len) < 0 ? -2 : 0) : -1;
    free(all);
    return rc;
}

/* Sends h->resp and switches to WRITE. Returns 0 or LOOP_CLOSE. */
static int start_response(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    struct response *r = &h->resp;

    h->state = S_WRITE;
    c->paused = 1; /* read the next request once this one is out */
    /* TODO(stage 8): the client has timeout_ms to take the response:
     * c->deadline_ms = loop_now_ms() + h->cfg->timeout_ms. And when the
     * server is stopping (loop_stopping(l)), this is the last response:
     * close after it. */
    if (h->close_after)
        r->close = 1;
    h->close_after = r->close;
    size_t mark = c->out.len;
    int rc = queue_response(l, c);
    if (rc == 0)
        return 0;
    /* TODO(stage 5): when the response could not be built (rc == -1),
     * nothing of it was sent: take back what it queued (c->out.len =
     * mark), and answer 500 instead (error_response(h, 500), then queue
     * that -- once: if it fails too, LOOP_CLOSE). Never a head whose
     * Content-Length its body does not match. */
    (void)mark;
    return LOOP_CLOSE;
}

/* The request cannot be read (malformed, too large, too slow): answer
 * status and close -- what follows it cannot be framed. */
static int fail(struct loop *l, struct conn *c, int status)
{
    struct http_conn *h = c->data;
    /* Was it a HEAD? The request may not have parsed: look at its first
     * bytes, where they are (the head's own buffer once it was found),
     * after the empty lines a request may start with (RFC 9112 section
     * 2.2). An answer to HEAD has no body, an error neither (RFC 9110
     * section 9.3.2). */
    const char *p = h->head.len ? h->head.data : c->in.data;
    size_t n = h->head.len ? h->head.len : c->in.len, i = 0;
    while (i < n && (p[i] == '\r' || p[i] == '\n'))
        i++;
    h->resp.head_only = n - i >= 5 && memcmp(p + i, "HEAD ", 5) == 0;
    buf_consume(&c->in, c->in.len);
    if (error_response(h, status) < 0)
        return LOOP_CLOSE;
    return start_response(l, c);
}

/* ---- answering ------------------------------------------------------------------ */

/* The handler has answered (or failed): send what it made. */
static int finish_work(struct loop *l, struct conn *c)
{
    /* TODO(stage 5): when the handler returned -1 (h->rc < 0), its
     * response is half-built: throw it away and answer 500 instead --
     * error_response(h, 500) -- or 503 when the job was cancelled
     * (h->cancelled, stage 8). */
    return start_response(l, c);
}

/* A whole request is here: answer it. */
static int dispatch(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    const struct http_handler *hd = &h->cfg->handler;

    h->state = S_WORK;
    c->paused = 1;
    h->resp.close = h->close_after;
    h->resp.head_only = h->req.method.n == 4 && memcmp(h->req.method.p, "HEAD", 4) == 0;
    /* TODO(stage 8): when hd->may_block (it may be NULL: then nothing
     * blocks) says this request may block, run the handler on a worker
     * instead, so that it stalls no other client:
     * loop_submit(l, c, work, work_done), where work() calls
     * hd->serve(..., job) and stores its result and
     * loop_job_cancelled(job) in h, and work_done() -- back on the loop
     * thread -- calls finish_work() (LOOP_CLOSE: c->closing = 1). While
     * the job runs, the loop leaves the connection alone, and so must
     * you. No deadline meanwhile: c->deadline_ms = -1. */
    h->rc = hd->serve(hd->ctx, &h->req, &h->body, &h->resp, NULL);
    return finish_work(l, c);
}

/* ---- reading ------------------------------------------------------------------ */

/* Takes what c->in holds for the request being read, and dispatches the
 * request once it is complete. */
static int advance(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;

    if (h->state != S_READ || c->in.len == 0)
        return 0;
    /* TODO(stage 8): at the first byte of a request, h->started = now,
     * and the whole request must be here within timeout_ms of it:
     * c->deadline_ms = h->started + timeout_ms (on_timeout answers 408). */

    /* TODO(stage 6): parsing everything again after every read costs
     * O(n^2) for a head that trickles in. Find the end of the head with
     * http_scan_head(&h->scan, ...) instead -- it keeps its place --,
     * copy the head (that many bytes) into h->head, buf_consume() it from
     * c->in, and parse it there, once, with http_parse_request(): its
     * slices then stay valid while c->in grows with the body. */
    int n = http_parse_request(c->in.data, c->in.len, &h->req);
    if (n == HTTP_INCOMPLETE)
        return 0;
    if (n < 0)
        return fail(l, c, -n);
    if (buf_append(&h->head, c->in.data, (size_t)n) < 0)
        return LOOP_CLOSE;
    buf_consume(&c->in, (size_t)n);
    int p = http_parse_request(h->head.data, h->head.len, &h->req);
    if (p != n)
        return fail(l, c, p < 0 ? -p : 400); /* its own status: 414, 505, ... */
    int rc = http_check_head(&h->req, &h->info);
    if (rc < 0)
        return fail(l, c, -rc);
    /* TODO(stage 6): keep the connection open when h->info.keep_alive:
     * close_after = !keep_alive. */
    h->close_after = 1;

    /* TODO(stage 7): the body, as it arrives (this function runs again
     * after every read; keep your place in h):
     *  - Content-Length: larger than cfg->max_body: fail 413 at once;
     *    else move what c->in has of it (at most h->body_left bytes) into
     *    h->body, buf_consume() it, and wait until body_left is 0;
     *  - chunked: chunked_decode(&h->dec, c->in.data, c->in.len,
     *    &h->body, max_body, &done), buf_consume() what it used; an error
     *    is minus the status; wait until done;
     *  - "Expect: 100-continue" (HTTP/1.1) with none of the body here yet:
     *    loop_send() "HTTP/1.1 100 Continue\r\n\r\n", once. */
    return dispatch(l, c);
}

/* ---- the loop's callbacks --------------------------------------------------------- */

static int http_on_open(struct loop *l, struct conn *c)
{
    const struct server_config *cfg = loop_ctx(l);
    struct http_conn *h = calloc(1, sizeof *h);
    if (!h)
        return LOOP_CLOSE;
    /* Responses are queued whole: no Nagle delay on the last segment. */
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    h->cfg = cfg;
    buf_init(&h->head);
    buf_init(&h->body);
    buf_init(&h->scratch);
    response_init(&h->resp);
    h->file_fd = -1;
    request_reset(h);
    c->data = h;
    /* TODO(stage 8): the first request must start within timeout_ms:
     * c->deadline_ms = loop_now_ms() + cfg->timeout_ms. */
    return 0;
}

static int http_on_data(struct loop *l, struct conn *c)
{
    return advance(l, c);
}

static int http_on_drain(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    (void)l;
    if (h->state != S_WRITE)
        return 0; /* an interim "100 Continue" went out */
    /* TODO(stage 8): while h->file_left > 0, queue the file's next piece
     * (and give the client timeout_ms for it) instead. */
    /* TODO(stage 6): the response is out. Unless the connection closes
     * after it (h->close_after), make ready for the next request --
     * request_reset(h), c->paused = 0 (and, stage 8, an idle deadline) --
     * and go on with advance(): a pipelined request may be in c->in
     * already. */
    return LOOP_CLOSE;
}

static int http_on_timeout(struct loop *l, struct conn *c)
{
    /* TODO(stage 8): a request that has started (READ, h->started >= 0)
     * and did not arrive in time: fail(l, c, 408). Anything else (idle,
     * or a client that does not take its response): LOOP_CLOSE. */
    (void)l;
    (void)c;
    return LOOP_CLOSE;
}

static int http_on_stop(struct loop *l, struct conn *c)
{
    /* TODO(stage 8): an idle connection (READ, no byte of a request yet)
     * can go at once: LOOP_CLOSE. One with a request in progress is
     * finished: return 0 -- its response says "Connection: close", as
     * loop_stopping(l) is 1 now. A worker may hold h: only read it. */
    (void)l;
    (void)c;
    return LOOP_CLOSE;
}

static void http_on_close(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    (void)l;
    if (!h)
        return;
    if (h->file_fd >= 0)
        close(h->file_fd);
    response_free(&h->resp);
    buf_free(&h->head);
    buf_free(&h->body);
    buf_free(&h->scratch);
    free(h);
    c->data = NULL;
}

const struct service http_service = {
    .name = "http",
    .on_open = http_on_open,
    .on_data = http_on_data,
    .on_drain = http_on_drain,
    .on_timeout = http_on_timeout,
    .on_stop = http_on_stop,
    .on_close = http_on_close,
};

/* ---- start and stop ------------------------------------------------------------------ */

/* The loop settings for cfg. The loop never writes cfg: ctx is only not
 * const because it is the loop's general-purpose pointer. */
static struct loop_config loop_config_for(const struct server_config *cfg, int workers)
{
    return (struct loop_config){
        .listen_fd = cfg->listen_fd,
        .svc = &http_service,
        .ctx = (void *)cfg,
        .max_conns = cfg->max_clients,
        .out_max = out_max(cfg),
        .drain_ms = cfg->timeout_ms,
        .workers = workers,
    };
}

int conn_serve(const struct server_config *cfg, int fd)
{
    struct loop_config lc = loop_config_for(cfg, 0);
    lc.listen_fd = -1;
    struct loop *l = loop_new(&lc, NULL, 0);
    if (!l) {
        close(fd);
        return -1;
    }
    int rc = loop_add(l, fd) < 0 ? -1 : loop_run(l);
    loop_free(l);
    return rc;
}

int server_run(const struct server_config *cfg)
{
    struct loop_config lc = loop_config_for(cfg, CONN_WORKERS);
    struct loop *l = loop_new(&lc, NULL, 0);
    if (!l)
        return -1;
    int rc = loop_handle_signals(l);
    if (rc == 0 && cfg->ready)
        cfg->ready(cfg->ready_arg);
    if (rc == 0)
        rc = loop_run(l);
    int saved = errno;
    loop_free(l);
    errno = saved;
    return rc;
}
