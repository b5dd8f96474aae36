/* loop -- the event loop every server of this workbook runs on.
 *
 * One thread waits in poll() for every socket at once. The loop owns the
 * sockets: it accepts clients, reads what they send into each connection's
 * input buffer, lets the service turn input into output, sends the output
 * as fast as each client takes it, keeps each connection's deadline, and
 * stops when asked to. A service never touches a socket; it works on
 * buffers only, which is why the same service runs unchanged on the
 * one-client-at-a-time loop of stage 2 and on the poll() loop of stage 5,
 * and why tests can call it without any network. Work that would block
 * the loop -- a slow query, hashing a password -- goes to a small pool of
 * worker threads (loop_submit), so it stalls nobody else.
 *
 * Every limit, and what happens when it is reached:
 *   connections  at most max_conns open at once; more clients wait in the
 *                listen backlog until one closes.
 *   output       a connection's queue (c->out) holds at most out_max bytes.
 *                The loop stops reading from a connection whose queue
 *                passed out_max / 2 (backpressure: a client that does not
 *                read cannot make its own queue grow). Bytes queued for a
 *                connection by loop_send() that would take it past out_max
 *                make it a slow consumer: it is closed and its queue
 *                dropped, so one client that never reads cannot make the
 *                server buffer without end (Redis closes such clients the
 *                same way: client-output-buffer-limit).
 *   fds          when accept() fails for lack of file descriptors (EMFILE,
 *                ENFILE) or memory, the loop stops accepting until a
 *                connection closes or LOOP_ACCEPT_RETRY_MS passed, instead of
 *                spinning on a listener it cannot serve; the clients wait
 *                in the backlog meanwhile.
 *   close        a connection the service ends (LOOP_CLOSE) while its peer
 *                may still be sending is closed in stages: once c->out is
 *                sent, the loop shuts its own sending side -- the peer
 *                reads the end -- and reads and throws away what the peer
 *                still sends, until the peer closes too or LOOP_LINGER_MS
 *                passed. Closing at once with unread input makes the
 *                kernel answer with a reset, which can destroy the last
 *                answer before the peer read it (RFC 9112 section 9.6;
 *                nginx's lingering close).
 *   stop         loop_stop() -- or SIGTERM/SIGINT after
 *                loop_handle_signals() -- stops accepting and asks every
 *                connection to finish (on_stop). They get drain_ms; then
 *                running jobs are told to give up (loop_job_cancelled),
 *                get LOOP_CANCEL_MS more to come back, and everything
 *                still open is closed.
 *
 *   stage 2: loop_run() serves one client at a time (blocking sockets)
 *   stage 5: loop_run() serves every client at once with poll(), with
 *            backpressure, max_conns and the EMFILE pause
 *   stage 6: loop_send(): the output cap and its slow-consumer policy
 *   stage 7: loop_run_udp() answers datagrams
 *   stage 8: loop_handle_signals(), loop_stop(), draining, deadlines,
 *            closing in stages */
#ifndef LOOP_H
#define LOOP_H

#include <stddef.h>

#include "buf.h"

struct loop;
struct loop_job;

/* One client connection. The loop owns it; the service reads and writes
 * the fields marked "service" and must not free it. */
struct conn {
    int fd;                 /* the socket; -1 in tests without a network */
    struct buf in;          /* service: received, not yet used */
    struct buf out;         /* service, through loop_send(): queued, not yet sent */
    int closing;            /* service: 1 = read no more; close once out is sent */
    int paused;             /* service: 1 = read nothing for now (e.g. while a
                               response is being written) */
    long long deadline_ms;  /* service: when on_timeout runs (loop_now_ms()
                               clock); -1 = never */
    void *data;             /* service: its per-connection state */
    int failed;             /* the loop's: close it at the end of this round,
                               unsent output dropped (slow consumer, error) */
    int eof;                /* the loop's: the peer has closed its sending side */
    int lingering;          /* the loop's: our sending side is shut; what the
                               peer still sends is read and thrown away */
    struct loop_job *job;   /* the loop's: the job running for it, or NULL */
};

/* What a service can do. Every callback may be NULL. A callback that
 * returns an int returns 0 to go on, or LOOP_CLOSE to have the loop send
 * what c->out holds and then close the connection. */
#define LOOP_CLOSE (-1)
struct service {
    const char *name;
    /* A client connected; queue a greeting if the protocol has one. */
    int (*on_open)(struct loop *l, struct conn *c);
    /* Bytes were appended to c->in. Use every complete message, remove it
     * with buf_consume(), queue answers with loop_send() -- also to other
     * connections (loop_conn()). Keep an incomplete message in c->in. */
    int (*on_data)(struct loop *l, struct conn *c);
    /* c->out was sent to its last byte: queue more (the next piece of a
     * large file), or go on with the next request. */
    int (*on_drain)(struct loop *l, struct conn *c);
    /* c->deadline_ms passed. Set a new deadline and return 0, or return
     * LOOP_CLOSE: what c->out holds is then sent until the new deadline
     * -- or, without one, as much as the socket takes at once. NULL: the
     * connection is closed. */
    int (*on_timeout)(struct loop *l, struct conn *c);
    /* The loop is stopping. Return LOOP_CLOSE for a connection that can
     * go now, or 0 to let it finish its work (it must then end itself:
     * closing, or LOOP_CLOSE from a later callback). NULL: closing = 1. */
    int (*on_stop)(struct loop *l, struct conn *c);
    /* The connection is about to be freed: release c->data. */
    void (*on_close)(struct loop *l, struct conn *c);
};

/* Defaults for the fields of struct loop_config left at 0. */
#define LOOP_MAX_CONNS 1024
#define LOOP_OUT_MAX (1024 * 1024)
#define LOOP_DRAIN_MS 1000

/* After a failed accept() (no fds, no memory): wait at most this long
 * before trying again. */
#define LOOP_ACCEPT_RETRY_MS 250

/* How long a connection closed in stages may wait for its peer to close. */
#define LOOP_LINGER_MS 500

/* After drain_ms: how long cancelled jobs have to come back. */
#define LOOP_CANCEL_MS 200

/* Bytes asked for in one recv(). */
#define LOOP_READ_CHUNK 65536

struct loop_config {
    int listen_fd;          /* from net_listen(); -1: none (loop_add() only;
                               loop_run() returns when the last one closes) */
    const struct service *svc;
    void *ctx;              /* the service's own state: loop_ctx() */
    int max_conns;          /* open connections at most; 0: LOOP_MAX_CONNS */
    size_t out_max;         /* cap on each c->out; 0: LOOP_OUT_MAX */
    int idle_timeout_ms;    /* > 0: whenever bytes arrive, the loop sets
                               c->deadline_ms to now + this (so a silent
                               client is closed); 0: the service keeps the
                               deadlines */
    int drain_ms;           /* after a stop; 0: LOOP_DRAIN_MS */
    int workers;            /* threads for loop_submit(); 0: none */
};

/* Makes a loop for cfg (copied): the wake-up pipe and cfg->workers worker
 * threads. Does not touch cfg->listen_fd. Returns NULL when that fails;
 * err[0..errlen), when err is not NULL, then says why ("pipe: Too many
 * open files"). */
struct loop *loop_new(const struct loop_config *cfg, char *err, size_t errlen);

/* Stops the workers (waiting for the jobs they run), closes every
 * connection and the pipe, and frees l. Not cfg->listen_fd: its opener
 * closes it. Undoes loop_handle_signals(). NULL is a no-op. */
void loop_free(struct loop *l);

/* Serves connections until a stop is requested and done (see "stop"
 * above), or -- without a listener -- until the last connection closes.
 * Returns 0, or -1 with errno set on an error it cannot go on after. Every
 * connection is closed when it returns. Call it once per loop. */
int loop_run(struct loop *l);

/* Asks l to stop. Safe from any thread and from a signal handler: it only
 * write()s a byte to the loop's wake-up pipe. */
void loop_stop(struct loop *l);

/* 1 once the loop has begun to stop (on_stop was called), else 0. */
int loop_stopping(const struct loop *l);

/* Installs handlers so that SIGTERM and SIGINT call loop_stop(l) (without
 * SA_RESTART), and ignores SIGPIPE. One loop per process may do this: a
 * signal handler gets no pointer, so the pipe's fd is the one static
 * variable of this module. Returns 0, or -1 with errno set. */
int loop_handle_signals(struct loop *l);

/* Adds fd, an accepted or connected socket, as a connection: makes it
 * non-blocking and calls on_open. Returns 0, or -1 (fd is then closed)
 * when memory runs out or on_open refused it. */
int loop_add(struct loop *l, int fd);

/* Queues p[0..n) to be sent on c. Returns 0; or -1 when c is a slow
 * consumer (its queue would pass out_max) or memory ran out -- c is then
 * marked failed and closed at the end of the round, its queue dropped.
 * Calling it for a failed connection is a no-op that returns -1. */
int loop_send(struct loop *l, struct conn *c, const void *p, size_t n);

/* The open connections, in the order they were accepted: loop_conn(l, i)
 * for i < loop_nconns(l). Valid until the loop goes on. */
size_t loop_nconns(const struct loop *l);
struct conn *loop_conn(const struct loop *l, size_t i);

/* cfg->ctx. */
void *loop_ctx(const struct loop *l);

/* ---- blocking work -------------------------------------------------------
 *
 * loop_submit(l, c, work, done) runs work(c, job) on a worker thread, then
 * done(l, c) on the loop thread. Meanwhile the loop reads nothing from c,
 * keeps no deadline for it, and only sends what c->out already holds:
 * work() may use c->data (and what it points to) but nothing else of c,
 * and nothing of the loop; the loop thread leaves c->data alone until
 * done() runs. One job per connection at a time. Without workers (cfg
 * workers == 0), work and done run at once, before loop_submit returns.
 * Returns 0, or -1 when c already has a job or memory ran out. */
int loop_submit(struct loop *l, struct conn *c,
                void (*work)(struct conn *c, const struct loop_job *job),
                void (*done)(struct loop *l, struct conn *c));

/* 1 once the loop no longer waits for this job's result (it is stopping
 * and the drain time is over): the job should give up and return. 0 for
 * job == NULL (work run outside the pool). */
int loop_job_cancelled(const struct loop_job *job);

/* The socket of the connection job works for -- getpeername() on it
 * says which client asks (chapter 05 counts failed logins by it) --, or
 * -1 for job == NULL. */
int loop_job_fd(const struct loop_job *job);

/* Sleeps ms milliseconds, or less when the job is cancelled meanwhile.
 * Returns 0 after the whole time, -1 when cancelled. job may be NULL. */
int loop_job_sleep(const struct loop_job *job, long ms);

/* ---- datagrams, and time --------------------------------------------------- */

/* Answers a datagram: req[0..len) came in; write the answer to
 * reply[0..cap) and return its length (> 0), 0 for no answer, -1 on an
 * error (no answer either). */
typedef int (*loop_datagram_fn)(void *ctx, const char *req, size_t len, char *reply,
                                size_t cap);

/* Largest datagram read or sent. */
#define LOOP_DGRAM_MAX 65536

/* Answers the datagrams arriving on fd (a UDP socket from net_listen)
 * with fn(ctx, ...) until a stop is requested. Returns 0 then, -1 with
 * errno set on an error. */
int loop_run_udp(struct loop *l, int fd, loop_datagram_fn fn, void *ctx);

/* Milliseconds on a clock that never jumps (CLOCK_MONOTONIC). */
long long loop_now_ms(void);

/* A connection with empty buffers for fd, not in any loop (tests use
 * it with fd -1). Returns NULL when memory runs out. conn_free() closes
 * fd (when >= 0) and frees c; NULL is a no-op. */
struct conn *conn_new(int fd);
void conn_free(struct conn *c);

#endif
