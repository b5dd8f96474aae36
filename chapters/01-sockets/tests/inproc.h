/* inproc -- running a loop inside the test process, for tests of the
 * loop's contract (loop.h) with small services of their own.
 *
 * Every function that can fail calls cr_fatal() or cr_assert(); they
 * return only on success unless their comment says otherwise. */
#ifndef INPROC_H
#define INPROC_H

#include <pthread.h>

#include "loop.h"

/* A loop_run() on a thread of its own. */
struct runner {
    struct loop *l;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int finished, rc;
};

/* Starts loop_run(l) on a new thread. */
void ip_start(struct runner *r, struct loop *l);

/* Waits up to ms for loop_run() to return. Returns 1 (and joins the
 * thread; r->rc is then its result) if it did, 0 if not. */
int ip_finished(struct runner *r, int ms);

/* Adds a connection to l: one end of a new socketpair. Returns the other
 * end, the client's. */
int ip_add_client(struct loop *l);

/* A loop for svc without a listener, and one connection in it: returns
 * the loop and stores the client's end of a socketpair in *client.
 * cfg_in may set other fields (workers, drain_ms, ...); its listen_fd and
 * svc are ignored. */
struct loop *ip_loop_with_client(const struct service *svc, const struct loop_config *cfg_in,
                                 int *client);

#endif
