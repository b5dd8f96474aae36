/* conn -- the connection loop (stages 6 and 8).
 *
 * It reads a request, parses it (http.h), reads its body (body.h), asks
 * the handler, writes the response, and -- on a persistent connection --
 * goes on with the next request, also when it already arrived
 * (pipelining). At most max_clients connections are open at once.
 *
 * A handler that may block (handler_may_block(): a slow query, password
 * hashing) must stall no other client. Two designs do that, and either
 * passes the tests: one thread per connection (simple; a context switch
 * per request), or -- the reference -- one event loop that owns every
 * socket and answers quick requests itself, with a small pool of worker
 * threads for the requests that may block (nginx-like speed).
 *
 * Timeouts keep one client from holding the server: the head and body of
 * a request must arrive within timeout_ms of its first byte (slowloris) --
 * else 408 and close --, a keep-alive connection may stay idle timeout_ms
 * between requests, and a response must be taken by the client within
 * timeout_ms. */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>

#include "handler.h"

struct server_config {
    int listen_fd;          /* from net_listen() */
    const struct site *site;
    int max_clients;        /* open connections at once; more wait in the backlog */
    int timeout_ms;         /* see above */
    size_t max_body;        /* larger request bodies get 413 */
};

/* Serves the requests of one connection until it closes, then closes fd,
 * with the same rules and timeouts as server_run(). Blocking: it returns
 * when the connection is done. */
void conn_serve(const struct server_config *cfg, int fd);

/* Accepts and serves connections until SIGTERM or SIGINT; then stops
 * accepting, closes idle connections, lets the busy ones finish (at most
 * timeout_ms) and returns 0. -1 with errno set on a setup error. */
int server_run(const struct server_config *cfg);

#endif
