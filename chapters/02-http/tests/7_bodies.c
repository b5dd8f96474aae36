/* Stage 7: request bodies -- framing by Content-Length or by the chunked
 * transfer coding (chunked_decode), the checks that keep the framing
 * unambiguous (http_check_head), the --max-body limit, and POST /echo,
 * which answers with the body it got. */
#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "body.h"
#include "buf.h"
#include "client.h"
#include "http.h"
#include "wbtest.h"

WB_SUITE(bodies);

/* RFC 9112 section 7.1's shape: two chunks, an extension, a trailer. */
#define EXAMPLE "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
#define EXAMPLE_BODY "hello world"

/* ---- helpers --------------------------------------------------------------- */

struct decoded {
    int err;          /* 0, or the negative result that stopped the decoder */
    size_t used;      /* bytes of the input the decoder used */
    int done;         /* *done after the last call */
    size_t done_at;   /* how many input bytes had arrived when done became 1 */
    size_t calls;
    struct buf out;
};

/* Feeds in[0..len) to a fresh decoder the way a connection loop does: the
 * bytes arrive in pieces that end at cuts[0] < cuts[1] < ... (the last is
 * len), and the bytes the decoder did not use yet are offered again,
 * followed by the next piece. Stops at an error or once done is 1. */
static void decode(const char *in, size_t len, const size_t *cuts, size_t ncuts, size_t max,
                   struct decoded *d)
{
    struct chunked st;
    char e[256];
    memset(d, 0, sizeof *d);
    buf_init(&d->out);
    chunked_init(&st);
    for (size_t i = 0; i < ncuts && !d->done; i++) {
        size_t avail = cuts[i] - d->used;
        int done = 0;
        int rc = chunked_decode(&st, in + d->used, avail, &d->out, max, &done);
        d->calls++;
        if (rc < 0) {
            d->err = rc;
            return;
        }
        cr_assert(le(sz, (size_t)rc, avail),
                  "chunked_decode() was given %zu bytes (%s) and returned %d: it returns how "
                  "many of the given bytes it used, at most len", avail,
                  wb_escape(in + d->used, avail, 80, e, sizeof e), rc);
        d->used += (size_t)rc;
        d->done = done;
        if (done)
            d->done_at = cuts[i];
    }
    (void)len;
}

/* Checks that in[0..len) decodes to want, with the end of the body at
 * body_len (== len unless something follows it), when cut at cuts. */
static void expect_decodes(const char *in, size_t len, size_t body_len, const size_t *cuts,
                           size_t ncuts, const char *want, const char *how)
{
    struct decoded d;
    char e1[512], e2[256], e3[256];
    decode(in, len, cuts, ncuts, 1 << 20, &d);
    size_t wl = strlen(want);
    const char *input = wb_escape(in, len, 200, e1, sizeof e1);
    cr_assert(eq(int, d.err, 0), "chunked_decode() on %s, %s: returned %d after %zu calls and "
              "%zu bytes used; expected a valid body, %s", input, how, d.err, d.calls, d.used,
              wb_escape(want, wl, 100, e2, sizeof e2));
    cr_assert(eq(int, d.done, 1), "chunked_decode() on %s, %s: all %zu bytes were given and "
              "%zu used, but *done is still 0 (a 0-size chunk, trailers and an empty line end "
              "the body)", input, how, len, d.used);
    cr_assert(eq(sz, d.used, body_len), "chunked_decode() on %s, %s: it used %zu bytes; the "
              "body ends after %zu -- stop right after its final CRLF%s", input, how, d.used,
              body_len, body_len < len ? ": the bytes after it are the next request" : "");
    int same = d.out.len == wl && memcmp(d.out.data, want, wl) == 0;
    cr_assert(same, "chunked_decode() on %s, %s: the payload is %s; expected %s (chunk data "
              "only: no sizes, extensions, CRLFs or trailers)", input, how,
              wb_escape(d.out.data ? d.out.data : "", d.out.len, 100, e2, sizeof e2),
              wb_escape(want, wl, 100, e3, sizeof e3));
    buf_free(&d.out);
}

/* Reads one response from fd like ht_read(), but a failure message starts
 * with context. */
static struct ht_response *must_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                                     const char *context)
{
    return ht_must_read(p, fd, raw, len, 0, WB_IO_MS, context);
}


/* The one-line body of an error response, e.g. "413 Content Too Large\n". */
static void expect_error(struct wb_proc *p, const struct ht_response *r, int status,
                         const char *why)
{
    char body[128];
    ht_expect_status(p, r, status, NULL, 0, why);
    snprintf(body, sizeof body, "%d %s\n", status, ht_reason(status));
    ht_expect_body(p, r, body, strlen(body), why);
}

/* ---- chunked_decode ----------------------------------------------------------- */

Test(bodies, chunked_decode_decodes_a_body_given_whole)
{
    const size_t n = strlen(EXAMPLE);
    expect_decodes(EXAMPLE, n, n, &n, 1, EXAMPLE_BODY, "given in one call");

    /* Chunk data is counted, never searched: it may hold anything. */
    static const char tricky[] = "5\r\n0\r\n\r\n\r\n3\r\n\0\r\n\r\n0\r\n\r\n";
    const size_t tn = sizeof tricky - 1;
    struct decoded d;
    char e[256];
    decode(tricky, tn, &tn, 1, 1 << 20, &d);
    char e2[128];
    int ok = d.err == 0 && d.done == 1 && d.used == tn && d.out.len == 8 &&
             memcmp(d.out.data, "0\r\n\r\n\0\r\n", 8) == 0;
    cr_assert(ok, "chunked_decode() on %s: err %d, done %d, used %zu of %zu, payload %s; "
              "expected the 8 bytes \"0\\r\\n\\r\\n\\0\\r\\n\": read exactly the chunk size's "
              "bytes as data, even when they look like a last chunk or hold NULs",
              wb_escape(tricky, tn, 100, e, sizeof e), d.err, d.done, d.used, tn,
              wb_escape(d.out.data ? d.out.data : "", d.out.len, 60, e2, sizeof e2));
    buf_free(&d.out);
}

Test(bodies, chunked_decode_keeps_its_place_byte_by_byte_and_at_every_split_point)
{
    const char *in = EXAMPLE;
    size_t n = strlen(in);
    size_t cuts[128];
    char how[128];

    /* one byte per call */
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    struct decoded d;
    decode(in, n, cuts, n, 1 << 20, &d);
    cr_assert(d.done == 0 || d.done_at == n,
              "chunked_decode() given %s one byte per call set *done after only %zu bytes: "
              "the body ends with the empty line after the last chunk and its trailers",
              EXAMPLE, d.done_at);
    buf_free(&d.out);
    expect_decodes(in, n, n, cuts, n, EXAMPLE_BODY,
                   "given one byte per call (the decoder must remember where it is: in a size, "
                   "an extension, the data, a CRLF or a trailer)");

    /* two pieces, then three pieces, cut everywhere */
    for (size_t a = 1; a < n; a++) {
        size_t two[2] = { a, n };
        snprintf(how, sizeof how, "given as bytes [0, %zu) then [%zu, %zu)", a, a, n);
        expect_decodes(in, n, n, two, 2, EXAMPLE_BODY, how);
        for (size_t b = a + 1; b < n; b++) {
            size_t three[3] = { a, b, n };
            snprintf(how, sizeof how, "given as bytes [0, %zu), [%zu, %zu), [%zu, %zu)", a, a,
                     b, b, n);
            expect_decodes(in, n, n, three, 3, EXAMPLE_BODY, how);
        }
    }
}

Test(bodies, chunked_decode_stops_exactly_at_the_end_of_the_body)
{
    const char *next = "GET /next HTTP/1.1\r\nHost: a\r\n\r\n";
    char in[256];
    size_t body = strlen(EXAMPLE);
    size_t n = (size_t)snprintf(in, sizeof in, "%s%s", EXAMPLE, next);
    size_t cuts[256];
    char how[160];

    expect_decodes(in, n, body, &n, 1,
                   EXAMPLE_BODY, "followed by a pipelined request, all in one call");
    for (size_t a = 1; a < n; a++) {
        size_t two[2] = { a, n };
        snprintf(how, sizeof how, "followed by a pipelined request, given as bytes [0, %zu) "
                 "then [%zu, %zu)", a, a, n);
        expect_decodes(in, n, body, two, 2, EXAMPLE_BODY, how);
    }
    for (size_t i = 0; i < n; i++)
        cuts[i] = i + 1;
    struct decoded d;
    decode(in, n, cuts, n, 1 << 20, &d);
    cr_assert(eq(sz, d.done_at, body),
              "chunked_decode() given %s one byte per call: *done became 1 when %zu bytes had "
              "arrived; expected exactly when the body's last byte (byte %zu) arrived",
              EXAMPLE, d.done_at, body);
    buf_free(&d.out);
}

Test(bodies, chunked_decode_rejects_malformed_bodies_and_enforces_max)
{
    static char long_ext[BODY_MAX_LINE + 64], long_trailer[BODY_MAX_LINE + 64];
    memset(long_ext, 'a', sizeof long_ext);
    memcpy(long_ext, "1;", 2);
    memcpy(long_ext + sizeof long_ext - 10, "\r\nx\r\n0\r\n\r\n", 10);
    memset(long_trailer, 'a', sizeof long_trailer);
    memcpy(long_trailer, "0\r\nX: ", 6);
    memcpy(long_trailer + sizeof long_trailer - 4, "\r\n\r\n", 4);
    static char big_chunk[16 + 1001];
    memset(big_chunk, 'x', sizeof big_chunk);
    memcpy(big_chunk, "ffffffff\r\n", 10);

    const struct {
        const char *in;
        size_t len, max;
        int want;
        const char *why;
    } cases[] = {
#define C(s, max, want, why) { s, sizeof s - 1, max, want, why }
        C("zz\r\nhello\r\n0\r\n\r\n", 1000, -400, "the size is not hexadecimal"),
        C("\r\nhello\r\n0\r\n\r\n", 1000, -400, "the size line has no digits"),
        C("-5\r\nhello\r\n0\r\n\r\n", 1000, -400, "a size is never negative"),
        C("0x5\r\nhello\r\n0\r\n\r\n", 1000, -400, "the size is bare hex digits, no \"0x\""),
        C("5\r\nhelloXY0\r\n\r\n", 1000, -400, "the chunk data is not followed by CRLF"),
        C("5\r\nhello world\r\n0\r\n\r\n", 1000, -400, "the data is longer than its size"),
        C("ffffffffffffffffff\r\nhello\r\n0\r\n\r\n", 1000, -400,
          "the size (18 hex digits) overflows 64 bits: check before you shift"),
        C("10000000000000000\r\nhello\r\n0\r\n\r\n", 1000, -400,
          "the size 0x10000000000000000 is 2^64: it overflows"),
        { long_ext, sizeof long_ext, 1000, -400, "a size line longer than BODY_MAX_LINE" },
        { long_trailer, sizeof long_trailer, 1000, -400, "a trailer line longer than BODY_MAX_LINE" },
        C(EXAMPLE, 10, -413, "11 bytes of payload with max 10"),
        { big_chunk, sizeof big_chunk, 1000, -413,
          "a chunk of 0xffffffff bytes (1001 of them sent) with max 1000" },
#undef C
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t cuts[2] = { cases[i].len, 0 };
        char e[256];
        struct decoded d;
        decode(cases[i].in, cases[i].len, cuts, 1, cases[i].max, &d);
        cr_expect(eq(int, d.err, cases[i].want),
                  "chunked_decode(%s, max %zu) %s %d; expected %d: %s", 
                  wb_escape(cases[i].in, cases[i].len, 80, e, sizeof e), cases[i].max,
                  d.err ? "returned" : "accepted it, result", d.err ? d.err : (int)d.used,
                  cases[i].want, cases[i].why);
        buf_free(&d.out);
    }

    /* max is a limit on the payload, not on the encoded bytes: exactly max is fine */
    const size_t n = strlen(EXAMPLE);
    struct decoded d;
    decode(EXAMPLE, n, &n, 1, 11, &d);
    cr_assert(d.err == 0 && d.done == 1 && d.out.len == 11,
              "chunked_decode(%s, max 11): err %d, done %d, %zu payload bytes; a payload of "
              "exactly max bytes (11) is allowed -- -413 only when out would grow past max",
              EXAMPLE, d.err, d.done, d.out.len);
    buf_free(&d.out);
}

/* ---- http_check_head: framing --------------------------------------------------- */

Test(bodies, http_check_head_frames_the_body_and_rejects_ambiguous_framing)
{
#define POST "POST /echo HTTP/1.1\r\nHost: a\r\n"
    static const struct {
        const char *head;
        int rc;
        enum http_body body;
        uint64_t length;
        const char *why;
    } cases[] = {
        { POST "Content-Length: 5\r\n\r\n", 0, HTTP_BODY_LENGTH, 5, "a Content-Length body" },
        { POST "Content-Length: 5\r\nContent-Length: 5\r\n\r\n", 0, HTTP_BODY_LENGTH, 5,
          "two identical Content-Length fields are one length" },
        { POST "content-length: 1234567\r\n\r\n", 0, HTTP_BODY_LENGTH, 1234567,
          "field names are case-insensitive" },
        { POST "Transfer-Encoding: chunked\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0, "a chunked body" },
        { POST "Transfer-Encoding: Chunked\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0,
          "transfer-coding names are case-insensitive" },
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, HTTP_BODY_NONE, 0, "no body at all" },
        { POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", -400, 0, 0,
          "Content-Length and Transfer-Encoding together: two framings, a request smuggling "
          "risk (RFC 9112 section 6.1)" },
        { POST "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", -400, 0, 0,
          "Transfer-Encoding and Content-Length together, in the other order" },
        { POST "Content-Length: -5\r\n\r\n", -400, 0, 0, "a negative Content-Length" },
        { POST "Content-Length: +5\r\n\r\n", -400, 0, 0, "Content-Length is digits only: no sign" },
        { POST "Content-Length: 5a\r\n\r\n", -400, 0, 0, "Content-Length is digits only" },
        { POST "Content-Length: 0x10\r\n\r\n", -400, 0, 0, "Content-Length is decimal digits" },
        { POST "Content-Length:\r\n\r\n", -400, 0, 0, "an empty Content-Length" },
        { POST "Content-Length: 99999999999999999999999\r\n\r\n", -400, 0, 0,
          "a Content-Length that overflows 64 bits" },
        { POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", -400, 0, 0,
          "two Content-Length fields that disagree" },
        { "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", -400, 0, 0,
          "HTTP/1.0 has no Transfer-Encoding: a 1.0 request that sends it is not to be "
          "trusted (RFC 9112 section 6.1)" },
        { POST "Transfer-Encoding: gzip\r\n\r\n", -400, 0, 0,
          "the final transfer coding is not chunked, so nothing says where the body ends: 400, "
          "and close (RFC 9112 section 6.3)" },
        { POST "Transfer-Encoding: chunked, gzip\r\n\r\n", -400, 0, 0,
          "chunked, then gzip: the final coding is gzip, so the body's end cannot be found: 400 "
          "(RFC 9112 section 6.3)" },
        { POST "Transfer-Encoding: identity\r\n\r\n", -400, 0, 0,
          "the final coding is not chunked: 400" },
        { POST "Transfer-Encoding: chunked, chunked\r\n\r\n", -400, 0, 0,
          "chunked applied twice: a sender must not (RFC 9112 section 6.1)" },
        { POST "Transfer-Encoding: gzip, chunked\r\n\r\n", -501, 0, 0,
          "chunked is final, so the body can be read, but gzip before it is a coding the "
          "server does not implement: 501 Not Implemented" },
        { POST "Transfer-Encoding: gzip,chunked\r\n\r\n", -501, 0, 0,
          "the same list without a space after the comma" },
        { POST "Transfer-Encoding: , chunked\r\n\r\n", 0, HTTP_BODY_CHUNKED, 0,
          "an empty list element is skipped (RFC 9110 section 5.6.1): chunked alone" },
    };
#undef POST
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char e[512];
        const char *h = cases[i].head;
        size_t len = strlen(h);
        struct http_request req;
        struct http_head_info info;
        int n = http_parse_request(h, len, &req);
        cr_assert(eq(int, n, (int)len),
                  "http_parse_request(%s) returned %d; expected %zu, the whole head (stage 2's "
                  "tests must pass first)", wb_escape(h, len, 200, e, sizeof e), n, len);
        memset(&info, 0, sizeof info);
        int rc = http_check_head(&req, &info);
        cr_expect(eq(int, rc, cases[i].rc), "http_check_head(%s) returned %d; expected %d: %s",
                  wb_escape(h, len, 200, e, sizeof e), rc, cases[i].rc, cases[i].why);
        if (rc != 0 || cases[i].rc != 0)
            continue;
        cr_expect(eq(int, (int)info.body, (int)cases[i].body),
                  "http_check_head(%s) set body = %d; expected %d (%s): %s",
                  wb_escape(h, len, 200, e, sizeof e), (int)info.body, (int)cases[i].body,
                  cases[i].body == HTTP_BODY_LENGTH ? "HTTP_BODY_LENGTH"
                  : cases[i].body == HTTP_BODY_CHUNKED ? "HTTP_BODY_CHUNKED" : "HTTP_BODY_NONE",
                  cases[i].why);
        if (cases[i].body == HTTP_BODY_LENGTH)
            cr_expect(eq(u64, info.content_length, cases[i].length),
                      "http_check_head(%s) set content_length = %llu; expected %llu",
                      wb_escape(h, len, 200, e, sizeof e),
                      (unsigned long long)info.content_length,
                      (unsigned long long)cases[i].length);
    }
}

/* ---- end to end ------------------------------------------------------------------- */

Test(bodies, post_echo_returns_a_content_length_body_byte_exact)
{
    /* 700 seeded random bytes with NULs, CRs and an empty line in them */
    unsigned char data[700];
    wb_random_bytes(data, sizeof data);
    data[0] = 0;
    data[100] = 0;
    memcpy(data + 300, "\r\n\r\nGET / HTTP/1.1\r\n\r\n", 22);
    char head[128], raw[1024];
    int hl = snprintf(head, sizeof head,
                      "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n",
                      sizeof data);
    memcpy(raw, head, (size_t)hl);
    memcpy(raw + hl, data, sizeof data);
    size_t len = (size_t)hl + sizeof data;

    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, head, (size_t)hl);
    ht_expect_silence(p, fd, 100, head, (size_t)hl,
                   "the head announced a 700-byte body that has not been sent yet: read "
                   "Content-Length bytes after the head before answering");
    wb_send(p, fd, data, sizeof data);
    char ctx[256];
    snprintf(ctx, sizeof ctx, "POST /echo with a 700-byte binary body (seed %llu), sent in a "
             "second write after the head:", (unsigned long long)wb_seed());
    struct ht_response *r = must_read(p, fd, raw, len, ctx);
    ht_expect_status(p, r, 200, NULL, 0, ctx);
    ht_expect_header(p, r, "Content-Type", "application/octet-stream",
                     "POST /echo answers with the request body as application/octet-stream");
    ht_expect_body(p, r, data, sizeof data,
                   "POST /echo must answer with exactly the body it got: the bytes hold NULs "
                   "and CRLFs (no strlen(), no string functions on a body)");
    ht_expect_no_extra(p, r, "one request, one response");
    ht_free(r);
}

Test(bodies, post_echo_decodes_a_chunked_body_sent_in_pieces)
{
    static const char *const pieces[] = {
        "5\r\nhel", "lo\r\n6;ext=1\r\n w", "orld\r\n0\r\nTrailer: x\r\n", "\r\n",
    };
    const char *head = "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    char raw[512];
    size_t len = (size_t)snprintf(raw, sizeof raw, "%s%s", head, EXAMPLE);
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    char sent[512];
    size_t sl = (size_t)snprintf(sent, sizeof sent, "%s", head);
    wb_send_str(p, fd, head);
    for (int i = 0; i < 4; i++) {
        ht_expect_silence(p, fd, 50, sent, sl,
                       "the chunked body has not ended yet (it ends with a 0-size chunk, the "
                       "trailers and an empty line): keep reading and decoding");
        wb_send_str(p, fd, pieces[i]);
        sl += (size_t)snprintf(sent + sl, sizeof sent - sl, "%s", pieces[i]);
    }
    struct ht_response *r = must_read(p, fd, raw, len,
                                      "POST /echo with a chunked body sent in 4 pieces:");
    ht_expect_status(p, r, 200, NULL, 0, "POST /echo with a chunked body");
    ht_expect_body(p, r, EXAMPLE_BODY, strlen(EXAMPLE_BODY),
                   "the echo of a chunked body is the decoded payload");
    ht_expect_header(p, r, "Content-Length", "11",
                     "the response is sent with Content-Length (the decoded size)");

    /* A second chunked body on the same connection: random chunks (seeded),
     * binary, sizes in upper-case and lower-case hex. */
    unsigned char data[900];
    wb_random_bytes(data, sizeof data);
    char req[2048];
    size_t rl = (size_t)snprintf(req, sizeof req, "%s", head), at = 0;
    for (int c = 0; c < 3; c++) {
        size_t sz = c < 2 ? 1 + wb_random_u32() % 400 : sizeof data - at;
        rl += (size_t)snprintf(req + rl, sizeof req - rl, c == 1 ? "%zX\r\n" : "%zx\r\n", sz);
        memcpy(req + rl, data + at, sz);
        rl += sz;
        at += sz;
        memcpy(req + rl, "\r\n", 2);
        rl += 2;
    }
    memcpy(req + rl, "0\r\n\r\n", 5);
    rl += 5;
    wb_send(p, fd, req, rl);
    char ctx[200];
    snprintf(ctx, sizeof ctx, "a second chunked POST /echo on the same connection: 3 binary "
             "chunks, 900 bytes in all (seed %llu)", (unsigned long long)wb_seed());
    struct ht_response *r2 = must_read(p, fd, req, rl, ctx);
    ht_expect_status(p, r2, 200, NULL, 0, ctx);
    ht_expect_body(p, r2, data, sizeof data, ctx);
    ht_free(r);
    ht_free(r2);
}

Test(bodies, a_body_larger_than_max_body_gets_413)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), "--max-body", "1000", NULL);
    char raw[2048], body[1001];
    memset(body, 'b', sizeof body);

    /* exactly the limit: fine */
    int hl = snprintf(raw, sizeof raw,
                      "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\n");
    memcpy(raw + hl, body, 1000);
    struct ht_response *r = ht_exchange(p, raw, (size_t)hl + 1000);
    ht_expect_status(p, r, 200, NULL, 0,
                     "with --max-body 1000, a body of exactly 1000 bytes is allowed");
    ht_free(r);

    /* one byte more, by Content-Length: the head says it all */
    hl = snprintf(raw, sizeof raw,
                  "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1001\r\n\r\n");
    memcpy(raw + hl, body, 1001);
    int fd = wb_connect(p);
    wb_send(p, fd, raw, (size_t)hl);
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    if (poll(&pfd, 1, 1000) == 0) /* no early answer: then it wants the body first */
        wb_send(p, fd, body, sizeof body);
    r = must_read(p, fd, raw, (size_t)hl + 1001,
                  "with --max-body 1000, a POST announced \"Content-Length: 1001\" (best: "
                  "answer 413 as soon as the head is read, without reading the body):");
    expect_error(p, r, 413, "with --max-body 1000, a request announced a 1001-byte body by "
                 "Content-Length: 413 Content Too Large (and close: the body was not read)");
    ht_free(r);
    close(fd);

    /* one byte more, chunked: only the decoder can tell */
    hl = snprintf(raw, sizeof raw,
                  "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n"
                  "3e9\r\n");
    memcpy(raw + hl, body, 1001);
    r = ht_exchange(p, raw, (size_t)hl + 1001);
    expect_error(p, r, 413,
                 "with --max-body 1000, a chunked body with a chunk of 0x3e9 = 1001 bytes "
                 "(chunked_decode's max is --max-body)");
    ht_free(r);
}

Test(bodies, a_transfer_encoding_not_ending_in_chunked_gets_400_and_a_close)
{
    /* RFC 9112 section 6.3: if chunked is not the final coding, the body's
     * length cannot be determined; the server MUST answer 400 and close.
     * Whatever follows the head could be body or the next request. */
    static const char *const raw[] = {
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n"
        "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"
        "0\r\n\r\nGET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    ht_expect_accepted(p, "before the requests with a Transfer-Encoding that does not end in "
                       "chunked");
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, raw[i]);
        ht_expect_status(p, r, 400, NULL, 0,
                         "a request whose Transfer-Encoding does not end in chunked: nothing "
                         "says where its body ends, so the server MUST answer 400 (RFC 9112 "
                         "section 6.3) -- not 501: it is not a coding it lacks, the request "
                         "cannot be read at all");
        ht_expect_header(p, r, "Connection", "close",
                         "after a 400 for an unreadable body the server closes the connection "
                         "and says so: the bytes that follow could be body or a request");
        wb_expect_eof(p, r->fd, WB_IO_MS,
                      "after the 400 for a Transfer-Encoding that does not end in chunked, the "
                      "connection must be closed, and the GET sent behind it must not be "
                      "answered (RFC 9112 section 6.3)");
        ht_free(r);
    }
}

Test(bodies, ambiguous_or_invalid_framing_gets_400_and_unknown_codings_501)
{
#define POST "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
    static const struct {
        const char *raw;
        int want;
        const char *why;
    } cases[] = {
        { POST "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
          "Content-Length together with Transfer-Encoding: which one frames the body? A proxy "
          "in front may pick the other one (request smuggling)" },
        { POST "Content-Length: 5a\r\n\r\n", 400, "a Content-Length that is not all digits" },
        { POST "Content-Length: -1\r\n\r\n", 400, "a negative Content-Length" },
        { POST "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", 400,
          "two Content-Length fields that disagree" },
        { "POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
          "Transfer-Encoding in an HTTP/1.0 request" },
        { POST "Transfer-Encoding: gzip\r\n\r\n", 400,
          "a final transfer coding other than chunked: the body's end cannot be found" },
        { POST "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501,
          "a transfer coding the server does not implement, before the final chunked" },
    };
#undef POST
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, cases[i].raw);
        ht_expect_status(p, r, cases[i].want, NULL, 0, cases[i].why);
        ht_free(r);
    }
}

Test(bodies, the_request_after_a_body_on_the_same_connection_is_answered)
{
    /* The first body looks like a request: it must be echoed, not run. */
    const char *inner = "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    char r1[256], r3[256];
    snprintf(r1, sizeof r1,
             "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: %zu\r\n\r\n%s",
             strlen(inner), inner);
    const char *r2 = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    snprintf(r3, sizeof r3,
             "POST /echo HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n%s",
             EXAMPLE);
    const char *r4 = "GET /style.css HTTP/1.1\r\nHost: localhost\r\n\r\n";
    char raw[1024];
    size_t len = (size_t)snprintf(raw, sizeof raw, "%s%s%s%s", r1, r2, r3, r4);

    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, raw, len);
    struct ht_response *a = must_read(p, fd, r1, strlen(r1),
                                      "four requests in one write: POST with Content-Length, "
                                      "GET, chunked POST, GET. Response 1 of 4:");
    ht_expect_status(p, a, 200, NULL, 0, "POST /echo whose body looks like a request");
    ht_expect_body(p, a, inner, strlen(inner),
                   "the body is data, even when it looks like a request: echo it");
    struct ht_response *b = must_read(p, fd, r2, strlen(r2),
                                      "response 2 of 4, to the GET that followed a "
                                      "Content-Length body: the next request starts right "
                                      "after Content-Length bytes of body");
    ht_expect_body(p, b, "hello\n", 6, "GET /hello.txt after a POST with a body");
    struct ht_response *c = must_read(p, fd, r3, strlen(r3),
                                      "response 3 of 4, to a chunked POST /echo:");
    ht_expect_body(p, c, EXAMPLE_BODY, strlen(EXAMPLE_BODY), "a chunked POST /echo");
    struct ht_response *d = must_read(p, fd, r4, strlen(r4),
                                      "response 4 of 4, to the GET that followed a chunked "
                                      "body: the next request starts right after the chunked "
                                      "body's final empty line (chunked_decode's result)");
    const struct ht_file *f = ht_file("/style.css");
    ht_expect_body(p, d, f->data, f->len, "GET /style.css after a chunked POST");
    ht_expect_no_extra_fd(p, fd, raw, len, "four requests, four responses");
    ht_free(a);
    ht_free(b);
    ht_free(c);
    ht_free(d);
}

Test(bodies, expect_100_continue_gets_100_before_the_body)
{
    /* curl sends "Expect: 100-continue" before a large body (over 1 MiB in
     * curl 7.88; older versions from 1 KiB) and waits up to a second for
     * the interim 100 response before it sends the body. */
    const char *head = "POST /echo HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n"
                       "Expect: 100-continue\r\n\r\n";
    const char *interim = "HTTP/1.1 100 Continue\r\n\r\n";
    char raw[256];
    snprintf(raw, sizeof raw, "%shello", head);

    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, head, strlen(head));
    wb_expect_bytes(p, fd, interim, strlen(interim), WB_IO_MS,
                    "sent a head with \"Expect: 100-continue\" and no body yet: the client waits "
                    "for \"HTTP/1.1 100 Continue\\r\\n\\r\\n\" before it sends the body (RFC 9110 "
                    "section 10.1.1)\n%s", ht_describe_request(p, raw, strlen(raw)));
    wb_send(p, fd, "hello", 5);
    struct ht_response *r = must_read(p, fd, raw, strlen(raw),
                                      "then the 5-byte body: the final response follows");
    ht_expect_status(p, r, 200, NULL, 0, "POST /echo after 100 Continue");
    ht_expect_body(p, r, "hello", 5, "POST /echo after 100 Continue");
    ht_free(r);
}

/* ---- cost: a chunked body that arrives in small pieces ---------------------- */

Test(bodies, a_chunked_body_sent_three_bytes_at_a_time_costs_linear_work)
{
    /* POST /echo with a 48 000-byte body in 480 chunks of 100 bytes,
     * arriving 3 bytes per read: about 16 000 reads. Decoding the body
     * again from its start after every read costs O(n^2); the decoder
     * keeps its place (struct chunked) so each byte is decoded once. The
     * yardstick: the same body with Content-Length, read the same way. */
    enum { CHUNKS = 480, CHUNK = 100 };
    static char chunked[CHUNKS * (CHUNK + 8) + 256], plain[sizeof chunked];
    size_t n = (size_t)sprintf(chunked, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
                                        "Transfer-Encoding: chunked\r\n\r\n");
    for (int i = 0; i < CHUNKS; i++) {
        n += (size_t)sprintf(chunked + n, "64\r\n");
        memset(chunked + n, 'a' + i % 26, CHUNK);
        n += CHUNK;
        n += (size_t)sprintf(chunked + n, "\r\n");
    }
    n += (size_t)sprintf(chunked + n, "0\r\n\r\n");
    size_t m = (size_t)sprintf(plain, "POST /echo HTTP/1.1\r\nHost: localhost\r\n"
                                      "Content-Length: %d\r\n\r\n", CHUNKS * CHUNK);
    memset(plain + m, 'b', (size_t)CHUNKS * CHUNK);
    m += (size_t)CHUNKS * CHUNK;

    int got, status[1];
    double base = ht_feed_service(NULL, plain, m, 3, &got, status, 1, NULL, NULL);
    cr_assert(eq(int, got, 1), "POST /echo with a %d-byte Content-Length body, fed to "
              "http_service 3 bytes per on_data(), gave %d responses; expected 1",
              CHUNKS * CHUNK, got);
    double cost = ht_feed_service(NULL, chunked, n, 3, &got, status, 1, NULL, NULL);
    cr_assert(eq(int, got, 1), "POST /echo with a chunked body (%d chunks of %d bytes), fed to "
              "http_service 3 bytes per on_data(), gave %d responses; expected 1", CHUNKS,
              CHUNK, got);
    cr_assert(eq(int, status[0], 200), "POST /echo with a chunked body got status %d; "
              "expected 200", status[0]);
    cr_assert(cost <= 3 * base + 50,
              "a %d-byte chunked body that arrived 3 bytes per read cost %.0f ms of CPU in "
              "http_service; the same body with Content-Length, read the same way, cost %.0f "
              "ms. Decoding the body again from its start after every read costs O(n^2): "
              "keep the decoder (struct chunked) with the connection, give it only the new "
              "bytes, and buf_consume() what it used", CHUNKS * CHUNK, cost, base);
}
