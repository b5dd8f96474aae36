/* buf -- a growable byte buffer.
 *
 * Every connection keeps two of these: the bytes that arrived but were not
 * used yet (input) and the bytes waiting to be sent (output). Bytes are
 * bytes: a buffer may hold NUL bytes, so it is never a C string.
 *
 * Taking bytes off the front is cheap: buf_consume() only moves data
 * forward; the room it leaves is reused by a later buf_append() once it
 * is at least as large as what is still held, so every byte is moved at
 * most a few times however it is consumed (one line at a time, or one
 * send() at a time).
 *
 * This module is complete: read it and use it; there is nothing to write. */
#ifndef BUF_H
#define BUF_H

#include <stddef.h>

struct buf {
    char  *data;  /* data[0..len) are the bytes held; NULL when cap == 0 */
    size_t len;   /* bytes held */
    size_t cap;   /* bytes allocated, counted from data - off */
    size_t off;   /* bytes consumed at the front, not reused yet */
};

/* Makes b an empty buffer. Allocates nothing. */
void buf_init(struct buf *b);

/* Appends p[0..n) to b, growing it when needed.
 * Returns 0, or -1 when memory runs out (b is then unchanged). */
int buf_append(struct buf *b, const void *p, size_t n);

/* Drops the first n bytes of b (all of them when n >= b->len). */
void buf_consume(struct buf *b, size_t n);

/* Frees what b holds and makes it empty again. NULL is a no-op. */
void buf_free(struct buf *b);

#endif
