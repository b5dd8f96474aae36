/* Stage 2: create and read -- POST /items, GET /items/{id}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "item.h"
#include "restc.h"

WB_SUITE(items);

/* An RFC 3339 UTC time with milliseconds: "2026-12-02T10:00:00.123Z". */
static int is_time(const cJSON *v)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : "";
    const char *shape = "dddd-dd-ddTdd:dd:dd.dddZ";
    if (strlen(s) != strlen(shape))
        return 0;
    for (size_t i = 0; shape[i]; i++)
        if (shape[i] == 'd' ? s[i] < '0' || s[i] > '9' : s[i] != shape[i])
            return 0;
    return 1;
}

WB_UNIT_TEST(items, item_to_json_has_every_member)
{
    char *tags[] = {"fruit", "green"};
    struct item it = {.id = 7, .version = 2, .name = "pear", .qty = 3, .price = 1.25,
                      .tags = tags, .ntags = 2, .created_at = "2026-12-02T10:00:00.123Z",
                      .updated_at = "2026-12-02T11:00:00.000Z"};
    cJSON *got = item_to_json(&it);
    cr_assert(got != NULL, "item_to_json() returned NULL");
    cJSON *want = cJSON_Parse("{\"id\":7,\"name\":\"pear\",\"qty\":3,\"price\":1.25,\"tags\":"
                              "[\"fruit\",\"green\"],\"version\":2,\"created_at\":"
                              "\"2026-12-02T10:00:00.123Z\",\"updated_at\":"
                              "\"2026-12-02T11:00:00.000Z\"}");
    const char *d = jt_diff(want, got);
    char *text = cJSON_PrintUnformatted(got);
    cr_assert(d == NULL, "item_to_json() of the item pear gave %s\n%s", text, d);
    cJSON_free(text);
    cJSON_Delete(want);
    cJSON_Delete(got);
}

WB_UNIT_TEST(items, item_from_json_reads_the_members_and_defaults_the_rest)
{
    cJSON *body = cJSON_Parse("{\"name\":\"pear\",\"qty\":3,\"price\":1.5,\"tags\":[\"a\",\"b\"]}");
    cJSON *errors = cJSON_CreateArray();
    struct item it;
    int rc = item_from_json(body, &it, errors);
    cr_assert(eq(int, rc, 0), "item_from_json({\"name\":\"pear\",...}) returned %d; expected 0",
              rc);
    cr_assert(it.name && strcmp(it.name, "pear") == 0 && it.qty == 3 && it.price == 1.5 &&
                  it.ntags == 2 && strcmp(it.tags[0], "a") == 0 && strcmp(it.tags[1], "b") == 0,
              "item_from_json() read name \"%s\", qty %lld, price %g, %zu tags; expected pear, 3, "
              "1.5 and [\"a\",\"b\"]", it.name ? it.name : "(null)", (long long)it.qty, it.price,
              it.ntags);
    item_free(&it);
    cJSON_Delete(body);
    body = cJSON_Parse("{\"name\":\"plum\"}");
    rc = item_from_json(body, &it, errors);
    cr_assert(rc == 0 && it.qty == 0 && it.price == 0 && it.ntags == 0,
              "item_from_json({\"name\":\"plum\"}) returned %d with qty %lld, price %g, %zu "
              "tags; expected 0, and 0, 0 and no tags for the members left out", rc,
              (long long)it.qty, it.price, it.ntags);
    item_free(&it);
    cJSON_Delete(body);
    cJSON_Delete(errors);
}

WB_UNIT_TEST(items, item_from_json_requires_a_name)
{
    cJSON *body = cJSON_Parse("{\"qty\":1}");
    cJSON *errors = cJSON_CreateArray();
    struct item it;
    int rc = item_from_json(body, &it, errors);
    const cJSON *e = cJSON_GetArrayItem(errors, 0);
    const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
    char *text = cJSON_PrintUnformatted(errors);
    cr_assert(rc == -1 && cJSON_IsString(ptr) && strcmp(ptr->valuestring, "/name") == 0,
              "item_from_json({\"qty\":1}) returned %d with the errors %s; expected -1 and an "
              "error {\"pointer\":\"/name\",\"detail\":...}: name is required", rc, text);
    cJSON_free(text);
    item_free(&it);
    cJSON_Delete(body);
    cJSON_Delete(errors);
}

Test(items, post_creates_an_item_with_201_location_and_the_stored_item)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"pear\",\"qty\":3}");
    ht_expect_status(p, r, 201, NULL, 0, "POST /items {\"name\":\"pear\",\"qty\":3}: 201 Created");
    ht_expect_header(p, r, "Content-Type", "application/json", "the created item, as JSON");
    const char *loc = ht_header(r, "Location");
    cJSON *j = jt_body(p, r, "POST /items");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    char want_loc[64] = "";
    if (cJSON_IsNumber(id))
        snprintf(want_loc, sizeof want_loc, "/items/%.0f", id->valuedouble);
    cr_assert(cJSON_IsNumber(id) && id->valuedouble >= 1 && loc && strcmp(loc, want_loc) == 0,
              "201 needs a Location naming the new item (RFC 9110 section 15.3.2): the body's "
              "id and Location must agree, as /items/<id>\nreceived: %s", ht_describe_response(r));
    cJSON *want = cJSON_Parse("{\"name\":\"pear\",\"qty\":3,\"price\":0,\"tags\":[],\"version\":1}");
    cJSON *part = cJSON_CreateObject();
    const cJSON *m;
    cJSON_ArrayForEach(m, want)
    {
        cJSON *v = cJSON_GetObjectItemCaseSensitive(j, m->string);
        cJSON_AddItemToObject(part, m->string, v ? cJSON_Duplicate(v, 1) : cJSON_CreateNull());
    }
    const char *d = jt_diff(want, part);
    cr_assert(d == NULL, "the created item: %s (every member, with qty, price and tags defaulted, "
              "version 1)\nreceived: %s", d, ht_describe_response(r));
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "created_at");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "updated_at");
    cr_assert(is_time(c) && is_time(u) && strcmp(c->valuestring, u->valuestring) == 0,
              "created_at and updated_at must be RFC 3339 UTC times like "
              "\"2026-12-02T10:00:00.123Z\", equal for a new item\nreceived: %s",
              ht_describe_response(r));
    cJSON_Delete(part);
    cJSON_Delete(want);
    cJSON_Delete(j);
    ht_free(r);
}

Test(items, get_location_returns_the_stored_item)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"fig\",\"price\":2.5,\"tags\":[\"x\"]}");
    ht_expect_status(p, r, 201, NULL, 0, "POST /items");
    char loc[128];
    snprintf(loc, sizeof loc, "%s", ht_header(r, "Location") ? ht_header(r, "Location") : "");
    cJSON *created = jt_body(p, r, "POST /items");
    ht_free(r);
    r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of the Location of a new item");
    ht_expect_header(p, r, "Content-Type", "application/json", "GET /items/{id}");
    cJSON *got = jt_body(p, r, "GET /items/{id}");
    const char *d = jt_diff(created, got);
    cr_assert(d == NULL, "GET %s must answer the item POST answered: %s", loc, d);
    cJSON_Delete(got);
    cJSON_Delete(created);
    ht_free(r);
    r = rc_send(p, fd, "HEAD", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "HEAD of an item");
    ht_free(r);
    ht_expect_no_extra_fd(p, fd, NULL, 0, "HEAD of an item: no body bytes");
}

Test(items, fifty_creates_get_fifty_ids_that_only_grow)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    double last = 0;
    for (int i = 0; i < 50; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\":\"item %d\"}", i);
        struct ht_response *r = rc_post(p, fd, body);
        ht_expect_status(p, r, 201, NULL, 0, "POST /items, 50 times");
        cJSON *j = jt_body(p, r, "POST /items");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
        cr_assert(cJSON_IsNumber(id) && id->valuedouble > last,
                  "create %d got the id %s after %.0f: every new item gets a new id, higher "
                  "than the last", i + 1, cJSON_IsNumber(id) ? cJSON_Print(id) : "(none)", last);
        last = id->valuedouble;
        cJSON_Delete(j);
        ht_free(r);
    }
}

Test(items, a_missing_item_is_a_404_problem)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "GET", "/items/999999", NULL, NULL, 0);
    cJSON_Delete(jt_expect_problem(p, r, 404, "GET /items/999999: no such item"));
    ht_free(r);
    rc_expect_alive(p, fd, "a 404");
}

Test(items, hostile_ids_are_404_or_400_never_500)
{
    static const char *const ids[] = {
        "abc", "0x10", "1%20OR%201=1", "99999999999999999999", "-1", "+1", "01", "1.0",
        "1e3", "%00", "1%00", "0", "9223372036854775808", "%2e%2e", "1;2", "%F0%9F%8D%90",
    };
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"first\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST /items");
    ht_free(r);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
        char target[128], why[256];
        snprintf(target, sizeof target, "/items/%s", ids[i]);
        r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
        snprintf(why, sizeof why, "GET %s: an id is 1 to 15 digits, nothing else; anything else "
                 "names no item -- 404 (or 400), never 500, never item 1", target);
        cJSON_Delete(jt_expect_problem(p, r, r->status == 400 ? 400 : 404, why));
        ht_free(r);
    }
    rc_expect_alive(p, fd, "sixteen hostile ids");
}

Test(items, names_round_trip_byte_for_byte)
{
    char e200[401];
    for (int i = 0; i < 200; i++)
        memcpy(e200 + 2 * i, "\xc3\xa9", 2);
    e200[400] = '\0';
    char big[512];
    snprintf(big, sizeof big, "{\"name\":\"%s\"}", e200);
    static const char *bodies[] = {
        "{\"name\":\"\xc3\x86" "ble \xf0\x9f\x8d\x90\"}",
        "{\"name\":\"\\\"q\\\"\\\\\\/\"}",
        "{\"name\":\"tab\\there\\u0001\"}",
        "{\"name\":\"\\ud83c\\udf50 escaped\"}",
        NULL,
    };
    bodies[4] = big;
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ht_response *r = rc_post(p, fd, bodies[i]);
        char why[700];
        snprintf(why, sizeof why, "POST /items %s", wb_esc(bodies[i], strlen(bodies[i]), 80));
        ht_expect_status(p, r, 201, NULL, 0, why);
        char loc[128];
        snprintf(loc, sizeof loc, "%s", ht_header(r, "Location") ? ht_header(r, "Location") : "");
        ht_free(r);
        r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
        cJSON *got = jt_body(p, r, why), *sent = cJSON_Parse(bodies[i]);
        const cJSON *gn = cJSON_GetObjectItemCaseSensitive(got, "name");
        const cJSON *sn = cJSON_GetObjectItemCaseSensitive(sent, "name");
        cr_assert(cJSON_IsString(gn) && strcmp(gn->valuestring, sn->valuestring) == 0,
                  "%s, then GET %s: the name must come back as the same characters\nexpected: "
                  "%s\nreceived: %s", why, loc,
                  wb_esc(sn->valuestring, strlen(sn->valuestring), 120),
                  cJSON_IsString(gn) ? wb_esc(gn->valuestring, strlen(gn->valuestring), 120)
                                     : "no string");
        cJSON_Delete(got);
        cJSON_Delete(sent);
        ht_free(r);
    }
}

Test(items, a_body_without_a_name_is_422_with_its_pointer)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_post(p, fd, "{\"qty\":1}");
    cJSON *j = jt_expect_problem(p, r, 422, "POST /items {\"qty\":1}: the item is not valid "
                                            "(422 Unprocessable Content, RFC 9110 section 15.5.21)");
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
    const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
    cr_assert(cJSON_IsString(ptr) && strcmp(ptr->valuestring, "/name") == 0,
              "the problem's \"errors\" must name the member: [{\"pointer\":\"/name\",...}]\n"
              "received: %s", ht_describe_response(r));
    cJSON_Delete(j);
    ht_free(r);
    rc_expect_alive(p, fd, "a 422");
}
