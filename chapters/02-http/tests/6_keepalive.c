/* Stage 6: persistent connections and pipelining -- http_check_head()'s
 * keep_alive, and a connection loop (conn_serve) that reads one request
 * after another from the same socket, keeps the bytes of the next request
 * that came with this one, and closes only when a side asked for it. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client.h"
#include "conn.h"
#include "http.h"
#include "wbtest.h"

WB_SUITE(keepalive);

#define GET(path) "GET " path " HTTP/1.1\r\nHost: localhost\r\n\r\n"

/* ---- helpers --------------------------------------------------------------- */

/* Reads one response from fd like ht_read(), but a failure message starts
 * with context: which of several requests on the connection this was. */
static struct ht_response *must_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                                     int head_request, const char *context)
{
    return ht_must_read(p, fd, raw, len, head_request, WB_IO_MS, context);
}


/* Does the comma-separated list v hold token (any case)? */
static int has_token(const char *v, const char *token)
{
    size_t n = strlen(token);
    while (*v) {
        while (*v == ' ' || *v == '\t' || *v == ',')
            v++;
        const char *e = v;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > v && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - v) == n && strncasecmp(v, token, n) == 0)
            return 1;
        v = e;
    }
    return 0;
}

static void expect_file(struct wb_proc *p, const struct ht_response *r, const char *path,
                        const char *why)
{
    const struct ht_file *f = ht_file(path);
    cr_assert(f != NULL, "test bug: %s is not in the fixture", path);
    ht_expect_status(p, r, 200, NULL, 0, why);
    ht_expect_body(p, r, f->data, f->len, why);
}

/* send() for the unit tests, which have no program to describe. */
static void send_plain(int fd, const char *raw, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, raw, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert(n > 0, "send to conn_serve()'s connection failed: %s", strerror(errno));
        raw += n;
        len -= (size_t)n;
    }
}

/* A connected TCP pair on loopback: *client for the test, *server as
 * accept() returned it, for conn_serve(). */



/* Runs conn_serve() on its own thread for a fresh connection; returns the
 * client's end. */

/* ---- http_check_head: keep_alive -------------------------------------------- */

Test(keepalive, http_check_head_says_whether_the_connection_stays_open)
{
    static const struct {
        const char *head;
        int want;
        const char *why;
    } cases[] = {
        { "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 1, "HTTP/1.1 connections are persistent by default" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", 0,
          "\"Connection: close\" ends the connection after this response" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: CLOSE\r\n\r\n", 0,
          "connection options are case-insensitive" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, close\r\n\r\n", 0,
          "Connection holds a comma-separated list: look at every element" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo,close\r\n\r\n", 0,
          "list elements may have no space after the comma" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n", 1,
          "keep-alive changes nothing in HTTP/1.1" },
        { "GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, close\r\n\r\n", 0,
          "close wins wherever it is in the list" },
        { "GET / HTTP/1.0\r\n\r\n", 0, "HTTP/1.0 connections close after one response by default" },
        { "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 1,
          "an HTTP/1.0 client asks for a persistent connection with \"Connection: keep-alive\"" },
        { "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1,
          "connection options are case-insensitive" },
        { "GET / HTTP/1.0\r\nHost: a\r\nConnection: close\r\n\r\n", 0,
          "HTTP/1.0 with \"Connection: close\"" },
    };
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
        memset(&info, 0x55, sizeof info); /* garbage: every field must be set */
        int rc = http_check_head(&req, &info);
        cr_expect(eq(int, rc, 0), "http_check_head(%s) returned %d; expected 0 (a valid head)",
                  wb_escape(h, len, 200, e, sizeof e), rc);
        cr_expect(eq(int, info.keep_alive, cases[i].want),
                  "http_check_head(%s) set keep_alive = %d; expected %d: %s",
                  wb_escape(h, len, 200, e, sizeof e), info.keep_alive, cases[i].want,
                  cases[i].why);
    }
}

/* ---- conn_serve, without the server around it -------------------------------- */

Test(keepalive, conn_serve_answers_requests_until_the_client_closes)
{
    int fd = ht_start_conn_serve(3000);
    const char *raw = GET("/hello.txt") GET("/index.html");
    size_t len = strlen(raw);
    send_plain(fd, raw, len);
    struct ht_response *a = must_read(NULL, fd, raw, len, 0,
                                      "conn_serve() got two requests in one write on a "
                                      "connection of its own (a TCP socket as accept() returns "
                                      "it); the first response:");
    expect_file(NULL, a, "/hello.txt", "conn_serve(): the first of two pipelined requests");
    struct ht_response *b = must_read(NULL, fd, raw, len, 0,
                                      "conn_serve(): the response to the second of two "
                                      "requests that arrived in one read -- keep the bytes "
                                      "after the first request's head, they are the next "
                                      "request:");
    expect_file(NULL, b, "/index.html", "conn_serve(): the second of two pipelined requests");

    /* The client is done: conn_serve() must see EOF, close and return. */
    shutdown(fd, SHUT_WR);
    int r = wb_wait_eof(fd, 2000);
    cr_assert(eq(int, r, 1),
              "after two answered requests the client shut down its sending side; conn_serve() "
              "must then close the socket (recv() returning 0 means the client is done), but "
              "the connection %s within 2000 ms", r == 0 ? "got more bytes" : "stayed open");
    int done = ht_conn_serve_returned(1000);
    cr_assert(done, "conn_serve() closed the socket but did not return within 1000 ms");
    ht_free(a);
    ht_free(b);
    close(fd);
}

/* ---- end to end ---------------------------------------------------------------- */

Test(keepalive, http_1_1_keeps_the_connection_open_by_default_also_after_a_404)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    const char *r1 = GET("/missing.txt"), *r2 = GET("/hello.txt");
    wb_send_str(p, fd, r1);
    struct ht_response *a = must_read(p, fd, r1, strlen(r1), 0,
                                      "the first of two requests on one HTTP/1.1 connection:");
    ht_expect_status(p, a, 404, NULL, 0, "a file that does not exist");
    const char *c = ht_header(a, "Connection");
    cr_assert(c == NULL || has_token(c, "close") == 0,
              "the client sent an HTTP/1.1 request without \"Connection: close\"; the 404 "
              "response says \"Connection: %s\", but an error about a missing file is no reason "
              "to close: the connection can serve the next request\n%s",
              c ? c : "", ht_describe_response(a));
    wb_send_str(p, fd, r2);
    struct ht_response *b = must_read(p, fd, r2, strlen(r2), 0,
                                      "the second request on the same connection (the first "
                                      "was answered 404): HTTP/1.1 connections are persistent "
                                      "unless a side says \"Connection: close\" -- after a "
                                      "response, go back to reading the next request");
    expect_file(p, b, "/hello.txt", "the second request on a kept-alive connection");
    ht_free(a);
    ht_free(b);
}

Test(keepalive, connection_close_is_answered_with_connection_close_then_eof)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    const char *raw = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
    wb_send_str(p, fd, raw);
    struct ht_response *r = must_read(p, fd, raw, strlen(raw), 0,
                                      "a request with \"Connection: close\":");
    expect_file(p, r, "/hello.txt", "a request with \"Connection: close\"");
    const char *c = ht_header(r, "Connection");
    cr_assert(c != NULL && has_token(c, "close"),
              "the client sent \"Connection: close\"; the response must say \"Connection: "
              "close\" too (set resp->close: response_head() writes it), so that the client "
              "knows the server closes next\n%s\nreceived: %s",
              ht_describe_request(p, raw, strlen(raw)), ht_describe_response(r));
    wb_expect_eof(p, fd, 1000,
                  "after answering a request with \"Connection: close\" the server must close "
                  "the connection (the client waits for EOF)");
    ht_free(r);
}

Test(keepalive, http_1_0_closes_the_connection_after_the_response_by_default)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    const char *raw = "GET /hello.txt HTTP/1.0\r\n\r\n";
    wb_send_str(p, fd, raw);
    struct ht_response *r = must_read(p, fd, raw, strlen(raw), 0, "an HTTP/1.0 request:");
    expect_file(p, r, "/hello.txt", "an HTTP/1.0 request");
    wb_expect_eof(p, fd, 1000,
                  "an HTTP/1.0 request without \"Connection: keep-alive\" was answered; HTTP/1.0 "
                  "clients expect the server to close after one response\n%s",
                  ht_describe_request(p, raw, strlen(raw)));
    ht_free(r);
}

Test(keepalive, http_1_0_with_connection_keep_alive_stays_open)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    const char *r1 = "GET /hello.txt HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    const char *r2 = "GET /index.html HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
    wb_send_str(p, fd, r1);
    struct ht_response *a = must_read(p, fd, r1, strlen(r1), 0,
                                      "the first of two HTTP/1.0 keep-alive requests:");
    expect_file(p, a, "/hello.txt", "an HTTP/1.0 request with \"Connection: keep-alive\"");
    wb_send_str(p, fd, r2);
    struct ht_response *b = must_read(p, fd, r2, strlen(r2), 0,
                                      "the second request on the same connection: an HTTP/1.0 "
                                      "client that sends \"Connection: keep-alive\" asks for a "
                                      "persistent connection, so it must stay open");
    expect_file(p, b, "/index.html", "the second HTTP/1.0 keep-alive request");
    ht_free(a);
    ht_free(b);
}

Test(keepalive, three_pipelined_requests_are_answered_in_order)
{
    static const char *const paths[] = { "/hello.txt", "/data.json", "/docs/guide.html" };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    char raw[512];
    size_t len = 0;
    for (int i = 0; i < 3; i++)
        len += (size_t)snprintf(raw + len, sizeof raw - len,
                                "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", paths[i]);
    int fd = wb_connect(p);
    wb_send(p, fd, raw, len);
    for (int i = 0; i < 3; i++) {
        char ctx[512], one[128];
        int n = snprintf(one, sizeof one, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                         paths[i]);
        snprintf(ctx, sizeof ctx,
                 "three requests arrived in one write (pipelining); response %d of 3 must "
                 "answer GET %s -- one request at a time, in order, keeping the bytes that "
                 "follow each head for the next round", i + 1, paths[i]);
        struct ht_response *r = must_read(p, fd, one, (size_t)n, 0, ctx);
        expect_file(p, r, paths[i], ctx);
        ht_free(r);
    }
    ht_expect_no_extra_fd(p, fd, raw, len,
                          "three pipelined requests got their three responses; nothing else "
                          "may follow");
}

Test(keepalive, a_request_sent_one_byte_at_a_time_is_answered_once)
{
    const char *raw =
        "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nUser-Agent: one-byte-at-a-time\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send_bytewise(p, fd, raw, strlen(raw));
    struct ht_response *r = must_read(p, fd, raw, strlen(raw), 0,
                                      "the request was sent one byte per write: keep reading "
                                      "into the same buffer until the parser sees the empty "
                                      "line (HTTP_INCOMPLETE means: read more)");
    expect_file(p, r, "/hello.txt", "a request sent one byte at a time");
    ht_expect_no_extra(p, r,
                       "a request that arrived in many pieces is still one request: one "
                       "response (no error for a partial piece, no second answer)");
    ht_free(r);
}

Test(keepalive, a_request_split_across_writes_waits_for_its_end_and_keeps_the_next_one)
{
    /* Each piece is sent only after the server had time to read and parse
     * the ones before: no response may come until the head is complete. */
    static const char *const pieces[] = {
        "GET /hello.txt HTTP/1.1\r",              /* a CR, its LF still to come */
        "\nHost: localhost\r\n",                  /* the head without its empty line */
        "\r\nGET /sty",                           /* the end, and half the next request */
        "le.css HTTP/1.1\r\nHost: localhost\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    char sent[512] = "";
    const char *r1 = GET("/hello.txt"), *r2 = GET("/style.css");

    for (int i = 0; i < 2; i++) {
        wb_send_str(p, fd, pieces[i]);
        strcat(sent, pieces[i]);
        ht_expect_silence(p, fd, 100, sent, strlen(sent),
                       "the request head is not complete yet (no empty line): the server must "
                       "wait for more bytes, not answer and not close");
    }
    wb_send_str(p, fd, pieces[2]);
    strcat(sent, pieces[2]);
    struct ht_response *a = must_read(p, fd, r1, strlen(r1), 0,
                                      "the head's empty line arrived (together with the start "
                                      "of a second request):");
    expect_file(p, a, "/hello.txt", "a request whose head came in three writes");
    ht_expect_silence(p, fd, 100, sent, strlen(sent),
                   "the first request was answered; the second one is only \"GET /sty\" so far: "
                   "keep those bytes and wait for the rest");
    wb_send_str(p, fd, pieces[3]);
    struct ht_response *b = must_read(p, fd, r2, strlen(r2), 0,
                                      "the rest of the second request arrived: its first bytes "
                                      "came with the end of the first request, so they must "
                                      "have been kept in the connection's buffer");
    expect_file(p, b, "/style.css", "a request split between two writes");
    ht_expect_no_extra(p, b, "two requests, two responses");
    ht_free(a);
    ht_free(b);
}

Test(keepalive, a_head_response_has_no_body_so_the_next_response_follows_its_head)
{
    const char *r1 = "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", *r2 = GET("/hello.txt");
    char raw[256];
    snprintf(raw, sizeof raw, "%s%s", r1, r2);
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, raw);
    struct ht_response *a = must_read(p, fd, r1, strlen(r1), 1,
                                      "a HEAD and a GET for /hello.txt in one write; the HEAD's "
                                      "response:");
    ht_expect_status(p, a, 200, NULL, 0, "HEAD of an existing file");
    ht_expect_header(p, a, "Content-Length", "6",
                     "a HEAD response carries the Content-Length a GET would get (hello.txt has "
                     "6 bytes), but no body");
    struct ht_response *b = must_read(p, fd, r2, strlen(r2), 0,
                                      "the GET right after a HEAD on the same connection: if "
                                      "this response does not start with \"HTTP/1.1\", the "
                                      "HEAD response carried a body (send the head only: "
                                      "resp->head_only)");
    expect_file(p, b, "/hello.txt", "a GET pipelined after a HEAD");
    ht_expect_no_extra(p, b, "a HEAD and a GET: two responses, one body");
    ht_free(a);
    ht_free(b);
}

/* ---- http_scan_head: finding the end of a head that arrives in pieces ------- */

/* Feeds in[0..len) to a fresh scanner in pieces of `piece` bytes (the
 * buffer grows, as a connection's input does) and returns the first
 * result that is not HTTP_INCOMPLETE, or HTTP_INCOMPLETE; *at says how
 * many bytes had arrived then. */
static int scan_in_pieces(const char *in, size_t len, size_t piece, size_t *at)
{
    struct http_scan s;
    char *copy = ht_dup(in, len);
    int r = HTTP_INCOMPLETE;
    http_scan_init(&s);
    for (size_t have = 0; have < len && r == HTTP_INCOMPLETE;) {
        have = have + piece < len ? have + piece : len;
        /* a buffer of exactly `have` bytes: reading past it is caught */
        char *view = ht_dup(copy, have);
        r = http_scan_head(&s, view, have);
        free(view);
        *at = have;
    }
    free(copy);
    return r;
}

Test(keepalive, http_scan_head_finds_the_end_of_a_head_in_any_pieces)
{
    static const char *const heads[] = {
        GET("/"),
        "GET /a HTTP/1.1\nHost: x\nAccept: */*\n\n",
        "\r\n\r\nGET /after-empty-lines HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
        "GET / HTTP/1.0\r\n\r\n",
    };
    static const char next[] = "hello" GET("/next");
    for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
        size_t hlen = strlen(heads[i]);
        char buf[512];
        memcpy(buf, heads[i], hlen);
        memcpy(buf + hlen, next, sizeof next - 1); /* a body and the next request follow */
        size_t len = hlen + sizeof next - 1;
        struct http_request req;
        char *copy = ht_dup(heads[i], hlen);
        int want = http_parse_request(copy, hlen, &req);
        free(copy);
        cr_assert(eq(int, want, (int)hlen), "test bug: http_parse_request(%s) gave %d",
                  ht_esc(heads[i], hlen, 200), want);
        for (size_t piece = 1; piece <= hlen + 1; piece += piece < 8 ? 1 : 7) {
            size_t at = 0;
            int got = scan_in_pieces(buf, len, piece, &at);
            cr_assert(eq(int, got, (int)hlen),
                      "http_scan_head() on %s followed by %s, arriving %zu bytes at a time, "
                      "returned %d once %zu bytes had arrived; expected %zu, the head's length "
                      "(with its empty line), as soon as the empty line is there -- and not "
                      "what follows it", ht_esc(heads[i], hlen, 200),
                      ht_esc(next, sizeof next - 1, 60), piece, got, at, hlen);
            cr_assert(ge(sz, at, hlen), "http_scan_head() returned the head's length after "
                      "%zu bytes of a %zu-byte head", at, hlen);
        }
    }
}

Test(keepalive, http_scan_head_refuses_a_bad_request_line_before_the_head_ends)
{
    static const struct {
        const char *in;
        int want;
        const char *why;
    } cases[] = {
        { "GET  / HTTP/1.1\r\nHost: x\r\n", -400, "two spaces" },
        { "GE(T / HTTP/1.1\r\nHost: x\r\n", -400, "'(' in the method" },
        { "GET / HTTP/2.0\r\nHost: x\r\n", -505, "HTTP/2.0" },
        { "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", -400,
          "a TLS handshake sent to the plain HTTP port (no line end at all)" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i].in), at = 0;
        int whole = scan_in_pieces(cases[i].in, len, len, &at);
        cr_expect(eq(int, whole, cases[i].want),
                  "http_scan_head(%s) returned %d; expected %d (%s): the request line decides "
                  "as soon as it is there -- do not wait for the rest of the head",
                  ht_esc(cases[i].in, len, 120), whole, cases[i].want, cases[i].why);
        int bytewise = scan_in_pieces(cases[i].in, len, 1, &at);
        cr_expect(eq(int, bytewise, cases[i].want),
                  "http_scan_head() on %s, arriving one byte at a time, returned %d after %zu "
                  "bytes; expected %d (%s). Check the unfinished request line with "
                  "http_parse_request_line() whenever it has doubled in length since the last "
                  "check, and the finished one once", ht_esc(cases[i].in, len, 120), bytewise, at,
                  cases[i].want, cases[i].why);
    }
}

Test(keepalive, http_scan_head_enforces_the_head_limits_before_the_head_ends)
{
    /* The same limits as http_parse_request(), found while the head is
     * still arriving: waiting for the end would let a client fill the
     * memory. */
    static char buf[HTTP_MAX_HEAD + 2 * HTTP_MAX_HEADER_LINE];
    size_t at = 0, n;

    n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'a', HTTP_MAX_REQUEST_LINE);
    n += HTTP_MAX_REQUEST_LINE;
    int got = scan_in_pieces(buf, n, 1000, &at);
    cr_expect(eq(int, got, -414), "%zu bytes of a request line, no line end yet "
              "(HTTP_MAX_REQUEST_LINE is %d): http_scan_head() returned %d; expected -414",
              n, HTTP_MAX_REQUEST_LINE, got);

    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\nX-Long: ");
    memset(buf + n, 'b', HTTP_MAX_HEADER_LINE + 10);
    n += HTTP_MAX_HEADER_LINE + 10;
    got = scan_in_pieces(buf, n, 1000, &at);
    cr_expect(eq(int, got, -431), "a field line of %zu bytes and no line end yet "
              "(HTTP_MAX_HEADER_LINE is %d): http_scan_head() returned %d; expected -431", n - 16,
              HTTP_MAX_HEADER_LINE, got);

    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
        n += (size_t)sprintf(buf + n, "X-%d: v\r\n", i);
    got = scan_in_pieces(buf, n, 7, &at);
    cr_expect(eq(int, got, -431), "%d field lines and no empty line yet (HTTP_MAX_HEADERS is "
              "%d): http_scan_head() returned %d; expected -431", HTTP_MAX_HEADERS + 1,
              HTTP_MAX_HEADERS, got);

    n = (size_t)sprintf(buf, "GET / HTTP/1.1\r\n");
    for (int i = 0; n < HTTP_MAX_HEAD + 100; i++) {
        n += (size_t)sprintf(buf + n, "X-%02d: ", i);
        memset(buf + n, 'c', 4000);
        n += 4000;
        n += (size_t)sprintf(buf + n, "\r\n");
    }
    got = scan_in_pieces(buf, n, 4096, &at);
    cr_expect(eq(int, got, -431), "%zu bytes of head (fields of 4000 bytes) and no empty line "
              "yet (HTTP_MAX_HEAD is %d): http_scan_head() returned %d; expected -431", n,
              HTTP_MAX_HEAD, got);
}

Test(keepalive, http_scan_head_counts_a_line_without_its_line_end)
{
    /* A request line, then a field line, of exactly the limit each; the
     * bytes arrive so that a read ends right after each line's CR. */
    static char buf[HTTP_MAX_REQUEST_LINE + HTTP_MAX_HEADER_LINE + 64];
    size_t n = (size_t)sprintf(buf, "GET /");
    memset(buf + n, 'a', HTTP_MAX_REQUEST_LINE - 14);
    n += HTTP_MAX_REQUEST_LINE - 14;
    n += (size_t)sprintf(buf + n, " HTTP/1.1\r");
    size_t cr1 = n;
    n += (size_t)sprintf(buf + n, "\nX-Long: ");
    memset(buf + n, 'b', HTTP_MAX_HEADER_LINE - 8);
    n += HTTP_MAX_HEADER_LINE - 8;
    buf[n++] = '\r';
    size_t cr2 = n;
    n += (size_t)sprintf(buf + n, "\nHost: x\r\n\r\n");

    struct http_scan s;
    http_scan_init(&s);
    const size_t cuts[] = { cr1, cr2, n };
    const char *what[] = { "a request line of exactly HTTP_MAX_REQUEST_LINE bytes and its CR",
                           "then a field line of exactly HTTP_MAX_HEADER_LINE bytes and its CR",
                           "then the rest of the head" };
    for (size_t i = 0; i < 3; i++) {
        char *view = ht_dup(buf, cuts[i]);
        int got = http_scan_head(&s, view, cuts[i]);
        free(view);
        int want = i < 2 ? HTTP_INCOMPLETE : (int)n;
        cr_assert(eq(int, got, want),
                  "http_scan_head() after %zu bytes -- %s -- returned %d; expected %d%s. The "
                  "limits count a line without its line end, and a CR at the end of what came "
                  "may be the first half of the CRLF: not too long yet",
                  cuts[i], what[i], got, want, i < 2 ? " (HTTP_INCOMPLETE)" : ", the head's length");
    }
}

/* ---- cost: a head that arrives in small pieces ------------------------------ */

Test(keepalive, a_head_sent_three_bytes_at_a_time_costs_linear_work)
{
    /* A head of 48 fields of 1000 bytes (48 KB) arrives 3 bytes per read:
     * 16 000 reads. Parsing it again from its first byte after every read
     * looks at about 400 MB; keeping one's place looks at 48 KB. The
     * yardstick: the same bytes, read the same way, as pipelined small
     * requests, whose heads are short. http_service's callbacks are
     * called directly, one on_data per piece, and their CPU time taken. */
    enum { FIELDS = 48, FIELD = 1000 };
    static char big[FIELDS * (FIELD + 16) + 128], small[sizeof big];
    size_t n = (size_t)sprintf(big, "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n");
    for (int i = 0; i < FIELDS; i++) {
        n += (size_t)sprintf(big + n, "X-Field-%02d: ", i);
        memset(big + n, 'a' + i % 26, FIELD);
        n += FIELD;
        n += (size_t)sprintf(big + n, "\r\n");
    }
    n += (size_t)sprintf(big + n, "\r\n");
    static const char one[] = GET("/hello.txt");
    int count = (int)(n / (sizeof one - 1));
    size_t m = 0;
    for (int i = 0; i < count; i++, m += sizeof one - 1)
        memcpy(small + m, one, sizeof one - 1);

    int got, status[1];
    double base = ht_feed_service(NULL, small, m, 3, &got, status, 1, NULL, NULL);
    cr_assert(eq(int, got, count), "%d pipelined GET /hello.txt, fed to http_service 3 bytes "
              "per on_data(), gave %d responses: this test measures the cost of a head that "
              "trickles in against pipelined requests, so it needs keep-alive and pipelining "
              "first (the other tests of this stage)", count, got);
    double cost = ht_feed_service(NULL, big, n, 3, &got, status, 1, NULL, NULL);
    cr_assert(eq(int, got, 1), "a %zu-byte head fed to http_service 3 bytes per on_data() gave "
              "%d responses; expected 1", n, got);
    cr_assert(eq(int, status[0], 200), "a %zu-byte head with 48 fields got status %d; expected "
              "200 (it is within HTTP_MAX_HEAD and HTTP_MAX_HEADERS)", n, status[0]);
    cr_assert(cost <= 3 * base + 50,
              "a %zu-byte head that arrived 3 bytes per read (%zu reads) cost %.0f ms of CPU in "
              "http_service; the same bytes as %d small pipelined requests, read the same way, "
              "cost %.0f ms. Parsing the head again from its first byte after every read costs "
              "O(n^2): keep your place between reads -- http_scan_head() looks at each byte "
              "once -- and parse the head once, when its end is there", n, (n + 2) / 3, cost,
              count, base);
}
