/* Stage 3: bodies, the strict way -- Content-Type (415), Accept (406),
 * malformed JSON (400, with where and why), a body too large (413); the
 * validator's own tests are in 3_json.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"
#include "restc.h"

/* The suite json (WB_SUITE) is declared in 3_json.c: one declaration per suite. */

static struct http_slice sl(const char *s)
{
    return (struct http_slice){s, strlen(s)};
}

Test(json, media_is_reads_a_content_type)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"application/json", 1},
        {"Application/JSON", 1},
        {"application/json; charset=utf-8", 1},
        {"application/json;charset=\"UTF-8\"", 1},
        {"application/json ; charset=utf-8", 1},
        {"application/json; charset=latin1", 0},
        {"text/plain", 0},
        {"application/x-www-form-urlencoded", 0},
        {"application/jsonx", 0},
        {"application/json-seq", 0},
        {"json", 0},
        {"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int got = media_is(sl(cases[i].v), "application/json");
        cr_expect(eq(int, got, cases[i].want),
                  "media_is(\"%s\", \"application/json\") returned %d; expected %d", cases[i].v,
                  got, cases[i].want);
    }
}

Test(json, media_accepts_json_weighs_the_accept_list)
{
    static const struct {
        const char *v;
        int want;
    } cases[] = {
        {"application/json", 1},
        {"*/*", 1},
        {"application/*", 1},
        {"text/html, application/json;q=0.5", 1},
        {"text/html;q=0.9, */*;q=0.1", 1},
        {"APPLICATION/JSON", 1},
        {"application/xml", 0},
        {"text/html", 0},
        {"application/json;q=0", 0},
        {"application/json;q=0.0, */*", 0},
        {"*/*;q=0", 0},
        {"application/*;q=0, */*", 0},
        {"application/json;q=0.001", 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct http_slice v = sl(cases[i].v);
        int got = media_accepts_json(&v, 1);
        cr_expect(eq(int, got, cases[i].want),
                  "media_accepts_json(\"%s\") returned %d; expected %d (the most specific range "
                  "that matches application/json decides; q=0 means \"not this\")", cases[i].v,
                  got, cases[i].want);
    }
    cr_expect(eq(int, media_accepts_json(NULL, 0), 1),
              "media_accepts_json() with no Accept field must be 1: no Accept accepts anything");
    struct http_slice two[2] = {sl("text/html"), sl("application/json")};
    cr_expect(eq(int, media_accepts_json(two, 2), 1),
              "two Accept fields, \"text/html\" and \"application/json\", form one list: 1");
}

Test(json, a_body_that_is_not_declared_json_is_415)
{
    static const char *const headers[] = {
        "",
        "Content-Type: text/plain\r\n",
        "Content-Type: application/x-www-form-urlencoded\r\n",
        "Content-Type: application/json; charset=iso-8859-1\r\n",
    };
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    const char *body = "{\"name\":\"pear\"}";
    for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "POST", "/items", headers[i], body, strlen(body));
        char why[256];
        snprintf(why, sizeof why, "POST /items with %s: a body that is not declared JSON is 415 "
                 "Unsupported Media Type -- the server does not guess",
                 *headers[i] ? wb_esc(headers[i], strlen(headers[i]) - 2, 80) : "no Content-Type");
        cJSON_Delete(jt_expect_problem(p, r, 415, why));
        ht_free(r);
    }
    struct ht_response *r = rc_send(p, fd, "POST", "/items",
                                    "Content-Type: Application/JSON; charset=UTF-8\r\n", body,
                                    strlen(body));
    ht_expect_status(p, r, 201, NULL, 0, "POST /items with \"Content-Type: Application/JSON; "
                     "charset=UTF-8\": media types and charsets are case-insensitive");
    ht_free(r);
}

Test(json, malformed_json_is_400_saying_where_and_why)
{
    static const char *const bodies[] = {
        "", "{\"name\":\"x\"", "{\"name\":\"x\",}", "{\"name\":\"x\"}xyz",
        "{\"name\":\"x\"}{\"name\":\"y\"}", "{\"name\":\"x\",\"qty\":01}",
        "{\"name\":\"x\",\"qty\":1.}", "{\"name\":\"a\tb\"}", "{\"name\":\"\\x41\"}",
        "{\"name\":\"\\uqqqq\"}", "{\"name\":\"\xff\"}", "{\"name\":\"\xc0\xaf\"}",
        "{\"name\":\"x\"}\f", "/* comment */ {\"name\":\"x\"}",
    };
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ht_response *r = rc_post(p, fd, bodies[i]);
        char why[256];
        snprintf(why, sizeof why, "POST /items %s: not JSON (RFC 8259), though cJSON may take "
                 "it -- json_check() refuses it first: 400", wb_esc(bodies[i], strlen(bodies[i]),
                 60));
        cJSON *j = jt_expect_problem(p, r, 400, why);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "detail");
        cr_assert(cJSON_IsString(d) && strstr(d->valuestring, "byte"),
                  "%s\nthe problem's detail must say where (\"... at byte N\") and why, from "
                  "json_check()'s result\nreceived: %s", why, ht_describe_response(r));
        cJSON_Delete(j);
        ht_free(r);
    }
    rc_expect_alive(p, fd, "fourteen malformed bodies");
}

Test(json, deep_nesting_and_huge_arrays_are_refused_cheaply)
{
    size_t n = 100000;
    char *deep = malloc(n);
    cr_assert(deep != NULL, "test setup: out of memory");
    memset(deep, '[', n);
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long t0 = wb_now_ms();
    struct ht_response *r = rc_send(p, fd, "POST", "/items", "Content-Type: application/json\r\n",
                                    deep, n);
    long long took = wb_now_ms() - t0;
    cJSON_Delete(jt_expect_problem(p, r, 400, "POST /items with 100000 '[': deeper than "
                                              "JSON_MAX_DEPTH (32): 400"));
    cr_expect(took < 1000, "100000 '[' took %lld ms to refuse; a validator that stops at depth "
              "33 needs a few", took);
    ht_free(r);
    free(deep);

    /* {"name":"x","tags":[1,1,...]}: about 1 MiB, half a million values --
     * as a cJSON tree, 36 MiB. It must be refused before it is one. */
    size_t len = 1000 * 1000;
    char *big = malloc(len + 64);
    cr_assert(big != NULL, "test setup: out of memory");
    size_t k = (size_t)sprintf(big, "{\"name\":\"x\",\"tags\":[1");
    while (k + 4 < len)
        k += (size_t)sprintf(big + k, ",1");
    k += (size_t)sprintf(big + k, "]}");
    long before = wb_peak_rss_kb(p);
    r = rc_send(p, fd, "POST", "/items", "Content-Type: application/json\r\n", big, k);
    long after = wb_peak_rss_kb(p);
    cr_assert(r->status == 400 || r->status == 413 || r->status == 422,
              "POST /items with a 1 MB array of half a million numbers must be refused (400: "
              "more values than JSON_MAX_VALUES)\nreceived: %s", ht_describe_response(r));
    cr_expect(after - before < 24 * 1024, "refusing a 1 MB array grew the server's peak memory "
              "by %ld KiB: the validator must refuse it before cJSON builds a tree of it "
              "(about 36 MiB)", after - before);
    ht_free(r);
    free(big);
    rc_expect_alive(p, fd, "two hostile bodies");
}

Test(json, a_u0000_escape_in_a_string_is_422)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"a\\u0000b\"}");
    cJSON_Delete(jt_expect_problem(p, r, 422, "POST /items {\"name\":\"a\\u0000b\"}: valid JSON, "
                                              "but cJSON would keep only \"a\" -- json_check() "
                                              "counts it (nul_escapes), and the API refuses it"));
    ht_free(r);
}

Test(json, an_accept_the_api_cannot_satisfy_is_406)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "GET", "/health", "Accept: application/xml\r\n",
                                    NULL, 0);
    cJSON_Delete(jt_expect_problem(p, r, 406, "GET /health with Accept: application/xml: the API "
                                              "answers JSON only, so 406 Not Acceptable"));
    ht_free(r);
    static const char *const fine[] = {
        "Accept: */*\r\n", "Accept: application/*\r\n",
        "Accept: text/html;q=0.9, application/json;q=0.5\r\n", "",
    };
    for (size_t i = 0; i < sizeof fine / sizeof fine[0]; i++) {
        r = rc_send(p, fd, "GET", "/health", fine[i], NULL, 0);
        char why[200];
        snprintf(why, sizeof why, "GET /health with %s: JSON is acceptable",
                 *fine[i] ? wb_esc(fine[i], strlen(fine[i]) - 2, 80) : "no Accept");
        ht_expect_status(p, r, 200, NULL, 0, why);
        ht_free(r);
    }
}

Test(json, a_body_over_the_limit_is_413_at_once)
{
    struct wb_proc *p = wb_start("--max-body", "1000", NULL);
    int fd = wb_connect(p);
    const char *head = "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json"
                       "\r\nContent-Length: 1048577\r\n\r\n";
    wb_send_str(p, fd, head);
    struct ht_response *r = ht_must_read(p, fd, head, strlen(head), 0, 2000,
                                         "POST /items announcing 1048577 bytes, with --max-body "
                                         "1000, and sending none of them");
    cJSON_Delete(jt_expect_problem(p, r, 413, "a body larger than --max-body is 413 Content Too "
                                              "Large, answered from the head alone, as a problem "
                                              "document (api_error)"));
    ht_free(r);
}
