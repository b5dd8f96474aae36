/* buf -- a growable byte buffer. See buf.h. */
#include "buf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->off = 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n > b->cap - b->off - b->len) {
        if (b->off >= b->len && n <= b->cap - b->len) {
            /* Reuse the consumed front: the len bytes moved here were
             * paid for by the off >= len bytes consumed before. */
            memmove(b->data - b->off, b->data, b->len);
            b->data -= b->off;
            b->off = 0;
        } else {
            if (n > SIZE_MAX / 2 - b->off - b->len)
                return -1; /* the size would overflow */
            size_t need = b->off + b->len + n;
            size_t cap = b->cap ? b->cap : 256;
            while (cap < need)
                cap *= 2;
            char *base = realloc(b->data ? b->data - b->off : NULL, cap);
            if (!base)
                return -1;
            b->data = base + b->off;
            b->cap = cap;
        }
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        /* Empty: start again at the front of the allocation. */
        if (b->data)
            b->data -= b->off;
        b->off = 0;
        b->len = 0;
        return;
    }
    b->data += n;
    b->off += n;
    b->len -= n;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    if (b->data)
        free(b->data - b->off);
    buf_init(b);
}
