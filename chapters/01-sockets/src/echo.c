/* echo -- the echo service. See echo.h. */
#include "echo.h"

static int echo_on_data(struct loop *l, struct conn *c)
{
    /* TODO(stage 2): queue everything in c->in to be sent back --
     * loop_send(l, c, c->in.data, c->in.len) -- then buf_consume() it from
     * c->in. Return LOOP_CLOSE if loop_send() fails, else 0. */
    (void)l;
    (void)c;
    return 0;
}

const struct service echo_service = {
    .name = "echo",
    .on_data = echo_on_data,
};
