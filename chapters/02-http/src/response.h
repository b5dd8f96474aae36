/* response -- building an HTTP/1.1 response (RFC 9110, RFC 9112).
 *
 * A handler fills a struct response: a status, extra header fields and a
 * body (bytes in memory, or a region of an open file). response_head()
 * then writes the status line and the header fields every response needs
 * -- Date, Content-Length, Connection -- in front of the handler's own.
 *
 *   stage 3: http_reason(), http_format_date(), response_*()
 *   stage 9: http_parse_date() */
#ifndef RESPONSE_H
#define RESPONSE_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "buf.h"
#include "http.h"

/* "Sun, 06 Nov 1994 08:49:37 GMT": 29 characters. */
#define HTTP_DATE_LEN 29

struct response {
    int status;            /* 200, 404, ... */
    struct buf headers;    /* extra fields, each "Name: value\r\n" */
    struct buf body;       /* the body, when it is in memory */
    int file_fd;           /* or: send file_len bytes of this file from */
    off_t file_off;        /* file_off (-1: no file). Owned: closed by */
    off_t file_len;        /* response_free() */
    int head_only;         /* HEAD: the same head, no body bytes */
    int close;             /* say "Connection: close" and close afterwards */
};

/* The reason phrase of a status code: 200 "OK", 404 "Not Found", ...;
 * "Unknown" for a code it does not know. */
const char *http_reason(int status);

/* Writes t as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT" (always
 * GMT, always English), into out[0..HTTP_DATE_LEN], NUL included.
 * Returns HTTP_DATE_LEN. A year past 9999 does not fit: out then holds
 * the first HTTP_DATE_LEN characters. */
int http_format_date(time_t t, char *out);

/* Parses an HTTP date (RFC 9110 section 5.6.7): the IMF-fixdate above and
 * the two obsolete forms, "Sunday, 06-Nov-94 08:49:37 GMT" and
 * "Sun Nov  6 08:49:37 1994". Returns 0 and sets *t, or -1 if v is none of
 * them. */
int http_parse_date(struct http_slice v, time_t *t);

/* Makes r an empty 200 response with no file. */
void response_init(struct response *r);

/* Frees what r holds (buffers, the file) and makes it empty again. */
void response_free(struct response *r);

/* Appends the field "name: value\r\n". Returns 0, or -1 when memory runs
 * out or when name or value holds CR, LF or NUL (header injection). */
int response_header(struct response *r, const char *name, const char *value);

/* Appends p[0..n) to the body. Returns 0, or -1 when memory runs out. */
int response_body(struct response *r, const void *p, size_t n);

/* Turns r into an error response: status, "Content-Type: text/plain;
 * charset=utf-8" and a one-line body such as "404 Not Found\n". Keeps
 * r->close and r->head_only. Returns 0, or -1 when memory runs out. */
int response_error(struct response *r, int status);

/* Writes the head into out: the status line "HTTP/1.1 200 OK\r\n", then
 * "Date: <now>", "Content-Length: <body or file length>", "Connection:
 * close" when r->close (1xx, 204 and 304 responses have no Content-Length),
 * then r->headers, then the empty line. Returns 0, or -1 when memory runs
 * out. The body is not part of it: the connection loop sends r->body or
 * the file after the head, unless r->head_only. */
int response_head(const struct response *r, time_t now, struct buf *out);

#endif
