/* body -- the chunked transfer coding decoder. See body.h. */
#include "body.h"

void chunked_init(struct chunked *d)
{
    d->state = 0;
    d->left = 0;
    d->line = 0;
}

int chunked_decode(struct chunked *d, const char *in, size_t len, struct buf *out,
                   size_t max, int *done)
{
    /* TODO(stage 7): a state machine over the bytes of in, remembering in
     * d where it stopped, because the next call continues the same body:
     *   size line: hex digits (at least one; more than 16 overflow: -400),
     *              optional ";extension" up to CRLF (ignored)
     *   data:      d->left bytes appended to out (more than max in out:
     *              -413), then CRLF (anything else: -400)
     *   size 0:    trailer lines up to an empty line; then *done = 1 and
     *              return how many bytes of in were used -- not more:
     *              the next request may follow in the same buffer.
     * Count the bytes of each line in d->line; past BODY_MAX_LINE: -400. */
    (void)d;
    (void)in;
    (void)len;
    (void)out;
    (void)max;
    *done = 0;
    return -400;
}
