/* httpc -- an HTTP/1.1 client for tests, and the messages that make an
 * HTTP failure readable. Chapter 02 tests its server with it; the
 * chapters after it (REST, databases, auth) test theirs with it too.
 *
 *  - ht_exchange(), ht_read(): send a request, read exactly one response
 *    (status line, header fields, Content-Length bytes of body) and never
 *    a byte more, so that pipelined responses stay on the socket. A
 *    response sent with Transfer-Encoding is refused: the servers of this
 *    workbook always send Content-Length.
 *  - Expectations (ht_expect_status, _header, _body, _no_extra, ...): on a
 *    difference they fail the test with what was sent (escaped, and as a
 *    curl or printf | nc command line to replay it), what was expected,
 *    what arrived, and the program's state (wb_describe). The escaping,
 *    the comparison and the program's state come from wbtest.h, so these
 *    messages look like every other.
 *
 * Every function that can fail calls cr_fatal() with such a message; they
 * return only on success unless their comment says otherwise. Strings for
 * messages live in wbtest's message slots (wb_msgbuf): until the
 * WB_MSG_SLOTS-th following call. */
#ifndef HTTPC_H
#define HTTPC_H

#include <stddef.h>
#include <time.h>

#include "wbtest.h"

/* ---- responses ------------------------------------------------------------ */

#define HT_MAX_HEADERS 64

struct ht_response {
    int status;              /* 200 */
    int minor;               /* HTTP/1.minor */
    char reason[128];        /* "OK" */
    size_t nheaders;
    struct {
        char name[128];      /* as sent */
        char value[2048];    /* without the whitespace around it */
    } headers[HT_MAX_HEADERS];
    char *body;              /* body_len bytes, NUL-terminated (not counted) */
    size_t body_len;
    char *raw;               /* the whole response as received, NUL-terminated */
    size_t raw_len;
    size_t head_len;         /* raw[0..head_len) is the head, empty line included */
    /* the connection and the request, for further reads and messages */
    int fd;                  /* the connection it came on */
    int own_fd;              /* 1: ht_free() closes fd (ht_exchange) */
    char *req;               /* a copy of the request, req_len bytes */
    size_t req_len;
    int head_request;        /* it answered a HEAD: no body */
};

/* Opens a new connection, sends raw[0..len) exactly, and reads one
 * response (a HEAD request -- raw starts with "HEAD " -- has no body).
 * Fails the test with a teaching message when no complete, well-formed
 * response arrives within WB_IO_MS. The connection stays open (r->fd,
 * for ht_expect_no_extra or a second read) until ht_free(). */
struct ht_response *ht_exchange(struct wb_proc *p, const char *raw, size_t len);

/* The same for a NUL-terminated request. */
struct ht_response *ht_exchange_str(struct wb_proc *p, const char *raw);

/* "GET <target> HTTP/1.1\r\nHost: localhost\r\n\r\n" through ht_exchange. */
struct ht_response *ht_get(struct wb_proc *p, const char *target);

/* Reads one response from the open connection fd (keep-alive,
 * pipelining): raw[0..len) is the request it answers, for messages;
 * head_request = 1 when it was a HEAD (no body follows the head). Does
 * not close fd. */
struct ht_response *ht_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                            int head_request);

/* Like ht_read, but returns NULL instead of failing; why[0..whylen) then
 * says what went wrong and *got/gotlen (malloc'd, may be NULL) hold the
 * bytes that arrived. For tests that expect no response. */
struct ht_response *ht_try_read(int fd, int head_request, int ms, char *why, size_t whylen,
                                char **got, size_t *gotlen);

/* The value of the first header field called name (any case), or NULL. */
const char *ht_header(const struct ht_response *r, const char *name);

/* How many header fields are called name (any case). */
size_t ht_header_count(const struct ht_response *r, const char *name);

/* Frees r (and closes its connection when ht_exchange opened it). NULL is
 * a no-op. */
void ht_free(struct ht_response *r);

/* ---- messages ------------------------------------------------------------- */

/* The standard reason phrase of a status code ("Not Found"); "" when
 * unknown. Independent of the code under test. */
const char *ht_reason(int status);

/* A shell command that sends the same request: a curl command line
 * (method, URL, headers, --http1.0, --data-binary for a body), or, for a
 * request curl cannot express, "(no curl equivalent: send the raw bytes
 * with printf ... | nc HOST PORT)". The string lives in a message slot
 * (wb_msgbuf). */
const char *ht_curl(const char *raw, size_t len, const char *host, int port);

/* "request sent: <escaped>\n  to replay it: <curl>": the request for a
 * message. The same lifetime as ht_curl's. */
const char *ht_describe_request(struct wb_proc *p, const char *raw, size_t len);

/* The status line and header fields of r, one per line, then its body's
 * start escaped: the response for a message. The same lifetime as
 * ht_curl's. */
const char *ht_describe_response(const struct ht_response *r);

/* Fails the test unless r->status == want, with: why, the request
 * (escaped, and as curl), "expected status: 404 Not Found", the status
 * line and header fields received and the body's start. raw may be NULL:
 * then the request stored in r is shown. */
void ht_expect_status(struct wb_proc *p, const struct ht_response *r, int want,
                      const char *raw, size_t len, const char *why);

/* Fails the test unless header name is present with exactly value want
 * (want NULL: fails unless absent). */
void ht_expect_header(struct wb_proc *p, const struct ht_response *r, const char *name,
                      const char *want, const char *why);

/* Fails the test unless r's body is exactly want[0..len). */
void ht_expect_body(struct wb_proc *p, const struct ht_response *r, const void *want,
                    size_t len, const char *why);

/* Fails the test when bytes arrive on r's connection within ~100 ms after
 * the response ("extra bytes after the response: ..."): a body longer
 * than Content-Length, a second response, a body after a HEAD... The
 * peer closing is fine. */
void ht_expect_no_extra(struct wb_proc *p, const struct ht_response *r, const char *why);

/* The same on a bare connection, with the request for the message. */
void ht_expect_no_extra_fd(struct wb_proc *p, int fd, const char *raw, size_t len,
                           const char *why);

/* ---- unit-test helpers ------------------------------------------------------ */

/* A malloc'd copy of p[0..n) in a block of exactly n bytes (no NUL after
 * it): AddressSanitizer then catches a parser that reads past len. */
char *ht_dup(const void *p, size_t n);

/* p[0..n) escaped for a message, at most max bytes shown: wb_esc(). */
const char *ht_esc(const void *p, size_t n, size_t max);

/* Parses an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT", exactly (the
 * weekday must match the date). Returns 0 and sets *t, or -1. */
int ht_parse_date(const char *s, time_t *t);

/* ---- waiting: a response within a deadline of one's own, or none ----------- */

/* Reads one response from the open connection fd within ms, or fails the
 * test with context, the request raw[0..len) (escaped and as curl) and what
 * came instead. head_request: the response to a HEAD has no body. The
 * response keeps a copy of the request. */
struct ht_response *ht_must_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                                 int head_request, int ms, const char *context);

/* Fails the test with why if anything (bytes, or the close) arrives on fd
 * within ms: the server must still be waiting for the rest of a request.
 * sent[0..sentlen) is what was sent so far, for the message. */
void ht_expect_silence(struct wb_proc *p, int fd, int ms, const char *sent, size_t sentlen,
                       const char *why);

#endif
