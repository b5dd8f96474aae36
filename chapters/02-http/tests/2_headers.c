/* Stage 2: parse the header fields -- http_parse_headers(),
 * http_parse_request(), http_header_get(), http_check_head() -- and the
 * server's answer to a head it cannot accept. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "http.h"
#include "wbtest.h"

WB_SUITE(headers);

/* Parses header fields from an exactly-sized copy of s[0..n). */
static int parse_fields(const char *s, size_t n, struct http_request *req, char **copy)
{
    *copy = ht_dup(s, n);
    memset(req, 0, sizeof *req);
    return http_parse_headers(*copy, n, req);
}

/* Parses a whole head from an exactly-sized copy of s[0..n). */
static int parse_head(const char *s, size_t n, struct http_request *req, char **copy)
{
    *copy = ht_dup(s, n);
    memset(req, 0, sizeof *req);
    return http_parse_request(*copy, n, req);
}

Test(headers, fields_are_split_into_names_and_trimmed_values)
{
    static const char in[] = "Host: example.com\r\n"
                             "User-Agent:   curl/8.5.0  \r\n"
                             "X-Empty:\r\n"
                             "Accept:\t*/*\t\r\n"
                             "x-lower: a b  c\r\n"
                             "\r\n"
                             "BODY";
    static const struct {
        const char *name, *value;
    } want[] = {
        { "Host", "example.com" }, { "User-Agent", "curl/8.5.0" }, { "X-Empty", "" },
        { "Accept", "*/*" },       { "x-lower", "a b  c" },
    };
    size_t n = sizeof in - 1;
    struct http_request req;
    char *copy;
    int got = parse_fields(in, n, &req, &copy);
    cr_assert(eq(int, got, (int)(n - 4)),
              "http_parse_headers(%s) returned %d; expected %zu: the bytes of the fields and "
              "of the empty line that ends them, not the body after it",
              ht_esc(in, n, 300), got, n - 4);
    cr_assert(eq(sz, req.nheaders, sizeof want / sizeof want[0]),
              "http_parse_headers(%s) set nheaders to %zu; expected %zu",
              ht_esc(in, n, 300), req.nheaders, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < req.nheaders; i++) {
        cr_expect(ht_slice_is(req.headers[i].name, want[i].name),
                  "field %zu of %s: the name is %s; expected \"%s\" (as sent: no case change, "
                  "no colon)",
                  i, ht_esc(in, n, 300), ht_slice_esc(req.headers[i].name), want[i].name);
        cr_expect(ht_slice_is(req.headers[i].value, want[i].value),
                  "field %zu of %s: the value is %s; expected \"%s\" (the spaces and tabs "
                  "around a value -- OWS -- are not part of it; those inside are)",
                  i, ht_esc(in, n, 300), ht_slice_esc(req.headers[i].value), want[i].value);
        int inside = ht_slice_within(req.headers[i].name, copy, n) &&
                     ht_slice_within(req.headers[i].value, copy, n);
        cr_expect(inside,
                  "field %zu: name and value must be slices of the caller's buffer (the "
                  "parser never copies)", i);
    }
    free(copy);
}

Test(headers, http_header_get_ignores_case)
{
    static const char in[] = "GET / HTTP/1.1\r\n"
                             "Content-Type: first\r\n"
                             "HOST: h\r\n"
                             "content-type: second\r\n"
                             "\r\n";
    static const struct {
        const char *name, *want; /* want NULL: not found */
    } cases[] = {
        { "Content-Type", "first" }, { "content-type", "first" }, { "CONTENT-TYPE", "first" },
        { "host", "h" },             { "Content", NULL },         { "Content-Type-X", NULL },
        { "Accept", NULL },          { "", NULL },
    };
    struct http_request req;
    char *copy;
    int got = parse_head(in, sizeof in - 1, &req, &copy);
    cr_assert(eq(int, got, (int)(sizeof in - 1)), "http_parse_request(%s) returned %d; expected %zu",
              ht_esc(in, sizeof in - 1, 300), got, sizeof in - 1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct http_slice *v = http_header_get(&req, cases[i].name);
        if (!cases[i].want) {
            cr_expect(v == NULL,
                      "http_header_get(req, \"%s\") returned %s; expected NULL: no field has "
                      "exactly that name (compare the whole name, not a prefix)\nthe head: %s",
                      cases[i].name, v ? ht_slice_esc(*v) : "", ht_esc(in, sizeof in - 1, 300));
            continue;
        }
        cr_expect(v != NULL,
                  "http_header_get(req, \"%s\") returned NULL; expected \"%s\": field names "
                  "are case-insensitive (http_slice_eq_nocase)\nthe head: %s",
                  cases[i].name, cases[i].want, ht_esc(in, sizeof in - 1, 300));
        if (v)
            cr_expect(ht_slice_is(*v, cases[i].want),
                      "http_header_get(req, \"%s\") returned %s; expected \"%s\" (the first "
                      "field with that name)",
                      cases[i].name, ht_slice_esc(*v), cases[i].want);
    }
    free(copy);
}

Test(headers, every_prefix_of_a_head_is_incomplete)
{
    static const char in[] = "GET /docs/?q=1 HTTP/1.1\r\n"
                             "Host: localhost:8080\r\n"
                             "Accept: text/html\r\n"
                             "X-Empty:\r\n"
                             "\r\n";
    size_t n = sizeof in - 1;
    for (size_t len = 0; len < n; len++) {
        struct http_request req;
        char *copy;
        int got = parse_head(in, len, &req, &copy);
        free(copy);
        cr_assert(eq(int, got, HTTP_INCOMPLETE),
                  "http_parse_request(%s, %zu) returned %d; expected HTTP_INCOMPLETE (%d): "
                  "these are the first %zu bytes of a valid head, the rest has not arrived "
                  "yet. The head ends only with the empty line.",
                  ht_esc(in, len, 300), len, got, HTTP_INCOMPLETE, len);
    }
    struct http_request req;
    char *copy;
    int got = parse_head(in, n, &req, &copy);
    cr_assert(eq(int, got, (int)n), "http_parse_request(%s) returned %d; expected %zu",
              ht_esc(in, n, 300), got, n);
    cr_expect(eq(sz, req.nheaders, 3), "http_parse_request(%s): nheaders is %zu; expected 3",
              ht_esc(in, n, 300), req.nheaders);
    cr_expect(ht_slice_is(req.path, "/docs/"),
              "http_parse_request(%s): path is %s; expected \"/docs/\" (the request line is "
              "parsed too)", ht_esc(in, n, 300), ht_slice_esc(req.path));
    free(copy);
}

Test(headers, malformed_fields_are_400)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *why;
    } cases[] = {
        { "Host: a\r\n  b\r\n\r\n", 0,
          "a line starting with spaces continues the previous one (obs-fold): RFC 9112 "
          "section 5.2 says to reject it" },
        { "Host: a\r\n\tb\r\n\r\n", 0, "obs-fold with a tab" },
        { " Host: a\r\n\r\n", 0, "a first field starting with a space" },
        { "Host : a\r\n\r\n", 0,
          "whitespace between the name and the colon (RFC 9112 section 5.1: a request "
          "smuggling risk, must be 400)" },
        { "Host\t: a\r\n\r\n", 0, "a tab between the name and the colon" },
        { "NoColonHere\r\n\r\n", 0, "a line without a colon" },
        { ": value\r\n\r\n", 0, "an empty name" },
        { "Bad Name: x\r\n\r\n", 0, "a space inside the name: a name is a token" },
        { "Bad(Name): x\r\n\r\n", 0, "'(' inside the name: a name is a token" },
        { "X: a\x01z\r\n\r\n", 0, "a control byte (0x01) in the value" },
        { "X: a\x7fz\r\n\r\n", 0, "DEL (0x7f) in the value" },
        { "X: a\0z\r\n\r\n", 10, "a NUL byte in the value" },
        { "X: a\rz\r\n\r\n", 0, "a CR that is not followed by LF" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct http_request req;
        char *copy;
        int got = parse_fields(cases[i].in, n, &req, &copy);
        free(copy);
        cr_expect(eq(int, got, -400),
                  "http_parse_headers(%s, %zu) returned %d; expected -400: %s",
                  ht_esc(cases[i].in, n, 200), n, got, cases[i].why);
    }
    static const char good[] = "Host: a\r\nX-Ok:\tb c\r\n\r\n";
    struct http_request req;
    char *copy;
    int got = parse_fields(good, sizeof good - 1, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, (int)sizeof good - 1),
              "http_parse_headers(%s) returned %d; expected %zu: these fields are fine",
              ht_esc(good, sizeof good - 1, 200), got, sizeof good - 1);
}

/* n fields "X-Field-<i>: <i>\r\n" and the empty line; malloc'd. */
static char *many_fields(size_t count, size_t *len)
{
    char *s = malloc(count * 32 + 8);
    cr_assert(s != NULL, "out of memory");
    size_t n = 0;
    for (size_t i = 0; i < count; i++)
        n += (size_t)sprintf(s + n, "X-Field-%zu: %zu\r\n", i, i);
    n += (size_t)sprintf(s + n, "\r\n");
    *len = n;
    return s;
}

Test(headers, more_than_http_max_headers_fields_are_431)
{
    size_t n;
    struct http_request req;
    char *copy;
    char *ok = many_fields(HTTP_MAX_HEADERS, &n);
    int got = parse_fields(ok, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, (int)n),
              "%d header fields (exactly HTTP_MAX_HEADERS) returned %d; expected %zu: they "
              "all fit in req->headers", HTTP_MAX_HEADERS, got, n);
    cr_expect(eq(sz, req.nheaders, HTTP_MAX_HEADERS), "%d fields: nheaders is %zu",
              HTTP_MAX_HEADERS, req.nheaders);
    free(ok);

    char *big = many_fields(HTTP_MAX_HEADERS + 1, &n);
    got = parse_fields(big, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, -431),
              "%d header fields (HTTP_MAX_HEADERS is %d) returned %d; expected -431 (431 "
              "Request Header Fields Too Large) -- and no write past req->headers[%d]",
              HTTP_MAX_HEADERS + 1, HTTP_MAX_HEADERS, got, HTTP_MAX_HEADERS - 1);
    free(big);
}

/* "X-Long: aaa...\r\n" with a value of vlen bytes, then (with_end) the
 * empty line; malloc'd. */
static char *long_field(size_t vlen, int with_end, size_t *len)
{
    char *s = malloc(vlen + 32);
    cr_assert(s != NULL, "out of memory");
    size_t n = (size_t)sprintf(s, "X-Long: ");
    memset(s + n, 'a', vlen);
    n += vlen;
    if (with_end) {
        memcpy(s + n, "\r\n\r\n", 4);
        n += 4;
    }
    *len = n;
    return s;
}

Test(headers, a_field_line_longer_than_the_limit_is_431)
{
    size_t n;
    struct http_request req;
    char *copy;
    char *ok = long_field(HTTP_MAX_HEADER_LINE - 100, 1, &n);
    int got = parse_fields(ok, n, &req, &copy);
    free(copy);
    free(ok);
    cr_expect(eq(int, got, (int)n),
              "a field line of %d bytes (HTTP_MAX_HEADER_LINE is %d) returned %d; expected "
              "%zu: it is within the limit",
              HTTP_MAX_HEADER_LINE - 100 + 8, HTTP_MAX_HEADER_LINE, got, n);

    char *big = long_field(HTTP_MAX_HEADER_LINE + 100, 1, &n);
    got = parse_fields(big, n, &req, &copy);
    free(copy);
    free(big);
    cr_expect(eq(int, got, -431),
              "a field line of %d bytes (\"X-Long: aaa...\"; HTTP_MAX_HEADER_LINE is %d) "
              "returned %d; expected -431", HTTP_MAX_HEADER_LINE + 100 + 8,
              HTTP_MAX_HEADER_LINE, got);

    big = long_field(HTTP_MAX_HEADER_LINE + 100, 0, &n);
    got = parse_fields(big, n, &req, &copy);
    free(copy);
    free(big);
    cr_expect(eq(int, got, -431),
              "%zu bytes \"X-Long: aaa...\" and no line end yet returned %d; expected -431: the "
              "line is already too long -- waiting for more would let a client fill the memory",
              n, got);

    /* Exactly at the limit: the line end is not counted. */
    char *edge = long_field(HTTP_MAX_HEADER_LINE - 8, 1, &n);
    got = parse_fields(edge, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, (int)n),
              "a field line of exactly HTTP_MAX_HEADER_LINE (%d) bytes, then \"\\r\\n\\r\\n\", "
              "returned %d; expected %zu: the limit counts the line without its line end",
              HTTP_MAX_HEADER_LINE, got, n);
    got = parse_fields(edge, n - 3, &req, &copy);
    free(copy);
    free(edge);
    cr_expect(eq(int, got, HTTP_INCOMPLETE),
              "a field line of exactly HTTP_MAX_HEADER_LINE (%d) bytes and a CR, the LF not yet "
              "there, returned %d; expected HTTP_INCOMPLETE (%d): the CR may be the first half "
              "of the CRLF, so it does not count against the limit",
              HTTP_MAX_HEADER_LINE, got, HTTP_INCOMPLETE);
}

Test(headers, a_head_longer_than_http_max_head_is_431)
{
    /* 40 fields of 2000 bytes: each line and the count are fine, the head
     * (80 KB) is not. */
    size_t cap = 40 * 2100 + 64, n = 0;
    char *s = malloc(cap);
    cr_assert(s != NULL, "out of memory");
    n += (size_t)sprintf(s, "GET / HTTP/1.1\r\nHost: h\r\n");
    for (int i = 0; i < 40; i++) {
        n += (size_t)sprintf(s + n, "X-Big-%02d: ", i);
        memset(s + n, 'b', 2000);
        n += 2000;
        n += (size_t)sprintf(s + n, "\r\n");
    }
    size_t without_end = n;
    n += (size_t)sprintf(s + n, "\r\n");

    struct http_request req;
    char *copy;
    int got = parse_head(s, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, -431),
              "a head of %zu bytes (40 fields of 2010 bytes; HTTP_MAX_HEAD is %d) returned %d; "
              "expected -431", n, HTTP_MAX_HEAD, got);
    got = parse_head(s, without_end, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, -431),
              "%zu bytes of a head that has not ended yet (HTTP_MAX_HEAD is %d) returned %d; "
              "expected -431: it is already too long, whatever follows",
              without_end, HTTP_MAX_HEAD, got);
    free(s);
}

/* Parses a head (which must be valid) and runs http_check_head on it. */
static int check(const char *in, struct http_head_info *info, char **copy)
{
    struct http_request req;
    size_t n = strlen(in);
    int got = parse_head(in, n, &req, copy);
    cr_assert(eq(int, got, (int)n), "http_parse_request(%s) returned %d; expected %zu",
              ht_esc(in, n, 300), got, n);
    memset(info, 0x55, sizeof *info);
    return http_check_head(&req, info);
}

Test(headers, http_check_head_wants_exactly_one_host_in_http_1_1)
{
    static const struct {
        const char *in;
        int want;
        const char *host, *why;
    } cases[] = {
        { "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 0, "example.com", "one Host: fine" },
        { "GET / HTTP/1.1\r\nhost: a:8080\r\n\r\n", 0, "a:8080", "the name in any case" },
        { "GET / HTTP/1.1\r\nAccept: */*\r\n\r\n", -400, NULL,
          "HTTP/1.1 requires Host (RFC 9112 section 3.2)" },
        { "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400, NULL,
          "two Host fields: which one is meant? 400" },
        { "GET / HTTP/1.0\r\n\r\n", 0, NULL, "HTTP/1.0 has no Host requirement" },
        { "GET / HTTP/1.0\r\nHost: old\r\n\r\n", 0, "old", "HTTP/1.0 may send Host" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_head_info info;
        char *copy;
        int got = check(cases[i].in, &info, &copy);
        cr_expect(eq(int, got, cases[i].want), "http_check_head() for %s returned %d; expected %d: %s",
                  ht_esc(cases[i].in, strlen(cases[i].in), 300), got, cases[i].want,
                  cases[i].why);
        if (got == 0 && cases[i].host)
            cr_expect(ht_slice_is(info.host, cases[i].host),
                      "http_check_head() for %s: info->host is %s; expected \"%s\"",
                      ht_esc(cases[i].in, strlen(cases[i].in), 300), ht_slice_esc(info.host),
                      cases[i].host);
        free(copy);
    }
}

Test(headers, http_check_head_wants_a_host_and_a_port_of_digits)
{
    static const struct {
        const char *host;
        int want;
        const char *why;
    } cases[] = {
        { "example.com", 0, "a name" },
        { "example.com:8080", 0, "a name and a port" },
        { "127.0.0.1:80", 0, "an IPv4 address and a port" },
        { "[::1]", 0, "an IPv6 address, in brackets" },
        { "[::1]:8080", 0, "an IPv6 address and a port" },
        { "localhost:", 0, "an empty port: port is *DIGIT, zero digits allowed" },
        { "", 0, "an empty Host: what a client sends for a URI without a host (RFC 9112 "
          "section 3.2)" },
        { "example.com:abc", -400, "a port that is not digits" },
        { "a:1x", -400, "a port that is not all digits" },
        { "a:1:2", -400, "two colons after a name: the port would be \"1:2\"" },
        { "[::1", -400, "an IPv6 literal whose ']' never comes" },
        { "[::1]x", -400, "something other than ':' after the ']'" },
        { "[::1]:8x", -400, "an IPv6 literal with a port that is not digits" },
        { "[]", -400, "an empty IPv6 literal" },
        { "user@example.com", -400, "userinfo: '@' is not part of a host" },
        { "a/b", -400, "a '/' in the host" },
        { "a b", -400, "a space in the host" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[256];
        snprintf(in, sizeof in, "GET / HTTP/1.1\r\nHost: %s\r\n\r\n", cases[i].host);
        struct http_head_info info;
        char *copy;
        int got = check(in, &info, &copy);
        free(copy);
        cr_expect(eq(int, got, cases[i].want),
                  "http_check_head() for \"Host: %s\" returned %d; expected %d: %s. A Host is "
                  "a name or IPv4 address (letters, digits, \"-._~\", %%XX, \"!$&'()*+,;=\") or "
                  "an [IPv6] address, then optionally ':' and digits (RFC 9110 section 7.2)",
                  cases[i].host, got, cases[i].want, cases[i].why);
    }
}

/* ---- against the running server ------------------------------------------- */

Test(headers, http_1_1_without_host_gets_400)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange_str(p, "GET /hello.txt HTTP/1.1\r\nAccept: */*\r\n\r\n");
    ht_expect_status(p, r, 400, NULL, 0,
                     "an HTTP/1.1 request without a Host field gets 400 (RFC 9112 section "
                     "3.2): http_check_head() returns -400 and the server answers with it");
    ht_free(r);
    r = ht_exchange_str(p, "GET /hello.txt HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n");
    ht_expect_status(p, r, 400, NULL, 0, "two Host fields get 400");
    ht_free(r);
    r = ht_exchange_str(p, "GET /hello.txt HTTP/1.0\r\n\r\n");
    cr_assert(r->status != 400,
              "an HTTP/1.0 request needs no Host, but got 400\n%s\nreceived: %s",
              ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
    ht_free(r);
    ht_expect_accepted(p, "the same request as above with a Host field");
}

Test(headers, a_malformed_host_gets_400)
{
    static const char *const bad[] = {
        "GET /hello.txt HTTP/1.1\r\nHost: example.com:abc\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost: a:1x\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost: [::1\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, bad[i]);
        ht_expect_status(p, r, 400, NULL, 0,
                         "a Host field that is not host[:port] -- a port that is not digits, "
                         "an IPv6 literal without its ']' -- gets 400 Bad Request (RFC 9112 "
                         "section 3.2): http_check_head() returns -400");
        ht_free(r);
    }
    struct ht_response *r =
        ht_exchange_str(p, "GET /hello.txt HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n");
    cr_assert(r->status != 400,
              "\"Host: [::1]:8080\" is a valid Host (an IPv6 address and a port), but the "
              "request got 400\n%s\nreceived: %s",
              ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
    ht_free(r);
    ht_expect_accepted(p, "after the requests with a malformed Host");
}

Test(headers, malformed_fields_get_400)
{
    static const char *const bad[] = {
        "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nX-Folded: a\r\n b\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost : localhost\r\n\r\n",
        "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nno colon\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, bad[i]);
        ht_expect_status(p, r, 400, NULL, 0,
                         "a malformed header field (obs-fold, a space before the colon, no "
                         "colon) gets 400 Bad Request");
        ht_free(r);
    }
    ht_expect_accepted(p, "after the malformed heads above got 400");
}

Test(headers, too_many_fields_get_431)
{
    size_t n = 0;
    char *req = malloc(64 + (HTTP_MAX_HEADERS + 10) * 32);
    cr_assert(req != NULL, "out of memory");
    n += (size_t)sprintf(req, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < HTTP_MAX_HEADERS + 10; i++)
        n += (size_t)sprintf(req + n, "X-Field-%d: %d\r\n", i, i);
    n += (size_t)sprintf(req + n, "\r\n");
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange(p, req, n);
    ht_expect_status(p, r, 431, req, n,
                     "more than HTTP_MAX_HEADERS header fields get 431 Request Header Fields "
                     "Too Large");
    ht_free(r);
    free(req);
    ht_expect_accepted(p, "after a request that got 431");
}

Test(headers, field_names_are_case_insensitive)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange_str(p, "GET /hello.txt HTTP/1.1\r\nhOsT: localhost\r\n\r\n");
    cr_assert(r->status != 400,
              "\"hOsT: localhost\" is a Host field -- names are case-insensitive -- but the "
              "request got 400 (as if there were no Host)\n%s\nreceived: %s",
              ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
    ht_free(r);
}
