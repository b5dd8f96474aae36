/* Stage 4: validation -- 422 with every offending member as a JSON
 * Pointer (RFC 6901): types, bounds, integers a double cannot hold,
 * duplicate and unknown members (mass assignment). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "restc.h"

WB_SUITE(validation);

/* item_from_json() of text: its result, and the pointers of its errors
 * joined by spaces ("" for the root shows as ""), into ptrs. */
static int check(const char *text, char *ptrs, size_t cap)
{
    cJSON *body = cJSON_Parse(text);
    cr_assert(body != NULL, "test bug: %s does not parse", text);
    cJSON *errors = cJSON_CreateArray();
    struct item it;
    int rc = item_from_json(body, &it, errors);
    size_t len = 0;
    ptrs[0] = '\0';
    const cJSON *e;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "pointer");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "detail");
        const char *s = cJSON_IsString(p) ? p->valuestring : "(no pointer)";
        if (!cJSON_IsString(d) || !*d->valuestring)
            s = "(an error without a detail)";
        len += (size_t)snprintf(ptrs + len, len < cap ? cap - len : 0, "%s\"%s\"",
                                len ? " " : "", s);
    }
    item_free(&it);
    cJSON_Delete(errors);
    cJSON_Delete(body);
    return rc;
}

static void expect(const char *text, int want_rc, const char *want_ptrs, const char *why)
{
    char got[1024];
    int rc = check(text, got, sizeof got);
    cr_assert(rc == want_rc && strcmp(got, want_ptrs) == 0,
              "item_from_json(%s) returned %d with the error pointers [%s]; expected %d and "
              "[%s]: %s", wb_esc(text, strlen(text), 160), rc, got, want_rc, want_ptrs, why);
}

/* n copies of a 2-byte character, in quotes: a string of n code points. */
static char *chars(int n, const char *two)
{
    char *s = malloc((size_t)n * 2 + 3);
    cr_assert(s != NULL, "test setup: out of memory");
    s[0] = '"';
    for (int i = 0; i < n; i++)
        memcpy(s + 1 + 2 * i, two, 2);
    memcpy(s + 1 + 2 * n, "\"", 2);
    return s;
}

Test(validation, the_edges_of_every_bound_are_accepted)
{
    expect("{\"name\":\"x\",\"qty\":0,\"price\":0,\"tags\":[]}", 0, "", "the lowest values");
    expect("{\"name\":\"x\",\"qty\":2147483647,\"price\":1e9}", 0, "",
           "qty 2^31-1 and price 1e9 are the highest allowed");
    expect("{\"name\":\"x\",\"price\":-0}", 0, "", "-0 is 0");
    expect("{\"name\":\"x\",\"qty\":3.0}", 0, "", "3.0 is the integer 3");
    char *name = chars(200, "\xc3\xa9"), body[1024];
    snprintf(body, sizeof body, "{\"name\":%s}", name);
    expect(body, 0, "", "200 code points (400 bytes): the limit counts characters, not bytes");
    free(name);
}

Test(validation, each_bound_refuses_one_step_past_it)
{
    static const struct {
        const char *body, *ptrs, *why;
    } cases[] = {
        {"{\"name\":\"\"}", "\"/name\"", "an empty name"},
        {"{\"name\":123}", "\"/name\"", "a number is not a name"},
        {"{\"name\":null}", "\"/name\"", "null is not a name"},
        {"{\"name\":\"x\",\"qty\":-1}", "\"/qty\"", "qty below 0"},
        {"{\"name\":\"x\",\"qty\":2147483648}", "\"/qty\"", "qty above 2^31-1 (cJSON's valueint "
                                                             "would say 2147483647)"},
        {"{\"name\":\"x\",\"qty\":1.5}", "\"/qty\"", "qty must be whole (valueint would say 1)"},
        {"{\"name\":\"x\",\"qty\":9007199254740993}", "\"/qty\"",
         "2^53+1: a double cannot even hold it (RFC 7493 section 2.2)"},
        {"{\"name\":\"x\",\"qty\":\"5\"}", "\"/qty\"", "a string is not a number"},
        {"{\"name\":\"x\",\"qty\":true}", "\"/qty\"", "true is not a number"},
        {"{\"name\":\"x\",\"price\":1e999}", "\"/price\"", "1e999: cJSON makes it infinity"},
        {"{\"name\":\"x\",\"price\":-0.01}", "\"/price\"", "a price below 0"},
        {"{\"name\":\"x\",\"price\":1000000001}", "\"/price\"", "a price above 1e9"},
        {"{\"name\":\"x\",\"price\":\"12.50\"}", "\"/price\"", "a string is not a price"},
        {"{\"name\":\"x\",\"tags\":\"a\"}", "\"/tags\"", "tags must be an array"},
        {"{\"name\":\"x\",\"tags\":[\"a\",1]}", "\"/tags/1\"", "the pointer names the element"},
        {"{\"name\":\"x\",\"tags\":[\"\"]}", "\"/tags/0\"", "an empty tag"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expect(cases[i].body, -1, cases[i].ptrs, cases[i].why);
    char *name = chars(201, "\xc3\xa9"), body[1024];
    snprintf(body, sizeof body, "{\"name\":%s}", name);
    expect(body, -1, "\"/name\"", "201 code points");
    free(name);
    char *tag = chars(51, "\xc3\xa9");
    snprintf(body, sizeof body, "{\"name\":\"x\",\"tags\":[%s]}", tag);
    expect(body, -1, "\"/tags/0\"", "a tag of 51 code points");
    free(tag);
    char many[1024];
    size_t n = (size_t)snprintf(many, sizeof many, "{\"name\":\"x\",\"tags\":[\"t\"");
    for (int k = 1; k < 101; k++)
        n += (size_t)snprintf(many + n, sizeof many - n, ",\"t\"");
    snprintf(many + n, sizeof many - n, "]}");
    expect(many, -1, "\"/tags\"", "101 tags: at most 100");
}

Test(validation, every_offending_member_is_listed_in_order)
{
    expect("{\"name\":\"\",\"qty\":-1,\"price\":\"12.50\",\"tags\":\"a\"}", -1,
           "\"/name\" \"/qty\" \"/price\" \"/tags\"",
           "four members wrong: four errors, in the order of the body -- not only the first");
    expect("{\"qty\":1.5}", -1, "\"/qty\" \"/name\"", "qty wrong and name missing: both");
}

Test(validation, duplicate_member_names_are_refused)
{
    expect("{\"name\":\"x\",\"name\":\"y\"}", -1, "\"/name\"",
           "cJSON keeps both and its getters find the first; a JavaScript client would read "
           "the last. RFC 7493 (I-JSON) section 2.3: names must be unique");
    expect("{\"name\":\"x\",\"qty\":1,\"qty\":\"x\"}", -1, "\"/qty\"", "a duplicate qty");
}

Test(validation, members_the_client_does_not_own_are_refused)
{
    expect("{\"name\":\"x\",\"id\":99}", -1, "\"/id\"",
           "the server gives ids: a client must not choose one (mass assignment, OWASP API "
           "Security Top 10 API3:2023)");
    expect("{\"name\":\"x\",\"is_admin\":true,\"version\":7,\"created_at\":\"x\"}", -1,
           "\"/is_admin\" \"/version\" \"/created_at\"", "every unknown member, each listed");
    expect("{\"name\":\"x\",\"NAME\":\"y\"}", -1, "\"/NAME\"",
           "member names are case-sensitive: NAME is not name");
    expect("{\"name\":\"x\",\"a/b\":1,\"m~n\":2}", -1, "\"/a~1b\" \"/m~0n\"",
           "in a JSON Pointer, / is written ~1 and ~ is ~0 (RFC 6901 section 3)");
}

Test(validation, a_body_that_is_not_an_object_is_one_error_at_the_root)
{
    expect("{\"name\":\"ok\"}", 0, "", "a valid item");
    static const char *const bodies[] = {"[\"x\"]", "\"x\"", "42", "null", "true", "[]"};
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++)
        expect(bodies[i], -1, "\"\"", "one error whose pointer \"\" is the whole document");
}

Test(validation, post_answers_422_with_every_pointer)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r =
        rc_post(p, fd, "{\"name\":\"\",\"qty\":9007199254740993,\"id\":1}");
    cJSON *j = jt_expect_problem(p, r, 422, "POST /items with three members wrong: 422 "
                                            "Unprocessable Content (RFC 9110 section 15.5.21)");
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors");
    char got[256] = "";
    size_t len = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
        len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", len ? " " : "",
                                cJSON_IsString(ptr) ? ptr->valuestring : "?");
    }
    cr_assert(strcmp(got, "/name /qty /id") == 0,
              "the problem's \"errors\" must list /name /qty /id, one object each with "
              "\"pointer\" and \"detail\"; it lists [%s]\nreceived: %s", got,
              ht_describe_response(r));
    cJSON_Delete(j);
    ht_free(r);
    static const char *const roots[] = {"[\"x\"]", "42", "null"};
    for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
        r = rc_post(p, fd, roots[i]);
        char why[128];
        snprintf(why, sizeof why, "POST /items %s: valid JSON, but not an object: 422",
                 roots[i]);
        cJSON_Delete(jt_expect_problem(p, r, 422, why));
        ht_free(r);
    }
    rc_expect_alive(p, fd, "four 422 answers");
    r = rc_send(p, fd, "GET", "/items/1", NULL, NULL, 0);
    cJSON_Delete(jt_expect_problem(p, r, 404, "after four refused bodies, no item was stored"));
    ht_free(r);
}

/* {"m0":1,"m1":1,...} with n members, or n times "name" when same. */
static char *wide_object(int n, int same)
{
    char *s = malloc((size_t)n * 16 + 3);
    cr_assert(s != NULL, "test setup: out of memory");
    size_t len = 0;
    s[len++] = '{';
    for (int i = 0; i < n; i++)
        len += (size_t)(same ? sprintf(s + len, "%s\"name\":\"x\"", i ? "," : "")
                             : sprintf(s + len, "%s\"m%d\":1", i ? "," : "", i));
    s[len++] = '}';
    s[len] = '\0';
    return s;
}

Test(validation, an_object_of_thousands_of_members_is_one_error_and_cheap)
{
    char ptrs[64];
    char *wide = wide_object(33, 0);
    int rc = check(wide, ptrs, sizeof ptrs);
    cr_expect(rc == -1 && strcmp(ptrs, "\"\"") == 0,
              "item_from_json() of an object of 33 members returned %d with the pointers [%s]; "
              "expected -1 and one error at the root (\"\"): more than ITEM_MEMBERS_MAX (%d) "
              "members is refused whole, before the walk", rc, ptrs, ITEM_MEMBERS_MAX);
    free(wide);

    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long cpu0 = wb_cpu_ms(p);
    for (int round = 0; round < 3; round++) {
        wide = wide_object(9000, round == 1);
        struct ht_response *r = rc_post(p, fd, wide);
        char why[200];
        snprintf(why, sizeof why, "POST /items with an object of 9000 %s members: 422",
                 round == 1 ? "\"name\"" : "distinct");
        cJSON *j = jt_expect_problem(p, r, 422, why);
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors"));
        cr_expect(n >= 1 && n <= ITEM_MEMBERS_MAX,
                  "%s\nthe problem lists %d errors in a body of %zu bytes; expected one at the "
                  "root: an answer must not grow with what a client sends", why, n, r->body_len);
        cJSON_Delete(j);
        ht_free(r);
        free(wide);
    }
    long long cpu = wb_cpu_ms(p) - cpu0;
    cr_expect(cpu < 1500,
              "3 POSTs of 9000-member objects cost the server %lld ms of CPU; expected far less "
              "(about 30 ms): comparing each member's name with every one before it is 40 "
              "million comparisons a body -- refuse more than ITEM_MEMBERS_MAX members first",
              cpu);
    rc_expect_alive(p, fd, "three very wide bodies");
}
