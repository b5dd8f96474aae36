/* conn -- HTTP/1.1 connections on the event loop (stages 6 to 8).
 *
 * The loop (loop.h, from chapter 1) owns the sockets; this module is the
 * service it runs for each connection: a state machine that reads a
 * request, answers it, and -- on a persistent connection -- goes on with
 * the next one, also when it already arrived (pipelining).
 *
 *   READ   the head arrives: http_scan_head() keeps its place between
 *          reads, and the head is parsed once, when it is complete; then
 *          the body (Content-Length, or chunked with a decoder that keeps
 *          its place). Each byte is looked at a bounded number of times,
 *          however the client cuts the request.
 *   WORK   the handler runs: on the loop thread when it is quick, on a
 *          worker thread (loop_submit) when may_block() says it may block,
 *          so that it stalls no other client.
 *   WRITE  the response is sent: head and body, and a large file 64 KiB
 *          at a time, as the client takes it (on_drain).
 *
 * Deadlines keep one client from holding the server: the head and body of
 * a request must arrive within timeout_ms of its first byte -- a slowloris
 * that sends a byte now and then gets 408 and is closed --, a keep-alive
 * connection may stay idle timeout_ms between requests, and each piece of
 * a response (the head and the first 64 KiB, then each further 64 KiB)
 * must be taken by the client within timeout_ms.
 *
 * A stop (SIGTERM, SIGINT): idle connections close at once; a request in
 * progress is answered, with "Connection: close"; after timeout_ms the
 * handlers still running are cancelled (loop_job_cancelled()) and their
 * clients get 503; then the server returns. */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>

#include "buf.h"
#include "http.h"
#include "loop.h"
#include "response.h"

/* What answers the requests. Chapter 2 plugs in its file server
 * (handler.h); a later chapter plugs in its own router, with its own ctx. */
struct http_handler {
    /* 1 when serve() may take long for this request (a slow query,
     * password hashing): it then runs on a worker thread. May be NULL: no
     * request blocks. Runs on the loop thread; must be quick. */
    int (*may_block)(void *ctx, const struct http_request *req);
    /* Fills resp -- response_init()ed, resp->close and resp->head_only
     * already set -- with the answer to req, whose body (decoded) is body.
     * job is NULL on the loop thread; on a worker, once
     * loop_job_cancelled(job) is 1 the answer is no longer awaited: give
     * up and return -1. Returns 0, or -1 when it could not answer (memory
     * ran out, or cancelled): the client then gets 500 (503 when
     * cancelled) and the connection is closed. */
    int (*serve)(void *ctx, const struct http_request *req, const struct buf *body,
                 struct response *resp, const struct loop_job *job);
    void *ctx;
    /* Fills resp (response_init()ed) with the body of an error the
     * connection layer answers itself (400, 408, 413, 431, 500, 503, ...),
     * in the API's own format -- a JSON API's problem+json. Returns 0 or
     * -1. May be NULL: response_error()'s plain text. Runs on the loop
     * thread. */
    int (*error)(void *ctx, int status, struct response *resp);
};

struct server_config {
    int listen_fd;                /* from net_listen(); -1 for conn_serve() */
    struct http_handler handler;
    int max_clients;              /* open connections at once; more wait in the backlog */
    int timeout_ms;               /* see above */
    size_t max_body;              /* larger request bodies get 413 */
    void (*ready)(void *arg);     /* NULL, or called by server_run() once SIGTERM and
                                     SIGINT are handled, before the first client: where
                                     main() prints "listening on ..." -- a signal that
                                     follows that line then stops the server cleanly */
    void *ready_arg;
};

/* Worker threads for handlers that may block. */
#define CONN_WORKERS 4

/* The loop service for cfg's connections; loop_ctx() must be cfg. */
extern const struct service http_service;

/* Serves the requests of one connection until it closes, then closes fd,
 * with the same rules and timeouts as server_run(), on a loop of its own
 * without workers (a handler that blocks blocks this call only).
 * Returns 0, or -1 when it could not set up (fd is closed then too). */
int conn_serve(const struct server_config *cfg, int fd);

/* Accepts and serves connections until SIGTERM or SIGINT, then stops as
 * described above and returns 0. -1 with errno set on a setup error. */
int server_run(const struct server_config *cfg);

#endif
