/* echo -- the echo service. See echo.h. */
#include "echo.h"

static int echo_on_data(struct loop *l, struct conn *c)
{
    if (loop_send(l, c, c->in.data, c->in.len) < 0)
        return LOOP_CLOSE;
    buf_consume(&c->in, c->in.len);
    return 0;
}

const struct service echo_service = {
    .name = "echo",
    .on_data = echo_on_data,
};
