/* Stage 5: methods and errors -- HEAD, 405 with Allow, 501 for unknown
 * methods, and a server that keeps serving after every kind of error. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "client.h"
#include "conn.h"
#include "handler.h"
#include "http.h"
#include "response.h"
#include "wbtest.h"

WB_SUITE(methods);

/* ---- handler_serve ------------------------------------------------------- */


static struct site *site(void)
{
    static struct site s;
    cr_assert(ne(ptr, realpath(ht_make_root(), s.root), NULL), "test setup: realpath");
    return &s;
}

/* Runs handler_serve(method target) into *r (response_init'ed here). */
static void serve(struct response *r, const char *method, const char *target)
{
    struct http_request req;
    struct buf body;
    ht_make_request(&req, method, target);
    buf_init(&body);
    response_init(r);
    int rc = handler_serve(site(), &req, &body, r, NULL);
    cr_assert(eq(int, rc, 0), "handler_serve(%s %s) returned %d; expected 0 (-1 is only for "
              "running out of memory)", method, target, rc);
}

static const char *headers_of(const struct response *r)
{
    return ht_esc(r->headers.data ? r->headers.data : "", r->headers.len, 400);
}

static int has_field(const struct response *r, const char *line)
{
    return r->headers.data && memmem(r->headers.data, r->headers.len, line, strlen(line)) != NULL;
}

static size_t count_fields(const struct response *r, const char *name)
{
    size_t n = 0, len = strlen(name);
    const char *s = r->headers.data, *end = s + r->headers.len;
    while (s && s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if ((size_t)(end - s) > len && strncasecmp(s, name, len) == 0 && s[len] == ':')
            n++;
        s = nl ? nl + 1 : end;
    }
    return n;
}

Test(methods, handler_answers_head_like_get_but_head_only)
{
    struct response get, head;
    serve(&get, "GET", "/style.css");
    serve(&head, "HEAD", "/style.css");
    cr_assert(eq(int, head.status, get.status),
              "handler_serve(HEAD /style.css): status %d; GET got %d: HEAD is GET without the "
              "body", head.status, get.status);
    cr_expect(eq(int, head.head_only, 1),
              "handler_serve(HEAD /style.css): r->head_only is %d; expected 1 (the connection "
              "then sends the head only)", head.head_only);
    cr_expect(eq(int, get.head_only, 0), "handler_serve(GET /style.css): r->head_only is %d",
              get.head_only);
    cr_expect(eq(i64, (long long)head.file_len, (long long)get.file_len),
              "HEAD: r->file_len is %lld, GET: %lld -- the same, so that Content-Length is "
              "the same", (long long)head.file_len, (long long)get.file_len);
    cr_expect(has_field(&head, "Content-Type: text/css; charset=utf-8\r\n"),
              "handler_serve(HEAD /style.css): r->headers is %s; expected the same "
              "Content-Type as for GET", headers_of(&head));
    response_free(&get);
    response_free(&head);

    serve(&head, "HEAD", "/missing");
    cr_expect(eq(int, head.status, 404), "handler_serve(HEAD /missing): status %d; expected 404",
              head.status);
    cr_expect(eq(int, head.head_only, 1),
              "handler_serve(HEAD /missing): r->head_only is %d; expected 1 -- the answer to a "
              "HEAD never has a body, errors included", head.head_only);
    response_free(&head);
}

Test(methods, other_known_methods_get_405_with_allow_get_head)
{
    static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH",
                                            "OPTIONS", "TRACE", "CONNECT" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct response r;
        serve(&r, methods[i], "/hello.txt");
        cr_expect(eq(int, r.status, 405),
                  "handler_serve(%s /hello.txt): status %d; expected 405 Method Not Allowed: "
                  "%s is a method HTTP defines (RFC 9110 section 9), but this server does not "
                  "allow it on files", methods[i], r.status, methods[i]);
        cr_expect(has_field(&r, "Allow: GET, HEAD\r\n"),
                  "handler_serve(%s /hello.txt): r->headers is %s; expected it to hold "
                  "\"Allow: GET, HEAD\\r\\n\" -- a 405 must say which methods are allowed "
                  "(RFC 9110 section 15.5.6)", methods[i], headers_of(&r));
        size_t allows = count_fields(&r, "Allow");
        cr_expect(eq(sz, allows, 1), "handler_serve(%s /hello.txt): %zu Allow fields in %s",
                  methods[i], allows, headers_of(&r));
        cr_expect(eq(int, r.file_fd, -1), "handler_serve(%s /hello.txt): a 405 must not send "
                  "the file (r->file_fd is %d)", methods[i], r.file_fd);
        response_free(&r);
    }
}

Test(methods, unknown_methods_get_501)
{
    static const char *const methods[] = { "BREW", "get", "Get", "PROPFIND", "X" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct response r;
        serve(&r, methods[i], "/hello.txt");
        cr_expect(eq(int, r.status, 501),
                  "handler_serve(%s /hello.txt): status %d; expected 501 Not Implemented: the "
                  "method is not one HTTP defines (methods are case-sensitive: \"get\" is not "
                  "GET)", methods[i], r.status);
        response_free(&r);
    }
}

Test(methods, only_post_is_allowed_on_echo)
{
    static const char *const methods[] = { "GET", "HEAD", "PUT", "DELETE" };
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct response r;
        serve(&r, methods[i], "/echo");
        cr_expect(eq(int, r.status, 405), "handler_serve(%s /echo): status %d; expected 405: "
                  "/echo takes POST only", methods[i], r.status);
        cr_expect(has_field(&r, "Allow: POST\r\n"),
                  "handler_serve(%s /echo): r->headers is %s; expected it to hold "
                  "\"Allow: POST\\r\\n\"", methods[i], headers_of(&r));
        response_free(&r);
    }
    struct response r;
    serve(&r, "BREW", "/echo");
    cr_expect(eq(int, r.status, 501), "handler_serve(BREW /echo): status %d; expected 501: an "
              "unknown method is 501 on any path", r.status);
    response_free(&r);
}

/* ---- against the running server ------------------------------------------- */

Test(methods, head_gets_the_head_of_get_and_no_body)
{
    static const char *const targets[] = { "/hello.txt", "/big.bin", "/docs/", "/missing" };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        char get_req[256], head_req[256];
        snprintf(get_req, sizeof get_req, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                 targets[i]);
        snprintf(head_req, sizeof head_req, "HEAD %s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                 targets[i]);
        struct ht_response *g = ht_exchange_str(p, get_req);
        if (i == 0)
            ht_expect_status(p, g, 200, NULL, 0, "GET of a file, to compare HEAD with");
        struct ht_response *h = ht_exchange_str(p, head_req);
        ht_expect_status(p, h, g->status, NULL, 0,
                         "HEAD gets the status GET gets (the test sent GET first)");
        /* every field but Date the same */
        for (size_t k = 0; k < g->nheaders; k++) {
            if (strcasecmp(g->headers[k].name, "Date") == 0)
                continue;
            char why[2400];
            snprintf(why, sizeof why,
                     "HEAD has the header fields GET has -- \"%s: %s\" for GET, Content-Length "
                     "included: the size of the body a GET would get",
                     g->headers[k].name, g->headers[k].value);
            ht_expect_header(p, h, g->headers[k].name, g->headers[k].value, why);
        }
        ht_expect_no_extra(p, h,
                           "the response to HEAD has no body, even though its Content-Length "
                           "says how long the body of a GET would be (r->head_only: send the "
                           "head only)");
        ht_free(g);
        ht_free(h);
    }
}

Test(methods, other_methods_on_a_file_get_405_with_allow)
{
    static const char *const reqs[] = {
        "DELETE /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "PUT /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "POST /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "OPTIONS /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, reqs[i]);
        ht_expect_status(p, r, 405, NULL, 0,
                         "a method HTTP defines but files do not allow gets 405");
        ht_expect_header(p, r, "Allow", "GET, HEAD", "a 405 says what is allowed");
        ht_expect_body(p, r, "405 Method Not Allowed\n", 23, "the body of a 405");
        ht_expect_no_extra(p, r, "nothing after the error body");
        ht_free(r);
    }
    struct ht_response *r = ht_get(p, "/hello.txt");
    ht_expect_status(p, r, 200, NULL, 0, "GET on the same file after the 405s");
    ht_expect_body(p, r, "hello\n", 6, "hello.txt was not deleted or changed");
    ht_free(r);
}

Test(methods, get_on_echo_gets_405_with_allow_post)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_get(p, "/echo");
    ht_expect_status(p, r, 405, NULL, 0, "/echo takes POST only");
    ht_expect_header(p, r, "Allow", "POST", "a 405 says what is allowed: on /echo, POST");
    ht_free(r);
}

Test(methods, an_unknown_method_gets_501)
{
    static const char *const reqs[] = {
        "BREW /pot HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "get /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof reqs / sizeof reqs[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, reqs[i]);
        ht_expect_status(p, r, 501, NULL, 0,
                         "a well-formed request with a method the server does not know gets 501 "
                         "Not Implemented (methods are case-sensitive)");
        ht_expect_body(p, r, "501 Not Implemented\n", 20, "the body of a 501");
        ht_free(r);
    }
}

Test(methods, an_error_to_head_has_no_body)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = ht_exchange_str(p, "HEAD /missing HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ht_expect_status(p, r, 404, NULL, 0, "HEAD of a missing file");
    ht_expect_header(p, r, "Content-Length", "14",
                     "Content-Length of the 404 a GET would get (\"404 Not Found\\n\")");
    ht_expect_no_extra(p, r, "an error response to HEAD has no body either (response_error "
                             "keeps r->head_only)");
    ht_free(r);
    /* The errors the connection answers itself, before any handler: the
     * request did not parse, but it was a HEAD (conn.c's fail() looks). */
    static const struct {
        const char *req;
        int status;
    } cases[] = {
        {"HEAD / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n", 400},
        {"HEAD / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        r = ht_exchange_str(p, cases[i].req);
        ht_expect_status(p, r, cases[i].status, NULL, 0, "a HEAD the server cannot take");
        ht_expect_no_extra(p, r, "the connection's own error answer to a HEAD has no body either "
                                 "(RFC 9110 section 9.3.2)");
        ht_free(r);
    }
}

Test(methods, the_server_keeps_serving_after_every_kind_of_error)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    size_t tlen = HTTP_MAX_REQUEST_LINE + 100;
    char *long_req = malloc(tlen + 64);
    cr_assert(long_req != NULL, "out of memory");
    int n = sprintf(long_req, "GET /");
    memset(long_req + n, 'x', tlen);
    sprintf(long_req + n + tlen, " HTTP/1.1\r\nHost: localhost\r\n\r\n");

    const struct {
        const char *req;
        int status;
    } cases[] = {
        { "GET  / HTTP/1.1\r\nHost: localhost\r\n\r\n", 400 },
        { "\x01\x02\x03\r\n\r\n", 400 },
        { "GET / HTTP/1.1\r\n\r\n", 400 },
        { long_req, 414 },
        { "GET / HTTP/2.0\r\nHost: localhost\r\n\r\n", 505 },
        { "BREW / HTTP/1.1\r\nHost: localhost\r\n\r\n", 501 },
        { "DELETE /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 405 },
        { "GET /nope HTTP/1.1\r\nHost: localhost\r\n\r\n", 404 },
        { "GET /%zz HTTP/1.1\r\nHost: localhost\r\n\r\n", 400 },
        { "GET /../secret.txt HTTP/1.1\r\nHost: localhost\r\n\r\n", 404 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = ht_exchange_str(p, cases[i].req);
        char why[64];
        snprintf(why, sizeof why, "this request gets %d", cases[i].status);
        ht_expect_status(p, r, cases[i].status, NULL, 0, why);
        ht_free(r);
        r = ht_get(p, "/hello.txt");
        char after[1024];
        snprintf(after, sizeof after,
                 "after a request that got %d (%s), a good request on a new connection "
                 "must still be served: an error ends one request, never the server",
                 cases[i].status, ht_esc(cases[i].req, strlen(cases[i].req), 60));
        ht_expect_status(p, r, 200, NULL, 0, after);
        ht_expect_body(p, r, "hello\n", 6, after);
        ht_free(r);
    }
    free(long_req);
}

/* ---- a handler that fails ------------------------------------------------------ */

/* What http_service sent for raw when h answers, which must be exactly
 * one complete 500 -- its Content-Length the length of what follows its
 * head, with "Connection: close" -- and then the close. why says what went
 * wrong, for the messages. */
static void expect_one_500(const struct http_handler *h, const char *raw, size_t len,
                           const char *why)
{
    struct buf out;
    int got, status[2], closed;
    buf_init(&out);
    ht_feed_service(h, raw, len, len, &got, status, 2, &out, &closed);
    const char *sent = ht_esc(out.data ? out.data : "", out.len, 600);
    cr_assert(ge(int, got, 1), "%s, and the connection sent no complete response: %s", why, sent);
    cr_assert(eq(int, status[0], 500), "%s: the client must get 500 Internal Server Error, not "
              "the half-built answer. The connection sent: %s", why, sent);
    const char *end = memmem(out.data, out.len, "\r\n\r\n", 4);
    cr_assert(end != NULL, "no complete head in what was sent: %s", sent);
    size_t head = (size_t)(end - out.data) + 4;
    char *cl = memmem(out.data, head, "Content-Length: ", 16);
    long length = cl ? strtol(cl + 16, NULL, 10) : -1;
    size_t rest = out.len - head;
    cr_assert(cl && (size_t)length == rest,
              "%s: the 500's Content-Length is %ld but %zu bytes follow its head: the client "
              "would read the rest as the next response (or wait forever). Build the error "
              "response afresh (error_response(h, 500) in conn.c) -- nothing of the "
              "failed one may go out. Sent: %s", why, length, rest, sent);
    cr_assert(memmem(out.data, head, "Connection: close\r\n", 19) != NULL,
              "%s: the 500 must say \"Connection: close\": %s", why, sent);
    cr_assert(eq(int, got, 1), "%s: after the 500, a pipelined request was answered too; the "
              "connection is closed after the 500. Sent: %s", why, sent);
    cr_assert(eq(int, closed, 1), "%s: after the 500 the connection must be closed", why);
    buf_free(&out);
}

/* Starts an answer, then runs out of memory (as far as anyone can tell). */
static int failing_serve(void *ctx, const struct http_request *req, const struct buf *body,
                         struct response *resp, const struct loop_job *job)
{
    (void)ctx;
    (void)req;
    (void)body;
    (void)job;
    resp->status = 200;
    response_header(resp, "Content-Type", "text/plain");
    response_body(resp, "half an answ", 12);
    return -1;
}

Test(methods, a_handler_that_fails_gets_500_with_a_body_that_matches_its_length)
{
    /* Two pipelined requests; the handler fails on the first. The client
     * must get one complete 500 -- never the half-built 200 -- and then
     * the end of the connection: its state after a failure is not to be
     * trusted. */
    static const char raw[] = "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n"
                              "GET /b HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct http_handler h = { .serve = failing_serve };
    expect_one_500(&h, raw, sizeof raw - 1,
                   "the handler returned -1 for GET /a (it could not answer) after filling part "
                   "of the response");
}

/* Answers with a file that cannot be read: an fd of a folder. */
static int unreadable_serve(void *ctx, const struct http_request *req, const struct buf *body,
                            struct response *resp, const struct loop_job *job)
{
    (void)ctx;
    (void)req;
    (void)body;
    (void)job;
    resp->status = 200;
    resp->file_fd = open("/", O_RDONLY | O_CLOEXEC);
    resp->file_off = 0;
    resp->file_len = 10;
    return resp->file_fd >= 0 ? 0 : -1;
}

Test(methods, a_response_that_cannot_be_built_becomes_a_500)
{
    /* The handler answered 200 with a file of 10 bytes, but the file
     * cannot be read (pread() fails). Its head must not go out: a
     * Content-Length of 10 with no body behind it would leave the client
     * waiting. Take back what was queued (c->out.len = mark) and answer
     * 500 instead. */
    static const char raw[] = "GET /a HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct http_handler h = { .serve = unreadable_serve };
    expect_one_500(&h, raw, sizeof raw - 1,
                   "the handler's 200 names a file that cannot be read, so it cannot be sent "
                   "(queue_response() returns -1)");
}
