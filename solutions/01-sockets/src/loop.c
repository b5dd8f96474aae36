/* loop -- the poll() event loop, its worker pool, the UDP loop and
 * signals. See loop.h for the contracts.
 *
 * One thread runs loop_run(): poll() says which sockets are ready, and
 * every socket is non-blocking, so no single client can stall the others.
 * Worker threads run only the jobs handed to them (loop_submit); they
 * share nothing with the loop thread but the job queues, under one mutex,
 * and they wake the loop through the same pipe a signal does.
 *
 * The wake-up pipe carries one-byte messages: 'S' asks the loop to stop
 * (loop_stop, or a signal), 'J' says that jobs are done. The loop reads
 * the pipe empty every time it is readable -- a byte left in it would keep
 * poll() returning at once, and the loop would spin. */
#include "loop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* How many times one round may refill a connection's output from
 * on_drain (pipelined answers) before it lets the others have a turn. */
#define DRAIN_ROUNDS 16

struct loop_job {
    struct conn *c;
    void (*work)(struct conn *c, const struct loop_job *job);
    void (*done)(struct loop *l, struct conn *c);
    struct pool *pool;
    atomic_int cancelled;     /* set by the loop thread, read by the worker */
    struct loop_job *next;
};

/* The worker pool. Everything but threads and wake_fd is under lock. */
struct pool {
    pthread_mutex_t lock;
    pthread_cond_t has_work;   /* workers wait here for jobs */
    pthread_cond_t cancel;     /* loop_job_sleep() waits here */
    struct loop_job *todo, **todo_tail;
    struct loop_job *done;     /* finished jobs, for the loop thread */
    int queued;                /* jobs in todo */
    int idle;                  /* workers waiting on has_work */
    int waking;                /* of those, signalled and not yet up (at most) */
    int quit;
    pthread_t *threads;
    int nthreads;
    int wake_fd;               /* the loop's pipe, write end */
};

struct loop {
    struct loop_config cfg;
    struct conn **conns;       /* open connections, in accept order */
    size_t nconns, cap;
    struct pollfd *pfds;
    size_t npfds;
    int wake[2];               /* the wake-up pipe: read end, write end */
    int stopping;              /* a stop was requested */
    long long drain_end;       /* stopping: when jobs get cancelled */
    long long hard_end;        /* then: when the rest is closed; -1 before */
    long long accept_at;       /* accept again from then on (0: now) */
    int pool_ready;            /* pool.lock and its conds exist */
    struct pool pool;
};

/* The write end of the pipe of the loop that handles signals. A signal
 * handler receives no pointer, so this is the one static variable here:
 * signal dispositions belong to the whole process anyway. */
static volatile sig_atomic_t signal_fd = -1;

long long loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- connections ----------------------------------------------------------- */

struct conn *conn_new(int fd)
{
    struct conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->fd = fd;
    buf_init(&c->in);
    buf_init(&c->out);
    c->deadline_ms = -1;
    return c;
}

void conn_free(struct conn *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    free(c);
}

size_t loop_nconns(const struct loop *l)
{
    return l->nconns;
}

struct conn *loop_conn(const struct loop *l, size_t i)
{
    return i < l->nconns ? l->conns[i] : NULL;
}

void *loop_ctx(const struct loop *l)
{
    return l->cfg.ctx;
}

int loop_add(struct loop *l, int fd)
{
    struct conn *c = NULL;
    if (l->nconns == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct conn **v = realloc(l->conns, cap * sizeof *v);
        if (!v)
            goto fail;
        l->conns = v;
        l->cap = cap;
    }
    if (net_set_nonblocking(fd) < 0 || !(c = conn_new(fd)))
        goto fail;
    if (l->cfg.idle_timeout_ms > 0)
        c->deadline_ms = loop_now_ms() + l->cfg.idle_timeout_ms;
    l->conns[l->nconns++] = c;
    if (l->cfg.svc->on_open && l->cfg.svc->on_open(l, c) == LOOP_CLOSE)
        c->closing = 1; /* its greeting or refusal is sent, then it closes */
    return 0;
fail:
    close(fd);
    return -1;
}

/* Calls on_close, removes conns[i] -- keeping the others in order -- and
 * frees it. */
static void drop_conn(struct loop *l, size_t i)
{
    struct conn *c = l->conns[i];
    if (l->cfg.svc->on_close)
        l->cfg.svc->on_close(l, c);
    memmove(&l->conns[i], &l->conns[i + 1], (l->nconns - i - 1) * sizeof *l->conns);
    l->nconns--;
    conn_free(c);
    l->accept_at = 0; /* a slot and an fd are free again */
}

int loop_send(struct loop *l, struct conn *c, const void *p, size_t n)
{
    if (c->failed)
        return -1;
    if (n > l->cfg.out_max - c->out.len || buf_append(&c->out, p, n) < 0) {
        /* A slow consumer (or no memory): drop it rather than buffer on. */
        c->failed = 1;
        buf_consume(&c->out, c->out.len);
        return -1;
    }
    return 0;
}

/* ---- the worker pool --------------------------------------------------------- */

/* Waking a thread costs a context switch, which on a loaded core is worth
 * more than a small job: a read of one row from a database takes a few
 * microseconds, a switch there and back as long again. So loop_submit()
 * signals a worker only when the jobs waiting outnumber the workers
 * already signalled and one more is asleep; a worker takes job after job
 * while the queue has any; and both signal and write after they let go of
 * the mutex, so that the thread they wake does not wake only to wait for
 * it. A worker that runs a long job (a lock it waits for) counts as busy:
 * a job submitted meanwhile wakes another. */

static void *worker_main(void *arg)
{
    struct pool *p = arg;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->todo && !p->quit) {
            p->idle++;
            pthread_cond_wait(&p->has_work, &p->lock);
            p->idle--;
            if (p->waking > 0) /* a spurious wake-up may take one: harmless */
                p->waking--;
        }
        if (p->quit)
            break; /* jobs not started yet are dropped with the loop */
        struct loop_job *job = p->todo;
        p->todo = job->next;
        p->queued--;
        if (!p->todo)
            p->todo_tail = &p->todo;
        pthread_mutex_unlock(&p->lock);

        job->work(job->c, job);

        pthread_mutex_lock(&p->lock);
        int first = p->done == NULL;
        job->next = p->done;
        p->done = job;
        if (first) {
            /* One byte per batch: the loop takes the whole list at once --
             * with this job in it, pushed before the byte is written. */
            pthread_mutex_unlock(&p->lock);
            char b = 'J';
            ssize_t w = write(p->wake_fd, &b, 1); /* full: the loop is awake */
            (void)w;
            pthread_mutex_lock(&p->lock);
        }
    }
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int loop_submit(struct loop *l, struct conn *c,
                void (*work)(struct conn *c, const struct loop_job *job),
                void (*done)(struct loop *l, struct conn *c))
{
    if (c->job)
        return -1;
    if (l->pool.nthreads == 0) {
        work(c, NULL);
        done(l, c);
        return 0;
    }
    struct loop_job *job = calloc(1, sizeof *job);
    if (!job)
        return -1;
    job->c = c;
    job->work = work;
    job->done = done;
    job->pool = &l->pool;
    atomic_init(&job->cancelled, 0);
    c->job = job;
    pthread_mutex_lock(&l->pool.lock);
    *l->pool.todo_tail = job;
    l->pool.todo_tail = &job->next;
    struct pool *p = &l->pool;
    int wake = ++p->queued > p->waking && p->idle > p->waking;
    if (wake)
        p->waking++;
    pthread_mutex_unlock(&l->pool.lock);
    if (wake)
        pthread_cond_signal(&p->has_work);
    return 0;
}

int loop_job_cancelled(const struct loop_job *job)
{
    return job ? atomic_load(&((struct loop_job *)job)->cancelled) : 0;
}

int loop_job_fd(const struct loop_job *job)
{
    return job ? job->c->fd : -1; /* set before the job was queued, fixed while it runs */
}

int loop_job_sleep(const struct loop_job *job, long ms)
{
    long long end = loop_now_ms() + ms;
    if (!job) {
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
        return 0;
    }
    struct pool *p = job->pool;
    int cancelled;
    pthread_mutex_lock(&p->lock);
    while (!(cancelled = loop_job_cancelled(job))) {
        long long left = end - loop_now_ms();
        if (left <= 0)
            break;
        /* pthread_cond_timedwait() takes a wall-clock time, which can
         * jump; waiting at most 100 ms at a time bounds the harm. */
        if (left > 100)
            left = 100;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += (long)(left % 1000) * 1000000L;
        ts.tv_sec += (time_t)(left / 1000) + ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        pthread_cond_timedwait(&p->cancel, &p->lock, &ts);
    }
    pthread_mutex_unlock(&p->lock);
    return cancelled ? -1 : 0;
}

/* Runs the done callbacks of the finished jobs, on the loop thread. */
static void collect_jobs(struct loop *l)
{
    if (!l->pool_ready)
        return;
    pthread_mutex_lock(&l->pool.lock);
    struct loop_job *job = l->pool.done;
    l->pool.done = NULL;
    pthread_mutex_unlock(&l->pool.lock);
    while (job) {
        struct loop_job *next = job->next;
        job->c->job = NULL;
        job->done(l, job->c);
        free(job);
        job = next;
    }
}

/* Tells every job that its result is no longer awaited. */
static void cancel_jobs(struct loop *l)
{
    if (!l->pool_ready)
        return;
    for (size_t i = 0; i < l->nconns; i++)
        if (l->conns[i]->job)
            atomic_store(&l->conns[i]->job->cancelled, 1);
    pthread_mutex_lock(&l->pool.lock);
    pthread_cond_broadcast(&l->pool.cancel); /* wakes loop_job_sleep() */
    pthread_mutex_unlock(&l->pool.lock);
}

/* Starts n workers with every signal blocked but those of a crash, so
 * that signals go to the loop's thread. Returns 0, or -1 with errno set. */
static int pool_start(struct loop *l, int n, char *err, size_t errlen)
{
    struct pool *p = &l->pool;
    sigset_t all, old;
    int rc = 0;

    p->todo_tail = &p->todo;
    p->wake_fd = l->wake[1];
    if (pthread_mutex_init(&p->lock, NULL) != 0)
        return -1;
    if (pthread_cond_init(&p->has_work, NULL) != 0) {
        pthread_mutex_destroy(&p->lock);
        return -1;
    }
    if (pthread_cond_init(&p->cancel, NULL) != 0) {
        pthread_cond_destroy(&p->has_work);
        pthread_mutex_destroy(&p->lock);
        return -1;
    }
    l->pool_ready = 1;
    if (n == 0)
        return 0;
    if (!(p->threads = calloc((size_t)n, sizeof *p->threads)))
        return -1;
    sigfillset(&all);
    /* but not the signals of a crash: blocked, they kill the process
     * before a sanitizer or a debugger can say where it crashed */
    static const int crash[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS};
    for (size_t i = 0; i < sizeof crash / sizeof crash[0]; i++)
        sigdelset(&all, crash[i]);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    for (; p->nthreads < n; p->nthreads++) {
        if ((rc = pthread_create(&p->threads[p->nthreads], NULL, worker_main, p)) != 0) {
            if (err && errlen)
                snprintf(err, errlen, "pthread_create: %s", strerror(rc));
            break;
        }
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc ? -1 : 0;
}

/* Asks the workers to quit, waits for the jobs they are running, and
 * frees the jobs no done() will see. */
static void pool_stop(struct loop *l)
{
    struct pool *p = &l->pool;
    if (!l->pool_ready)
        return;
    pthread_mutex_lock(&p->lock);
    p->quit = 1;
    pthread_cond_broadcast(&p->has_work);
    pthread_mutex_unlock(&p->lock);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    free(p->threads);
    for (int list = 0; list < 2; list++) {
        struct loop_job *job = list ? p->done : p->todo;
        while (job) {
            struct loop_job *next = job->next;
            job->c->job = NULL;
            free(job);
            job = next;
        }
    }
    pthread_cond_destroy(&p->cancel);
    pthread_cond_destroy(&p->has_work);
    pthread_mutex_destroy(&p->lock);
    l->pool_ready = 0;
}

/* ---- life cycle ------------------------------------------------------------------ */

struct loop *loop_new(const struct loop_config *cfg, char *err, size_t errlen)
{
    struct loop *l = calloc(1, sizeof *l);
    if (!l) {
        if (err && errlen)
            snprintf(err, errlen, "out of memory");
        return NULL;
    }
    l->cfg = *cfg;
    if (l->cfg.max_conns <= 0)
        l->cfg.max_conns = LOOP_MAX_CONNS;
    if (l->cfg.out_max == 0)
        l->cfg.out_max = LOOP_OUT_MAX;
    if (l->cfg.drain_ms <= 0)
        l->cfg.drain_ms = LOOP_DRAIN_MS;
    l->wake[0] = l->wake[1] = -1;
    l->hard_end = -1;

    if (pipe(l->wake) < 0) {
        if (err && errlen)
            snprintf(err, errlen, "pipe: %s", strerror(errno));
        l->wake[0] = l->wake[1] = -1;
        goto fail;
    }
    for (int i = 0; i < 2; i++) {
        /* fcntl() itself, not net_set_nonblocking(): in chapter 1 that is
         * yours to write in stage 5, and netd needs a loop from stage 1. */
        int fl = fcntl(l->wake[i], F_GETFL);
        if (fl < 0 || fcntl(l->wake[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
            fcntl(l->wake[i], F_SETFD, FD_CLOEXEC) < 0) {
            if (err && errlen)
                snprintf(err, errlen, "fcntl: %s", strerror(errno));
            goto fail;
        }
    }
    if (pool_start(l, cfg->workers > 0 ? cfg->workers : 0, err, errlen) < 0)
        goto fail;
    return l;
fail:
    loop_free(l);
    return NULL;
}

void loop_free(struct loop *l)
{
    if (!l)
        return;
    pool_stop(l); /* first: a worker may still use a connection's data */
    while (l->nconns > 0)
        drop_conn(l, l->nconns - 1);
    if (signal_fd == l->wake[1] && l->wake[1] >= 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = SIG_DFL;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        signal_fd = -1;
    }
    for (int i = 0; i < 2; i++)
        if (l->wake[i] >= 0)
            close(l->wake[i]);
    free(l->conns);
    free(l->pfds);
    free(l);
}

void loop_stop(struct loop *l)
{
    int saved = errno; /* callable from a signal handler */
    char b = 'S';
    ssize_t n = write(l->wake[1], &b, 1); /* full pipe: the loop is awake */
    (void)n;
    errno = saved;
}

int loop_stopping(const struct loop *l)
{
    return l->stopping;
}

static void on_stop_signal(int sig)
{
    int saved = errno;
    char b = 'S';
    (void)sig;
    if (signal_fd >= 0) {
        ssize_t n = write(signal_fd, &b, 1);
        (void)n;
    }
    errno = saved;
}

int loop_handle_signals(struct loop *l)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    signal_fd = l->wake[1];
    sa.sa_handler = on_stop_signal;
    sa.sa_flags = 0; /* no SA_RESTART: a blocking call returns EINTR */
    if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0)
        return -1;
    sa.sa_handler = SIG_IGN; /* a write to a closed peer: EPIPE, not death */
    return sigaction(SIGPIPE, &sa, NULL);
}

/* Reads the wake-up pipe empty. Returns 1 when a stop was asked for. */
static int drain_wake(struct loop *l)
{
    char b[64];
    int stop = 0;
    ssize_t n;
    while ((n = read(l->wake[0], b, sizeof b)) > 0 || (n < 0 && errno == EINTR))
        for (ssize_t i = 0; i < n; i++)
            stop |= b[i] == 'S';
    return stop;
}

/* ---- one connection's turn --------------------------------------------------- */

/* Does the loop want c's input now? (A lingering connection's too: it
 * is read to be thrown away.) */
static int wants_input(const struct loop *l, const struct conn *c)
{
    return (c->lingering || (!c->closing && !c->paused)) && !c->failed && !c->job &&
           c->out.len < l->cfg.out_max / 2;
}

/* Reads what c's socket has, once, and gives it to the service. */
static void read_input(struct loop *l, struct conn *c, long long now)
{
    char chunk[LOOP_READ_CHUNK];
    ssize_t n;
    do
        n = recv(c->fd, chunk, sizeof chunk, 0);
    while (n < 0 && errno == EINTR);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            c->failed = 1; /* reset by the peer, ... */
        return;
    }
    if (n == 0) {
        c->eof = 1;     /* end of stream: answer what came, then close */
        c->closing = 1;
        c->lingering = 0;
        return;
    }
    if (c->lingering)
        return; /* nobody will answer it: thrown away */
    if (buf_append(&c->in, chunk, (size_t)n) < 0) {
        c->failed = 1;
        return;
    }
    if (l->cfg.idle_timeout_ms > 0)
        c->deadline_ms = now + l->cfg.idle_timeout_ms;
    if (l->cfg.svc->on_data && l->cfg.svc->on_data(l, c) == LOOP_CLOSE)
        c->closing = 1;
}

/* Sends what c->out holds, as much as the socket takes now. Returns 1
 * when it is all sent, 0 when the client is slow (POLLOUT will tell), -1
 * when the connection failed. */
static int send_out(struct conn *c)
{
    while (c->out.len > 0) {
        ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return 0;
        if (n < 0) {
            c->failed = 1; /* reset by the peer, ... */
            return -1;
        }
        buf_consume(&c->out, (size_t)n);
    }
    return 1;
}

/* Sends what the socket takes now; each time c->out runs empty, asks the
 * service for more (on_drain). */
static void flush(struct loop *l, struct conn *c)
{
    for (int round = 0; round < DRAIN_ROUNDS && c->out.len > 0; round++) {
        if (send_out(c) <= 0)
            return;
        if (l->cfg.svc->on_drain && l->cfg.svc->on_drain(l, c) == LOOP_CLOSE)
            c->closing = 1;
    }
}

/* Is c done with: failed, or closing with nothing left to send and not
 * lingering (a stopping loop lingers no more) -- and no worker holds it? */
static int finished(const struct loop *l, const struct conn *c)
{
    return !c->job && (c->failed || (c->closing && c->out.len == 0 &&
                                     (!c->lingering || l->stopping)));
}

/* The service closes c, whose peer has not closed its side yet: close in
 * stages (see "close" in loop.h). */
static void start_lingering(struct conn *c, long long now)
{
    if (shutdown(c->fd, SHUT_WR) < 0) {
        c->failed = 1; /* the peer is gone already */
        return;
    }
    c->lingering = 1;
    c->deadline_ms = now + LOOP_LINGER_MS;
}

/* c's turn in a round: read, send, deadlines. Returns 1 when c is to be
 * dropped now. */
static int serve_conn(struct loop *l, struct conn *c, short re, long long now)
{
    if ((re & (POLLIN | POLLHUP | POLLERR)) && wants_input(l, c))
        read_input(l, c, now);
    if (c->out.len > 0 && !c->failed)
        flush(l, c);
    if (c->job)
        return 0; /* a worker holds its data: never free it under it */
    if (c->closing && c->out.len == 0 && !c->eof && !c->failed && !c->lingering &&
        !l->stopping)
        start_lingering(c, now);
    if (finished(l, c))
        return 1;
    if (c->deadline_ms < 0 || now < c->deadline_ms)
        return 0;
    if (c->closing || !l->cfg.svc->on_timeout)
        return 1; /* no more time: for a closing one, to take its last bytes */
    if (l->cfg.svc->on_timeout(l, c) == LOOP_CLOSE)
        c->closing = 1;
    if (c->deadline_ms >= 0 && c->deadline_ms <= now) {
        /* No new deadline, so no more time: send what the socket takes
         * at once (a last word the service queued), then close. */
        if (!c->failed)
            send_out(c);
        return 1;
    }
    return finished(l, c);
}

/* ---- the loop -------------------------------------------------------------------- */

/* Accepts the clients waiting in the backlog, up to max_conns. */
static void accept_clients(struct loop *l, long long now)
{
    while ((int)l->nconns < l->cfg.max_conns) {
        int fd = net_accept(l->cfg.listen_fd);
        if (fd >= 0) {
            loop_add(l, fd);
            continue;
        }
        if (errno == EINTR || errno == ECONNABORTED)
            continue; /* that client is gone; the next may be there */
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: the client stays in the
             * backlog, and the listener stays readable -- polling it now
             * would spin. Wait for a close, or a while. */
            l->accept_at = now + LOOP_ACCEPT_RETRY_MS;
        return;
    }
}

/* A stop was asked for: stop accepting, ask each connection to finish. */
static void begin_stop(struct loop *l, long long now)
{
    if (l->stopping)
        return;
    l->stopping = 1;
    l->drain_end = now + l->cfg.drain_ms;
    for (size_t i = 0; i < l->nconns; i++) {
        struct conn *c = l->conns[i];
        if (!l->cfg.svc->on_stop || l->cfg.svc->on_stop(l, c) == LOOP_CLOSE)
            c->closing = 1;
    }
}

/* Drops the newest connection that no worker holds. 1, or 0 when there
 * is none. */
static int shed_newest(struct loop *l)
{
    for (size_t i = l->nconns; i-- > 0;)
        if (!l->conns[i]->job) {
            drop_conn(l, i);
            return 1;
        }
    return 0;
}

/* Fills l->pfds for a round and returns poll()'s timeout. */
static int prepare_poll(struct loop *l, long long now, int *accepting)
{
    long long next = -1;
    *accepting = 0;
    if (l->cfg.listen_fd >= 0 && !l->stopping && (int)l->nconns < l->cfg.max_conns) {
        if (now >= l->accept_at)
            *accepting = 1;
        else
            next = l->accept_at;
    }
    if (l->stopping)
        next = l->hard_end >= 0 ? l->hard_end : l->drain_end;
    l->pfds[0] = (struct pollfd){ .fd = *accepting ? l->cfg.listen_fd : -1, .events = POLLIN };
    l->pfds[1] = (struct pollfd){ .fd = l->wake[0], .events = POLLIN };
    for (size_t i = 0; i < l->nconns; i++) {
        struct conn *c = l->conns[i];
        short ev = 0;
        if (wants_input(l, c))
            ev |= POLLIN;
        if (c->out.len > 0 && !c->failed)
            ev |= POLLOUT;
        /* fd -1 when nothing is wanted: poll() would still report a
         * hang-up on it, at once, every round. */
        l->pfds[i + 2] = (struct pollfd){ .fd = ev ? c->fd : -1, .events = ev };
        long long due = -1;
        if (finished(l, c) || (c->closing && c->out.len == 0 && !c->eof && !c->lingering))
            due = now; /* to be dropped, or to start lingering: no waiting */
        else if (!c->job && c->deadline_ms >= 0)
            due = c->deadline_ms;
        if (due >= 0 && (next < 0 || due < next))
            next = due;
    }
    if (next < 0)
        return -1;
    if (next <= now)
        return 0;
    return next - now > INT_MAX ? INT_MAX : (int)(next - now);
}

int loop_run(struct loop *l)
{
    int rc = 0, saved = 0;

    if (l->cfg.listen_fd >= 0 && net_set_nonblocking(l->cfg.listen_fd) < 0)
        return -1;
    for (;;) {
        long long now = loop_now_ms();
        if (l->stopping && l->hard_end < 0 && now >= l->drain_end) {
            cancel_jobs(l); /* drain time is over: give up on the jobs */
            l->hard_end = now + LOOP_CANCEL_MS;
        }
        if (l->stopping && (l->nconns == 0 || (l->hard_end >= 0 && now >= l->hard_end)))
            break;
        if (!l->stopping && l->cfg.listen_fd < 0 && l->nconns == 0)
            break;

        if (l->nconns + 2 > l->npfds) {
            size_t n = (l->nconns + 2) * 2;
            struct pollfd *p = realloc(l->pfds, n * sizeof *p);
            if (!p) {
                saved = ENOMEM;
                rc = -1;
                break;
            }
            l->pfds = p;
            l->npfds = n;
        }
        int accepting;
        int timeout = prepare_poll(l, now, &accepting);
        size_t polled = l->nconns;
        if (poll(l->pfds, (nfds_t)(polled + 2), timeout) < 0) {
            if (errno == EINTR)
                continue;
            /* More descriptors than RLIMIT_NOFILE now allows (the limit
             * was lowered while they were open, by prlimit or the
             * program itself): poll() refuses them all. Shed the newest
             * connection and poll again, rather than stop serving. */
            if (errno == EINVAL && shed_newest(l))
                continue;
            saved = errno;
            rc = -1;
            break;
        }
        now = loop_now_ms();

        if (l->pfds[1].revents & POLLIN) {
            if (drain_wake(l))
                begin_stop(l, now);
            collect_jobs(l);
        }
        /* Backwards: dropping conns[i] moves only those after it, which
         * had their turn already; pfds[i + 2] still belongs to conns[i]. */
        for (size_t i = polled; i-- > 0;) {
            struct conn *c = l->conns[i];
            if (serve_conn(l, c, l->pfds[i + 2].revents, now))
                drop_conn(l, i);
        }
        if (accepting && (l->pfds[0].revents & POLLIN))
            accept_clients(l, now);
    }

    /* Close what is left. A connection a worker still holds stays in the
     * list, without its socket, until loop_free() has stopped the pool. */
    for (size_t i = l->nconns; i-- > 0;) {
        struct conn *c = l->conns[i];
        if (!c->job) {
            drop_conn(l, i);
        } else if (c->fd >= 0) {
            close(c->fd);
            c->fd = -1;
        }
    }
    if (rc < 0)
        errno = saved;
    return rc;
}

/* ---- the UDP loop -------------------------------------------------------------- */

int loop_run_udp(struct loop *l, int fd, loop_datagram_fn fn, void *ctx)
{
    char *req = malloc(LOOP_DGRAM_MAX), *reply = malloc(LOOP_DGRAM_MAX);
    int rc = -1;

    if (!req || !reply) {
        errno = ENOMEM;
        goto out;
    }
    if (net_set_nonblocking(fd) < 0)
        goto out;
    for (;;) {
        struct pollfd pfds[2] = {
            { .fd = fd, .events = POLLIN },
            { .fd = l->wake[0], .events = POLLIN },
        };
        if (poll(pfds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            goto out;
        }
        if ((pfds[1].revents & POLLIN) && drain_wake(l))
            break;
        if (!(pfds[0].revents & POLLIN))
            continue;

        struct sockaddr_storage from;
        socklen_t fromlen = sizeof from;
        ssize_t n = recvfrom(fd, req, LOOP_DGRAM_MAX, 0, (struct sockaddr *)&from, &fromlen);
        if (n < 0)
            continue; /* EAGAIN or EINTR: wait for the next one */
        int r = fn(ctx, req, (size_t)n, reply, LOOP_DGRAM_MAX);
        if (r > 0) {
            /* UDP has no send-all: a datagram goes out whole or not at
             * all, and a lost answer is the client's to ask again. */
            ssize_t sent = sendto(fd, reply, (size_t)r, 0, (struct sockaddr *)&from, fromlen);
            (void)sent;
        }
    }
    rc = 0;
out:
    free(req);
    free(reply);
    return rc;
}
