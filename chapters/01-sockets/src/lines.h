/* lines -- framing a byte stream into lines (stage 3).
 *
 * TCP delivers a stream of bytes, not messages: one recv() may return half
 * a line, or three lines and a bit. A line protocol decides where a message
 * ends -- here, at '\n' -- and a server keeps the unused bytes until the
 * rest arrives. A limit on the line length keeps a client from making the
 * server buffer without end.
 *
 * The "lines" service answers every line with the same line reversed. */
#ifndef LINES_H
#define LINES_H

#include <stddef.h>

#include "loop.h"

/* Longest line the services accept, its '\n' included. */
#define LINES_MAX 1024

/* lines_find() results */
#define LINES_INCOMPLETE 0   /* no '\n' yet: wait for more bytes */
#define LINES_TOO_LONG  -1   /* no '\n' in the first max bytes */

/* Looks for the end of the first line in buf[0..len).
 * Returns the length of that line, its '\n' included (> 0);
 * LINES_INCOMPLETE when there is no '\n' in buf and len < max;
 * LINES_TOO_LONG when the first max bytes hold no '\n'.
 * A line may hold any byte but '\n', NUL included. */
int lines_find(const char *buf, size_t len, size_t max);

/* Reverses the bytes of p[0..n) in place. */
void lines_reverse(char *p, size_t n);

/* The "lines" service: answers each line with its bytes reversed, see
 * lines.c. A '\r' just before the '\n' is not part of the line. A line
 * longer than LINES_MAX gets "ERR line too long\n" and the connection is
 * closed; an unfinished line when the client hangs up gets no answer. */
extern const struct service lines_service;

#endif
