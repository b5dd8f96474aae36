/* lines -- line framing and the "lines" service. See lines.h. */
#include "lines.h"

#include <string.h>

int lines_find(const char *buf, size_t len, size_t max)
{
    size_t look = len < max ? len : max;
    /* memchr, not strchr: the bytes may hold NULs and are not a string. */
    const char *nl = memchr(buf, '\n', look);
    if (nl)
        return (int)(nl - buf) + 1;
    return len >= max ? LINES_TOO_LONG : LINES_INCOMPLETE;
}

void lines_reverse(char *p, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        char t = p[i];
        p[i] = p[j - 1];
        p[j - 1] = t;
    }
}

static int lines_on_data(struct loop *l, struct conn *c)
{
    static const char too_long[] = "ERR line too long\n";

    for (;;) {
        int n = lines_find(c->in.data, c->in.len, LINES_MAX);
        if (n == LINES_INCOMPLETE)
            return 0; /* keep the start of the line for the next read */
        if (n == LINES_TOO_LONG) {
            buf_consume(&c->in, c->in.len);
            loop_send(l, c, too_long, sizeof too_long - 1);
            return LOOP_CLOSE;
        }
        size_t len = (size_t)n - 1; /* without the '\n' */
        if (len > 0 && c->in.data[len - 1] == '\r')
            len--;
        lines_reverse(c->in.data, len);
        if (loop_send(l, c, c->in.data, len) < 0 || loop_send(l, c, "\n", 1) < 0)
            return LOOP_CLOSE;
        buf_consume(&c->in, (size_t)n);
    }
}

const struct service lines_service = {
    .name = "lines",
    .on_data = lines_on_data,
};
