/* lines -- line framing and the "lines" service. See lines.h. */
#include "lines.h"

#include <string.h>

int lines_find(const char *buf, size_t len, size_t max)
{
    /* TODO(stage 3): look for '\n' in the first min(len, max) bytes with
     * memchr() (not strchr: the bytes may hold NULs). Found: return its
     * index + 1. Not found: LINES_TOO_LONG when len >= max, else
     * LINES_INCOMPLETE. */
    (void)buf;
    (void)len;
    (void)max;
    return LINES_INCOMPLETE;
}

void lines_reverse(char *p, size_t n)
{
    /* TODO(stage 3): swap p[0] with p[n-1], p[1] with p[n-2], ... */
    (void)p;
    (void)n;
}

static int lines_on_data(struct loop *l, struct conn *c)
{
    /* TODO(stage 3): answer every complete line in c->in.
     *
     * Loop: n = lines_find(c->in.data, c->in.len, LINES_MAX).
     *  - LINES_INCOMPLETE: return 0 and keep the bytes for the next read.
     *  - LINES_TOO_LONG: queue "ERR line too long\n" with loop_send() and
     *    return LOOP_CLOSE.
     *  - else: the line is c->in.data[0..n-1) without its '\n' (drop a
     *    '\r' before it too); reverse it, loop_send() it and "\n" (-1:
     *    return LOOP_CLOSE), then buf_consume(&c->in, n). */
    (void)l;
    (void)c;
    return 0;
}

const struct service lines_service = {
    .name = "lines",
    .on_data = lines_on_data,
};
