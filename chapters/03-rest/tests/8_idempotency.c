/* Stage 8: idempotency -- POST /items with an Idempotency-Key: a retry
 * gets the first answer and creates nothing, the key with another item is
 * 422, concurrent first tries create one item. The contract sweep against
 * openapi.json is in 8_contract.c, in the same suite. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idem.h"
#include "restc.h"

WB_SUITE(idempotency);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

WB_UNIT_TEST(idempotency, idem_key_reads_a_structured_field_string)
{
    static const struct {
        const char *value;
        const char *want; /* NULL: -1 */
        const char *why;
    } cases[] = {
        {"\"8e03978e-40d5-43e8-bc93-6894a57f9324\"", "8e03978e-40d5-43e8-bc93-6894a57f9324",
         "a UUID, the usual key"},
        {"  \"abc\"  ", "abc", "spaces around the string do not count"},
        {"\"a b\"", "a b", "a space inside is a character"},
        {"\"say \\\"hi\\\" \\\\o/\"", "say \"hi\" \\o/", "\\\" and \\\\ are the only escapes"},
        {"\"x\"", "x", "one character"},
        {"abc", NULL, "a key is a quoted string (RFC 8941 section 3.3.3)"},
        {"\"\"", NULL, "an empty key identifies nothing"},
        {"\"abc", NULL, "no closing quote"},
        {"\"abc\" x", NULL, "nothing may follow the string"},
        {"\"abc\";a=1", NULL, "parameters are not taken"},
        {"\"a\\nb\"", NULL, "\\n is no escape of RFC 8941"},
        {"\"a\tb\"", NULL, "a tab is not 0x20-0x7E"},
        {"\"caf\xC3\xA9\"", NULL, "only ASCII: a string field has no UTF-8"},
        {"\"a\\\"", NULL, "the quote after the backslash is escaped: the string never ends"},
        {"\t\"abc\"", NULL, "only spaces are skipped around the string"},
        {"", NULL, "an empty value"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        size_t n = strlen(cases[i].value);
        char *copy = ht_dup(cases[i].value, n), key[256];
        int got = idem_key((struct http_slice){copy, n}, key, sizeof key);
        if (cases[i].want)
            cr_expect(got == (int)strlen(cases[i].want) && strcmp(key, cases[i].want) == 0,
                      "idem_key(%s) returned %d and %s; expected %zu and %s -- %s",
                      wb_esc(cases[i].value, n, 60), got,
                      got >= 0 ? wb_esc(key, strlen(key), 60) : "-", strlen(cases[i].want),
                      wb_esc(cases[i].want, strlen(cases[i].want), 60), cases[i].why);
        else
            cr_expect(got == -1, "idem_key(%s) returned %d; expected -1 -- %s",
                      wb_esc(cases[i].value, n, 60), got, cases[i].why);
        free(copy);
    }
    /* the room: cap - 1 characters fit, one more does not */
    char key[4];
    int got = idem_key((struct http_slice){"\"abc\"", 5}, key, sizeof key);
    cr_expect(got == 3, "idem_key(\"\\\"abc\\\"\") into 4 bytes returned %d; expected 3", got);
    got = idem_key((struct http_slice){"\"abcd\"", 6}, key, sizeof key);
    cr_expect(got == -1, "idem_key(\"\\\"abcd\\\"\") into 4 bytes returned %d; expected -1: the "
              "key and its NUL do not fit", got);
}

/* POST /items with the key field (a whole header line, or NULL) and json. */
static struct ht_response *post(struct wb_proc *p, int fd, const char *key_field,
                                const char *json)
{
    char headers[512];
    snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s",
             key_field ? key_field : "");
    return rc_send(p, fd, "POST", "/items", headers, json, strlen(json));
}

/* How many items the collection holds. */
static int count_items(struct wb_proc *p, int fd)
{
    struct ht_response *r = rc_send(p, fd, "GET", "/items?limit=100", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET /items?limit=100 (to count the items)");
    cJSON *page = jt_body(p, r, "GET /items");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items"));
    cJSON_Delete(page);
    ht_free(r);
    return n;
}

/* Fails unless b is the same answer as a: status, parsed body, Location,
 * ETag. */
static void expect_same_answer(struct wb_proc *p, const struct ht_response *a,
                               const struct ht_response *b, const char *why)
{
    cJSON *ja = jt_body(p, a, why), *jb = jt_body(p, b, why);
    const char *d = jt_diff(ja, jb);
    const char *la = ht_header(a, "Location"), *lb = ht_header(b, "Location");
    const char *ea = ht_header(a, "ETag"), *eb = ht_header(b, "ETag");
    int same = a->status == b->status && !d && la && lb && strcmp(la, lb) == 0 &&
               ((!ea && !eb) || (ea && eb && strcmp(ea, eb) == 0));
    cJSON_Delete(ja);
    cJSON_Delete(jb);
    if (!same)
        cr_fatal("%s: expected the first answer again -- the same status, body, Location and "
                 "ETag%s%s\nfirst: %s\nretry: %s\n%s", why, d ? "; the body differs " : "",
                 d ? d : "", ht_describe_response(a), ht_describe_response(b), wb_describe(p));
}

Test(idempotency, a_retry_gets_the_first_answer_and_creates_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p), other = wb_connect(p);
    const char *key = "Idempotency-Key: \"order-1\"\r\n";
    struct ht_response *first = post(p, fd, key, "{\"name\":\"pear\",\"qty\":2}");
    ht_expect_status(p, first, 201, NULL, 0, "the first POST with an Idempotency-Key");
    /* the retry comes on another connection, as after a lost answer, with
     * the same item written differently */
    struct ht_response *again = post(p, other, key, "{ \"qty\": 2, \"name\": \"pear\" }");
    expect_same_answer(p, first, again, "a retry of POST /items with the same Idempotency-Key "
                       "(on another connection, the same item with the members reordered)");
    int n = count_items(p, fd);
    cr_expect(n == 1, "after a POST and its retry with the same Idempotency-Key, the collection "
              "holds %d items; expected 1: the retry creates nothing", n);

    /* a retry after the item changed still gets the first answer */
    const char *put = "{\"name\":\"plum\"}";
    struct ht_response *r = rc_send(p, fd, "PUT", ht_header(first, "Location"),
                                    "Content-Type: application/json\r\n", put, strlen(put));
    ht_expect_status(p, r, 200, NULL, 0, "PUT of the created item");
    ht_free(r);
    ht_free(again);
    again = post(p, other, key, "{\"name\":\"pear\",\"qty\":2}");
    expect_same_answer(p, first, again, "a retry after the item was changed by a PUT: the key "
                       "replays the answer it got, not the item as it is now");
    ht_free(again);

    /* without a key, the same POST creates another item */
    r = post(p, fd, NULL, "{\"name\":\"pear\",\"qty\":2}");
    ht_expect_status(p, r, 201, NULL, 0, "POST without a key");
    cr_expect(strcmp(ht_header(r, "Location"), ht_header(first, "Location")) != 0,
              "a POST without a key got the Location %s of the keyed one: only a key makes a "
              "retry", ht_header(r, "Location"));
    ht_free(r);
    ht_free(first);
}

Test(idempotency, the_same_key_with_another_item_is_422)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    const char *key = "Idempotency-Key: \"k-42\"\r\n";
    struct ht_response *r = post(p, fd, key, "{\"name\":\"pear\",\"tags\":[\"a\",\"b\"]}");
    ht_expect_status(p, r, 201, NULL, 0, "the first POST with the key");
    ht_free(r);
    static const char *const others[] = {
        "{\"name\":\"apple\",\"tags\":[\"a\",\"b\"]}",
        "{\"name\":\"pear\",\"tags\":[\"b\",\"a\"]}",
        "{\"name\":\"pear\",\"tags\":[\"a\",\"b\"],\"qty\":1}",
        "{\"name\":\"pear\"}",
    };
    for (size_t i = 0; i < COUNT(others); i++) {
        r = post(p, fd, key, others[i]);
        char why[256];
        snprintf(why, sizeof why, "POST with the key of {\"name\":\"pear\",\"tags\":[\"a\",\"b\"]} "
                 "and another item, %s: 422 (the key belongs to another request)", others[i]);
        cJSON_Delete(jt_expect_problem(p, r, 422, why));
        ht_free(r);
        rc_expect_alive(p, fd, why);
    }
    int n = count_items(p, fd);
    cr_expect(n == 1, "the collection holds %d items after one create and 4 refused reuses of "
              "its key; expected 1", n);
}

Test(idempotency, a_refused_body_does_not_use_up_the_key)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    const char *key = "Idempotency-Key: \"retry-me\"\r\n";
    struct ht_response *r = post(p, fd, key, "{\"name\":\"\",\"qty\":-1}");
    cJSON_Delete(jt_expect_problem(p, r, 422, "POST with a key and an invalid item: 422, as "
                                   "without a key"));
    ht_free(r);
    struct ht_response *created = post(p, fd, key, "{\"name\":\"fixed\"}");
    ht_expect_status(p, created, 201, NULL, 0, "the corrected POST with the same key: nothing "
                     "was created under the key, so this creates the item");
    r = post(p, fd, key, "{\"name\":\"fixed\"}");
    expect_same_answer(p, created, r, "a retry of the corrected POST: now the key holds the "
                       "item, and the retry gets its answer");
    ht_free(r);
    ht_free(created);
    int n = count_items(p, fd);
    cr_expect(n == 1, "the collection holds %d items; expected 1", n);
}

Test(idempotency, a_malformed_key_is_400)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char long_key[300] = "Idempotency-Key: \"";
    memset(long_key + strlen(long_key), 'k', 256);
    strcat(long_key, "\"\r\n");
    const char *fields[] = {
        "Idempotency-Key: abc\r\n",
        "Idempotency-Key: \"\"\r\n",
        "Idempotency-Key: \"a\\nb\"\r\n",
        long_key,
        "Idempotency-Key: \"one\"\r\nIdempotency-Key: \"two\"\r\n",
    };
    static const char *const why[] = {
        "a key without quotes", "an empty key", "an escape RFC 8941 does not have",
        "a key of 256 characters (255 at most)", "two Idempotency-Key fields",
    };
    for (size_t i = 0; i < COUNT(fields); i++) {
        struct ht_response *r = post(p, fd, fields[i], "{\"name\":\"x\"}");
        char msg[256];
        snprintf(msg, sizeof msg, "POST /items with %s: 400, and nothing created", why[i]);
        cJSON_Delete(jt_expect_problem(p, r, 400, msg));
        ht_free(r);
        rc_expect_alive(p, fd, msg);
    }
    int n = count_items(p, fd);
    cr_expect(n == 0, "%d items were created by POSTs with malformed keys; expected none", n);
}

Test(idempotency, concurrent_first_tries_create_one_item)
{
    struct wb_proc *p = wb_start(NULL);
    enum { CLIENTS = 8 };
    int fd[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fd[i] = wb_connect(p);
    for (int round = 0; round < 5; round++) {
        char req[512];
        const char *body = "{\"name\":\"once\"}";
        snprintf(
            req, sizeof req,
            "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
            "application/json\r\nIdempotency-Key: \"round-%d\"\r\nContent-Length: %zu\r\n\r\n%s",
            round, strlen(body), body);
        for (int i = 0; i < CLIENTS; i++) /* all sent before any answer is read */
            wb_send_str(p, fd[i], req);
        char first[64] = "";
        for (int i = 0; i < CLIENTS; i++) {
            struct ht_response *r = ht_must_read(p, fd[i], req, strlen(req), 0, 5000,
                                                 "one of 8 concurrent POSTs with one key");
            ht_expect_status(p, r, 201, NULL, 0, "8 clients POST the same item with the same key "
                             "at once: each gets the 201 of the one item");
            const char *loc = ht_header(r, "Location");
            if (!*first)
                snprintf(first, sizeof first, "%s", loc ? loc : "");
            cr_assert(loc && strcmp(loc, first) == 0,
                      "round %d: 8 concurrent POSTs with the key \"round-%d\" got the Locations "
                      "%s and %s; expected one item for one key", round, round, first,
                      loc ? loc : "(none)");
            ht_free(r);
        }
    }
    int n = count_items(p, fd[0]);
    cr_expect(n == 5, "5 rounds of 8 concurrent POSTs, one key per round, left %d items; "
              "expected 5", n);
}
