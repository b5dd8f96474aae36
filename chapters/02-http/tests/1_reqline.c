/* Stage 1: parse the request line -- http_parse_request_line(), and the
 * server's answer to a request line it cannot parse. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"
#include "http.h"
#include "wbtest.h"

WB_SUITE(reqline);

/* Parses s[0..n) from an exactly-sized copy (AddressSanitizer stops a
 * read past len). *copy is the copy the slices point into. */
static int parse_line(const char *s, size_t n, struct http_request *req, char **copy)
{
    *copy = ht_dup(s, n);
    memset(req, 0, sizeof *req);
    return http_parse_request_line(*copy, n, req);
}

/* One slice check with a message that says which field and why. */
static void expect_slice(const char *field, struct http_slice got, const char *want,
                         const char *in, size_t n, const char *buf)
{
    cr_expect(ht_slice_is(got, want),
              "http_parse_request_line(%s): req->%s is %s; expected \"%s\"",
              ht_esc(in, n, 120), field, ht_slice_esc(got), want);
    cr_expect(ht_slice_within(got, buf, n),
              "http_parse_request_line(%s): req->%s must point into the caller's buffer "
              "(a slice, not a copy: the parser never allocates)",
              ht_esc(in, n, 120), field);
}

Test(reqline, valid_request_lines_are_split_into_slices)
{
    static const struct {
        const char *in;
        int used;
        const char *method, *target, *path, *query;
        int minor;
        const char *note;
    } cases[] = {
        { "GET / HTTP/1.1\r\n", 16, "GET", "/", "/", "", 1, "the simplest request" },
        { "GET /hello.txt HTTP/1.0\r\n", 25, "GET", "/hello.txt", "/hello.txt", "", 0,
          "HTTP/1.0: minor 0" },
        { "GET /a%20b?x=1&y=2 HTTP/1.1\r\n", 29, "GET", "/a%20b?x=1&y=2", "/a%20b",
          "x=1&y=2", 1, "the query is what follows '?', without it; no percent-decoding here" },
        { "GET /search? HTTP/1.1\r\n", 23, "GET", "/search?", "/search", "", 1,
          "an empty query" },
        { "GET /?a?b HTTP/1.1\r\n", 20, "GET", "/?a?b", "/", "a?b", 1,
          "the first '?' starts the query" },
        { "GET http://example.com/x?y=1 HTTP/1.1\r\n", 39, "GET", "http://example.com/x?y=1",
          "/x", "y=1", 1,
          "absolute-form (what proxies get): the path starts at the '/' after the host" },
        { "OPTIONS * HTTP/1.1\r\n", 20, "OPTIONS", "*", "*", "", 1,
          "asterisk-form: the path is \"*\"" },
        { "GET / HTTP/1.2\r\n", 16, "GET", "/", "/", "", 1,
          "HTTP/1.2 is a later HTTP/1 minor version: it counts as 1" },
        { "DELETE /items/42 HTTP/1.1\r\n", 27, "DELETE", "/items/42", "/items/42", "", 1,
          "any method" },
        { "BREW /pot HTTP/1.1\r\n", 20, "BREW", "/pot", "/pot", "", 1,
          "an unknown method is still a token: the handler answers 501 later" },
        { "\r\n\r\nGET / HTTP/1.1\r\n", 20, "GET", "/", "/", "", 1,
          "empty lines before the request line are skipped (RFC 9112 section 2.2), and "
          "counted in the bytes used" },
        { "\nGET / HTTP/1.1\n", 16, "GET", "/", "/", "", 1,
          "a bare \\n ends a line too (and a bare empty line is skipped)" },
        { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 16, "GET", "/", "/", "", 1,
          "only the request line is used: the headers are for the next step" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *in = cases[i].in;
        size_t n = strlen(in);
        struct http_request req;
        char *copy;
        int got = parse_line(in, n, &req, &copy);
        cr_expect(eq(int, got, cases[i].used),
                  "http_parse_request_line(%s, %zu) returned %d; expected %d, the bytes of "
                  "the line with its line end (%s)",
                  ht_esc(in, n, 120), n, got, cases[i].used, cases[i].note);
        if (got > 0) {
            expect_slice("method", req.method, cases[i].method, in, n, copy);
            expect_slice("target", req.target, cases[i].target, in, n, copy);
            expect_slice("path", req.path, cases[i].path, in, n, copy);
            cr_expect(ht_slice_is(req.query, cases[i].query),
                      "http_parse_request_line(%s): req->query is %s; expected \"%s\" (%s)",
                      ht_esc(in, n, 120), ht_slice_esc(req.query), cases[i].query,
                      cases[i].note);
            cr_expect(eq(int, req.minor, cases[i].minor),
                      "http_parse_request_line(%s): req->minor is %d; expected %d (%s)",
                      ht_esc(in, n, 120), req.minor, cases[i].minor, cases[i].note);
        }
        free(copy);
    }
}

/* Every prefix of line (shorter than the whole) must be incomplete. */
static void expect_prefixes_incomplete(const char *line, const char *why)
{
    size_t n = strlen(line);
    for (size_t len = 0; len < n; len++) {
        struct http_request req;
        char *copy;
        int got = parse_line(line, len, &req, &copy);
        free(copy);
        cr_assert(eq(int, got, HTTP_INCOMPLETE),
                  "http_parse_request_line(%s, %zu) returned %d; expected HTTP_INCOMPLETE "
                  "(%d): these are the first %zu bytes of the valid line %s -- the rest has "
                  "not arrived yet, so ask for more bytes. %s",
                  ht_esc(line, len, 120), len, got, HTTP_INCOMPLETE, len, ht_esc(line, n, 120),
                  why);
    }
    struct http_request req;
    char *copy;
    int got = parse_line(line, n, &req, &copy);
    free(copy);
    cr_assert(eq(int, got, (int)n), "http_parse_request_line(%s, %zu) returned %d; expected %zu",
              ht_esc(line, n, 120), n, got, n);
}

Test(reqline, every_prefix_of_a_valid_line_is_incomplete)
{
    const char *why = "A request arrives in pieces: TCP keeps no message boundaries.";
    expect_prefixes_incomplete("GET /index.html?x=1 HTTP/1.1\r\n", why);
    expect_prefixes_incomplete("OPTIONS * HTTP/1.0\r\n", why);
    expect_prefixes_incomplete("GET http://example.com/a HTTP/1.1\r\n", why);
    expect_prefixes_incomplete("GET / HTTP/1.1\n", why);
}

Test(reqline, a_leading_empty_line_cut_after_its_cr_is_incomplete)
{
    expect_prefixes_incomplete("\r\nGET / HTTP/1.1\r\n",
                               "An empty line before the request line is allowed; when only "
                               "its \"\\r\" has arrived, its \"\\n\" may still come.");
}

Test(reqline, malformed_request_lines_are_400)
{
    static const struct {
        const char *in;
        size_t len; /* 0: strlen */
        const char *why;
    } cases[] = {
        { "GET  / HTTP/1.1\r\n", 0, "two spaces after the method: exactly one space between the parts" },
        { "GET /  HTTP/1.1\r\n", 0, "two spaces before the version" },
        { "GET\t/ HTTP/1.1\r\n", 0, "a tab is not the separator: a single space is" },
        { " GET / HTTP/1.1\r\n", 0, "a space before the method" },
        { "GET / http/1.1\r\n", 0, "the version name is case-sensitive: \"HTTP\"" },
        { "GET / HTTP/1.1 \r\n", 0, "a space after the version" },
        { "GET / HTTP/1\r\n", 0, "the version is \"HTTP/\" DIGIT \".\" DIGIT" },
        { "GET / HTTP/1.10\r\n", 0, "the version has one digit after the dot" },
        { "GET / HTTP/1.x\r\n", 0, "the minor version is a digit" },
        { "GET /a\x01z HTTP/1.1\r\n", 0, "a control byte in the target" },
        { "GET /a\x7fz HTTP/1.1\r\n", 0, "DEL (0x7f) in the target" },
        { "GET /a b HTTP/1.1\r\n", 0, "a space in the target (clients send %20)" },
        { "GE(T / HTTP/1.1\r\n", 0, "'(' is not a token character: the method is a token" },
        { "G\0T / HTTP/1.1\r\n", 16, "a NUL byte in the method" },
        { "GET HTTP/1.1\r\n", 0, "no target" },
        { "GET /\r\n", 0, "no version (HTTP/0.9-style request lines are not served)" },
        { "GET / HTTP/1.1\rX", 0, "a CR that is not followed by LF" },
        { "GET / HTTP/1.1\r\r\n", 0, "a CR that is not followed by LF" },
        { "GET x HTTP/1.1\r\n", 0, "the target must start with '/' (or be \"*\" or absolute-form)" },
        { "GET /page#top HTTP/1.1\r\n", 0,
          "a '#fragment' is never sent in a request (RFC 9110 section 7.1): a target with "
          "'#' is malformed" },
        { "\r\n\r\n \r\n", 0, "an empty line, then a line with only a space" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = cases[i].len ? cases[i].len : strlen(cases[i].in);
        struct http_request req;
        char *copy;
        int got = parse_line(cases[i].in, n, &req, &copy);
        free(copy);
        cr_expect(eq(int, got, -400),
                  "http_parse_request_line(%s, %zu) returned %d; expected -400 (answer 400 "
                  "Bad Request): %s",
                  ht_esc(cases[i].in, n, 120), n, got, cases[i].why);
    }
    struct http_request req;
    char *copy;
    int got = parse_line("GET / HTTP/1.1\r\n", 16, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, 16), "http_parse_request_line(\"GET / HTTP/1.1\\r\\n\") returned %d; "
              "expected 16: a valid line must not be rejected", got);
}

Test(reqline, garbage_is_rejected_before_its_line_ends)
{
    /* A client that sends garbage and no line end must not be waited for:
     * once the bytes cannot start a valid line, the answer is -400. */
    static const struct {
        const char *in, *why;
    } cases[] = {
        { "GET  ", "two spaces: no valid line starts like this" },
        { "GE(T", "'(' cannot be part of a method" },
        { "GET /a\x01", "a control byte in the target" },
        { "GET / HTTQ", "the version must start with \"HTTP/\"" },
        { "GET / HTTP/1.1 ", "nothing may follow the version" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i].in);
        struct http_request req;
        char *copy;
        int got = parse_line(cases[i].in, n, &req, &copy);
        free(copy);
        cr_expect(eq(int, got, -400),
                  "http_parse_request_line(%s, %zu) returned %d; expected -400: %s -- check "
                  "what has arrived, do not wait for the line end (HTTP_INCOMPLETE is only "
                  "for a line that could still become valid)",
                  ht_esc(cases[i].in, n, 120), n, got, cases[i].why);
    }
    struct http_request req;
    char *copy;
    int got = parse_line("GET / HTTP/1.", 13, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, HTTP_INCOMPLETE),
              "http_parse_request_line(\"GET / HTTP/1.\", 13) returned %d; expected "
              "HTTP_INCOMPLETE: this one can still become valid", got);
}

Test(reqline, versions_other_than_http_1_are_505)
{
    static const char *const cases[] = {
        "GET / HTTP/2.0\r\n", "GET / HTTP/0.9\r\n", "GET / HTTP/3.0\r\n", "GET / HTTP/9.9\r\n",
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n = strlen(cases[i]);
        struct http_request req;
        char *copy;
        int got = parse_line(cases[i], n, &req, &copy);
        free(copy);
        cr_expect(eq(int, got, -505),
                  "http_parse_request_line(%s) returned %d; expected -505 (505 HTTP Version "
                  "Not Supported): the version is well-formed, but its major number is not 1",
                  ht_esc(cases[i], n, 120), got);
    }
}

/* "GET /aaaa... HTTP/1.1\r\n" with a target of tlen bytes; with_end = 0
 * leaves out " HTTP/1.1\r\n". */
static char *long_line(size_t tlen, int with_end, size_t *n)
{
    char *s = malloc(tlen + 32);
    cr_assert(s != NULL, "out of memory");
    memcpy(s, "GET /", 5);
    memset(s + 5, 'a', tlen - 1);
    *n = 4 + tlen;
    if (with_end) {
        memcpy(s + *n, " HTTP/1.1\r\n", 11);
        *n += 11;
    }
    return s;
}

Test(reqline, a_line_longer_than_the_limit_is_414)
{
    struct http_request req;
    char *copy;
    size_t n;

    char *ok = long_line(HTTP_MAX_REQUEST_LINE - 100, 1, &n);
    int got = parse_line(ok, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, (int)n),
              "a request line of %zu bytes (HTTP_MAX_REQUEST_LINE is %d) returned %d; "
              "expected %zu: it is within the limit",
              n, HTTP_MAX_REQUEST_LINE, got, n);
    free(ok);

    char *big = long_line(HTTP_MAX_REQUEST_LINE + 100, 1, &n);
    got = parse_line(big, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, -414),
              "a request line of %zu bytes (\"GET /aaa...aaa HTTP/1.1\\r\\n\"; "
              "HTTP_MAX_REQUEST_LINE is %d) returned %d; expected -414 (414 URI Too Long)",
              n, HTTP_MAX_REQUEST_LINE, got);
    free(big);

    big = long_line(HTTP_MAX_REQUEST_LINE + 100, 0, &n);
    got = parse_line(big, n, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, -414),
              "%zu bytes \"GET /aaa...aaa\" and no line end yet (HTTP_MAX_REQUEST_LINE is %d) "
              "returned %d; expected -414: the line is already too long, whatever follows -- "
              "waiting for more (HTTP_INCOMPLETE) would let a client fill the memory",
              n, HTTP_MAX_REQUEST_LINE, got);
    free(big);
}

/* "GET /aaa... HTTP/1.1" of exactly len bytes (len >= 16), then end[]. */
static char *line_of(size_t len, const char *version, const char *end, size_t *n)
{
    size_t elen = strlen(end);
    char *s = malloc(len + elen + 1);
    cr_assert(s != NULL, "out of memory");
    memcpy(s, "GET /", 5);
    memset(s + 5, 'a', len - 5 - 9);
    memcpy(s + len - 9, " ", 1);
    memcpy(s + len - 8, version, 8);
    memcpy(s + len, end, elen);
    *n = len + elen;
    return s;
}

Test(reqline, the_limit_counts_the_line_without_its_line_end)
{
    enum { MAX = HTTP_MAX_REQUEST_LINE, USED = 1 /* the bytes used: the whole input */ };
    static const struct {
        size_t line;     /* the line's length without its end */
        const char *end; /* what follows it */
        int want;        /* USED, HTTP_INCOMPLETE or -414 */
        const char *why;
    } cases[] = {
        { MAX, "\r\n", USED, "exactly HTTP_MAX_REQUEST_LINE bytes, then CRLF: the limit counts "
          "the line without its line end, so this is within it" },
        { MAX, "\n", USED, "exactly HTTP_MAX_REQUEST_LINE bytes, then a bare LF" },
        { MAX, "", HTTP_INCOMPLETE, "exactly HTTP_MAX_REQUEST_LINE bytes and no line end yet: "
          "not too long, the line end may still come" },
        { MAX, "\r", HTTP_INCOMPLETE, "exactly HTTP_MAX_REQUEST_LINE bytes and a CR: the CR may be "
          "the first half of the CRLF, so it does not count (yet)" },
        { MAX + 1, "\r\n", -414, "HTTP_MAX_REQUEST_LINE + 1 bytes, then CRLF: one byte too long" },
        { MAX + 1, "", -414, "HTTP_MAX_REQUEST_LINE + 1 bytes and no line end yet: too long "
          "already, whatever follows" },
        { MAX + 1, "\r", -414, "HTTP_MAX_REQUEST_LINE + 1 bytes and a CR: too long already" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t n;
        char *in = line_of(cases[i].line, "HTTP/1.1", cases[i].end, &n);
        struct http_request req;
        char *copy;
        int got = parse_line(in, n, &req, &copy);
        free(copy);
        free(in);
        int want = cases[i].want == USED ? (int)n : cases[i].want;
        cr_expect(eq(int, got, want),
                  "http_parse_request_line(\"GET /aaa...aaa HTTP/1.1\" (%zu bytes) + %s, %zu) "
                  "returned %d; expected %d%s: %s (HTTP_MAX_REQUEST_LINE is %d)",
                  cases[i].line, ht_esc(cases[i].end, strlen(cases[i].end), 8), n, got, want,
                  cases[i].want == USED ? ", the bytes used" : "", cases[i].why, MAX);
    }
    /* Empty lines before the request line are not part of it. */
    size_t n;
    char *in = line_of(MAX, "HTTP/1.1", "\r\n", &n);
    char *with_empty = malloc(n + 2);
    cr_assert(with_empty != NULL, "out of memory");
    memcpy(with_empty, "\r\n", 2);
    memcpy(with_empty + 2, in, n);
    struct http_request req;
    char *copy;
    int got = parse_line(with_empty, n + 2, &req, &copy);
    free(copy);
    cr_expect(eq(int, got, (int)n + 2),
              "http_parse_request_line(\"\\r\\n\" + a request line of exactly %d bytes + "
              "\"\\r\\n\", %zu) returned %d; expected %zu: the empty line before the request "
              "line is skipped, and does not count against the limit",
              MAX, n + 2, got, n + 2);
    free(with_empty);
    free(in);
}

Test(reqline, userinfo_in_an_absolute_form_target_is_400)
{
    static const char *const bad[] = {
        "GET http://user:pass@example.com/ HTTP/1.1\r\n",
        "GET http://user@example.com/index.html HTTP/1.1\r\n",
        "GET http://@example.com/ HTTP/1.1\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = strlen(bad[i]);
        struct http_request req;
        char *copy;
        int got = parse_line(bad[i], n, &req, &copy);
        free(copy);
        cr_expect(eq(int, got, -400),
                  "http_parse_request_line(%s) returned %d; expected -400: an http URI carries "
                  "no userinfo (\"user:pass@\" before the host; RFC 9110 section 4.2.4) -- it "
                  "would put a password into every log on the way. Look for '@' between "
                  "\"://\" and the '/' that starts the path",
                  ht_esc(bad[i], n, 120), got);
    }
    /* An '@' in the path is fine: only the host part may not have one. */
    static const char ok[] = "GET http://example.com/a@b HTTP/1.1\r\n";
    struct http_request req;
    char *copy;
    int got = parse_line(ok, sizeof ok - 1, &req, &copy);
    cr_expect(eq(int, got, (int)sizeof ok - 1),
              "http_parse_request_line(%s) returned %d; expected %zu: an '@' in the path is "
              "allowed, only the host part may not hold one",
              ht_esc(ok, sizeof ok - 1, 120), got, sizeof ok - 1);
    if (got > 0)
        expect_slice("path", req.path, "/a@b", ok, sizeof ok - 1, copy);
    free(copy);
}

/* ---- against the running server -------------------------------------------
 *
 * Until stage 2 parses header fields, every complete request gets 400 --
 * except where the request line alone decides: 505 for a version other
 * than HTTP/1.x, 414 for an over-long line. These tests use that. */

Test(reqline, a_malformed_request_line_gets_400_but_http_2_gets_505)
{
    static const char *const bad[] = {
        "GET  /hello.txt HTTP/2.0\r\nHost: localhost\r\n\r\n",
        "GET /hello.txt http/2.0\r\nHost: localhost\r\n\r\n",
        "GET /a b HTTP/2.0\r\nHost: localhost\r\n\r\n",
        "GE(T /hello.txt HTTP/2.0\r\nHost: localhost\r\n\r\n",
        "GET /hello.txt HTTP/2.0 \r\nHost: localhost\r\n\r\n",
        "\x16\x03\x01\x02\x01\x01\xfc\x03\x03\r\n\r\n", /* TLS to a plain HTTP port */
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, bad[i]);
        ht_expect_status(p, r, 400, NULL, 0,
                         "a request line that cannot be parsed gets 400 Bad Request: "
                         "http_parse_request_line() returns -400 and the server answers "
                         "with that status (the malformed part comes before the version, so "
                         "the version cannot matter)");
        ht_free(r);
    }
    static const char *const http2[] = {
        "GET /hello.txt HTTP/2.0\r\nHost: localhost\r\n\r\n",
        "GET / HTTP/0.9\r\nHost: localhost\r\n\r\n",
    };
    for (size_t i = 0; i < sizeof http2 / sizeof http2[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, http2[i]);
        ht_expect_status(p, r, 505, NULL, 0,
                         "a well-formed request line with a version other than HTTP/1.x gets "
                         "505 HTTP Version Not Supported (-505 from http_parse_request_line) -- "
                         "this also shows the parser does not reject every line");
        ht_free(r);
    }
}

Test(reqline, a_request_line_sent_byte_by_byte_is_parsed_once_complete)
{
    /* HTTP/2.0, so that the answer (505) depends on the request line only. */
    static const char req[] = "GET /hello.txt HTTP/2.0\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send_bytewise(p, fd, req, sizeof req - 1);
    struct ht_response *r = ht_read(p, fd, req, sizeof req - 1, 0);
    ht_expect_status(p, r, 505, req, sizeof req - 1,
                     "the request was sent one byte per write, so the server parsed every "
                     "prefix of it: \"G\", \"GE\", ... \"GET /hello.txt HTTP/2.0\\r\". Each one "
                     "is HTTP_INCOMPLETE (read more, parse again); the whole line gets 505. "
                     "A 400 means a prefix was called malformed");
    ht_free(r);
    close(fd);
}

Test(reqline, a_request_line_of_exactly_the_limit_is_not_too_long)
{
    /* HTTP/2.0: the answer (505) depends on the request line alone. The
     * line is cut after its CR, so the server sees the CR at the end of
     * what it has -- which may be the first half of the CRLF. */
    size_t n;
    char *line = line_of(HTTP_MAX_REQUEST_LINE, "HTTP/2.0", "\r", &n);
    static const char rest[] = "\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, line, n);
    ht_expect_silence(p, fd, 300, line, n,
                      "a request line of exactly HTTP_MAX_REQUEST_LINE bytes and its CR arrived "
                      "(the LF not yet): the server must wait for the rest. The limit counts "
                      "the line without its line end, and a CR at the end may be half of one -- "
                      "a 414 here means the CR was counted");
    wb_send(p, fd, rest, sizeof rest - 1);
    char *all = malloc(n + sizeof rest);
    cr_assert(all != NULL, "out of memory");
    memcpy(all, line, n);
    memcpy(all + n, rest, sizeof rest);
    struct ht_response *r = ht_read(p, fd, all, n + sizeof rest - 1, 0);
    ht_expect_status(p, r, 505, all, n + sizeof rest - 1,
                     "a request line of exactly HTTP_MAX_REQUEST_LINE bytes (its CRLF not "
                     "counted) is within the limit: not 414, so the version decides -- 505 for "
                     "HTTP/2.0");
    ht_free(r);
    free(all);
    free(line);
    close(fd);
}

Test(reqline, a_very_long_target_gets_414)
{
    size_t tlen = HTTP_MAX_REQUEST_LINE + 500, n = 0;
    char *req = malloc(tlen + 64);
    cr_assert(req != NULL, "out of memory");
    n += (size_t)sprintf(req, "GET /");
    memset(req + n, 'a', tlen - 1);
    n += tlen - 1;
    n += (size_t)sprintf(req + n, " HTTP/1.1\r\nHost: localhost\r\n\r\n");
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange(p, req, n);
    ht_expect_status(p, r, 414, req, n,
                     "a request line longer than HTTP_MAX_REQUEST_LINE (8192 bytes, its line end "
                     "not counted) gets 414 URI Too Long");
    ht_free(r);
    free(req);
    r = ht_exchange_str(p, "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n");
    ht_expect_status(p, r, 505, NULL, 0, "the server still answers after a 414");
    ht_free(r);
}
