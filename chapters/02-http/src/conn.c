/* conn -- the connection loop. See conn.h for the contracts.
 *
 * What is here to start with is the simplest loop that works: one
 * connection at a time, one request per connection, no timeouts. It lets
 * you test stages 1 to 5 against a running server. Stages 6 to 8 turn it
 * into the real thing. */
#include "conn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "body.h"
#include "http.h"
#include "net.h"
#include "response.h"

/* Sends the response head and body. Until response_head() works (stage
 * 3), it sends a bare status line so that the status can be tested. */
static void send_response(int fd, const struct response *resp)
{
    struct buf head;
    buf_init(&head);
    if (response_head(resp, time(NULL), &head) < 0 || head.len == 0) {
        char line[64];
        int n = snprintf(line, sizeof line, "HTTP/1.1 %d \r\n\r\n", resp->status);
        net_send_all(fd, line, (size_t)n);
        buf_free(&head);
        return;
    }
    net_send_all(fd, head.data, head.len);
    buf_free(&head);
    if (resp->head_only)
        return;
    if (resp->file_fd < 0) {
        net_send_all(fd, resp->body.data ? resp->body.data : "", resp->body.len);
        return;
    }
    char chunk[65536];
    off_t off = resp->file_off, left = resp->file_len;
    while (left > 0) {
        size_t want = left < (off_t)sizeof chunk ? (size_t)left : sizeof chunk;
        ssize_t n = pread(resp->file_fd, chunk, want, off);
        if (n <= 0 || net_send_all(fd, chunk, (size_t)n) < 0)
            break;
        off += n;
        left -= n;
    }
}

static void send_error(int fd, int status)
{
    struct response resp;
    response_init(&resp);
    resp.close = 1;
    response_error(&resp, status);
    resp.status = status;
    send_response(fd, &resp);
    response_free(&resp);
}

void conn_serve(const struct server_config *cfg, int fd)
{
    struct buf in, body;
    struct http_request req;
    struct http_head_info info;
    char chunk[16384];
    int head;

    buf_init(&in);
    buf_init(&body);
    /* Read until the head is complete. */
    while ((head = in.len ? http_parse_request(in.data, in.len, &req) : 0) == HTTP_INCOMPLETE) {
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_append(&in, chunk, (size_t)n) < 0)
            goto out;
    }
    if (head < 0) {
        send_error(fd, -head);
        goto out;
    }
    int rc = http_check_head(&req, &info);
    if (rc < 0) {
        send_error(fd, -rc);
        goto out;
    }
    /* TODO(stage 7): read the body: info.content_length bytes after the
     * head, or chunked (chunked_decode() until done). Larger than
     * cfg->max_body: 413. If the client sent "Expect: 100-continue",
     * answer "HTTP/1.1 100 Continue\r\n\r\n" before reading the body. */

    struct response resp;
    response_init(&resp);
    handler_serve(cfg->site, &req, &body, &resp);
    /* TODO(stage 6): keep the connection open (loop) when info.keep_alive
     * and the response does not close it: remove this request's bytes
     * from in (buf_consume), parse the next request -- it may be in `in`
     * already (pipelining) -- and answer requests in order. Set
     * resp.close when the connection will be closed after the response. */
    resp.close = 1;
    send_response(fd, &resp);
    response_free(&resp);
out:
    buf_free(&in);
    buf_free(&body);
    close(fd);
}

int server_run(const struct server_config *cfg)
{
    /* TODO(stage 8): serve many connections at once, with deadlines, and
     * never let a handler that may block (handler_may_block()) stall the
     * others. Pick a design (conn.h):
     *  - one thread per connection (pthread_create, detached), at most
     *    cfg->max_clients at once -- simplest; or
     *  - one poll() loop over every connection that answers quick requests
     *    itself, plus a few worker threads for the ones that may block --
     *    what the reference does, and what `make bench` rewards.
     * Either way: non-blocking sockets and poll() with the time left; a
     * request must arrive within cfg->timeout_ms of its first byte (else
     * 408 and close), an idle keep-alive connection is closed after
     * timeout_ms, and so is a client that does not take its response. On
     * SIGTERM or SIGINT: stop accepting, let the connections finish,
     * return 0.
     *
     * For now: one connection after another, on this thread. */
    signal(SIGPIPE, SIG_IGN);
    for (;;) {
        int fd = net_accept(cfg->listen_fd);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return -1;
        }
        conn_serve(cfg, fd);
    }
}
