/* response -- building responses. See response.h for the contracts. */
#include "response.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const char *http_reason(int status)
{
    /* TODO(stage 3): the reason phrases of RFC 9110 section 15 for at
     * least 200 201 204 206 304 400 403 404 405 408 413 414 416 431 500
     * 501 503 505 ("OK", "Not Found", "Content Too Large", ...), and
     * "Unknown" for other codes. A switch is the simplest table. Chapter
     * 03's JSON API answers 406 409 412 415 422 428 too: add them now,
     * and its problem documents get the right titles on your layer. */
    (void)status;
    return "";
}

int http_format_date(time_t t, char *out)
{
    /* TODO(stage 3): gmtime_r(), then "Sun, 06 Nov 1994 08:49:37 GMT".
     * Write the day and month names yourself: strftime("%a") follows the
     * locale, and HTTP dates are always English. snprintf() straight into
     * out (HTTP_DATE_LEN + 1 bytes) makes gcc -O2 -- the SAN=0 build --
     * warn that "%04d" of a year past 9999 would be cut
     * (-Wformat-truncation): format into a larger buffer (char tmp[64])
     * and copy HTTP_DATE_LEN bytes and the NUL to out. */
    (void)t;
    out[0] = '\0';
    return 0;
}

int http_parse_date(struct http_slice v, time_t *t)
{
    /* TODO(stage 9): the three formats of RFC 9110 section 5.6.7. Turn
     * the fields into seconds since 1970 in UTC yourself (timegm() is not
     * standard; mktime() uses the local time zone). */
    (void)v;
    (void)t;
    return -1;
}

void response_init(struct response *r)
{
    r->status = 200;
    buf_init(&r->headers);
    buf_init(&r->body);
    r->file_fd = -1;
    r->file_off = 0;
    r->file_len = 0;
    r->head_only = 0;
    r->close = 0;
}

void response_free(struct response *r)
{
    if (!r)
        return;
    buf_free(&r->headers);
    buf_free(&r->body);
    if (r->file_fd >= 0)
        close(r->file_fd);
    r->file_fd = -1;
}

int response_header(struct response *r, const char *name, const char *value)
{
    /* TODO(stage 3): refuse (-1) a name or value holding '\r' or '\n' --
     * else a value taken from a request could add header fields of its
     * own -- then append "name: value\r\n" to r->headers. */
    (void)r;
    (void)name;
    (void)value;
    return -1;
}

int response_body(struct response *r, const void *p, size_t n)
{
    return buf_append(&r->body, p, n);
}

int response_error(struct response *r, int status)
{
    /* TODO(stage 3): set the status, forget headers, body and file that
     * were there, add "Content-Type: text/plain; charset=utf-8" and the
     * body "404 Not Found\n" (the code, the reason, a newline). Give
     * snprintf() room for any int and the longest reason (31 bytes,
     * "Request Header Fields Too Large"): 64 bytes or more. A smaller
     * buffer draws a -Wformat-truncation warning from gcc -O2 only. */
    r->status = status;
    return -1;
}

int response_head(const struct response *r, time_t now, struct buf *out)
{
    /* TODO(stage 3): append to out, in this order:
     *   "HTTP/1.1 <status> <reason>\r\n"
     *   "Date: <http_format_date(now)>\r\n"
     *   "Content-Length: <file_len if file_fd >= 0, else body.len>\r\n"
     *        (not for 1xx, 204 and 304 responses)
     *   "Connection: close\r\n" when r->close
     *   r->headers
     *   "\r\n"
     * The same as in response_error(): a line buffer of 64 bytes or more
     * for the status line (or append its parts one by one). */
    (void)r;
    (void)now;
    (void)out;
    return -1;
}
