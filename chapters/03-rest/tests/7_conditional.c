/* Stage 7: conditional requests -- a strong ETag from the version,
 * If-None-Match -> 304, If-Match -> 412 and nothing changed, If-Match on
 * a missing item -> 404, and two clients racing with the same ETag: one
 * wins. RFC 9110 sections 8.8.3, 13.1.1, 13.1.2, 13.2. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "restc.h"

WB_SUITE(conditional);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define JSON "Content-Type: application/json\r\n"
#define MERGE "Content-Type: application/merge-patch+json\r\n"

WB_UNIT_TEST(conditional, etag_format_quotes_the_version)
{
    char out[32];
    int n = etag_format(7, out, sizeof out);
    cr_expect(
        n == 3 && strcmp(out, "\"7\"") == 0,
        "etag_format(7) returned %d and \"%s\"; expected 3 and \"\\\"7\\\"\" -- the version in "
        "double quotes (RFC 9110 section 8.8.3)",
        n, n > 0 ? out : "");
    n = etag_format(1234567890123LL, out, sizeof out);
    cr_expect(n == 15 && strcmp(out, "\"1234567890123\"") == 0,
              "etag_format(1234567890123) returned %d and \"%s\"; expected 15 and "
              "\"\\\"1234567890123\\\"\"", n, n > 0 ? out : "");
    n = etag_format(7, out, 3);
    cr_expect(n == -1, "etag_format(7) into 3 bytes returned %d; expected -1: \"7\" and its NUL "
              "need 4", n);
}

WB_UNIT_TEST(conditional, etag_match_reads_the_lists_of_rfc_9110)
{
    static const struct {
        const char *value;
        long long version;
        int weak;
        int want;
        const char *why;
    } cases[] = {
        {"\"3\"", 3, 0, 1, "the same tag"},
        {"\"3\"", 4, 0, 0, "another version"},
        {"\"33\"", 3, 0, 0, "\"33\" is not \"3\": compare the whole tag"},
        {"\"\"", 3, 0, 0, "an empty tag is valid, and matches nothing here"},
        {"*", 3, 0, 1, "\"*\" matches any current version"},
        {"  *\t", 3, 0, 1, "whitespace around the value does not count"},
        {"\"1\", \"3\"", 3, 0, 1, "a list: one of them matches"},
        {"\"1\",\"2\"", 3, 0, 0, "a list: none matches"},
        {"\"1\" ,, \"3\" ,", 3, 0, 1, "empty list elements are allowed (section 5.6.1.2)"},
        {"W/\"3\"", 3, 0, 0, "a weak tag never matches strongly (If-Match)"},
        {"W/\"3\"", 3, 1, 1, "a weak tag matches weakly (If-None-Match)"},
        {"\"3\"", 3, 1, 1, "a strong tag matches weakly too"},
        {"W/\"1\", W/\"3\"", 3, 1, 1, "a list of weak tags"},
        {"3", 3, 0, -1, "a tag needs its quotes"},
        {"\"3", 3, 0, -1, "a tag cut short"},
        {"'3'", 3, 0, -1, "single quotes are not quotes here"},
        {"\"a b\"", 3, 0, -1, "a space is no etagc"},
        {"w/\"3\"", 3, 1, -1, "W/ is upper case"},
        {"*, \"3\"", 3, 0, -1, "\"*\" stands alone"},
        {"\"3\" \"4\"", 3, 0, -1, "tags are separated by commas"},
        {"", 3, 0, -1, "an empty value has no tag"},
        {" , ", 3, 0, -1, "only empty elements: no tag"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char *copy = ht_dup(cases[i].value, strlen(cases[i].value)); /* no NUL after it */
        int got = etag_match((struct http_slice){copy, strlen(cases[i].value)}, cases[i].version,
                             cases[i].weak);
        cr_expect(got == cases[i].want,
                  "etag_match(%s, version %lld, weak %d) returned %d; expected %d -- %s",
                  wb_esc(cases[i].value, strlen(cases[i].value), 40), cases[i].version,
                  cases[i].weak, got, cases[i].want, cases[i].why);
        free(copy);
    }
}

/* ---- over HTTP ------------------------------------------------------------ */

/* The ETag of r, which must be there, as "\"<version of the body>\"". */
static const char *etag_of(struct wb_proc *p, const struct ht_response *r, const char *why)
{
    const char *etag = ht_header(r, "ETag");
    cJSON *j = jt_body(p, r, why);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "version");
    char *want = wb_msgbuf(32);
    snprintf(want, 32, "\"%lld\"", cJSON_IsNumber(v) ? (long long)v->valuedouble : -1);
    cJSON_Delete(j);
    if (!etag || strcmp(etag, want) != 0)
        cr_fatal("%s: expected the field ETag: %s -- the item's version in quotes, a strong "
                 "validator (RFC 9110 section 8.8.3)\nreceived: %s\n%s", why, want,
                 ht_describe_response(r), wb_describe(p));
    return want;
}

/* GET of loc with the header lines extra. */
static struct ht_response *get(struct wb_proc *p, int fd, const char *loc, const char *extra)
{
    return rc_send(p, fd, "GET", loc, extra, NULL, 0);
}

/* The version of the item at loc now. */
static long long version_now(struct wb_proc *p, int fd, const char *loc)
{
    struct ht_response *r = get(p, fd, loc, NULL);
    ht_expect_status(p, r, 200, NULL, 0, "GET of the item");
    cJSON *j = jt_body(p, r, "GET of the item");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "version");
    long long version = cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
    cJSON_Delete(j);
    ht_free(r);
    return version;
}

Test(conditional, every_answer_with_an_item_carries_its_etag)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"pear\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST /items");
    const char *e1 = etag_of(p, r, "POST /items answers 201 with the item");
    char loc[64];
    snprintf(loc, sizeof loc, "%s", ht_header(r, "Location"));
    ht_free(r);
    cr_expect(strcmp(e1, "\"1\"") == 0, "a new item's ETag is %s; expected \"1\" (version 1)", e1);

    r = get(p, fd, loc, NULL);
    etag_of(p, r, "GET of an item");
    ht_free(r);
    const char *body = "{\"name\":\"plum\"}";
    r = rc_send(p, fd, "PUT", loc, JSON, body, strlen(body));
    ht_expect_status(p, r, 200, NULL, 0, "PUT of the item");
    const char *e2 = etag_of(p, r, "PUT answers the item");
    cr_expect(strcmp(e2, "\"2\"") == 0, "after one PUT the ETag is %s; expected \"2\"", e2);
    ht_free(r);
    body = "{\"qty\":4}";
    r = rc_send(p, fd, "PATCH", loc, MERGE, body, strlen(body));
    ht_expect_status(p, r, 200, NULL, 0, "PATCH of the item");
    etag_of(p, r, "PATCH answers the item");
    ht_free(r);
    char head[128];
    snprintf(head, sizeof head, "HEAD %s HTTP/1.1\r\nHost: localhost\r\n\r\n", loc);
    wb_send_str(p, fd, head);
    r = ht_must_read(p, fd, head, strlen(head), 1, 5000, "HEAD of the item");
    ht_expect_header(p, r, "ETag", "\"3\"", "HEAD carries the ETag GET would");
    ht_free(r);
}

Test(conditional, if_none_match_with_the_current_etag_is_304_without_a_body)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    static const struct {
        const char *field;
        int want;
        const char *why;
    } cases[] = {
        {"If-None-Match: \"1\"\r\n", 304, "the client's copy is current"},
        {"If-None-Match: W/\"1\"\r\n", 304, "If-None-Match compares weakly: W/\"1\" matches \"1\""},
        {"If-None-Match: \"9\", \"1\"\r\n", 304, "one tag of the list matches"},
        {"If-None-Match: *\r\n", 304, "\"*\": any current version"},
        {"If-None-Match: \"9\"\r\nIf-None-Match: \"1\"\r\n", 304,
         "a list may come in two fields (RFC 9110 section 5.3)"},
        {"If-None-Match: \"2\"\r\n", 200, "a stale copy: the whole item"},
        {"If-None-Match: 1\r\n", 400, "a tag without quotes is malformed"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct ht_response *r = get(p, fd, loc, cases[i].field);
        char why[256];
        snprintf(why, sizeof why, "GET %s with %.*s -- %s", loc,
                 (int)strcspn(cases[i].field, "\r"), cases[i].field, cases[i].why);
        if (cases[i].want == 400) {
            cJSON_Delete(jt_expect_problem(p, r, 400, why));
            ht_free(r);
            rc_expect_alive(p, fd, why);
            continue;
        }
        ht_expect_status(p, r, cases[i].want, NULL, 0, why);
        ht_expect_header(p, r, "ETag", "\"1\"", why);
        if (cases[i].want == 304)
            cr_expect(r->body_len == 0 && !ht_header(r, "Content-Length"),
                      "%s: a 304 has no body and no Content-Length (RFC 9110 section 15.4.5)\n"
                      "received: %s", why, ht_describe_response(r));
        ht_free(r);
    }
    struct ht_response *r = get(p, fd, "/items/999999", "If-None-Match: *\r\n");
    cJSON_Delete(jt_expect_problem(p, r, 404, "GET of a missing item with If-None-Match: *"));
    ht_free(r);
    rc_expect_alive(p, fd, "a 304");
}

Test(conditional, if_match_with_a_stale_etag_is_412_and_changes_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"qty\":1}", loc, sizeof loc);
    const char *body = "{\"name\":\"pear\",\"qty\":2}";
    struct ht_response *r = rc_send(p, fd, "PUT", loc, JSON, body, strlen(body));
    ht_expect_status(p, r, 200, NULL, 0, "PUT (version 1 -> 2)");
    ht_free(r);

    static const struct {
        const char *method, *headers, *body, *why;
    } cases[] = {
        {"PUT", JSON "If-Match: \"1\"\r\n", "{\"name\":\"lost update\"}",
         "PUT with the ETag of version 1, now at version 2"},
        {"PATCH", MERGE "If-Match: \"1\"\r\n", "{\"qty\":99}", "PATCH with a stale ETag"},
        {"DELETE", "If-Match: \"1\"\r\n", NULL, "DELETE with a stale ETag"},
        {"PUT", JSON "If-Match: W/\"2\"\r\n", "{\"name\":\"weak\"}",
         "PUT with W/\"2\": If-Match compares strongly, a weak tag never matches"},
        {"DELETE", "If-Match: \"1\", \"3\"\r\n", NULL, "DELETE with a list, none current"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        r = rc_send(p, fd, cases[i].method, loc, cases[i].headers, cases[i].body,
                    cases[i].body ? strlen(cases[i].body) : 0);
        char why[256];
        snprintf(why, sizeof why, "%s: 412 Precondition Failed (RFC 9110 section 13.1.1)",
                 cases[i].why);
        cJSON_Delete(jt_expect_problem(p, r, 412, why));
        ht_free(r);
        long long v = version_now(p, fd, loc);
        cr_assert(v == 2, "after %s (412), the item is at version %lld; expected 2: a failed "
                  "precondition changes nothing", cases[i].why, v);
        rc_expect_alive(p, fd, why);
    }

    static const struct {
        const char *method, *headers, *body;
        int want;
        const char *why;
    } good[] = {
        {"PUT", JSON "If-Match: \"2\"\r\n", "{\"name\":\"pear\",\"qty\":3}", 200,
         "PUT with the current ETag"},
        {"PATCH", MERGE "If-Match: \"1\", \"3\"\r\n", "{\"qty\":4}", 200,
         "PATCH with a list holding the current ETag"},
        {"PUT", JSON "If-Match: *\r\n", "{\"name\":\"pear\"}", 200, "PUT with If-Match: *"},
        {"DELETE", "If-Match: \"5\"\r\n", NULL, 204, "DELETE with the current ETag"},
    };
    for (size_t i = 0; i < COUNT(good); i++) {
        r = rc_send(p, fd, good[i].method, loc, good[i].headers, good[i].body,
                    good[i].body ? strlen(good[i].body) : 0);
        ht_expect_status(p, r, good[i].want, NULL, 0, good[i].why);
        ht_free(r);
    }
}

Test(conditional, if_match_on_a_missing_item_is_404)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"gone\"}", loc, sizeof loc);
    struct ht_response *r = rc_send(p, fd, "DELETE", loc, "If-Match: \"9\"\r\n", NULL, 0);
    cJSON_Delete(jt_expect_problem(p, r, 412, "DELETE of an item at version 1 with If-Match: "
                                   "\"9\": 412, and the item stays"));
    ht_free(r);
    r = rc_send(p, fd, "DELETE", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of the item");
    ht_free(r);
    static const struct {
        const char *method, *headers, *body;
    } cases[] = {
        {"PUT", JSON "If-Match: \"1\"\r\n", "{\"name\":\"x\"}"},
        {"PATCH", MERGE "If-Match: *\r\n", "{\"qty\":1}"},
        {"DELETE", "If-Match: \"1\"\r\n", NULL},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        r = rc_send(p, fd, cases[i].method, loc, cases[i].headers, cases[i].body,
                    cases[i].body ? strlen(cases[i].body) : 0);
        char why[256];
        snprintf(why, sizeof why, "%s of a deleted item with %.*s: 404, what the request gets "
                 "without the condition (RFC 9110 section 13.2.1)", cases[i].method,
                 (int)strcspn(strstr(cases[i].headers, "If-Match"), "\r"),
                 strstr(cases[i].headers, "If-Match"));
        cJSON_Delete(jt_expect_problem(p, r, 404, why));
        ht_free(r);
    }
}

Test(conditional, a_malformed_if_match_is_400_and_changes_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    static const char *const fields[] = {"If-Match: 1\r\n", "If-Match: \"1\r\n",
                                         "If-Match: \"1\" \"2\"\r\n", "If-Match: *, \"1\"\r\n"};
    for (size_t i = 0; i < COUNT(fields); i++) {
        char headers[128];
        snprintf(headers, sizeof headers, JSON "%s", fields[i]);
        const char *body = "{\"name\":\"changed\"}";
        struct ht_response *r = rc_send(p, fd, "PUT", loc, headers, body, strlen(body));
        char why[128];
        snprintf(why, sizeof why, "PUT with %.*s: not * nor a list of entity tags",
                 (int)strcspn(fields[i], "\r"), fields[i]);
        cJSON_Delete(jt_expect_problem(p, r, 400, why));
        ht_free(r);
        cr_assert(version_now(p, fd, loc) == 1, "%s changed the item", why);
        rc_expect_alive(p, fd, why);
    }
}

Test(conditional, two_clients_racing_with_the_same_etag_one_wins)
{
    struct wb_proc *p = wb_start(NULL);
    int a = wb_connect(p), b = wb_connect(p);
    for (int round = 0; round < 20; round++) {
        char loc[64];
        rc_create(p, a, "{\"name\":\"race\",\"qty\":0}", loc, sizeof loc);
        /* Both send before either reads: the server sees two changes
         * made on version 1. */
        char req[2][512];
        for (int k = 0; k < 2; k++) {
            char body[32];
            int n = snprintf(body, sizeof body, "{\"name\":\"race\",\"qty\":%d}", k + 1);
            snprintf(req[k], sizeof req[k], "PUT %s HTTP/1.1\r\nHost: localhost\r\n" JSON
                     "If-Match: \"1\"\r\nContent-Length: %d\r\n\r\n%s", loc, n, body);
        }
        wb_send_str(p, a, req[0]);
        wb_send_str(p, b, req[1]);
        struct ht_response *ra = ht_must_read(p, a, req[0], strlen(req[0]), 0, 5000, "client A");
        struct ht_response *rb = ht_must_read(p, b, req[1], strlen(req[1]), 0, 5000, "client B");
        int wins = (ra->status == 200) + (rb->status == 200);
        int fails = (ra->status == 412) + (rb->status == 412);
        cr_assert(wins == 1 && fails == 1,
                  "round %d: two clients PUT with If-Match: \"1\" at once; expected one 200 and "
                  "one 412, received %d and %d: the second change must find version 2 and "
                  "fail\nA: %s\nB: %s", round, ra->status, rb->status, ht_describe_response(ra),
                  ht_describe_response(rb));
        cJSON *winner = jt_body(p, ra->status == 200 ? ra : rb, "the winner's answer");
        struct ht_response *now = get(p, a, loc, NULL);
        cJSON *stored = jt_body(p, now, "GET after the race");
        const char *d = jt_diff(winner, stored);
        cr_assert(d == NULL, "round %d: the item after the race is not the winner's: %s", round,
                  d);
        cJSON_Delete(winner);
        cJSON_Delete(stored);
        ht_free(now);
        ht_free(ra);
        ht_free(rb);
    }
}
