/* conn -- the HTTP connection state machine, as a service of the event
 * loop. See conn.h for the contracts.
 *
 * The loop (chapter 1's loop.c) owns the sockets and calls us when bytes
 * arrived (on_data), when a response went out to its last byte
 * (on_drain), when a deadline passed (on_timeout), and when the server
 * stops (on_stop). Everything here works on buffers: c->in holds what
 * arrived and is not used yet; loop_send() queues what goes out.
 *
 * Each connection is in one of three states, and only one thread touches
 * its request at a time: READ and WRITE belong to the loop thread; in
 * WORK a worker thread may own the request (loop_submit), and the loop
 * reads nothing from that client until the worker is done. */
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

/* A file is sent in pieces of this size; one this small goes out with
 * its head, in one send(). */
#define FILE_CHUNK 65536

enum state { S_READ, S_WORK, S_WRITE };

/* One connection's HTTP state: c->data. */
struct http_conn {
    const struct server_config *cfg;
    enum state state;
    /* READ: the request as it arrives */
    struct http_scan scan;       /* where the search for the head's end is */
    long long started;           /* the request's first byte came then; -1: none yet */
    struct buf head;             /* the complete head; req's slices point into it */
    struct http_request req;
    struct http_head_info info;
    uint64_t body_left;          /* Content-Length bytes still to come */
    struct chunked dec;          /* the chunked decoder's place */
    struct buf body;             /* the body, decoded */
    int continued;               /* "100 Continue" was sent */
    /* WORK: the answer */
    struct response resp;
    int rc;                      /* what the handler returned */
    int cancelled;               /* ... and whether the loop had given up on it */
    /* WRITE */
    struct buf scratch;          /* the response head, before it is queued */
    int file_fd;                 /* a file still being sent, or -1 */
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

/* Reads the next piece of the file being sent and queues it. Returns 0;
 * -1 when the file cannot be read; -2 when the connection failed
 * (loop_send). */
static int send_file_piece(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    char chunk[FILE_CHUNK];
    size_t want = h->file_left < FILE_CHUNK ? (size_t)h->file_left : FILE_CHUNK;
    ssize_t n;
    do
        n = pread(h->file_fd, chunk, want, h->file_off);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1; /* an error, or the file got shorter since fstat() */
    if (loop_send(l, c, chunk, (size_t)n) < 0)
        return -2;
    h->file_off += n;
    h->file_left -= n;
    return 0;
}

/* Queues h->resp: the head, then the body or the first piece of the
 * file. Returns 0, -1 when the response could not be built (nothing of it
 * was sent; the caller may answer 500 instead), -2 when the connection
 * failed. */
static int queue_response(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    struct response *r = &h->resp;

    buf_consume(&h->scratch, h->scratch.len);
    if (response_head(r, time(NULL), &h->scratch) < 0)
        return -1;
    if (loop_send(l, c, h->scratch.data, h->scratch.len) < 0)
        return -2;
    if (r->head_only || r->status < 200 || r->status == 204 || r->status == 304)
        return 0;
    if (r->file_fd < 0)
        return loop_send(l, c, r->body.data ? r->body.data : "", r->body.len) < 0 ? -2 : 0;
    h->file_fd = r->file_fd; /* the connection owns it now */
    r->file_fd = -1;
    h->file_off = r->file_off;
    h->file_left = r->file_len;
    return h->file_left > 0 ? send_file_piece(l, c) : 0;
}

/* Sends h->resp and switches to WRITE. When it cannot be built, the
 * client gets 500 instead -- never a head whose Content-Length the body
 * does not match. Returns 0 or LOOP_CLOSE. */
static int start_response(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    struct response *r = &h->resp;

    h->state = S_WRITE;
    c->paused = 1; /* read the next request once this one is out */
    c->deadline_ms = loop_now_ms() + h->cfg->timeout_ms;
    if (h->close_after || loop_stopping(l))
        r->close = 1; /* the last response: say so */
    h->close_after = r->close;
    for (int attempt = 0; attempt < 2; attempt++) {
        size_t mark = c->out.len;
        int rc = queue_response(l, c);
        if (rc == 0)
            return 0;
        if (rc == -2 || attempt == 1)
            return LOOP_CLOSE;
        /* Take back what this response queued -- nothing of it was sent,
         * we are still in the same callback -- and answer 500. */
        c->out.len = mark;
        if (h->file_fd >= 0)
            close(h->file_fd);
        h->file_fd = -1;
        h->file_left = 0;
        if (error_response(h, 500) < 0)
            return LOOP_CLOSE;
    }
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
    struct http_conn *h = c->data;
    if (h->rc < 0 && error_response(h, h->cancelled ? 503 : 500) < 0)
        return LOOP_CLOSE;
    return start_response(l, c);
}

/* On a worker thread: only the request and the answer (c->data). */
static void work(struct conn *c, const struct loop_job *job)
{
    struct http_conn *h = c->data;
    const struct http_handler *hd = &h->cfg->handler;
    h->rc = hd->serve(hd->ctx, &h->req, &h->body, &h->resp, job);
    h->cancelled = loop_job_cancelled(job);
}

/* Back on the loop thread. */
static void work_done(struct loop *l, struct conn *c)
{
    if (finish_work(l, c) == LOOP_CLOSE)
        c->closing = 1;
}

/* A whole request is here: answer it on this thread, or hand it to a
 * worker when the handler says it may block. */
static int dispatch(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    const struct http_handler *hd = &h->cfg->handler;

    h->state = S_WORK;
    c->paused = 1;
    c->deadline_ms = -1; /* the handler's time is not the client's */
    h->resp.close = h->close_after || loop_stopping(l);
    h->resp.head_only = h->req.method.n == 4 && memcmp(h->req.method.p, "HEAD", 4) == 0;
    if (hd->may_block && hd->may_block(hd->ctx, &h->req)) {
        if (loop_submit(l, c, work, work_done) == 0)
            return 0;
        h->rc = -1; /* no memory for the job: 500 rather than block the loop */
        return finish_work(l, c);
    }
    h->rc = hd->serve(hd->ctx, &h->req, &h->body, &h->resp, NULL);
    return finish_work(l, c);
}

/* ---- reading ------------------------------------------------------------------ */

/* "Expect: 100-continue": the client waits for a go-ahead before it sends
 * the body. Give it, once, when none of the body has come. */
static void maybe_continue(struct loop *l, struct conn *c)
{
    static const char go[] = "HTTP/1.1 100 Continue\r\n\r\n";
    struct http_conn *h = c->data;
    const struct http_slice *e = http_header_get(&h->req, "Expect");
    if (!h->continued && c->in.len == 0 && h->body.len == 0 && h->req.minor >= 1 && e &&
        http_slice_eq_nocase(*e, "100-continue")) {
        h->continued = 1;
        loop_send(l, c, go, sizeof go - 1);
    }
}

/* Takes what c->in holds for the request being read: the head, then the
 * body. Each byte is looked at once. Dispatches the request once it is
 * complete. */
static int advance(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    const struct server_config *cfg = h->cfg;

    if (h->state != S_READ)
        return 0;
    if (h->head.len == 0) {
        if (c->in.len == 0)
            return 0;
        if (h->started < 0) {
            /* The first byte of a request: from now on, the whole request
             * has timeout_ms -- however it trickles in. */
            h->started = loop_now_ms();
            c->deadline_ms = h->started + cfg->timeout_ms;
        }
        int n = http_scan_head(&h->scan, c->in.data, c->in.len);
        if (n == HTTP_INCOMPLETE)
            return 0;
        if (n < 0)
            return fail(l, c, -n);
        /* The head moves to a buffer of its own, so that its slices stay
         * valid while c->in grows with the body. Parsed once, here. */
        if (buf_append(&h->head, c->in.data, (size_t)n) < 0)
            return LOOP_CLOSE;
        buf_consume(&c->in, (size_t)n);
        int p = http_parse_request(h->head.data, h->head.len, &h->req);
        if (p != n)
            return fail(l, c, p < 0 ? -p : 400);
        int rc = http_check_head(&h->req, &h->info);
        if (rc < 0)
            return fail(l, c, -rc);
        h->close_after = !h->info.keep_alive;
        if (h->info.body == HTTP_BODY_LENGTH) {
            if (h->info.content_length > cfg->max_body)
                return fail(l, c, 413); /* before reading any of it */
            h->body_left = h->info.content_length;
        }
    }

    if (h->info.body == HTTP_BODY_LENGTH && h->body_left > 0) {
        size_t take = c->in.len < h->body_left ? c->in.len : (size_t)h->body_left;
        if (take > 0 && buf_append(&h->body, c->in.data, take) < 0)
            return LOOP_CLOSE;
        buf_consume(&c->in, take);
        h->body_left -= take;
        if (h->body_left > 0) {
            maybe_continue(l, c);
            return 0;
        }
    } else if (h->info.body == HTTP_BODY_CHUNKED) {
        int fin = 0;
        int used = chunked_decode(&h->dec, c->in.data, c->in.len, &h->body, cfg->max_body, &fin);
        if (used < 0)
            return fail(l, c, -used);
        buf_consume(&c->in, (size_t)used);
        if (!fin) {
            maybe_continue(l, c);
            return 0;
        }
    }
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
    c->deadline_ms = loop_now_ms() + cfg->timeout_ms; /* the first request */
    return 0;
}

static int http_on_data(struct loop *l, struct conn *c)
{
    return advance(l, c);
}

static int http_on_drain(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    if (h->state != S_WRITE)
        return 0; /* an interim "100 Continue" went out */
    if (h->file_left > 0) {
        /* Each piece of a large file gets the client's full time. */
        c->deadline_ms = loop_now_ms() + h->cfg->timeout_ms;
        return send_file_piece(l, c) == 0 ? 0 : LOOP_CLOSE;
    }
    if (h->close_after || loop_stopping(l))
        return LOOP_CLOSE;
    request_reset(h);
    c->paused = 0;
    c->deadline_ms = loop_now_ms() + h->cfg->timeout_ms; /* idle until the next */
    return advance(l, c); /* a pipelined request may be here already */
}

static int http_on_timeout(struct loop *l, struct conn *c)
{
    struct http_conn *h = c->data;
    if (h->state == S_READ && h->started >= 0)
        return fail(l, c, 408); /* slowloris: 408, then close */
    return LOOP_CLOSE;          /* idle, or a client that does not read */
}

/* Idle connections go at once. A request in progress is answered -- with
 * "Connection: close", as loop_stopping() is 1 now -- and then closed.
 * (A worker may hold h: only read what it does not write.) */
static int http_on_stop(struct loop *l, struct conn *c)
{
    const struct http_conn *h = c->data;
    (void)l;
    return h->state == S_READ && h->started < 0 && c->in.len == 0 ? LOOP_CLOSE : 0;
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
