/* inproc -- see inproc.h. */
#include "inproc.h"

#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "wbtest.h"

static void *run_it(void *arg)
{
    struct runner *r = arg;
    int rc = loop_run(r->l);
    pthread_mutex_lock(&r->lock);
    r->rc = rc;
    r->finished = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

void ip_start(struct runner *r, struct loop *l)
{
    r->l = l;
    r->finished = 0;
    r->rc = -1;
    pthread_mutex_init(&r->lock, NULL);
    pthread_cond_init(&r->cond, NULL);
    cr_assert(eq(int, pthread_create(&r->thread, NULL, run_it, r), 0), "test setup: pthread_create");
}

int ip_finished(struct runner *r, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&r->lock);
    while (!r->finished && pthread_cond_timedwait(&r->cond, &r->lock, &ts) == 0)
        ;
    int done = r->finished;
    pthread_mutex_unlock(&r->lock);
    if (done)
        pthread_join(r->thread, NULL);
    return done;
}

int ip_add_client(struct loop *l)
{
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "test setup: socketpair");
    cr_assert(eq(int, loop_add(l, sv[0]), 0), "test setup: loop_add() of a socketpair's end "
              "failed. It makes the fd non-blocking with your net_set_nonblocking() (stage "
              "5): does that return 0?");
    return sv[1];
}

struct loop *ip_loop_with_client(const struct service *svc, const struct loop_config *cfg_in,
                                 int *client)
{
    struct loop_config cfg = cfg_in ? *cfg_in : (struct loop_config){ 0 };
    char err[256] = "";
    cfg.listen_fd = -1;
    cfg.svc = svc;
    struct loop *l = loop_new(&cfg, err, sizeof err);
    cr_assert(l != NULL, "loop_new() failed: %s", err);
    *client = ip_add_client(l);
    return l;
}
