/* buf -- a growable byte buffer. See buf.h. */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

void buf_init(struct buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

int buf_append(struct buf *b, const void *p, size_t n)
{
    if (n == 0)
        return 0;
    if (n > b->cap - b->len) {
        if (n > ((size_t)-1) / 2 - b->len)
            return -1; /* the size would overflow */
        size_t cap = b->cap ? b->cap : 256;
        while (cap - b->len < n)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data)
            return -1;
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        return;
    }
    /* A memmove per consume is O(len), which is fine for the small
     * buffers of this chapter; a ring buffer or a start offset would
     * avoid it. */
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

void buf_free(struct buf *b)
{
    if (!b)
        return;
    free(b->data);
    buf_init(b);
}
