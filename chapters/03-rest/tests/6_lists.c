/* Stage 6: the collection -- GET /items a page at a time: keyset
 * cursors, the next link in the body and in Link, sort and order from an
 * allow-list, a name filter without wildcards, 400 for every bad query
 * parameter, and a walk that stays right while others change the list. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "query.h"
#include "restc.h"

WB_SUITE(lists);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static struct http_slice sl(const char *s)
{
    return (struct http_slice){s, strlen(s)};
}

static const char *const sort_names[] = {"id", "name", "qty", "price"};

/* ---- query_parse() and query_next() ------------------------------------- */

WB_UNIT_TEST(lists, query_parse_reads_the_defaults_and_each_parameter)
{
    struct list_query lq;
    cJSON *errors = cJSON_CreateArray();
    int rc = query_parse(sl(""), &lq, errors);
    cr_assert(rc == 0 && lq.store.limit == 20 && lq.store.sort == STORE_SORT_ID &&
                  !lq.store.desc && !lq.store.name && !lq.store.after && lq.given == 0,
              "query_parse(\"\") returned %d, limit %zu, sort %d, desc %d, name %s, after %s, "
              "given %u; expected 0 and the defaults: limit 20, sort STORE_SORT_ID, asc, no "
              "name, no after, given 0", rc, lq.store.limit, (int)lq.store.sort, lq.store.desc,
              lq.store.name ? "set" : "NULL", lq.store.after ? "set" : "NULL", lq.given);

    const char *q = "limit=5&sort=price&order=desc&&name=100%25+Cotton%2B%C3%A9";
    rc = query_parse(sl(q), &lq, errors);
    char *e = cJSON_PrintUnformatted(errors);
    cr_assert(rc == 0, "query_parse(\"%s\") returned %d; expected 0 (an empty parameter between "
              "'&&' is skipped)\nerrors: %s", q, rc, e);
    cJSON_free(e);
    cr_expect(lq.store.limit == 5 && lq.store.sort == STORE_SORT_PRICE && lq.store.desc == 1,
              "query_parse(\"%s\"): limit %zu, sort %d, desc %d; expected limit 5, "
              "STORE_SORT_PRICE (%d), desc 1", q, lq.store.limit, (int)lq.store.sort,
              lq.store.desc, (int)STORE_SORT_PRICE);
    cr_expect(lq.store.name && strcmp(lq.store.name, "100% Cotton+\xC3\xA9") == 0,
              "query_parse(\"%s\"): store.name is %s; expected \"100%% Cotton+\\xc3\\xa9\" -- '+' "
              "is a space, %%25 is '%%', %%2B is '+', %%C3%%A9 the two bytes of \xC3\xA9", q,
              lq.store.name ? wb_esc(lq.store.name, strlen(lq.store.name), 80) : "NULL");
    cr_expect(lq.given == (QUERY_LIMIT | QUERY_SORT | QUERY_ORDER | QUERY_NAME),
              "query_parse(\"%s\"): given is %u; expected QUERY_LIMIT | QUERY_SORT | "
              "QUERY_ORDER | QUERY_NAME (%u)", q, lq.given,
              QUERY_LIMIT | QUERY_SORT | QUERY_ORDER | QUERY_NAME);
    rc = query_parse(sl("l%69mit=100&sort=name&order=asc"), &lq, errors);
    cr_expect(rc == 0 && lq.store.limit == 100 && lq.store.sort == STORE_SORT_NAME,
              "query_parse(\"l%%69mit=100&sort=name&order=asc\") returned %d, limit %zu, sort "
              "%d; expected 0, 100 and STORE_SORT_NAME: names are decoded too (%%69 is 'i')", rc,
              lq.store.limit, (int)lq.store.sort);
    cr_expect(eq(int, cJSON_GetArraySize(errors), 0),
              "query_parse() added errors for good queries: %s", cJSON_PrintUnformatted(errors));
    cJSON_Delete(errors);
}

/* The "parameter" members of errors, joined with spaces. */
static const char *params_of(const cJSON *errors)
{
    char *out = wb_msgbuf(512);
    const cJSON *e;
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "parameter");
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(e, "detail");
        size_t len = strlen(out);
        snprintf(out + len, 512 - len, "%s%s", len ? " " : "",
                 cJSON_IsString(p) && cJSON_IsString(d) && *d->valuestring ? p->valuestring
                                                                           : "(malformed)");
    }
    return out;
}

WB_UNIT_TEST(lists, query_parse_lists_every_bad_parameter)
{
    static const struct {
        const char *q;
        const char *params; /* the "parameter" of each error, in order */
        const char *why;
    } cases[] = {
        {"limit=0", "limit", "a page has 1 to 100 items"},
        {"limit=101", "limit", "a page has 1 to 100 items"},
        {"limit=1000000000000000000000", "limit", "a huge number must not wrap around"},
        {"limit=-1", "limit", "no sign"},
        {"limit=+5", "limit", "no sign ('+' decodes to a space)"},
        {"limit=05", "limit", "no leading zero"},
        {"limit=1e2", "limit", "digits only"},
        {"limit=", "limit", "an empty value"},
        {"limit", "limit", "no '=' at all is an empty value"},
        {"sort=created_at", "sort", "sort takes id, name, qty, price: an allow-list"},
        {"sort=ID", "sort", "the names are lower case"},
        {"sort=name;DROP%20TABLE%20items", "sort", "only the exact names"},
        {"order=up", "order", "asc or desc"},
        {"name=", "name", "1 to 200 characters"},
        {"name=%00", "name", "U+0000 is no character a name holds"},
        {"name=%FF", "name", "FF is never UTF-8"},
        {"name=caf%E9", "name", "%E9 alone is Latin-1, not UTF-8"},
        {"name=%zz", "name", "%zz is not an escape"},
        {"name=abc%2", "name", "an escape cut short"},
        {"foo=1", "foo", "an unknown parameter is refused, under its name"},
        {"Limit=5", "Limit", "parameter names are case-sensitive"},
        {"limit=5&limit=6", "limit", "a parameter given twice"},
        {"sort=name&sort=name&sort=name", "sort", "listed once however often it repeats"},
        {"cursor=%%%", "cursor", "not a cursor"},
        {"cursor=abc", "cursor", "not a cursor of this API"},
        {"limit=0&foo=1&order=sideways&name=", "limit foo order name",
         "every bad parameter, in the order they came"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct list_query lq;
        cJSON *errors = cJSON_CreateArray();
        int rc = query_parse(sl(cases[i].q), &lq, errors);
        const char *got = params_of(errors);
        cr_expect(rc == -1 && strcmp(got, cases[i].params) == 0,
                  "query_parse(\"%s\") returned %d with errors for \"%s\"; expected -1 and one "
                  "error {\"parameter\": ..., \"detail\": ...} each for \"%s\" -- %s",
                  cases[i].q, rc, got, cases[i].params, cases[i].why);
        cJSON_Delete(errors);
    }
}

/* A query_next() link's query, parsed back. */
static int parse_next(const char *link, struct list_query *lq, cJSON *errors)
{
    const char *q = strchr(link, '?');
    return q ? query_parse(sl(q + 1), lq, errors) : -1;
}

WB_UNIT_TEST(lists, query_next_links_back_to_the_same_query_after_the_last_item)
{
    struct item last = {.id = 42, .name = "a b&c=d%e+f/\xC3\xA9?#", .qty = 2147483647,
                        .price = 0.1};
    static const char *const queries[] = {
        "",
        "limit=7&sort=name",
        "sort=qty&order=desc",
        "order=desc&sort=price&limit=100",
        "name=a%26b%3Dc%25+%2B%23&sort=name&order=desc",
    };
    for (size_t i = 0; i < COUNT(queries); i++) {
        struct list_query lq, back;
        cJSON *errors = cJSON_CreateArray();
        cr_assert(query_parse(sl(queries[i]), &lq, errors) == 0,
                  "query_parse(\"%s\") refused a good query: %s", queries[i],
                  params_of(errors));
        char link[4096];
        int n = query_next(&lq, &last, link, sizeof link);
        cr_assert(n > 0 && (size_t)n == strlen(link) && strncmp(link, "/items?", 7) == 0,
                  "query_next() for \"%s\" returned %d and \"%s\"; expected the length of a "
                  "link that starts with /items?", queries[i], n, n > 0 ? link : "");
        for (const char *c = link; *c; c++)
            cr_assert(c[0] > ' ' && c[0] < 0x7F && !strchr("#\"<> ", c[0]),
                      "query_next() for \"%s\" wrote \"%s\": the byte '%c' must be "
                      "percent-encoded in a link (RFC 3986)", queries[i], link, *c);
        int rc = parse_next(link, &back, errors);
        cr_assert(rc == 0, "query_parse() of query_next()'s own link \"%s\" returned %d: %s",
                  link, rc, params_of(errors));
        cr_expect(back.store.limit == lq.store.limit && back.store.sort == lq.store.sort &&
                      back.store.desc == lq.store.desc && back.given == (lq.given | QUERY_CURSOR),
                  "the link \"%s\" (for \"%s\") reads back with limit %zu, sort %d, desc %d, "
                  "given %u; expected the same limit, sort, order as the query (%zu, %d, %d) and "
                  "its given plus QUERY_CURSOR (%u)", link, queries[i], back.store.limit,
                  (int)back.store.sort, back.store.desc, back.given, lq.store.limit,
                  (int)lq.store.sort, lq.store.desc, lq.given | QUERY_CURSOR);
        int same_name = lq.store.name
                            ? back.store.name && strcmp(lq.store.name, back.store.name) == 0
                            : !back.store.name;
        cr_expect(same_name,
                  "the link \"%s\" reads back with the name filter %s; expected %s", link,
                  back.store.name ? back.store.name : "NULL",
                  lq.store.name ? lq.store.name : "NULL");
        const struct store_key *a = back.store.after;
        int same = a && a->id == 42;
        if (same && lq.store.sort == STORE_SORT_NAME)
            same = a->name && strcmp(a->name, last.name) == 0;
        if (same && lq.store.sort == STORE_SORT_QTY)
            same = a->qty == last.qty;
        if (same && lq.store.sort == STORE_SORT_PRICE)
            same = a->price == last.price;
        cr_expect(same, "the cursor of \"%s\" (for \"%s\") must read back as the place of the "
                  "last item: id 42 and its %s (%s)", link, queries[i],
                  sort_names[lq.store.sort],
                  lq.store.sort == STORE_SORT_NAME    ? last.name
                  : lq.store.sort == STORE_SORT_QTY   ? "2147483647"
                  : lq.store.sort == STORE_SORT_PRICE ? "0.1, exactly"
                                                      : "the id is the key");
        cJSON_Delete(errors);
    }
}

WB_UNIT_TEST(lists, a_cursor_is_refused_for_another_sort_or_once_tampered_with)
{
    struct item last = {.id = 7, .name = "pear", .qty = 3, .price = 1.5};
    struct list_query lq, back;
    cJSON *errors = cJSON_CreateArray();
    char link[4096], q[4200];
    cr_assert(query_parse(sl("sort=name"), &lq, errors) == 0, "query_parse(\"sort=name\") failed");
    cr_assert(query_next(&lq, &last, link, sizeof link) > 0, "query_next() failed");
    const char *cursor = strstr(link, "cursor=");
    cr_assert(cursor != NULL, "query_next() wrote \"%s\": no cursor= in it", link);
    cursor += 7;

    static const struct {
        const char *fmt;
        const char *why;
    } cases[] = {
        {"sort=price&cursor=%s", "a cursor of a walk by name, given with sort=price"},
        {"sort=name&order=desc&cursor=%s", "a cursor of an ascending walk, given with desc"},
        {"cursor=%s", "a cursor of sort=name without it: the default sort is id"},
        {"sort=name&cursor=%s%%3D", "with '=' padding (base64url without padding only)"},
        {"sort=name&cursor=%sA", "one character more"},
        {"sort=name&cursor=%s!", "a character outside base64url"},
        {"sort=name&cursor=", "an empty cursor%s"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        snprintf(q, sizeof q, cases[i].fmt, i == COUNT(cases) - 1 ? "" : cursor);
        int rc = query_parse(sl(q), &back, errors);
        const char *got = params_of(errors);
        cr_expect(rc == -1 && strstr(got, "cursor"),
                  "query_parse(\"%s\") returned %d with errors for \"%s\"; expected -1 and an "
                  "error for \"cursor\" -- %s", q, rc, got, cases[i].why);
        cJSON_Delete(errors);
        errors = cJSON_CreateArray();
    }
    cJSON_Delete(errors);
}

/* ---- over HTTP ------------------------------------------------------------ */

static void delete_item(struct wb_proc *p, int fd, long long id)
{
    char target[64];
    snprintf(target, sizeof target, "/items/%lld", id);
    struct ht_response *r = rc_send(p, fd, "DELETE", target, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of an item");
    ht_free(r);
}

/* One page: GET target on fd, checked -- 200, JSON, an object with an
 * "items" array and a "next" that is a string or null, and a Link field
 * exactly when next is a string, "<next>; rel=\"next\"". Returns the body;
 * *next gets a copy of next (or "" on the last page). */
static cJSON *get_page(struct wb_proc *p, int fd, const char *target, char *next, size_t cap)
{
    struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
    char why[512];
    snprintf(why, sizeof why, "GET %.300s: a page of the collection", target);
    ht_expect_status(p, r, 200, NULL, 0, why);
    ht_expect_header(p, r, "Content-Type", "application/json", why);
    cJSON *page = jt_body(p, r, why);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(page, "next");
    if (!cJSON_IsObject(page) || !cJSON_IsArray(items) || !(cJSON_IsString(nx) || cJSON_IsNull(nx)))
        cr_fatal("%s: the body must be {\"items\": [...], \"next\": \"/items?...\" or null}\n"
                 "received: %s\n%s", why, ht_describe_response(r), wb_describe(p));
    snprintf(next, cap, "%s", cJSON_IsString(nx) ? nx->valuestring : "");
    if (*next) {
        if (strncmp(next, "/items?", 7) != 0)
            cr_fatal("%s: \"next\" is \"%s\"; expected a link to /items?... with the cursor "
                     "in it\n%s",
                     why, next, wb_describe(p));
        char want[4200];
        snprintf(want, sizeof want, "<%s>; rel=\"next\"", next);
        ht_expect_header(p, r, "Link", want,
                         "a page with a next page has a Link field with the same link "
                         "(RFC 8288 section 3)");
    } else {
        ht_expect_header(p, r, "Link", NULL, "the last page (\"next\": null) has no Link field");
    }
    ht_free(r);
    return page;
}

/* Walks from target to the last page; the ids seen in order into ids
 * (at most max), their count returned. between, if not NULL, runs after
 * each page but the last, with the ids seen so far. */
static size_t walk(struct wb_proc *p, int fd, const char *target, long long *ids, size_t max,
                   void (*between)(void *, const long long *, size_t), void *arg)
{
    char next[4096];
    size_t n = 0, pages = 0;
    snprintf(next, sizeof next, "%s", target);
    while (*next) {
        char at[4096];
        snprintf(at, sizeof at, "%s", next);
        cJSON *page = get_page(p, fd, at, next, sizeof next);
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "items"))
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
            cr_assert(n < max, "the walk from %s gave more than %zu items: it loops", target, max);
            ids[n++] = cJSON_IsNumber(id) ? (long long)id->valuedouble : -1;
        }
        cJSON_Delete(page);
        pages++;
        cr_assert(pages < 10000, "the walk from %s does not end", target);
        if (between && *next)
            between(arg, ids, n);
    }
    return n;
}

Test(lists, a_page_has_items_and_a_next_link_until_the_last)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long made[5];
    for (int i = 0; i < 5; i++)
        made[i] = rc_create(p, fd, "{\"name\":\"item\"}", NULL, 0);

    char next[4096];
    cJSON *page = get_page(p, fd, "/items?limit=2", next, sizeof next);
    cr_assert(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items")) == 2 && *next,
              "GET /items?limit=2 with 5 items: expected 2 items and a next link; received %d "
              "and next \"%s\"",
              cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items")), next);
    cJSON_Delete(page);

    long long ids[16];
    size_t n = walk(p, fd, "/items?limit=2", ids, 16, NULL, NULL);
    cr_assert(n == 5, "a walk with limit=2 over 5 items saw %zu items; expected 5 (pages of 2, 2 "
              "and 1, the last with \"next\": null)", n);
    for (size_t i = 0; i < 5; i++)
        cr_expect(ids[i] == made[i], "item %zu of the walk has id %lld; expected %lld: the default "
                  "order is by id, ascending", i, ids[i], made[i]);

    const char *head = "HEAD /items?limit=2 HTTP/1.1\r\nHost: localhost\r\n\r\n";
    wb_send_str(p, fd, head);
    struct ht_response *r = ht_must_read(p, fd, head, strlen(head), 1, 5000, "HEAD /items?limit=2");
    ht_expect_status(p, r, 200, NULL, 0, "HEAD /items?limit=2: the head of the GET");
    cr_expect(ht_header(r, "Link") != NULL, "HEAD /items?limit=2 must carry the Link field of "
              "the GET (RFC 9110 section 9.3.2)\nreceived: %s", ht_describe_response(r));
    ht_expect_no_extra(p, r, "HEAD /items?limit=2 has no body");
    ht_free(r);
}

Test(lists, the_default_page_is_20_items_and_100_is_the_most)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    for (int i = 0; i < 105; i++)
        rc_create(p, fd, "{\"name\":\"x\"}", NULL, 0);
    static const struct {
        const char *target;
        int want;
    } cases[] = {{"/items", 20}, {"/items?limit=100", 100}, {"/items?limit=1", 1}};
    for (size_t i = 0; i < COUNT(cases); i++) {
        char next[4096];
        cJSON *page = get_page(p, fd, cases[i].target, next, sizeof next);
        int got = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items"));
        cr_expect(got == cases[i].want && *next,
                  "GET %s with 105 items gave %d items and next \"%s\"; expected %d and a next "
                  "link (limit: 20 when not given, 1 to 100)", cases[i].target, got, next,
                  cases[i].want);
        cJSON_Delete(page);
    }
}

/* The test's own model of an item, to compute the order it expects. */
struct model {
    long long id;
    char name[16];
    long long qty;
    double price;
};

static int model_sort, model_desc;

static int model_cmp(const void *pa, const void *pb)
{
    const struct model *a = pa, *b = pb;
    int c = model_sort == 1   ? strcmp(a->name, b->name)
            : model_sort == 2 ? (a->qty > b->qty) - (a->qty < b->qty)
            : model_sort == 3 ? (a->price > b->price) - (a->price < b->price)
                              : 0;
    if (c == 0)
        c = (a->id > b->id) - (a->id < b->id);
    return model_desc ? -c : c;
}

Test(lists, every_sort_and_order_walks_in_its_order_with_ties_broken_by_id)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    /* Few distinct values, so that ties are many; names in both cases. */
    static const char *const names[] = {"apple",  "Apple",
                                        "banana", "b",
                                        "cherry", "\xC3\xA9" "clair"};
    struct model m[40];
    for (int i = 0; i < 40; i++) {
        uint32_t r = wb_random_u32();
        snprintf(m[i].name, sizeof m[i].name, "%s", names[r % 6]);
        m[i].qty = (r >> 3) % 4 * 1000;
        m[i].price = (double)((r >> 7) % 5) / 4;
        char json[128];
        snprintf(json, sizeof json, "{\"name\":\"%s\",\"qty\":%lld,\"price\":%.2f}", m[i].name,
                 m[i].qty, m[i].price);
        m[i].id = rc_create(p, fd, json, NULL, 0);
    }
    for (int sort = 0; sort < 4; sort++)
        for (int desc = 0; desc < 2; desc++) {
            model_sort = sort;
            model_desc = desc;
            qsort(m, 40, sizeof m[0], model_cmp);
            char target[128];
            snprintf(target, sizeof target, "/items?limit=7&sort=%s&order=%s", sort_names[sort],
                     desc ? "desc" : "asc");
            long long ids[64];
            size_t n = walk(p, fd, target, ids, 64, NULL, NULL);
            cr_assert(n == 40, "the walk from %s over 40 items saw %zu (seed %llu)", target, n,
                      (unsigned long long)wb_seed());
            for (size_t i = 0; i < n; i++)
                cr_assert(ids[i] == m[i].id,
                          "the walk from %s: item %zu has id %lld; expected %lld (name \"%s\", "
                          "qty %lld, price %g): sorted by %s %s, ties by id the same way; names "
                          "by their bytes, so \"Apple\" < \"apple\" (seed %llu)", target, i,
                          ids[i], m[i].id, m[i].name, m[i].qty, m[i].price, sort_names[sort],
                          desc ? "descending" : "ascending", (unsigned long long)wb_seed());
        }
}

Test(lists, the_name_filter_has_no_wildcards_and_ignores_ascii_case)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const char *const names[] = {"100% cotton", "100 cotton", "a_b", "axb",
                                        "ABC", "abc", "\xC3\x89t\xC3\xA9", "x&y=z"};
    long long id[COUNT(names)];
    for (size_t i = 0; i < COUNT(names); i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"name\":\"%s\"}", names[i]);
        id[i] = rc_create(p, fd, json, NULL, 0);
    }
    static const struct {
        const char *q;
        int want[4]; /* indexes into names, -1 ends */
        const char *why;
    } cases[] = {
        {"name=%25", {0, -1}, "'%' is a character, not SQL LIKE's \"anything\""},
        {"name=_", {2, -1}, "'_' is a character, not \"any one character\""},
        {"name=abc", {4, 5, -1}, "ASCII letters match either case"},
        {"name=100+cotton", {1, -1}, "'+' is a space"},
        {"name=%C3%A9", {6, -1}, "\xC3\xA9 matches itself; only ASCII letters ignore case"},
        {"name=x%26y%3Dz", {7, -1}, "%26 and %3D are '&' and '=' inside the value"},
        {"name=nothing", {-1}, "no name holds it: an empty page"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char target[128];
        snprintf(target, sizeof target, "/items?%s", cases[i].q);
        long long ids[16];
        size_t n = walk(p, fd, target, ids, 16, NULL, NULL), k = 0;
        for (; k < 4 && cases[i].want[k] >= 0; k++)
            ;
        int same = n == k;
        for (size_t j = 0; same && j < k; j++)
            same = ids[j] == id[cases[i].want[j]];
        char got[256] = "", want[256] = "";
        for (size_t j = 0; j < n; j++)
            snprintf(got + strlen(got), sizeof got - strlen(got), " %lld", ids[j]);
        for (size_t j = 0; j < k; j++)
            snprintf(want + strlen(want), sizeof want - strlen(want), " %lld (%s)",
                     id[cases[i].want[j]], names[cases[i].want[j]]);
        cr_expect(same, "GET %s gave the ids [%s ]; expected [%s ] -- %s", target, got,
                  *want ? want : "", cases[i].why);
    }
}

Test(lists, bad_query_parameters_get_400_with_each_listed)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const struct {
        const char *target;
        const char *params;
    } cases[] = {
        {"/items?limit=0", "limit"},
        {"/items?limit=abc&sort=secret", "limit sort"},
        {"/items?order=random&page=2", "order page"},
        {"/items?name=%FF%FE", "name"},
        {"/items?cursor=not-a-cursor", "cursor"},
        {"/items?sort=name;--", "sort"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct ht_response *r = rc_send(p, fd, "GET", cases[i].target, NULL, NULL, 0);
        char why[256];
        snprintf(why, sizeof why, "GET %s: a bad query is 400, a problem listing each bad "
                 "parameter in \"errors\"", cases[i].target);
        cJSON *body = jt_expect_problem(p, r, 400, why);
        const char *got = params_of(cJSON_GetObjectItemCaseSensitive(body, "errors"));
        cr_expect(strcmp(got, cases[i].params) == 0,
                  "%s\nexpected errors for \"%s\" ({\"parameter\": ..., \"detail\": ...} each); "
                  "received errors for \"%s\"\n%s", why, cases[i].params, got,
                  ht_describe_response(r));
        cJSON_Delete(body);
        ht_free(r);
        rc_expect_alive(p, fd, why);
    }
    /* 1000 bad parameters: the answer lists a few, it does not grow with them */
    char target[8192] = "/items?";
    for (int i = 0; i < 1000; i++)
        strcat(target, i ? "&x" : "x");
    struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
    cJSON *body = jt_expect_problem(p, r, 400, "GET /items?x&x&x... (1000 unknown parameters)");
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(body, "errors"));
    cr_expect(n >= 1 && n <= QUERY_ERRORS_MAX,
              "GET /items?x&x&x... with 1000 unknown parameters listed %d errors in a body of %zu "
              "bytes; expected 1 to QUERY_ERRORS_MAX (%d): an answer must not grow with the "
              "number of bad parameters (a 4 KB request must not buy a 100 KB answer)", n,
              r->body_len, QUERY_ERRORS_MAX);
    cJSON_Delete(body);
    ht_free(r);
}

/* What the other client does between two pages of the walk below: it
 * deletes two items the walk has seen and one it has not, and creates
 * two. */
struct churn {
    struct wb_proc *p;
    int fd;
    long long *ids;            /* the items there are; 0: deleted */
    size_t n;
    int *deleted_unseen;       /* per index of ids: deleted before the walk saw it */
};

static int was_seen(const long long *seen, size_t nseen, long long id)
{
    for (size_t i = 0; i < nseen; i++)
        if (seen[i] == id)
            return 1;
    return 0;
}

static void churn(void *arg, const long long *seen_ids, size_t nseen)
{
    struct churn *c = arg;
    int seen_gone = 0, unseen_gone = 0;
    for (size_t k = 0; k < 4 * c->n && (seen_gone < 2 || unseen_gone < 1); k++) {
        size_t i = wb_random_u32() % c->n;
        if (!c->ids[i])
            continue;
        int seen = was_seen(seen_ids, nseen, c->ids[i]);
        if ((seen && seen_gone < 2) || (!seen && unseen_gone < 1)) {
            delete_item(c->p, c->fd, c->ids[i]);
            if (!seen)
                c->deleted_unseen[i] = 1;
            c->ids[i] = 0;
            *(seen ? &seen_gone : &unseen_gone) += 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"name\":\"new %08x\"}", wb_random_u32());
        rc_create(c->p, c->fd, json, NULL, 0);
    }
}

Test(lists, a_walk_sees_every_surviving_item_once_while_others_delete_and_create)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p), other = wb_connect(p);
    for (int sort = 0; sort < 2; sort++) {
        enum { N = 60 };
        long long ids[N], orig[N], seen[256];
        int deleted_unseen[N] = {0};
        size_t nseen = 0;
        for (int i = 0; i < N; i++) {
            char json[64];
            snprintf(json, sizeof json, "{\"name\":\"item %08x\"}", wb_random_u32());
            orig[i] = ids[i] = rc_create(p, fd, json, NULL, 0);
        }
        struct churn c = {p, other, ids, N, deleted_unseen};
        const char *target = sort ? "/items?limit=10&sort=name" : "/items?limit=10";
        nseen = walk(p, fd, target, seen, 256, churn, &c);
        for (int i = 0; i < N; i++) {
            size_t times = 0;
            for (size_t k = 0; k < nseen; k++)
                times += seen[k] == orig[i];
            if (ids[i])
                cr_assert(times == 1,
                          "a walk from %s, while another client deleted 3 items and created 2 "
                          "between pages: item %lld, never deleted, was seen %zu times; expected "
                          "exactly once. A page must start after the last item's place in the "
                          "order (the cursor), not at an offset: deleting seen items shifts "
                          "offsets (seed %llu)", target, orig[i], times,
                          (unsigned long long)wb_seed());
            else if (deleted_unseen[i])
                cr_assert(times == 0, "a walk from %s saw item %lld after it was deleted "
                          "(seed %llu)", target, orig[i], (unsigned long long)wb_seed());
        }
        for (size_t k = 0; k < nseen; k++)
            for (size_t j = k + 1; j < nseen; j++)
                cr_assert(seen[k] != seen[j], "a walk from %s saw item %lld twice (seed %llu)",
                          target, seen[k], (unsigned long long)wb_seed());
        for (int i = 0; i < N; i++)
            if (ids[i])
                delete_item(p, fd, ids[i]);
    }
}
