/* Stage 3: write a response -- http_reason(), http_format_date(),
 * response_header(), response_error(), response_head() -- and what the
 * server sends on the wire. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "client.h"
#include "response.h"
#include "wbtest.h"

WB_SUITE(responses);

Test(responses, http_reason_knows_the_common_codes)
{
    static const struct {
        int code;
        const char *reason;
    } cases[] = {
        { 200, "OK" },
        { 201, "Created" },
        { 204, "No Content" },
        { 206, "Partial Content" },
        { 304, "Not Modified" },
        { 400, "Bad Request" },
        { 403, "Forbidden" },
        { 404, "Not Found" },
        { 405, "Method Not Allowed" },
        { 408, "Request Timeout" },
        { 413, "Content Too Large" },
        { 414, "URI Too Long" },
        { 416, "Range Not Satisfiable" },
        { 431, "Request Header Fields Too Large" },
        { 500, "Internal Server Error" },
        { 501, "Not Implemented" },
        { 503, "Service Unavailable" },
        { 505, "HTTP Version Not Supported" },
        { 299, "Unknown" },
        { 0, "Unknown" },
        { 999, "Unknown" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = http_reason(cases[i].code);
        cr_expect(ne(ptr, (void *)got, NULL), "http_reason(%d) returned NULL; expected \"%s\"",
                  cases[i].code, cases[i].reason);
        if (got)
            cr_expect(eq(str, (char *)got, (char *)cases[i].reason),
                      "http_reason(%d) returned \"%s\"; expected \"%s\" (RFC 9110 section 15%s)",
                      cases[i].code, got, cases[i].reason,
                      strcmp(cases[i].reason, "Unknown") == 0
                          ? "; a code without a phrase in your table gets \"Unknown\""
                          : "");
    }
}

Test(responses, http_format_date_writes_an_imf_fixdate_in_gmt)
{
    static const struct {
        long long t;
        const char *want, *what;
    } cases[] = {
        { 0, "Thu, 01 Jan 1970 00:00:00 GMT", "the epoch" },
        { 784111777, "Sun, 06 Nov 1994 08:49:37 GMT", "RFC 9110's example" },
        { 951782400, "Tue, 29 Feb 2000 00:00:00 GMT", "a leap day (2000 is a leap year)" },
        { 1709251199, "Thu, 29 Feb 2024 23:59:59 GMT", "the last second of a leap day" },
        { 1700000000, "Tue, 14 Nov 2023 22:13:20 GMT", "two-digit everything" },
        { 2147483647, "Tue, 19 Jan 2038 03:14:07 GMT", "the largest 32-bit time" },
    };
    /* A server in New York still sends GMT: make local time differ. */
    setenv("TZ", "EST+5", 1);
    tzset();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[64];
        memset(out, 'x', sizeof out);
        int n = http_format_date((time_t)cases[i].t, out);
        cr_expect(eq(int, n, HTTP_DATE_LEN), "http_format_date(%lld) returned %d; expected %d",
                  cases[i].t, n, HTTP_DATE_LEN);
        cr_expect(eq(int, out[HTTP_DATE_LEN], 0),
                  "http_format_date(%lld): out[%d] must be the terminating NUL", cases[i].t,
                  HTTP_DATE_LEN);
        cr_expect(memcmp(out, cases[i].want, HTTP_DATE_LEN) == 0,
                  "http_format_date(%lld) wrote %s; expected \"%s\" (%s). Always GMT "
                  "(gmtime_r, not localtime -- this test runs with TZ=EST+5), and English "
                  "day and month names",
                  cases[i].t, ht_esc(out, strnlen(out, 40), 40), cases[i].want, cases[i].what);
        cr_expect(eq(int, out[HTTP_DATE_LEN + 1], 'x'),
                  "http_format_date(%lld) wrote past out[%d]: the buffer holds "
                  "HTTP_DATE_LEN + 1 bytes", cases[i].t, HTTP_DATE_LEN);
    }
}

static const char *buf_esc(const struct buf *b)
{
    return ht_esc(b->data ? b->data : "", b->len, 600);
}

static int buf_is(const struct buf *b, const char *want)
{
    size_t n = strlen(want);
    return b->len == n && (n == 0 || (b->data && memcmp(b->data, want, n) == 0));
}

Test(responses, response_header_appends_name_colon_value_crlf)
{
    struct response r;
    response_init(&r);
    int rc = response_header(&r, "Content-Type", "text/plain");
    cr_expect(eq(int, rc, 0), "response_header(r, \"Content-Type\", \"text/plain\") returned %d",
              rc);
    rc = response_header(&r, "X-Empty", "");
    cr_expect(eq(int, rc, 0), "response_header(r, \"X-Empty\", \"\") returned %d: an empty value "
              "is allowed", rc);
    rc = response_header(&r, "Cache-Control", "no-cache, max-age=0");
    cr_expect(eq(int, rc, 0), "response_header(r, \"Cache-Control\", ...) returned %d", rc);
    const char *want = "Content-Type: text/plain\r\nX-Empty: \r\nCache-Control: no-cache, "
                       "max-age=0\r\n";
    cr_expect(buf_is(&r.headers, want),
              "after three response_header() calls r->headers holds %s; expected %s: each "
              "field is \"name: value\\r\\n\", appended in order",
              buf_esc(&r.headers), ht_esc(want, strlen(want), 600));
    response_free(&r);
}

Test(responses, response_header_refuses_header_injection)
{
    struct response ok;
    response_init(&ok);
    int rc = response_header(&ok, "X-Ok", "fine: value");
    cr_expect(eq(int, rc, 0), "response_header(r, \"X-Ok\", \"fine: value\") returned %d; "
              "expected 0: only CR and LF are refused", rc);
    response_free(&ok);
    static const struct {
        const char *name, *value;
    } cases[] = {
        { "X-Name", "a\r\nSet-Cookie: admin=1" },
        { "X-Name", "a\nSet-Cookie: admin=1" },
        { "X-Name", "a\rb" },
        { "X-Name", "line end\r\n" },
        { "X-Bad\r\nSet-Cookie", "admin=1" },
        { "X-Bad\n", "v" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct response r;
        response_init(&r);
        response_header(&r, "Content-Type", "text/plain");
        size_t before = r.headers.len;
        int rc = response_header(&r, cases[i].name, cases[i].value);
        cr_expect(eq(int, rc, -1),
                  "response_header(r, %s, %s) returned %d; expected -1: a CR or LF would end "
                  "the field and start a new one -- if the value came from a request, the "
                  "client could add any header (a Set-Cookie...) to the response",
                  ht_esc(cases[i].name, strlen(cases[i].name), 60),
                  ht_esc(cases[i].value, strlen(cases[i].value), 60), rc);
        cr_expect(eq(sz, r.headers.len, before),
                  "response_header(r, %s, %s) refused the field but changed r->headers to %s: "
                  "a refused field adds nothing",
                  ht_esc(cases[i].name, strlen(cases[i].name), 60),
                  ht_esc(cases[i].value, strlen(cases[i].value), 60), buf_esc(&r.headers));
        response_free(&r);
    }
}

#define NOW 784111777 /* Sun, 06 Nov 1994 08:49:37 GMT */
#define DATE "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"

/* response_head(r, NOW) must write exactly want. */
static void expect_head(const struct response *r, const char *want, const char *what)
{
    struct buf out;
    buf_init(&out);
    int rc = response_head(r, NOW, &out);
    cr_expect(eq(int, rc, 0), "response_head() for %s returned %d; expected 0", what, rc);
    cr_expect(buf_is(&out, want),
              "response_head(r, %d, out) for %s wrote:\n  %s\nexpected:\n  %s\n(the status "
              "line, Date, Content-Length, \"Connection: close\" only when r->close, then "
              "r->headers, then the empty line -- in this order, each line ending in "
              "\\r\\n; the body is not part of the head)",
              NOW, what, buf_esc(&out), ht_esc(want, strlen(want), 600));
    buf_free(&out);
}

Test(responses, response_head_writes_the_exact_head)
{
    struct response r;
    response_init(&r);
    response_header(&r, "Content-Type", "text/plain; charset=utf-8");
    response_body(&r, "hello\n", 6);
    expect_head(&r,
                "HTTP/1.1 200 OK\r\n" DATE "Content-Length: 6\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                "a 200 with a 6-byte body");

    r.close = 1;
    expect_head(&r,
                "HTTP/1.1 200 OK\r\n" DATE "Content-Length: 6\r\nConnection: close\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                "the same with r->close = 1");

    r.close = 0;
    r.status = 201;
    r.head_only = 1;
    expect_head(&r,
                "HTTP/1.1 201 Created\r\n" DATE "Content-Length: 6\r\n"
                "Content-Type: text/plain; charset=utf-8\r\n\r\n",
                "a 201 for a HEAD request (r->head_only = 1: the head is the same as for GET, "
                "Content-Length included)");
    response_free(&r);

    response_init(&r);
    expect_head(&r, "HTTP/1.1 200 OK\r\n" DATE "Content-Length: 0\r\n\r\n",
                "an empty 200 (Content-Length: 0 says there is no body)");
    response_free(&r);
}

Test(responses, a_file_response_announces_the_file_length)
{
    struct response r;
    response_init(&r);
    r.file_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    cr_assert(r.file_fd >= 0, "test setup: open /dev/null");
    r.file_off = 100;
    r.file_len = 1234;
    response_body(&r, "ignored", 7);
    expect_head(&r, "HTTP/1.1 200 OK\r\n" DATE "Content-Length: 1234\r\n\r\n",
                "a file response (file_fd >= 0, file_len 1234): the length is file_len, not "
                "the length of r->body");
    response_free(&r);
    cr_expect(eq(int, r.file_fd, -1), "response_free() must close the file and set file_fd to -1");
}

Test(responses, no_content_length_in_204_and_304)
{
    struct response r;
    response_init(&r);
    r.status = 204;
    expect_head(&r, "HTTP/1.1 204 No Content\r\n" DATE "\r\n",
                "a 204 (RFC 9110 section 8.6: no Content-Length in 1xx and 204 responses)");
    r.status = 304;
    response_header(&r, "ETag", "\"abc\"");
    expect_head(&r, "HTTP/1.1 304 Not Modified\r\n" DATE "ETag: \"abc\"\r\n\r\n",
                "a 304 (it has no body; a Content-Length would describe the full file)");
    response_free(&r);
}

Test(responses, response_error_makes_a_one_line_plain_text_error)
{
    static const struct {
        int status;
        const char *body;
    } cases[] = {
        { 404, "404 Not Found\n" },
        { 400, "400 Bad Request\n" },
        { 505, "505 HTTP Version Not Supported\n" },
        { 431, "431 Request Header Fields Too Large\n" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct response r;
        response_init(&r);
        /* a response half-built for a file when the error happened */
        response_header(&r, "Content-Type", "image/png");
        response_header(&r, "X-Old", "1");
        response_body(&r, "old body", 8);
        r.file_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        r.file_len = 99;
        r.close = 1;
        r.head_only = 1;
        int rc = response_error(&r, cases[i].status);
        cr_expect(eq(int, rc, 0), "response_error(r, %d) returned %d", cases[i].status, rc);
        cr_expect(eq(int, r.status, cases[i].status), "response_error(r, %d): r->status is %d",
                  cases[i].status, r.status);
        cr_expect(buf_is(&r.body, cases[i].body),
                  "response_error(r, %d): r->body is %s; expected \"%d %s\\n\" (the code, the "
                  "reason phrase, a newline) -- and nothing of the old body",
                  cases[i].status, buf_esc(&r.body), cases[i].status, http_reason(cases[i].status));
        cr_expect(buf_is(&r.headers, "Content-Type: text/plain; charset=utf-8\r\n"),
                  "response_error(r, %d): r->headers is %s; expected exactly \"Content-Type: "
                  "text/plain; charset=utf-8\\r\\n\" -- the fields added before the error "
                  "(here \"Content-Type: image/png\") belong to the answer that was "
                  "abandoned",
                  cases[i].status, buf_esc(&r.headers));
        cr_expect(eq(int, r.file_fd, -1),
                  "response_error(r, %d): r->file_fd is still %d: close the file and set -1, "
                  "or the connection sends the file instead of the error text",
                  cases[i].status, r.file_fd);
        int kept = r.close == 1 && r.head_only == 1;
        cr_expect(kept, "response_error(r, %d) changed r->close (%d) or r->head_only (%d): "
                  "keep them (both were 1)", cases[i].status, r.close, r.head_only);
        response_free(&r);
    }
}

/* ---- against the running server ------------------------------------------- */

/* The checks every response must pass: one status line with the right
 * reason, a Date near now, Content-Length equal to the body, the error
 * body, and no bytes after it. */
static void expect_error_response(struct wb_proc *p, const char *req, int status, time_t before)
{
    struct ht_response *r = ht_exchange_str(p, req);
    ht_expect_status(p, r, status, NULL, 0, "the status of the response");
    char line[160];
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, ht_reason(status));
    cr_assert(strncmp(r->raw, line, (size_t)n) == 0,
              "the status line is %s; expected %s: \"HTTP/1.1\", the code, the reason phrase "
              "of http_reason(), CRLF\n%s",
              ht_esc(r->raw, strcspn(r->raw, "\n") + 1, 200), ht_esc(line, (size_t)n, 200),
              ht_describe_request(p, req, strlen(req)));
    const char *again = memmem(r->raw + n, r->head_len - (size_t)n, "HTTP/1.", 7);
    cr_assert(again == NULL, "the head holds a second status line: send the head once\n"
              "received: %s", ht_esc(r->raw, r->raw_len, 600));

    const char *date = ht_header(r, "Date");
    cr_assert(ne(ptr, (void *)date, NULL),
              "the response has no Date field: every response needs one (RFC 9110 section "
              "6.6.1)\n%s\nreceived: %s",
              ht_describe_request(p, req, strlen(req)), ht_describe_response(r));
    time_t t, after = time(NULL);
    cr_assert(eq(int, ht_parse_date(date, &t), 0),
              "\"Date: %s\" is not an IMF-fixdate like \"Sun, 06 Nov 1994 08:49:37 GMT\" (the "
              "weekday must match the date)\nreceived: %s",
              date, ht_describe_response(r));
    int near = t >= before - 2 && t <= after + 2;
    cr_assert(near,
              "\"Date: %s\" is %lld s away from now: send the current time (time(NULL)), in "
              "GMT\nreceived: %s",
              date, (long long)(t - after), ht_describe_response(r));

    size_t nlen = ht_header_count(r, "Content-Length");
    cr_assert(eq(sz, nlen, 1), "%zu Content-Length fields; expected one\nreceived: %s", nlen,
              ht_describe_response(r));
    char body[160];
    int bn = snprintf(body, sizeof body, "%d %s\n", status, ht_reason(status));
    char clen[32];
    snprintf(clen, sizeof clen, "%d", bn);
    ht_expect_header(p, r, "Content-Length", clen,
                     "Content-Length must be the number of body bytes");
    ht_expect_header(p, r, "Content-Type", "text/plain; charset=utf-8",
                     "an error response is plain text (response_error)");
    ht_expect_body(p, r, body, (size_t)bn, "the body of an error is one line: code, reason");
    ht_expect_no_extra(p, r, "after Content-Length bytes of body nothing more may come: the "
                             "client reads exactly that many and takes the rest as the next "
                             "response");
    ht_free(r);
}

Test(responses, a_404_response_is_complete_and_exact)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    expect_error_response(p, "GET /no-such-file.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 404,
                          time(NULL));
}

Test(responses, a_400_response_is_complete_and_exact)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    expect_error_response(p, "GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", 400, time(NULL));
    expect_error_response(p, "GET / HTTP/1.1\r\n\r\n", 400, time(NULL));
}

Test(responses, a_505_response_is_complete_and_exact)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    expect_error_response(p, "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505, time(NULL));
}

Test(responses, connection_close_is_announced_when_the_server_closes)
{
    static const char req[] = "GET /no-such-file HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange_str(p, req);
    ht_expect_header(p, r, "Connection", "close",
                     "the client asked to close (\"Connection: close\"): the response says "
                     "\"Connection: close\" too (r->close = 1), then the server closes");
    wb_expect_eof(p, r->fd, WB_IO_MS, "after a response with \"Connection: close\"\n%s",
                  ht_describe_request(p, req, sizeof req - 1));
    ht_free(r);
}
