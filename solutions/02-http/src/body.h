/* body -- reading request bodies (RFC 9112 section 6 and 7.1) (stage 7).
 *
 * A body is framed by Content-Length -- exactly that many bytes follow the
 * head -- or by "Transfer-Encoding: chunked":
 *
 *     5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n
 *
 * each chunk a hexadecimal size (extensions after ';' ignored), CRLF, the
 * data, CRLF; a 0-size chunk ends the body, after optional trailer fields
 * and an empty line. The decoder is incremental: it takes whatever bytes
 * arrived, keeps its place between calls, and appends the payload. */
#ifndef BODY_H
#define BODY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Longest chunk-size line (size, extensions, CRLF) or trailer line. */
#define BODY_MAX_LINE 4096

struct chunked {
    int state;       /* where the decoder is; 0 at the start */
    uint64_t left;   /* bytes left in the current chunk */
    size_t line;     /* bytes of the current size or trailer line seen */
};

/* Prepares d for a new body. */
void chunked_init(struct chunked *d);

/* Decodes in[0..len), appending the payload to out. Returns the number of
 * bytes of in it used (0 <= n <= len): it stops right after the end of the
 * body and sets *done = 1 there, so bytes that follow (a pipelined
 * request) are not used. Returns -400 for a malformed body (a size that is
 * not hex or overflows, a missing CRLF after the data, a line longer than
 * BODY_MAX_LINE) and -413 when out would grow past max bytes. */
int chunked_decode(struct chunked *d, const char *in, size_t len, struct buf *out,
                   size_t max, int *done);

#endif
