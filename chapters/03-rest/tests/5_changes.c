/* Stage 5: replace, patch, delete -- PUT (idempotent), PATCH with a JSON
 * merge patch (RFC 7396), DELETE (204), then 404 for every method. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "restc.h"

WB_SUITE(changes);

#define MERGE "Content-Type: application/merge-patch+json\r\n"
#define JSON "Content-Type: application/json\r\n"

/* RFC 7396 Appendix A: the published examples, target + patch -> result. */
WB_UNIT_TEST(changes, item_merge_patch_gives_the_results_of_rfc_7396_appendix_a)
{
    static const struct {
        const char *target, *patch, *result;
    } cases[] = {
        {"{\"a\":\"b\"}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"b\":\"c\"}", "{\"a\":\"b\",\"b\":\"c\"}"},
        {"{\"a\":\"b\"}", "{\"a\":null}", "{}"},
        {"{\"a\":\"b\",\"b\":\"c\"}", "{\"a\":null}", "{\"b\":\"c\"}"},
        {"{\"a\":[\"b\"]}", "{\"a\":\"c\"}", "{\"a\":\"c\"}"},
        {"{\"a\":\"c\"}", "{\"a\":[\"b\"]}", "{\"a\":[\"b\"]}"},
        {"{\"a\":{\"b\":\"c\"}}", "{\"a\":{\"b\":\"d\",\"c\":null}}", "{\"a\":{\"b\":\"d\"}}"},
        {"{\"a\":[{\"b\":\"c\"}]}", "{\"a\":[1]}", "{\"a\":[1]}"},
        {"[\"a\",\"b\"]", "[\"c\",\"d\"]", "[\"c\",\"d\"]"},
        {"{\"a\":\"b\"}", "[\"c\"]", "[\"c\"]"},
        {"{\"a\":\"foo\"}", "null", "null"},
        {"{\"a\":\"foo\"}", "\"bar\"", "\"bar\""},
        {"{\"e\":null}", "{\"a\":1}", "{\"e\":null,\"a\":1}"},
        {"[1,2]", "{\"a\":\"b\",\"c\":null}", "{\"a\":\"b\"}"},
        {"{}", "{\"a\":{\"bb\":{\"ccc\":null}}}", "{\"a\":{\"bb\":{}}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *target = cJSON_Parse(cases[i].target), *patch = cJSON_Parse(cases[i].patch);
        cJSON *want = cJSON_Parse(cases[i].result), *errors = cJSON_CreateArray();
        int rc = item_merge_patch(&target, patch, errors);
        const char *d = rc == 0 && target ? jt_diff(want, target) : "it failed";
        cr_expect(rc == 0 && d == NULL,
                  "item_merge_patch(%s, %s) returned %d; expected %s: %s (RFC 7396 Appendix A)",
                  cases[i].target, cases[i].patch, rc, cases[i].result, d ? d : "");
        cJSON_Delete(target);
        cJSON_Delete(patch);
        cJSON_Delete(want);
        cJSON_Delete(errors);
    }
}

WB_UNIT_TEST(changes, item_merge_patch_refuses_a_member_named_twice)
{
    cJSON *target = cJSON_Parse("{\"qty\":1}"), *patch = cJSON_Parse("{\"qty\":2,\"qty\":3}");
    cJSON *errors = cJSON_CreateArray();
    int rc = item_merge_patch(&target, patch, errors);
    const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(errors, 0), "pointer");
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(target, "qty");
    cr_assert(rc == -1 && cJSON_IsString(ptr) && strcmp(ptr->valuestring, "/qty") == 0 &&
                  cJSON_IsNumber(q) && q->valuedouble == 1,
              "item_merge_patch({\"qty\":1}, {\"qty\":2,\"qty\":3}) returned %d; expected -1, an "
              "error for /qty, and the target unchanged (qty 1)", rc);
    cJSON_Delete(target);
    cJSON_Delete(patch);
    cJSON_Delete(errors);
}

/* The client's members of the item at loc, and its version, as JSON. */
static cJSON *fetch(struct wb_proc *p, int fd, const char *loc)
{
    struct ht_response *r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of the item");
    cJSON *j = jt_body(p, r, "GET of the item");
    ht_free(r);
    return j;
}

static void expect_members(struct wb_proc *p, const cJSON *got, const char *want_json,
                           const char *why)
{
    cJSON *want = cJSON_Parse(want_json), *part = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, want)
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(got, m->string);
        cJSON_AddItemToObject(part, m->string, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    const char *d = jt_diff(want, part);
    char *text = cJSON_PrintUnformatted(got);
    if (d) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s\nexpected the members %s\n%s\nthe item: %s\n%s", why,
                 want_json, d, text, wb_describe(p));
        cJSON_free(text);
        cJSON_Delete(want);
        cJSON_Delete(part);
        cr_fatal("%s", msg);
    }
    cJSON_free(text);
    cJSON_Delete(want);
    cJSON_Delete(part);
}

Test(changes, put_replaces_the_whole_item)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"qty\":3,\"price\":2,\"tags\":[\"a\"]}", loc, sizeof loc);
    cJSON *before = fetch(p, fd, loc);
    const char *body = "{\"name\":\"plum\",\"qty\":7}";
    struct ht_response *r = rc_send(p, fd, "PUT", loc, JSON, body, strlen(body));
    ht_expect_status(p, r, 200, NULL, 0, "PUT of an item with a whole new body: 200 and the item");
    cJSON *put = jt_body(p, r, "PUT");
    expect_members(p, put, "{\"name\":\"plum\",\"qty\":7,\"price\":0,\"tags\":[],\"version\":2}",
                   "PUT replaces the whole item: what the body leaves out gets its default "
                   "(price 0, no tags), and the version goes up by one");
    const cJSON *c0 = cJSON_GetObjectItemCaseSensitive(before, "created_at");
    const cJSON *c1 = cJSON_GetObjectItemCaseSensitive(put, "created_at");
    cr_assert(cJSON_IsString(c1) && strcmp(c0->valuestring, c1->valuestring) == 0,
              "PUT keeps created_at (%s), and changes only updated_at\nreceived: %s",
              c0->valuestring, ht_describe_response(r));
    cJSON *after = fetch(p, fd, loc);
    const char *d = jt_diff(put, after);
    cr_assert(d == NULL, "GET after PUT must give what PUT answered: %s", d);
    cJSON_Delete(before);
    cJSON_Delete(put);
    cJSON_Delete(after);
    ht_free(r);
}

Test(changes, the_same_put_twice_leaves_the_same_item)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    const char *body = "{\"name\":\"fig\",\"tags\":[\"x\",\"y\"],\"price\":1.5}";
    for (int i = 0; i < 2; i++) {
        struct ht_response *r = rc_send(p, fd, "PUT", loc, JSON, body, strlen(body));
        ht_expect_status(p, r, 200, NULL, 0, i ? "the same PUT again" : "PUT");
        ht_free(r);
        cJSON *j = fetch(p, fd, loc);
        expect_members(p, j, "{\"name\":\"fig\",\"qty\":0,\"price\":1.5,\"tags\":[\"x\",\"y\"]}",
                       "PUT is idempotent (RFC 9110 section 9.2.2): the same PUT twice leaves "
                       "the same item -- a client may safely retry it");
        cJSON_Delete(j);
    }
}

Test(changes, put_to_a_missing_item_is_404_and_a_bad_body_422_changing_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    const char *body = "{\"name\":\"x\"}";
    struct ht_response *r = rc_send(p, fd, "PUT", "/items/424242", JSON, body, strlen(body));
    cJSON_Delete(jt_expect_problem(p, r, 404, "PUT /items/424242: PUT here changes items, it "
                                              "does not create them"));
    ht_free(r);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"qty\":3}", loc, sizeof loc);
    const char *bad = "{\"name\":\"\",\"qty\":-1}";
    r = rc_send(p, fd, "PUT", loc, JSON, bad, strlen(bad));
    cJSON_Delete(jt_expect_problem(p, r, 422, "PUT with an invalid body"));
    ht_free(r);
    cJSON *j = fetch(p, fd, loc);
    expect_members(p, j, "{\"name\":\"pear\",\"qty\":3,\"version\":1}",
                   "a refused PUT changes nothing");
    cJSON_Delete(j);
}

Test(changes, patch_changes_only_what_it_names_and_null_removes)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"qty\":3,\"price\":2,\"tags\":[\"a\"]}", loc, sizeof loc);
    const char *patch = "{\"qty\":5}";
    struct ht_response *r = rc_send(p, fd, "PATCH", loc, MERGE, patch, strlen(patch));
    ht_expect_status(p, r, 200, NULL, 0, "PATCH {\"qty\":5} as a merge patch");
    cJSON *j = jt_body(p, r, "PATCH");
    expect_members(p, j, "{\"name\":\"pear\",\"qty\":5,\"price\":2,\"tags\":[\"a\"],\"version\":2}",
                   "a merge patch changes the members it names, and nothing else");
    cJSON_Delete(j);
    ht_free(r);
    patch = "{\"tags\":null,\"price\":null}";
    r = rc_send(p, fd, "PATCH", loc, MERGE, patch, strlen(patch));
    ht_expect_status(p, r, 200, NULL, 0, "PATCH {\"tags\":null,\"price\":null}");
    j = jt_body(p, r, "PATCH");
    expect_members(p, j, "{\"name\":\"pear\",\"qty\":5,\"price\":0,\"tags\":[],\"version\":3}",
                   "null in a merge patch removes the member: it goes back to its default "
                   "(RFC 7396 section 1)");
    cJSON_Delete(j);
    ht_free(r);
    patch = "{\"name\":null}";
    r = rc_send(p, fd, "PATCH", loc, MERGE, patch, strlen(patch));
    cJSON_Delete(jt_expect_problem(p, r, 422, "PATCH {\"name\":null} removes the required name: "
                                              "the patched item is not valid"));
    ht_free(r);
    patch = "{\"id\":99}";
    r = rc_send(p, fd, "PATCH", loc, MERGE, patch, strlen(patch));
    cJSON_Delete(jt_expect_problem(p, r, 422, "PATCH {\"id\":99}: the id is the server's, not "
                                              "the patch's (mass assignment)"));
    ht_free(r);
    j = fetch(p, fd, loc);
    expect_members(p, j, "{\"id\":1,\"name\":\"pear\",\"version\":3}",
                   "refused patches change nothing");
    cJSON_Delete(j);
}

Test(changes, patch_with_another_media_type_is_415_with_accept_patch)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    static const char *const types[] = {
        JSON, "Content-Type: application/json-patch+json\r\n", "",
    };
    const char *patch = "{\"qty\":5}";
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "PATCH", loc, types[i], patch, strlen(patch));
        char why[256];
        snprintf(why, sizeof why, "PATCH with %s: only application/merge-patch+json is a patch "
                 "here -- 415, and Accept-Patch says what is (RFC 5789 section 3.1)",
                 *types[i] ? wb_esc(types[i], strlen(types[i]) - 2, 80) : "no Content-Type");
        cJSON_Delete(jt_expect_problem(p, r, 415, why));
        ht_expect_header(p, r, "Accept-Patch", "application/merge-patch+json", why);
        ht_free(r);
    }
    rc_expect_alive(p, fd, "three 415 answers");
}

Test(changes, delete_is_204_then_every_method_is_404_and_the_id_is_never_reused)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64], other[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    rc_create(p, fd, "{\"name\":\"plum\"}", other, sizeof other);
    struct ht_response *r = rc_send(p, fd, "DELETE", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of an item: 204 No Content");
    ht_expect_body(p, r, "", 0, "204 has no body (RFC 9110 section 15.3.5)");
    ht_free(r);
    const char *body = "{\"name\":\"x\"}";
    static const struct {
        const char *method, *headers;
    } after[] = {{"GET", NULL}, {"HEAD", NULL}, {"PUT", JSON}, {"PATCH", MERGE}, {"DELETE", NULL}};
    for (size_t i = 0; i < sizeof after / sizeof after[0]; i++) {
        int has_body = after[i].headers != NULL;
        r = rc_send(p, fd, after[i].method, loc, after[i].headers, has_body ? body : NULL,
                    has_body ? strlen(body) : 0);
        char why[128];
        snprintf(why, sizeof why, "%s %s after its DELETE: the item is gone", after[i].method, loc);
        if (strcmp(after[i].method, "HEAD") == 0)
            ht_expect_status(p, r, 404, NULL, 0, why);
        else
            cJSON_Delete(jt_expect_problem(p, r, 404, why));
        ht_free(r);
    }
    cJSON *j = fetch(p, fd, other);
    expect_members(p, j, "{\"name\":\"plum\"}", "the other item is still there");
    cJSON_Delete(j);
    r = rc_post(p, fd, "{\"name\":\"new\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST after a DELETE");
    const char *nloc = ht_header(r, "Location");
    long deleted = atol(loc + 7), fresh = nloc ? atol(nloc + 7) : 0;
    cr_assert(fresh > deleted && fresh > atol(other + 7),
              "after deleting %s, a new item got %s: an id is never given out again -- a "
              "client holding the old URL must not find someone else's item there",
              loc, nloc ? nloc : "(no Location)");
    ht_free(r);
}

Test(changes, a_patch_with_an_object_of_thousands_of_members_is_refused_first)
{
    cJSON *target = cJSON_Parse("{\"name\":\"pear\"}"), *errors = cJSON_CreateArray();
    cJSON *patch = cJSON_CreateObject(), *inner = cJSON_CreateObject();
    char name[16];
    for (int i = 0; i < 33; i++) {
        snprintf(name, sizeof name, "m%d", i);
        cJSON_AddNumberToObject(inner, name, i);
    }
    cJSON_AddItemToObject(patch, "qty", inner);
    int rc = item_merge_patch(&target, patch, errors);
    const cJSON *name_now = cJSON_GetObjectItemCaseSensitive(target, "name");
    cr_expect(rc == -1 && cJSON_GetArraySize(errors) == 1 && cJSON_IsString(name_now),
              "item_merge_patch() of {\"qty\": {33 members}} returned %d with %d errors; expected "
              "-1, one error, and the target unchanged: an object of more than ITEM_MEMBERS_MAX "
              "(%d) members anywhere merge() would walk is refused before merging", rc,
              cJSON_GetArraySize(errors), ITEM_MEMBERS_MAX);
    cJSON_Delete(target);
    cJSON_Delete(patch);
    cJSON_Delete(errors);

    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    size_t cap = 9000 * 16 + 16, len = 0;
    char *wide = malloc(cap);
    cr_assert(wide != NULL, "test setup: out of memory");
    len += (size_t)sprintf(wide, "{\"tags\":{");
    for (int i = 0; i < 9000; i++)
        len += (size_t)sprintf(wide + len, "%s\"m%d\":1", i ? "," : "", i);
    strcpy(wide + len, "}}");
    long long cpu0 = wb_cpu_ms(p);
    struct ht_response *r = rc_send(p, fd, "PATCH", loc, MERGE, wide, strlen(wide));
    cJSON *j = jt_expect_problem(p, r, 422, "PATCH with {\"tags\": {9000 members}}: 422");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "errors"));
    long long cpu = wb_cpu_ms(p) - cpu0;
    cr_expect(n == 1 && cpu < 1000,
              "PATCH with {\"tags\": {9000 members}} listed %d errors and cost %lld ms of CPU; "
              "expected one error and a few ms: merging looks each member up in the target, n * "
              "n steps -- refuse objects of more than ITEM_MEMBERS_MAX members before merging",
              n, cpu);
    cJSON_Delete(j);
    ht_free(r);
    free(wide);
    cJSON *now = fetch(p, fd, loc);
    expect_members(p, now, "{\"name\":\"pear\",\"tags\":[],\"version\":1}",
                   "a refused patch changes nothing");
    cJSON_Delete(now);
}
