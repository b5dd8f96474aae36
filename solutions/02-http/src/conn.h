/* conn -- the connection loop (stages 6 and 8).
 *
 * One thread per connection, at most max_clients at once: a handler may
 * block (a file on a slow disk now; SQLite and password hashing in later
 * chapters) without stalling anyone else. Each thread reads a request,
 * parses it (http.h), reads its body (body.h), asks the handler, writes
 * the response, and -- on a persistent connection -- goes on with the
 * next request, also when it already arrived (pipelining).
 *
 * Timeouts keep one client from holding a thread forever: the head and
 * body of a request must arrive within timeout_ms of its first byte
 * (slowloris) -- else 408 and close --, a keep-alive connection may stay
 * idle timeout_ms between requests, and a response must be taken by the
 * client within timeout_ms. */
#ifndef CONN_H
#define CONN_H

#include <stddef.h>

#include "handler.h"

struct server_config {
    int listen_fd;          /* from net_listen() */
    const struct site *site;
    int max_clients;        /* threads at once; more clients wait in the backlog */
    int timeout_ms;         /* see above */
    size_t max_body;        /* larger request bodies get 413 */
};

/* Serves the requests of one connection until it closes, then closes fd.
 * Blocking; called on the connection's own thread. */
void conn_serve(const struct server_config *cfg, int fd);

/* Accepts connections and serves each on its own thread until SIGTERM or
 * SIGINT; then stops accepting, wakes every connection, waits for their
 * threads (at most timeout_ms) and returns 0. -1 with errno set on a
 * setup error. */
int server_run(const struct server_config *cfg);

#endif
