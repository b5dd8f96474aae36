/* body -- the chunked transfer coding decoder. See body.h.
 *
 * A state machine that eats one byte at a time where it must (sizes, line
 * ends) and whole runs where it can (chunk data), so a body cut into any
 * pieces decodes the same. */
#include "body.h"

enum {
    S_SIZE,      /* hex digits of a chunk size */
    S_EXT,       /* ";name=value" after the size: ignored */
    S_SIZE_LF,   /* CR seen after the size line */
    S_DATA,      /* chunk data, left bytes to go */
    S_DATA_CR,   /* the CR after the data */
    S_DATA_LF,   /* the LF after the data */
    S_TRAILER,   /* a trailer line, or the final empty line */
    S_TRAILER_LF,
    S_DONE
};

void chunked_init(struct chunked *d)
{
    d->state = S_SIZE;
    d->left = 0;
    d->line = 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int chunked_decode(struct chunked *d, const char *in, size_t len, struct buf *out,
                   size_t max, int *done)
{
    size_t i = 0;
    *done = d->state == S_DONE;

    while (i < len && d->state != S_DONE) {
        char c = in[i];
        if (d->state != S_DATA && ++d->line > BODY_MAX_LINE)
            return -400;
        switch (d->state) {
        case S_SIZE: {
            int h = hexval(c);
            if (h >= 0) {
                if (d->left > (UINT64_MAX >> 4))
                    return -400; /* the size overflows */
                d->left = d->left << 4 | (uint64_t)h;
            } else if (d->line == 1) {
                return -400; /* no digits at all */
            } else if (c == ';' || c == ' ' || c == '\t') {
                d->state = S_EXT;
            } else if (c == '\r') {
                d->state = S_SIZE_LF;
            } else {
                return -400;
            }
            i++;
            break;
        }
        case S_EXT:
            if (c == '\r')
                d->state = S_SIZE_LF;
            else if (c == '\n')
                return -400;
            i++;
            break;
        case S_SIZE_LF:
            if (c != '\n')
                return -400;
            i++;
            d->line = 0;
            d->state = d->left == 0 ? S_TRAILER : S_DATA;
            break;
        case S_DATA: {
            size_t n = len - i;
            if ((uint64_t)n > d->left)
                n = (size_t)d->left;
            if (out->len + n > max)
                return -413;
            if (buf_append(out, in + i, n) < 0)
                return -413;
            i += n;
            d->left -= n;
            if (d->left == 0)
                d->state = S_DATA_CR;
            break;
        }
        case S_DATA_CR:
            if (c != '\r')
                return -400;
            d->state = S_DATA_LF;
            i++;
            break;
        case S_DATA_LF:
            if (c != '\n')
                return -400;
            d->state = S_SIZE;
            d->line = 0;
            i++;
            break;
        case S_TRAILER:
            if (c == '\r') {
                d->state = S_TRAILER_LF;
            } else if (c == '\n') {
                return -400;
            }
            i++;
            break;
        case S_TRAILER_LF:
            if (c != '\n')
                return -400;
            i++;
            /* an empty line (just CRLF) ends the body; else a trailer
             * field ended and another line follows */
            d->state = d->line == 2 ? S_DONE : S_TRAILER;
            d->line = 0;
            break;
        }
    }
    *done = d->state == S_DONE;
    return (int)i;
}
