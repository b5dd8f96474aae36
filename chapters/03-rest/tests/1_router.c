/* Stage 1: the router, JSON answers, and errors as problem documents. */
#include <string.h>

#include "problem.h"
#include "restc.h"
#include "router.h"

WB_SUITE(router);

static struct http_slice sl(const char *s)
{
    return (struct http_slice){s, strlen(s)};
}

Test(router, router_method_knows_seven_methods_and_their_case)
{
    static const struct {
        const char *name;
        unsigned bit;
    } cases[] = {
        {"GET", M_GET},       {"HEAD", M_HEAD},     {"POST", M_POST},   {"PUT", M_PUT},
        {"PATCH", M_PATCH},   {"DELETE", M_DELETE}, {"OPTIONS", M_OPTIONS},
        {"get", 0},           {"Get", 0},           {"BREW", 0},        {"GETS", 0},
        {"GE", 0},            {"", 0},              {"TRACE", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        unsigned got = router_method(sl(cases[i].name));
        cr_expect(eq(u32, got, cases[i].bit),
                  "router_method(\"%s\") returned %u; expected %s%s (%u)%s", cases[i].name, got,
                  cases[i].bit ? "M_" : "", cases[i].bit ? cases[i].name : "", cases[i].bit,
                  cases[i].bit ? "" : " (0: methods are case-sensitive, RFC 9110 section 9.1, "
                                      "and the API knows only seven)");
    }
}

Test(router, router_match_matches_literal_segments_and_parameters)
{
    struct http_slice params[2];
    int n = router_match("/items/{id}", sl("/items/42"), params, 2);
    cr_assert(eq(int, n, 1), "router_match(\"/items/{id}\", \"/items/42\") returned %d; expected "
              "1 (one parameter)", n);
    cr_assert(params[0].n == 2 && memcmp(params[0].p, "42", 2) == 0,
              "the parameter is \"%.*s\"; expected \"42\", a slice of the path", (int)params[0].n,
              params[0].p);
    n = router_match("/health", sl("/health"), params, 2);
    cr_assert(eq(int, n, 0), "router_match(\"/health\", \"/health\") returned %d; expected 0 "
              "(a match without parameters)", n);
    n = router_match("/a/{x}/b/{y}", sl("/a/1/b/two"), params, 2);
    cr_assert(n == 2 && params[0].n == 1 && params[0].p[0] == '1' && params[1].n == 3 &&
                  memcmp(params[1].p, "two", 3) == 0,
              "router_match(\"/a/{x}/b/{y}\", \"/a/1/b/two\") returned %d; expected 2 with "
              "\"1\" and \"two\" in template order", n);
}

Test(router, router_match_refuses_every_other_shape)
{
    static const struct {
        const char *tmpl, *path, *why;
    } cases[] = {
        {"/items/{id}", "/items/", "an empty segment is no parameter"},
        {"/items/{id}", "/items//42", "an empty segment is no parameter"},
        {"/items/{id}", "/items/42/", "a trailing slash adds an empty segment"},
        {"/items/{id}", "/items/42/x", "one segment more"},
        {"/items/{id}", "/items", "one segment less"},
        {"/items/{id}", "/itemsx/1", "the literal must be equal"},
        {"/items/{id}", "/Items/1", "paths are case-sensitive"},
        {"/items", "/items/", "a trailing slash adds an empty segment"},
        {"/items", "/item", "the literal must be equal"},
        {"/health", "", "an empty path"},
        {"/health", "health", "a path starts with /"},
    };
    struct http_slice params[2];
    int ok = router_match("/items/{id}", sl("/items/1"), params, 2);
    cr_assert(eq(int, ok, 1), "router_match(\"/items/{id}\", \"/items/1\") returned %d; "
              "expected 1 -- before the shapes it must refuse, one it must take", ok);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int n = router_match(cases[i].tmpl, sl(cases[i].path), params, 2);
        cr_expect(eq(int, n, -1), "router_match(\"%s\", \"%s\") returned %d; expected -1: %s",
                  cases[i].tmpl, cases[i].path, n, cases[i].why);
    }
}

Test(router, router_match_keeps_a_parameter_as_sent)
{
    struct http_slice params[1];
    int n = router_match("/items/{id}", sl("/items/1%2F2"), params, 1);
    cr_assert(n == 1 && params[0].n == 5 && memcmp(params[0].p, "1%2F2", 5) == 0,
              "router_match(\"/items/{id}\", \"/items/1%%2F2\") returned %d; expected 1 with the "
              "parameter \"1%%2F2\": match the path as sent, before any decoding", n);
    n = router_match("/a/{x}/{y}", sl("/a/1/2"), params, 1);
    cr_assert(eq(int, n, -1), "router_match() with 2 parameters and max 1 returned %d; expected -1",
              n);
}

Test(router, router_allow_lists_the_methods_in_order)
{
    char out[128];
    int n = router_allow(M_OPTIONS | M_POST | M_HEAD | M_GET, out, sizeof out);
    cr_assert(n == (int)strlen("GET, HEAD, POST, OPTIONS") &&
                  strcmp(out, "GET, HEAD, POST, OPTIONS") == 0,
              "router_allow(GET|HEAD|POST|OPTIONS) wrote \"%s\" (returned %d); expected \"GET, "
              "HEAD, POST, OPTIONS\": the order GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS",
              out, n);
    n = router_allow(M_DELETE | M_PATCH | M_PUT | M_GET | M_HEAD | M_OPTIONS, out, sizeof out);
    cr_assert(strcmp(out, "GET, HEAD, PUT, PATCH, DELETE, OPTIONS") == 0,
              "router_allow() wrote \"%s\"; expected \"GET, HEAD, PUT, PATCH, DELETE, OPTIONS\"",
              out);
    n = router_allow(M_GET | M_HEAD, out, 9);
    cr_assert(eq(int, n, -1), "router_allow(GET|HEAD) into 9 bytes returned %d; expected -1: "
              "\"GET, HEAD\" and its NUL need 10", n);
}

Test(router, problem_respond_writes_an_rfc_9457_document)
{
    struct response r;
    response_init(&r);
    cr_assert(eq(int, problem_respond(&r, 404, "no item has the id 7"), 0),
              "problem_respond(404) failed");
    cr_assert(eq(int, r.status, 404), "resp.status is %d; expected 404", r.status);
    const char *want = "Content-Type: application/problem+json\r\n";
    cr_assert(r.headers.len == strlen(want) && memcmp(r.headers.data, want, r.headers.len) == 0,
              "the header fields are %s; expected %s", wb_esc(r.headers.data, r.headers.len, 200),
              wb_esc(want, strlen(want), 200));
    cJSON *got = cJSON_ParseWithLength(r.body.data, r.body.len);
    cJSON *exp = cJSON_Parse("{\"type\":\"about:blank\",\"title\":\"Not Found\",\"status\":404,"
                             "\"detail\":\"no item has the id 7\"}");
    const char *d = got ? jt_diff(exp, got) : "the body is not JSON";
    cr_assert(d == NULL, "problem_respond(404, \"no item has the id 7\"): the body %s\n%s",
              wb_esc(r.body.data, r.body.len, 300), d);
    cJSON_Delete(got);
    cJSON_Delete(exp);
    response_free(&r);
}

Test(router, json_respond_writes_compact_json)
{
    struct response r;
    response_init(&r);
    cJSON *j = cJSON_Parse("{\"status\": \"ok\", \"n\": [1, 2]}");
    cr_assert(eq(int, json_respond(&r, 200, j), 0), "json_respond() failed");
    const char *want = "{\"status\":\"ok\",\"n\":[1,2]}";
    cr_assert(r.body.len == strlen(want) && memcmp(r.body.data, want, r.body.len) == 0,
              "json_respond() wrote the body %s; expected %s (cJSON_PrintUnformatted: no "
              "whitespace)", wb_esc(r.body.data, r.body.len, 200), want);
    cr_assert(r.headers.len > 0 && strstr(r.headers.data, "Content-Type: application/json\r\n"),
              "json_respond() must add \"Content-Type: application/json\"; the fields are %s",
              wb_esc(r.headers.data, r.headers.len, 200));
    cJSON_Delete(j);
    response_free(&r);
}

Test(router, get_health_answers_json)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "GET", "/health", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET /health");
    ht_expect_header(p, r, "Content-Type", "application/json", "GET /health answers JSON");
    jt_expect_json(p, r, "{\"status\":\"ok\"}", "GET /health");
    ht_free(r);
}

Test(router, an_unknown_path_is_a_404_problem_and_the_connection_goes_on)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const char *const paths[] = {"/nope", "/items/1/x", "/health/", "/", "/ITEMS"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "GET", paths[i], NULL, NULL, 0);
        cJSON_Delete(jt_expect_problem(p, r, 404, "a path the API does not have is 404 Not "
                                                  "Found, with a problem document"));
        ht_free(r);
    }
    rc_expect_alive(p, fd, "five 404 answers");
}

Test(router, a_method_a_path_does_not_allow_is_405_with_the_exact_allow)
{
    static const struct {
        const char *method, *target, *allow;
    } cases[] = {
        {"DELETE", "/items", "GET, HEAD, POST, OPTIONS"},
        {"PUT", "/items", "GET, HEAD, POST, OPTIONS"},
        {"POST", "/items/1", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS"},
        {"POST", "/health", "GET, HEAD, OPTIONS"},
        {"DELETE", "/health", "GET, HEAD, OPTIONS"},
    };
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = rc_send(p, fd, cases[i].method, cases[i].target, NULL, NULL, 0);
        char why[256];
        snprintf(why, sizeof why, "%s %s: a method the path does not allow is 405, and Allow "
                 "lists what it does allow (RFC 9110 section 15.5.6)", cases[i].method,
                 cases[i].target);
        cJSON_Delete(jt_expect_problem(p, r, 405, why));
        ht_expect_header(p, r, "Allow", cases[i].allow, why);
        ht_free(r);
    }
    rc_expect_alive(p, fd, "405 answers");
}

Test(router, options_answers_204_with_allow_and_no_body)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "OPTIONS", "/items/7", NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "OPTIONS /items/7: 204 No Content with Allow");
    ht_expect_header(p, r, "Allow", "GET, HEAD, PUT, PATCH, DELETE, OPTIONS",
                     "OPTIONS /items/7 lists the methods of /items/{id}");
    ht_expect_body(p, r, "", 0, "OPTIONS answers with no body");
    ht_free(r);
    r = rc_send(p, fd, "OPTIONS", "/health", NULL, NULL, 0);
    ht_expect_header(p, r, "Allow", "GET, HEAD, OPTIONS", "OPTIONS /health");
    ht_free(r);
    r = rc_send(p, fd, "OPTIONS", "/nope", NULL, NULL, 0);
    cJSON_Delete(jt_expect_problem(p, r, 404, "OPTIONS on a path the API does not have"));
    ht_free(r);
}

Test(router, head_is_get_without_the_body)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "HEAD", "/health", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "HEAD /health: allowed wherever GET is");
    ht_expect_header(p, r, "Content-Type", "application/json", "HEAD /health: the head of GET");
    ht_expect_header(p, r, "Content-Length", "15", "HEAD /health: the Content-Length of GET's "
                     "body, {\"status\":\"ok\"}");
    ht_free(r);
    ht_expect_no_extra_fd(p, fd, NULL, 0, "HEAD /health: the answer has no body bytes");
}

Test(router, a_method_the_api_does_not_know_is_501)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const char *const methods[] = {"BREW", "get", "TRACE"};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        struct ht_response *r = rc_send(p, fd, methods[i], "/health", NULL, NULL, 0);
        cJSON_Delete(jt_expect_problem(p, r, 501, "a method the API does not know at all is "
                                                  "501 Not Implemented (RFC 9110 section 15.6.2)"));
        ht_free(r);
    }
    rc_expect_alive(p, fd, "501 answers");
}

Test(router, errors_of_the_http_layer_are_problem_documents_too)
{
    struct wb_proc *p = wb_start(NULL);
    struct ht_response *r = ht_exchange_str(p, "GET /health HTTP/1.1 x\r\nHost: a\r\n\r\n");
    cJSON_Delete(jt_expect_problem(p, r, 400, "a request line the HTTP layer cannot read: "
                                              "conn.c answers 400 itself, through the handler's "
                                              "error() callback (api_error)"));
    ht_free(r);
}
