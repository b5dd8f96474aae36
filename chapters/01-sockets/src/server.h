/* server -- the connection loop and the services it runs.
 *
 * The loop owns the sockets: it accepts clients, reads what they send into
 * each connection's input buffer, lets the service turn input into output,
 * and sends the output. A service never touches a socket; it works on
 * buffers only, which is why the same service runs unchanged on the
 * one-client-at-a-time loop of stage 2 and on the poll() loop of stage 5,
 * and why tests can call it without any network.
 *
 *   stage 2: server_run() serves one client at a time (blocking sockets)
 *   stage 5: server_run() serves every client at once with poll()
 *   stage 7: server_run_udp() answers datagrams
 *   stage 8: server_handle_signals(), graceful stop, idle timeout */
#ifndef SERVER_H
#define SERVER_H

#include <stddef.h>

#include "buf.h"

struct server;

/* One client connection. */
struct conn {
    int fd;                   /* the socket; -1 in tests without a network */
    struct buf in;            /* received, not yet used by the service */
    struct buf out;           /* queued by the service, not yet sent */
    int closing;              /* 1: read no more; close once out is sent */
    long long last_active_ms; /* when bytes last arrived (server_now_ms) */
    void *data;               /* the service's per-connection state */
};

/* What a service can do. Every callback may be NULL.
 * A callback returns 0 to go on, or SERVICE_CLOSE to have the loop send
 * what is queued in c->out and then close the connection. */
#define SERVICE_CLOSE (-1)
struct service {
    const char *name;
    /* A client connected; queue a greeting on c->out if the protocol has one. */
    int (*on_open)(struct server *srv, struct conn *c);
    /* Bytes were appended to c->in. Use every complete message, remove it
     * with buf_consume(), queue answers on c->out -- or on other clients'
     * out, see srv->conns. Keep an incomplete message in c->in. */
    int (*on_data)(struct server *srv, struct conn *c);
    /* The connection is about to be freed: release c->data. */
    void (*on_close)(struct server *srv, struct conn *c);
};

struct server {
    int listen_fd;                 /* listening socket from net_listen() */
    const struct service *svc;     /* what to run for each connection */
    int idle_timeout_ms;           /* close clients silent this long; 0: never */
    struct conn **conns;           /* the open connections, nconns of them */
    size_t nconns;
    size_t capconns;
};

/* Stop reading from a connection whose output queue holds this many bytes
 * until the client has read some of it: a client that never reads must not
 * make the server buffer without end (backpressure). */
#define SERVER_OUT_MAX (1024 * 1024)

/* Bytes asked for in one recv(). */
#define SERVER_READ_CHUNK 65536

/* The services of stages 2-6 (lines, prices and chat live in their own
 * modules). echo: every byte received is sent back, unchanged. */
extern const struct service echo_service;

/* Makes a connection for fd with empty buffers. Returns NULL when memory
 * runs out. The caller owns it; conn_free() closes fd (when >= 0). */
struct conn *conn_new(int fd);
void conn_free(struct conn *c);

/* Adds c to srv->conns. Returns 0, or -1 when memory runs out. */
int server_add_conn(struct server *srv, struct conn *c);

/* Calls the service's on_close, removes conns[i] from srv->conns (the last
 * connection takes its place) and frees it. */
void server_drop_conn(struct server *srv, size_t i);

/* Reads what fd has to give into c->in: one recv() of at most
 * SERVER_READ_CHUNK bytes. Returns the byte count (> 0), 0 at end of stream,
 * or -1 with errno set (EAGAIN on a non-blocking fd with nothing to read). */
long server_read_some(struct conn *c);

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC). */
long long server_now_ms(void);

/* Serves TCP clients on srv->listen_fd with srv->svc until SIGTERM or
 * SIGINT arrives (see server_handle_signals). Returns 0 after a requested
 * stop, -1 with errno set on an error the server cannot go on after.
 * Every connection is closed before it returns; srv->listen_fd is not. */
int server_run(struct server *srv);

/* Answers UDP datagrams on fd with the key-value store of kv.h until SIGTERM
 * or SIGINT. Returns 0 after a requested stop, -1 on an error. */
struct kv;
int server_run_udp(int fd, struct kv *kv);

/* Installs handlers so that SIGTERM and SIGINT ask the loops to stop
 * (server_stop_requested() turns 1; blocking calls return EINTR), and
 * ignores SIGPIPE. Returns 0, or -1 with errno set. */
int server_handle_signals(void);

/* 1 once SIGTERM or SIGINT has arrived, else 0. */
int server_stop_requested(void);

/* The read end of the "self-pipe": the signal handler writes a byte to it,
 * so a loop that polls this fd next to its sockets wakes up when a stop is
 * requested -- even if the signal arrived just before poll() was called.
 * -1 before server_handle_signals(). */
int server_wakeup_fd(void);

#endif
