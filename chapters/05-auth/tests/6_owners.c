/* Stage 6: whose is it? Owners and roles. Every path but GET /health and
 * the account routes needs a session, and a request without one hears
 * 401 before anything else -- not even whether the path exists (deny by
 * default). An item is its creator's: the lists show a user only their
 * own items, an idempotency key is each user's own, and another's item is
 * the 404 of an id no item has, byte for byte, for every method, and stays
 * untouched; an item without an owner is no one's. /admin/... is an
 * admin's: a user gets 403 with error="insufficient_scope" for every path
 * under it, and the role is read from the database at every request --
 * the test makes and unmakes admins behind the server's back, as an
 * operator would. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "authtest.h"

WB_SUITE(owners);

#define SCOPE AT_REALM ", error=\"insufficient_scope\""
#define MERGE "Content-Type: application/merge-patch+json\r\n"

/* ---- helpers -------------------------------------------------------------- */

/* The first column of sql's first row, a number, on a connection of the
 * test's own that is closed before it returns. */
static long long oracle_count(const char *sql)
{
    sqlite3 *db = db_oracle(at_db_path());
    long long n = atoll(db_value(db, sql));
    sqlite3_close(db);
    return n;
}

/* Fails the test, saying what to write, unless items has owner_id. */
static void need_owner_column(void)
{
    sqlite3 *db = db_oracle(at_db_path());
    long long n = atoll(db_value(db, "SELECT count(*) FROM pragma_table_info('items') "
                                     "WHERE name = 'owner_id'"));
    char version[32];
    snprintf(version, sizeof version, "%s", db_value(db, "PRAGMA user_version"));
    sqlite3_close(db);
    cr_assert(n == 1, "the items table of %s has no column owner_id (PRAGMA user_version is "
              "%s): every item has an owner, the user who made it. authdb.c: append step 6 to "
              "authdb_steps[] -- ALTER TABLE items ADD COLUMN owner_id INTEGER REFERENCES "
              "users (id); CREATE INDEX items_owner ON items (owner_id, id). Chapter 04's "
              "store, built here with ITEM_OWNER, writes and reads the column", at_db_path(),
              version);
}

/* items.owner_id of the item id as text: a number, "NULL", or "(no row)".
 * In a message slot. */
static const char *owner_of(long long id)
{
    need_owner_column();
    sqlite3 *db = db_oracle(at_db_path());
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT coalesce(owner_id, 'NULL') FROM items WHERE id = %lld", id);
    char *out = wb_msgbuf(64);
    snprintf(out, 64, "%s", db_value(db, sql));
    sqlite3_close(db);
    if (!out[0])
        snprintf(out, 64, "(no row)");
    return out;
}

/* Everything the items row id holds and its tags, as one text, to compare
 * before and after: copied into out[0..cap). */
static void row_of(long long id, char *out, size_t cap)
{
    need_owner_column();
    sqlite3 *db = db_oracle(at_db_path());
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT 'name=' || name || ' qty=' || qty || ' price=' || price "
             "|| ' version=' || version || ' updated_at=' || updated_at || ' owner_id=' || "
             "coalesce(owner_id, 'NULL') || ' tags=' || coalesce((SELECT group_concat(tag, ',') "
             "FROM (SELECT tag FROM item_tags WHERE item_id = items.id ORDER BY position)), '') "
             "FROM items WHERE id = %lld", id);
    snprintf(out, cap, "%s", db_value(db, sql));
    sqlite3_close(db);
    if (!out[0])
        snprintf(out, cap, "(no row: the item is gone)");
}

/* UPDATE users SET role = role for the account name, by the test's own
 * connection: how an operator makes an admin. */
static void set_role(const char *name, const char *role)
{
    sqlite3 *db = db_oracle(at_db_path());
    char sql[160];
    snprintf(sql, sizeof sql, "UPDATE users SET role = '%s' WHERE username = '%s'", role, name);
    db_exec(db, sql);
    int n = sqlite3_changes(db);
    sqlite3_close(db);
    cr_assert(n == 1, "test setup: %s changed %d rows; expected the one of \"%s\"", sql, n, name);
}

/* POST /items of json with token (name's): the new item's id. */
static long long make_item(struct wb_proc *p, int fd, const char *token, const char *name,
                           const char *json)
{
    char why[512];
    snprintf(why, sizeof why, "with %s's token, for an item the test needs (a 500 here: "
             "chapter 04's store, built with ITEM_OWNER, writes items.owner_id, the column "
             "authdb.c step 6 adds)", name);
    return at_create(p, fd, at_bearer(token, NULL), json, why);
}

/* method target with headers and body (NULL: none). */
static struct ht_response *ask(struct wb_proc *p, int fd, const char *method, const char *target,
                               const char *headers, const char *body)
{
    return rc_send(p, fd, method, target, headers, body, body ? strlen(body) : 0);
}

/* r must be 404 Not Found, a problem document (no body after HEAD). */
static void expect_404(struct wb_proc *p, const struct ht_response *r, const char *msg)
{
    if (r->head_request)
        ht_expect_status(p, r, 404, NULL, 0, msg);
    else
        cJSON_Delete(jt_expect_problem(p, r, 404, msg));
}

/* r must be status (401, 400) with the challenge AT_REALM, alone (error
 * NULL) or with error="<error>"; a problem document but after HEAD. */
static void expect_challenge(struct wb_proc *p, const struct ht_response *r, int status,
                             const char *error, const char *msg)
{
    if (r->head_request)
        ht_expect_status(p, r, status, NULL, 0, msg);
    else
        cJSON_Delete(jt_expect_problem(p, r, status, msg));
    at_expect_challenge(p, r, error, msg);
}

/* r must be 403 with WWW-Authenticate: SCOPE; a problem document but
 * after HEAD. */
static void expect_403_scope(struct wb_proc *p, const struct ht_response *r, const char *msg)
{
    if (r->head_request)
        ht_expect_status(p, r, 403, NULL, 0, msg);
    else
        cJSON_Delete(jt_expect_problem(p, r, 403, msg));
    ht_expect_header(p, r, "WWW-Authenticate", SCOPE, msg);
}

/* GET target with token must be 200 with the account {id, name, role}. */
static void expect_account(struct wb_proc *p, int fd, const char *token, const char *target,
                           long long id, const char *name, const char *role, const char *why)
{
    struct ht_response *r = ask(p, fd, "GET", target, at_bearer(token, NULL), NULL);
    char msg[1024], want[160];
    snprintf(msg, sizeof msg, "GET %s with %s: 200 and the account {\"id\", \"username\", "
             "\"role\"} as the database has it now", target, why);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"%s\",\"role\":\"%s\"}", id, name,
             role);
    jt_expect_json(p, r, want, msg);
    ht_free(r);
}

/* The items one walk of the list saw, page after page. */
struct walk {
    long long ids[64];
    char names[64][32];
    int n, pages;
};

/* GET target with token, then every "next" link until "next" is null:
 * each page 200 with at most limit items (0: no limit checked). */
static void walk(struct wb_proc *p, int fd, const char *token, const char *target, int limit,
                 struct walk *w, const char *why)
{
    char next[1024];
    snprintf(next, sizeof next, "%s", target);
    memset(w, 0, sizeof *w);
    while (next[0]) {
        cr_assert(w->pages < 40, "%s: GET %s followed \"next\" 40 times and the list has not "
                  "ended: the last page says \"next\": null", why, target);
        struct ht_response *r = ask(p, fd, "GET", next, at_bearer(token, NULL), NULL);
        char msg[1024];
        snprintf(msg, sizeof msg, "GET %s with %s (page %d of the walk from %s): 200 and "
                 "{\"items\": [...], \"next\": ...}", next, why, w->pages + 1, target);
        ht_expect_status(p, r, 200, NULL, 0, msg);
        cJSON *j = jt_body(p, r, msg);
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(j, "items"), *it;
        const cJSON *nx = cJSON_GetObjectItemCaseSensitive(j, "next");
        int count = cJSON_GetArraySize(items);
        int ok = cJSON_IsArray(items) && (limit == 0 || count <= limit) &&
                 (cJSON_IsNull(nx) || cJSON_IsString(nx));
        if (!ok) {
            const char *resp = ht_describe_response(r);
            cJSON_Delete(j);
            char most[48] = "";
            if (limit)
                snprintf(most, sizeof most, " of at most %d items", limit);
            cr_fatal("%s\nexpected an \"items\" array%s and \"next\", a link or null (chapter "
                     "03's page)\nreceived: %s", msg, most, resp);
        }
        cJSON_ArrayForEach(it, items)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
            const cJSON *name = cJSON_GetObjectItemCaseSensitive(it, "name");
            if (w->n < 64) {
                w->ids[w->n] = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
                snprintf(w->names[w->n], sizeof w->names[0], "%s",
                         cJSON_IsString(name) ? name->valuestring : "?");
                w->n++;
            }
        }
        snprintf(next, sizeof next, "%s", cJSON_IsString(nx) ? nx->valuestring : "");
        w->pages++;
        cJSON_Delete(j);
        ht_free(r);
    }
}

/* The ids of w, "[3, 5, 8]" (names too: "[3 apple, 5 kiwi]"), for a
 * message, in a slot. */
static const char *seen(const struct walk *w, int names)
{
    char *out = wb_msgbuf(2048);
    size_t o = (size_t)snprintf(out, 2048, "[");
    for (int i = 0; i < w->n && o < 2000; i++)
        o += (size_t)snprintf(out + o, 2048 - o, "%s%lld%s%s", i ? ", " : "", w->ids[i],
                              names ? " " : "", names ? w->names[i] : "");
    snprintf(out + o, 2048 - o, "]");
    return out;
}

/* 1 when w saw exactly want[0..n), in that order. */
static int saw_exactly(const struct walk *w, const long long *want, int n)
{
    if (w->n != n)
        return 0;
    for (int i = 0; i < n; i++)
        if (w->ids[i] != want[i])
            return 0;
    return 1;
}

/* The ETag of the item id, as its owner (token) GETs it. */
static void etag_of(struct wb_proc *p, int fd, const char *token, long long id, char *out,
                    size_t cap)
{
    char target[64], msg[256];
    snprintf(target, sizeof target, "/items/%lld", id);
    struct ht_response *r = ask(p, fd, "GET", target, at_bearer(token, NULL), NULL);
    snprintf(msg, sizeof msg, "GET %s with its owner's token, for its ETag: 200", target);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    const char *e = ht_header(r, "ETag");
    cr_assert(e != NULL, "%s with an ETag field (chapter 03)\nreceived: %s", msg,
              ht_describe_response(r));
    snprintf(out, cap, "%s", e);
    ht_free(r);
}

/* ---- a session before anything else ------------------------------------------ */

Test(owners, every_path_but_health_and_the_account_routes_is_401_before_anything_else)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\"}");

    static const struct {
        const char *method, *target; /* target NULL: /items/<alice's item> */
        const char *headers, *body;
        const char *api; /* what the items API alone would answer */
    } asks[] = {
        {"GET", "/items", NULL, NULL, "200, a page of items"},
        {"HEAD", "/items", NULL, NULL, "200"},
        {"GET", NULL, NULL, NULL, "200 and alice's item"},
        {"GET", "/items/999999", NULL, NULL, "404: no item has that id"},
        {"GET", "/nope", NULL, NULL, "404: the API has no such path"},
        {"DELETE", "/items", NULL, NULL, "405 with Allow"},
        {"OPTIONS", "/items", NULL, NULL, "204 with Allow"},
        {"POST", "/items", "Content-Type: text/plain\r\n", "name=x", "415"},
        {"POST", "/items", AT_JSON, "{\"name\":", "400: the body is not JSON"},
        {"POST", "/items", AT_JSON, "{\"qty\":-1}", "422: no name, a negative qty"},
        {"POST", "/items", AT_JSON, "{\"name\":\"anonymous\"}", "201, a new item"},
        {"PUT", NULL, AT_JSON, "{\"name\":\"anonymous\"}", "200, alice's item replaced"},
        {"PATCH", NULL, MERGE, "{\"name\":\"anonymous\"}", "200, alice's item changed"},
        {"DELETE", NULL, NULL, NULL, "204, alice's item deleted"},
    };
    char mine[64];
    snprintf(mine, sizeof mine, "/items/%lld", x);
    char *first = NULL;
    size_t flen = 0;
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        const char *target = asks[i].target ? asks[i].target : mine;
        struct ht_response *r = ask(p, fd, asks[i].method, target, asks[i].headers, asks[i].body);
        char msg[1280];
        snprintf(msg, sizeof msg, "%s %s%s%s with no credentials%s%s: every path but GET "
                 "/health and the account routes needs a session, and a request without one "
                 "hears that before anything else about it -- 401 with WWW-Authenticate: %s, "
                 "not what the items API alone would answer (%s). auth.c auth_serve(): after your "
                 "routes, public_request() (GET /health) goes to api_serve() as before, "
                 "admin_area() to admin_gate(), and everything else to items(), whose first step is "
                 "authenticate() -- deny by default", asks[i].method, target,
                 asks[i].body ? " " : "", asks[i].body ? asks[i].body : "",
                 asks[i].headers ? ", " : "",
                 asks[i].headers ? wb_esc(asks[i].headers, strlen(asks[i].headers), 80) : "",
                 AT_REALM, asks[i].api);
        expect_challenge(p, r, 401, NULL, msg);
        /* the GETs of an item that exists, of one that does not, and of a
         * path the API does not have: one answer, so nothing is learned */
        if (strcmp(asks[i].method, "GET") == 0 && strcmp(target, "/items") != 0) {
            size_t glen;
            char *got = at_without_date(r, &glen);
            if (!first) {
                first = got;
                flen = glen;
            } else {
                int same = glen == flen && memcmp(got, first, flen) == 0;
                cr_expect(same, "%s\nthe 401 differs from the one to GET %s (an item that "
                          "exists), the Date field left out:\n%s\na stranger must not tell an "
                          "item that exists from one that does not, nor a path from none: one "
                          "challenge, before the path is looked at", msg, mine,
                          wb_diff(first, flen, got, glen, 300));
                free(got);
            }
        }
        ht_free(r);
    }
    free(first);
    long long n = oracle_count("SELECT count(*) FROM items");
    long long v = oracle_count("SELECT max(version) FROM items");
    cr_expect(n == 1 && v == 1, "after %zu requests without credentials, all refused, the items "
              "table has %lld rows at version %lld at most; expected alice's one item at "
              "version 1: nothing was created, changed or deleted",
              sizeof asks / sizeof asks[0], n, v);
    struct ht_response *r = ask(p, fd, "GET", "/health", NULL, NULL);
    ht_expect_status(p, r, 200, NULL, 0, "GET /health with no credentials: the one path of the "
                     "API anyone may ask for (a load balancer has no account) -- auth.c "
                     "auth_serve(): public_request() -> api_serve()");
    ht_free(r);
    r = ask(p, fd, "GET", mine, at_bearer(a, NULL), NULL);
    char msg[256];
    snprintf(msg, sizeof msg, "GET %s with alice's token, after the refused requests: her item, "
             "200 (auth.c items(): authenticate(), then api_serve() on her view of the store)",
             mine);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
}

Test(owners, a_logged_out_or_unknown_token_on_the_items_is_401_invalid_token)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], gone[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", gone);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\"}");
    struct ht_response *r = ask(p, fd, "DELETE", "/sessions/current", at_bearer(gone, NULL), NULL);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE /sessions/current with alice's second token: "
                     "log it out, 204 (stage 4)");
    ht_free(r);

    char mine[64], admin[64];
    snprintf(mine, sizeof mine, "/items/%lld", x);
    snprintf(admin, sizeof admin, "/admin/users/%lld", alice);
    const struct {
        const char *method, *target, *headers, *body;
    } asks[] = {
        {"GET", "/items", NULL, NULL},
        {"GET", mine, NULL, NULL},
        {"POST", "/items", AT_JSON, "{\"name\":\"ghost\"}"},
        {"PATCH", mine, MERGE, "{\"name\":\"ghost\"}"},
        {"DELETE", mine, NULL, NULL},
        {"GET", admin, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        r = ask(p, fd, asks[i].method, asks[i].target, at_bearer(gone, asks[i].headers),
                asks[i].body);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s %s%s%s with alice's token %s, which she logged out "
                 "(DELETE /sessions/current): its session is gone, so 401 with "
                 "error=\"invalid_token\", before anything is done. auth.c %s: "
                 "authenticate() first, as get_me() does", asks[i].method, asks[i].target,
                 asks[i].body ? " " : "", asks[i].body ? asks[i].body : "", gone,
                 strncmp(asks[i].target, "/admin", 6) == 0 ? "admin_gate()" : "items()");
        expect_challenge(p, r, 401, "invalid_token", msg);
        ht_free(r);
    }
    r = ask(p, fd, "GET", "/items", "Authorization: Bearer not-a-token-at-all\r\n", NULL);
    expect_challenge(p, r, 401, "invalid_token", "GET /items with Authorization: Bearer "
                     "not-a-token-at-all: a token that opens no session -- 401 with "
                     "error=\"invalid_token\" (auth.c items() -> authenticate())");
    ht_free(r);
    r = ask(p, fd, "GET", "/items", "Authorization: Bearer \r\n", NULL);
    expect_challenge(p, r, 400, "invalid_request", "GET /items with \"Authorization: Bearer \" "
                     "and no token: a malformed request -- 400 with error=\"invalid_request\" "
                     "(auth.c items() -> authenticate())");
    ht_free(r);

    long long n = oracle_count("SELECT count(*) FROM items");
    char row[512];
    row_of(x, row, sizeof row);
    cr_expect(n == 1 && strstr(row, "name=alice-pear ") && strstr(row, "version=1 "),
              "after the refused requests, the items table has %lld rows and alice's item is "
              "%s; expected her one item, untouched (alice-pear at version 1)", n, row);
    r = ask(p, fd, "GET", mine, at_bearer(a, NULL), NULL);
    char msg[256];
    snprintf(msg, sizeof msg, "GET %s with alice's first token, still logged in: 200", mine);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
}

/* ---- items have an owner -------------------------------------------------------- */

Test(owners, a_new_item_is_its_creators_and_no_body_chooses_the_owner)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\"}");
    char want[32];
    snprintf(want, sizeof want, "%lld", alice);
    const char *owner = owner_of(x);
    cr_assert(strcmp(owner, want) == 0, "alice (id %lld) made item %lld with POST /items and "
              "her token; its owner_id is %s; expected %lld -- the creator owns it. auth.c "
              "items(): api_serve() on a view of the store made from the session's user -- "
              "struct api mine = *c->auth->api; mine.store = store_scope(c->auth->api->store, "
              "who.id) -- and the store's INSERT writes the view's owner", alice, x, owner,
              alice);

    /* the owner is the session's, never the body's */
    char body[96], mine[64];
    snprintf(body, sizeof body, "{\"name\":\"bobs-now\",\"owner_id\":%lld}", bob);
    snprintf(mine, sizeof mine, "/items/%lld", x);
    const struct {
        const char *method, *target, *headers;
    } asks[] = {
        {"POST", "/items", AT_JSON},
        {"PUT", mine, AT_JSON},
        {"PATCH", mine, MERGE},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        struct ht_response *r = ask(p, fd, asks[i].method, asks[i].target,
                                    at_bearer(a, asks[i].headers), body);
        char msg[768];
        snprintf(msg, sizeof msg, "%s %s %s with alice's token: \"owner_id\" is not a member a "
                 "client may send (the server decides it, from the session), so 422 with an "
                 "error at \"/owner_id\", as for \"id\" or \"version\" (chapter 03's "
                 "item_from_json())", asks[i].method, asks[i].target, body);
        cJSON *j = jt_expect_problem(p, r, 422, msg);
        cr_expect(at_has_error_at(j, "/owner_id"), "%s\nthe errors point at %s", msg,
                  at_error_pointers(j));
        cJSON_Delete(j);
        ht_free(r);
    }
    struct ht_response *r = ask(p, fd, "PUT", mine, at_bearer(a, AT_JSON),
                                "{\"name\":\"alice-plum\"}");
    char msg[256];
    snprintf(msg, sizeof msg, "PUT %s {\"name\":\"alice-plum\"} with alice's token: her own "
             "item, replaced, 200", mine);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
    owner = owner_of(x);
    cr_expect(strcmp(owner, want) == 0, "after three bodies naming bob (id %lld) as the owner "
              "and a PUT by alice, item %lld has owner_id %s; expected alice's %lld: the owner "
              "is set once, by the INSERT, and no replace or patch moves it", bob, x, owner,
              alice);
    long long n = oracle_count("SELECT count(*) FROM items");
    cr_expect(n == 1, "the items table has %lld rows; expected 1 -- the POST with \"owner_id\" "
              "was refused and makes nothing", n);
    r = ask(p, fd, "GET", mine, at_bearer(b, NULL), NULL);
    snprintf(msg, sizeof msg, "GET %s with bob's token, after bodies that named him its owner: "
             "it is alice's still, so to bob it is the 404 of an id no item has (auth.c "
             "items(), store_scope())", mine);
    expect_404(p, r, msg);
    ht_free(r);
}

Test(owners, another_users_item_is_the_404_of_a_missing_id_for_every_method)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\",\"qty\":3}");
    char etag[64], target[64];
    etag_of(p, fd, a, x, etag, sizeof etag);
    snprintf(target, sizeof target, "/items/%lld", x);

    enum { NONE, IF_MATCH, IF_NONE_MATCH };
    static const struct {
        const char *method;
        int cond;
        const char *headers, *body;
    } asks[] = {
        {"GET", NONE, NULL, NULL},
        {"GET", IF_NONE_MATCH, NULL, NULL},
        {"HEAD", NONE, NULL, NULL},
        {"PUT", NONE, AT_JSON, "{\"name\":\"bob-was-here\"}"},
        {"PUT", IF_MATCH, AT_JSON, "{\"name\":\"bob-was-here\"}"},
        {"PATCH", NONE, MERGE, "{\"name\":\"bob-was-here\"}"},
        {"PATCH", IF_MATCH, MERGE, "{\"name\":\"bob-was-here\"}"},
        {"DELETE", IF_MATCH, NULL, NULL},
        {"DELETE", NONE, NULL, NULL},
    };
    enum { N = sizeof asks / sizeof asks[0] };
    char *before[N];
    size_t blen[N];
    /* round 0: alice's item exists; round 1: alice deleted it */
    for (int round = 0; round < 2; round++) {
        for (size_t i = 0; i < N; i++) {
            char h[256];
            snprintf(h, sizeof h, "%s%s%s%s",
                     asks[i].cond == IF_MATCH ? "If-Match: " :
                     asks[i].cond == IF_NONE_MATCH ? "If-None-Match: " : "",
                     asks[i].cond ? etag : "", asks[i].cond ? "\r\n" : "",
                     asks[i].headers ? asks[i].headers : "");
            struct ht_response *r = ask(p, fd, asks[i].method, target, at_bearer(b, h),
                                        asks[i].body);
            char msg[1280];
            snprintf(msg, sizeof msg, "%s %s%s%s with bob's token%s%s -- %s: 404, a problem "
                     "document, the very answer to an id no item has. Anything else -- 200, "
                     "204, 304, 403, 412 -- tells bob the item exists, or hands it to him. "
                     "auth.c items(): api_serve() on store_scope(store, who.id), a view in "
                     "which another's item is STORE_NOT_FOUND in every statement",
                     asks[i].method, target, asks[i].body ? " " : "",
                     asks[i].body ? asks[i].body : "", asks[i].cond ? " and " : "",
                     asks[i].cond ? wb_esc(h, strcspn(h, "\r"), 80) : "",
                     round ? "the id of an item alice has deleted: no item has it" :
                     "alice's item, which bob cannot see");
            expect_404(p, r, msg);
            size_t len;
            char *bytes = at_without_date(r, &len);
            if (round == 0) {
                before[i] = bytes;
                blen[i] = len;
            } else {
                int same = len == blen[i] && memcmp(bytes, before[i], len) == 0;
                cr_expect(same, "%s %s with bob's token%s%s: the answer while alice's item "
                          "existed and the answer once no item had the id differ (the Date "
                          "field left out):\n%s\nexpected them byte for byte the same -- status, "
                          "fields, detail: a difference of one byte tells bob which ids are "
                          "someone's. The store must say STORE_NOT_FOUND for both, and the API "
                          "then answers both alike", asks[i].method, target,
                          asks[i].cond ? " and " : "",
                          asks[i].cond ? wb_esc(h, strcspn(h, "\r"), 80) : "",
                          wb_diff(before[i], blen[i], bytes, len, 300));
                free(bytes);
                free(before[i]);
            }
            ht_free(r);
        }
        if (round == 0) {
            struct ht_response *r = ask(p, fd, "DELETE", target, at_bearer(a, NULL), NULL);
            char msg[256];
            snprintf(msg, sizeof msg, "DELETE %s with alice's token, after bob's %d refused "
                     "requests: her item is still there to delete, 204", target, (int)N);
            ht_expect_status(p, r, 204, NULL, 0, msg);
            ht_free(r);
        }
    }
}

Test(owners, another_users_requests_leave_the_item_exactly_as_it_was)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    long long x = make_item(p, fd, a, "alice",
                            "{\"name\":\"alice-pear\",\"qty\":3,\"tags\":[\"fruit\",\"green\"]}");
    char target[64], etag[64], row[512], after[512];
    snprintf(target, sizeof target, "/items/%lld", x);
    struct ht_response *r = ask(p, fd, "GET", target, at_bearer(a, NULL), NULL);
    ht_expect_status(p, r, 200, NULL, 0, "GET of alice's new item with her token: 200");
    char *body = strndup(r->body, r->body_len);
    cr_assert(body != NULL, "test setup: out of memory");
    snprintf(etag, sizeof etag, "%s", ht_header(r, "ETag") ? ht_header(r, "ETag") : "");
    ht_free(r);
    row_of(x, row, sizeof row);

    const struct {
        const char *method;
        int if_match;
        const char *headers, *body;
    } asks[] = {
        {"PUT", 0, AT_JSON, "{\"name\":\"bob-was-here\",\"qty\":0,\"tags\":[]}"},
        {"PATCH", 0, MERGE, "{\"name\":\"bob-was-here\",\"tags\":null}"},
        {"DELETE", 0, NULL, NULL},
        {"PUT", 1, AT_JSON, "{\"name\":\"bob-was-here\"}"},
        {"PATCH", 1, MERGE, "{\"qty\":0}"},
        {"DELETE", 1, NULL, NULL},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        char h[256];
        snprintf(h, sizeof h, "%s%s%s%s", asks[i].if_match ? "If-Match: " : "",
                 asks[i].if_match ? etag : "", asks[i].if_match ? "\r\n" : "",
                 asks[i].headers ? asks[i].headers : "");
        r = ask(p, fd, asks[i].method, target, at_bearer(b, h), asks[i].body);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s %s%s%s with bob's token%s%s, on alice's item: 404, and "
                 "nothing changes. auth.c items(): the view of store_scope(store, who.id) "
                 "puts the owner into the WHERE of every UPDATE and DELETE, so bob's request "
                 "matches no row", asks[i].method, target, asks[i].body ? " " : "",
                 asks[i].body ? asks[i].body : "", asks[i].if_match ? " and If-Match: " : "",
                 asks[i].if_match ? etag : "");
        expect_404(p, r, msg);
        ht_free(r);
        row_of(x, after, sizeof after);
        cr_expect(strcmp(row, after) == 0, "%s\nalice's row, read by the test's own "
                  "connection, changed:\n  before: %s\n  after:  %s", msg, row, after);
        snprintf(row, sizeof row, "%s", after);
    }
    r = ask(p, fd, "GET", target, at_bearer(a, NULL), NULL);
    char msg[768];
    snprintf(msg, sizeof msg, "GET %s with alice's token, after bob's PUT, PATCH and DELETE "
             "(with and without If-Match): her item as it was -- alice-pear, qty 3, tags "
             "[fruit, green], version 1, ETag %s", target, etag);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_expect_header(p, r, "ETag", etag, msg);
    jt_expect_json(p, r, body, msg);
    ht_free(r);
    free(body);

    char h[160];
    snprintf(h, sizeof h, "If-Match: %s\r\n" AT_JSON, etag);
    r = ask(p, fd, "PUT", target, at_bearer(a, h), "{\"name\":\"alice-plum\"}");
    snprintf(msg, sizeof msg, "PUT %s {\"name\":\"alice-plum\"} with alice's token and If-Match: "
             "%s, the ETag she read before bob's requests: the item is at that version still "
             "-- bob moved nothing -- so 200", target, etag);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
}

/* ---- lists and keys are one's own ------------------------------------------------ */

Test(owners, every_page_of_a_list_shows_only_the_callers_own_items)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    at_register(p, fd, "carol", "carols-secret");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    at_login(p, fd, "carol", "carols-secret", c);
    /* made in turns, so that each one's ids lie between the other's */
    long long mine[5], his[4];
    for (int i = 0; i < 5; i++) {
        char json[64];
        snprintf(json, sizeof json, "{\"name\":\"alice-%d\"}", i);
        mine[i] = make_item(p, fd, a, "alice", json);
        if (i < 4) {
            snprintf(json, sizeof json, "{\"name\":\"bob-%d\"}", i);
            his[i] = make_item(p, fd, b, "bob", json);
        }
    }
    static const char *const hint = "auth.c items(): api_serve() on store_scope(store, who.id) "
                                    "-- the store's list then asks for WHERE owner_id = the "
                                    "view's user, on every page";
    struct walk w;
    walk(p, fd, a, "/items?limit=2", 2, &w, "alice's token");
    cr_expect(saw_exactly(&w, mine, 5), "alice walked GET /items?limit=2 and every \"next\" "
              "link: she saw %s in %d pages; expected her own 5 items %lld, %lld, %lld, %lld, "
              "%lld in order, and none of bob's (%lld, %lld, %lld, %lld) -- %s", seen(&w, 1),
              w.pages, mine[0], mine[1], mine[2], mine[3], mine[4], his[0], his[1], his[2],
              his[3], hint);
    cr_expect(w.pages == 3, "alice's 5 items at 2 a page are 3 pages; the walk took %d: a page "
              "is full, and \"next\" given, only while the OWNER's rows go on (the extra row "
              "the store reads to know whether a next page exists is hers too)", w.pages);
    walk(p, fd, b, "/items?limit=3", 3, &w, "bob's token");
    cr_expect(saw_exactly(&w, his, 4), "bob walked GET /items?limit=3 and every \"next\" link: "
              "he saw %s; expected his own 4 items %lld, %lld, %lld, %lld, and none of "
              "alice's -- %s", seen(&w, 1), his[0], his[1], his[2], his[3], hint);
    walk(p, fd, a, "/items", 0, &w, "alice's token");
    cr_expect(saw_exactly(&w, mine, 5) && w.pages == 1, "alice's GET /items (20 a page): she "
              "saw %s in %d page(s); expected her 5 items on one page with \"next\": null -- %s",
              seen(&w, 1), w.pages, hint);
    walk(p, fd, c, "/items", 0, &w, "carol's token");
    cr_expect(w.n == 0 && w.pages == 1, "carol, who made no item, asked GET /items and saw %s; "
              "expected {\"items\": [], \"next\": null}: 9 items exist, none of them hers -- %s",
              seen(&w, 1), hint);
}

Test(owners, the_name_filter_the_sort_and_a_cursor_never_reach_another_users_items)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    /* in name order they alternate: apple (a) apricot (b) banana (b)
     * cherry (a) date (b) kiwi (a) */
    long long apple = make_item(p, fd, a, "alice", "{\"name\":\"apple\"}");
    long long apricot = make_item(p, fd, b, "bob", "{\"name\":\"apricot\"}");
    long long kiwi = make_item(p, fd, a, "alice", "{\"name\":\"kiwi\"}");
    long long banana = make_item(p, fd, b, "bob", "{\"name\":\"banana\"}");
    long long cherry = make_item(p, fd, a, "alice", "{\"name\":\"cherry\"}");
    long long date = make_item(p, fd, b, "bob", "{\"name\":\"date\"}");
    static const char *const hint = "auth.c items(): api_serve() on store_scope(store, who.id): "
                                    "the store adds AND owner_id = <the user> to every list, "
                                    "whatever its filter, sort or cursor";

    struct walk w;
    walk(p, fd, a, "/items?name=ap", 0, &w, "alice's token");
    long long want_ap[] = {apple};
    cr_expect(saw_exactly(&w, want_ap, 1), "alice asked GET /items?name=ap and saw %s; "
              "expected her apple (%lld) alone -- bob's apricot (%lld) matches the filter but is "
              "not hers. %s", seen(&w, 1), apple, apricot, hint);
    walk(p, fd, a, "/items?sort=name&limit=1", 1, &w, "alice's token");
    long long want_up[] = {apple, cherry, kiwi};
    cr_expect(saw_exactly(&w, want_up, 3), "alice walked GET /items?sort=name&limit=1 and its "
              "\"next\" links: she saw %s; expected her apple, cherry, kiwi (%lld, %lld, %lld), "
              "one a page, and none of bob's apricot, banana, date that lie between them in "
              "name order. %s", seen(&w, 1), apple, cherry, kiwi, hint);
    walk(p, fd, a, "/items?sort=name&order=desc&limit=2", 2, &w, "alice's token");
    long long want_down[] = {kiwi, cherry, apple};
    cr_expect(saw_exactly(&w, want_down, 3), "alice walked GET "
              "/items?sort=name&order=desc&limit=2: she saw %s; expected kiwi, cherry, apple "
              "(%lld, %lld, %lld), hers alone. %s", seen(&w, 1), kiwi, cherry, apple, hint);

    /* a cursor is a place in an order, not a permission */
    struct ht_response *r = ask(p, fd, "GET", "/items?sort=name&limit=1", at_bearer(a, NULL),
                                NULL);
    ht_expect_status(p, r, 200, NULL, 0, "GET /items?sort=name&limit=1 with alice's token: 200");
    cJSON *j = jt_body(p, r, "GET /items?sort=name&limit=1 with alice's token");
    const cJSON *nx = cJSON_GetObjectItemCaseSensitive(j, "next");
    char link[1024];
    snprintf(link, sizeof link, "%s", cJSON_IsString(nx) ? nx->valuestring : "");
    cJSON_Delete(j);
    ht_free(r);
    cr_assert(link[0] != '\0', "GET /items?sort=name&limit=1 with alice's token, who has 3 "
              "items: expected a \"next\" link after her first");
    walk(p, fd, b, link, 1, &w, "bob's token and ALICE's next link");
    long long want_bob[] = {apricot, banana, date};
    cr_expect(saw_exactly(&w, want_bob, 3), "bob followed alice's \"next\" link %s (after her "
              "apple, by name) and the links after it, and saw %s; expected HIS items after "
              "apple by name, apricot, banana, date (%lld, %lld, %lld), and none of alice's "
              "cherry and kiwi (%lld, %lld): a cursor only says where a page starts, and the "
              "view decides whose rows it holds. %s", link, seen(&w, 1), apricot, banana, date,
              cherry, kiwi, hint);
}

/* POST /items body with token and Idempotency-Key: "key": the id it
 * answers, after a 201. */
static long long post_keyed(struct wb_proc *p, int fd, const char *token, const char *key,
                            const char *body, const char *why)
{
    char h[128];
    snprintf(h, sizeof h, "Idempotency-Key: \"%s\"\r\n" AT_JSON, key);
    struct ht_response *r = ask(p, fd, "POST", "/items", at_bearer(token, h), body);
    char msg[1024];
    snprintf(msg, sizeof msg, "POST /items %s with Idempotency-Key: \"%s\" and %s: 201 with "
             "the item", body, key, why);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    long long v = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    cJSON_Delete(j);
    if (v <= 0)
        cr_fatal("%s\nthe answer has no \"id\" above 0: %s", msg, ht_describe_response(r));
    ht_free(r);
    return v;
}

Test(owners, an_idempotency_key_is_each_users_own)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    static const char *const pear = "{\"name\":\"pear\",\"qty\":3}";
    long long hers = post_keyed(p, fd, a, "k1", pear, "alice's token");
    long long his = post_keyed(p, fd, b, "k1", pear, "bob's token -- alice's key, alice's body: "
                               "to bob it is a new key, so a new item of his");
    cr_assert(his != hers, "bob sent POST /items %s with Idempotency-Key: \"k1\", the key and "
              "body alice had sent, and got item %lld -- alice's own item, replayed to him: "
              "expected a NEW item, his own. Keys are each user's: a shared key would let bob "
              "read alice's item by guessing her key. auth.c items(): api_serve() on "
              "store_scope(store, who.id) -- the store keeps a view's keys apart (\"<owner>/"
              "<key>\")", pear, hers);
    char want[32];
    snprintf(want, sizeof want, "%lld", bob);
    const char *owner = owner_of(his);
    cr_expect(strcmp(owner, want) == 0, "bob's item %lld, made with alice's key, has owner_id "
              "%s; expected bob's %lld", his, owner, bob);
    snprintf(want, sizeof want, "%lld", alice);
    owner = owner_of(hers);
    cr_expect(strcmp(owner, want) == 0, "alice's item %lld has owner_id %s; expected her %lld",
              hers, owner, alice);

    long long again = post_keyed(p, fd, a, "k1", pear, "alice's token, the same key and body "
                                 "again: a retry");
    cr_expect(again == hers, "alice retried POST /items %s with her key \"k1\" and got item "
              "%lld; expected her first answer again, item %lld -- bob's use of the same key "
              "is his own and changes nothing of hers", pear, again, hers);
    again = post_keyed(p, fd, b, "k1", pear, "bob's token, the same key and body again: a retry");
    cr_expect(again == his, "bob retried POST /items %s with his key \"k1\" and got item %lld; "
              "expected his first answer again, item %lld (never alice's %lld)", pear, again,
              his, hers);
    long long plum = post_keyed(p, fd, a, "k2", "{\"name\":\"plum\"}", "alice's token");
    long long fig = post_keyed(p, fd, b, "k2", "{\"name\":\"fig\"}", "bob's token -- a key "
                               "alice used for another item: not \"this key was used for "
                               "another item\" (422), for alice's keys are not his");
    cr_expect(fig != plum, "bob's POST /items with alice's key \"k2\" and another body got "
              "alice's item %lld; expected a new item of his", plum);
    long long n = oracle_count("SELECT count(*) FROM items");
    cr_expect(n == 4, "after alice's and bob's keyed POSTs (k1 by each, twice; k2 by each), "
              "the items table has %lld rows; expected 4: one per user and key", n);
    char target[64], msg[256];
    snprintf(target, sizeof target, "/items/%lld", his);
    struct ht_response *r = ask(p, fd, "GET", target, at_bearer(a, NULL), NULL);
    snprintf(msg, sizeof msg, "GET %s with alice's token: bob's item, made with her key -- "
             "still his, so 404 to her", target);
    expect_404(p, r, msg);
    ht_free(r);
}

/* ---- the schema, and items from before it ----------------------------------------- */

Test(owners, the_file_is_at_version_6_with_an_indexed_owner_id_referencing_users)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    sqlite3 *db = db_oracle(at_db_path());
    char version[32];
    snprintf(version, sizeof version, "%s", db_value(db, "PRAGMA user_version"));
    cr_expect(atoi(version) >= 6, "PRAGMA user_version of %s is %s; expected 6 (or more, "
              "after later stages): chapter 04's 3 steps, users (4), sessions (5), then "
              "authdb.c step 6 -- the items' owner -- appended to authdb_steps[]", at_db_path(),
              version);
    sqlite3_close(db);
    need_owner_column();
    db = db_oracle(at_db_path());
    const char *type = db_value(db, "SELECT upper(type) FROM pragma_table_info('items') "
                                    "WHERE name = 'owner_id'");
    cr_expect(strcmp(type, "INTEGER") == 0, "items.owner_id has the type \"%s\"; expected "
              "INTEGER, as users.id (authdb.c step 6)", type);
    const char *fk = db_value(db, "SELECT \"table\" || '(' || coalesce(\"to\", '') || ')' FROM "
                                  "pragma_foreign_key_list('items') WHERE \"from\" = "
                                  "'owner_id'");
    int refs = strcmp(fk, "users()") == 0 || strcmp(fk, "users(id)") == 0;
    cr_expect(refs, "items.owner_id references \"%s\"; expected REFERENCES users (id): an "
              "owner is an account (authdb.c step 6: ALTER TABLE items ADD COLUMN owner_id "
              "INTEGER REFERENCES users (id))", fk[0] ? fk : "nothing");
    char led[256];
    snprintf(led, sizeof led, "%s", db_value(db, "SELECT group_concat(l.name, ', ') FROM "
             "pragma_index_list('items') AS l WHERE (SELECT i.name FROM "
             "pragma_index_info(l.name) AS i WHERE i.seqno = 0) = 'owner_id'"));
    cr_expect(led[0] != '\0', "no index of items begins with owner_id: every list a user asks "
              "for is WHERE owner_id = ?, and without an index that is a scan of every user's "
              "items. authdb.c step 6: CREATE INDEX items_owner ON items (owner_id, id) -- "
              "(owner_id, id) also hands a page over in the order of the ids, without a sort");

    /* the plan of a page of one user's items in each order, as the store
     * asks for it: a search in an index that starts with the owner and
     * gives the order -- no scan of every user's items, no sort */
    static const char *const orders[] = {"id ASC, id ASC", "name ASC, id ASC",
                                         "qty DESC, id DESC", "price ASC, id ASC"};
    for (size_t k = 0; k < sizeof orders / sizeof orders[0]; k++) {
        char sql[256];
        snprintf(sql, sizeof sql, "EXPLAIN QUERY PLAN SELECT id, name FROM items WHERE 1 AND "
                 "owner_id = 1 ORDER BY %s LIMIT 21", orders[k]);
        sqlite3_stmt *st = NULL;
        cr_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "the test's query "
                  "%s failed: %s", sql, sqlite3_errmsg(db));
        char plan[512] = "";
        size_t o = 0;
        while (sqlite3_step(st) == SQLITE_ROW && o < sizeof plan - 64)
            o += (size_t)snprintf(plan + o, sizeof plan - o, "%s%s", o ? " / " : "",
                                  (const char *)sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        int searched = strstr(plan, "SEARCH") && strstr(plan, "owner_id=?") &&
                       !strstr(plan, "TEMP B-TREE");
        cr_expect(searched, "SQLite's plan for a page of one user's items (%s) is \"%s\"; "
                  "expected a SEARCH in an index by owner_id=? that gives the order, with no "
                  "TEMP B-TREE (a sort of all the user's items). Without one, a user with 10 "
                  "of 300,000 items waits for a walk through everyone's (490 ms by name). "
                  "authdb.c step 6: an index per order that starts with the owner -- "
                  "(owner_id, id), (owner_id, name, id), (owner_id, qty, id), (owner_id, "
                  "price, id). Indexes that begin with owner_id now: %s", sql + 19, plan,
                  led[0] ? led : "none");
    }
    const char *old = db_value(db, "SELECT group_concat(name, ', ') FROM pragma_index_list("
                                   "'items') WHERE name IN ('items_name', 'items_qty', "
                                   "'items_price')");
    cr_expect(old[0] == '\0', "chapter 04's sort indexes are still there (%s): every list is "
              "one user's now, so no query uses them, and each one costs every INSERT and "
              "UPDATE. authdb.c step 6: DROP INDEX IF EXISTS items_name, items_qty and "
              "items_price", old);
    sqlite3_close(db);
}

Test(owners, an_item_without_an_owner_is_no_ones)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    at_register(p, fd, "carol", "carols-secret");
    at_stop(p);

    /* between two servers on the file: rows as chapter 04's server left
     * them, from before step 6 -- no owner_id */
    need_owner_column();
    set_role("carol", "admin");
    sqlite3 *db = db_oracle(at_db_path());
    db_exec(db, "INSERT INTO items (name, qty, price, version, created_at, updated_at) VALUES "
            "('from-before', 2, 1.5, 1, '2025-01-01T00:00:00.000Z', "
            "'2025-01-01T00:00:00.000Z')");
    long long old = sqlite3_last_insert_rowid(db);
    char sql[160];
    snprintf(sql, sizeof sql, "INSERT INTO item_tags (item_id, position, tag) VALUES (%lld, 0, "
             "'old')", old);
    db_exec(db, sql);
    sqlite3_close(db);
    char row[512], after[512];
    row_of(old, row, sizeof row);

    p = wb_start(NULL);
    fd = wb_connect(p);
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    at_login(p, fd, "carol", "carols-secret", c);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\"}");
    const char *owner = owner_of(x);
    cr_expect(strcmp(owner, "NULL") != 0, "alice made item %lld with her token after the "
              "restart; its owner_id is %s: expected hers -- the creator owns what she makes. "
              "auth.c items(): api_serve() on store_scope(store, who.id), whose INSERT writes "
              "the view's owner", x, owner);

    const struct {
        const char *name, *token;
    } users[] = {{"alice", a}, {"bob", b}, {"carol (an admin)", c}};
    char target[64];
    snprintf(target, sizeof target, "/items/%lld", old);
    for (size_t u = 0; u < sizeof users / sizeof users[0]; u++) {
        struct walk w;
        walk(p, fd, users[u].token, "/items", 0, &w, users[u].name);
        for (int i = 0; i < w.n; i++)
            cr_expect(w.ids[i] != old, "%s asked GET /items and saw %s, which holds item %lld, "
                      "whose owner_id is NULL (made before step 6): an item without an owner "
                      "is no one's, in no list. The store's list asks for owner_id = <the "
                      "user>, and NULL equals nothing", users[u].name, seen(&w, 1), old);
        static const struct {
            const char *method, *headers, *body;
        } asks[] = {
            {"GET", NULL, NULL},
            {"PUT", AT_JSON, "{\"name\":\"mine-now\"}"},
            {"PATCH", MERGE, "{\"name\":\"mine-now\"}"},
            {"DELETE", NULL, NULL},
        };
        for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
            struct ht_response *r = ask(p, fd, asks[i].method, target,
                                        at_bearer(users[u].token, asks[i].headers),
                                        asks[i].body);
            char msg[768];
            snprintf(msg, sizeof msg, "%s %s%s%s with the token of %s: item %lld has no owner "
                     "(owner_id NULL, a row from before step 6) -- it is no one's, 404 to "
                     "everyone, and no one may take it. auth.c items(): api_serve() on "
                     "store_scope(store, who.id), whose every statement says owner_id = the "
                     "user", asks[i].method, target, asks[i].body ? " " : "",
                     asks[i].body ? asks[i].body : "", users[u].name, old);
            expect_404(p, r, msg);
            ht_free(r);
        }
    }
    row_of(old, after, sizeof after);
    cr_expect(strcmp(row, after) == 0, "the row without an owner, item %lld, after everyone's "
              "refused GET, PUT, PATCH and DELETE:\n  before: %s\n  after:  %s\nexpected it "
              "untouched", old, row, after);
}

/* ---- /admin ----------------------------------------------------------------------- */

Test(owners, admin_paths_are_401_without_credentials_and_403_insufficient_scope_for_a_user)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    char hers[64], his[64], her_role[64], his_role[64];
    snprintf(hers, sizeof hers, "/admin/users/%lld", alice);
    snprintf(his, sizeof his, "/admin/users/%lld", bob);
    snprintf(her_role, sizeof her_role, "/admin/users/%lld/role", alice);
    snprintf(his_role, sizeof his_role, "/admin/users/%lld/role", bob);

    const char *const anonymous[] = {his, "/admin", her_role};
    for (size_t i = 0; i < sizeof anonymous / sizeof anonymous[0]; i++) {
        int put = i == 2;
        struct ht_response *r = ask(p, fd, put ? "PUT" : "GET", anonymous[i], put ? AT_JSON : NULL,
                                    put ? "{\"role\":\"admin\"}" : NULL);
        char msg[768];
        snprintf(msg, sizeof msg, "%s %s%s with no credentials: who asks comes first -- 401 with "
                 "WWW-Authenticate: %s. auth.c auth_serve(): admin_area() (/admin and every "
                 "path under it) -> admin_gate(), whose first step is authenticate()",
                 put ? "PUT" : "GET", anonymous[i], put ? " {\"role\":\"admin\"}" : "", AT_REALM);
        expect_challenge(p, r, 401, NULL, msg);
        ht_free(r);
    }

    const struct {
        const char *method, *target, *headers, *body, *what;
    } asks[] = {
        {"GET", his, NULL, NULL, "bob's account"},
        {"GET", hers, NULL, NULL, "her own account"},
        {"GET", "/admin/users/999999", NULL, NULL, "an id no account has"},
        {"GET", "/admin", NULL, NULL, "a path that is no admin resource"},
        {"GET", "/admin/nope", NULL, NULL, "a path that does not exist"},
        {"GET", his_role, NULL, NULL, "a method the path does not have"},
        {"HEAD", his, NULL, NULL, "bob's account"},
        {"DELETE", his, NULL, NULL, "a method the path does not have"},
        {"PUT", his_role, AT_JSON, "{\"role\":\"user\"}", "bob's role"},
        {"PUT", her_role, AT_JSON, "{\"role\":\"admin\"}", "HER OWN role, to admin"},
        {"PUT", her_role, "Content-Type: text/plain\r\n", "admin", "her role, a body of the "
         "wrong type"},
    };
    char *first = NULL;
    size_t flen = 0;
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        struct ht_response *r = ask(p, fd, asks[i].method, asks[i].target,
                                    at_bearer(a, asks[i].headers), asks[i].body);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s %s%s%s with alice's token (role user) -- %s: /admin is an "
                 "admin's, so 403 Forbidden, a problem document, with WWW-Authenticate: %s "
                 "(RFC 6750 section 3.1) -- for every path under /admin, before the path is "
                 "looked at: a user learns nothing of what an admin has. auth.c admin_gate(): "
                 "authenticate(), then a role other than \"admin\" -> challenge(c, 403, "
                 "\"insufficient_scope\", ...); auth_serve() asks it before the routes",
                 asks[i].method,
                 asks[i].target, asks[i].body ? " " : "", asks[i].body ? asks[i].body : "",
                 asks[i].what, SCOPE);
        expect_403_scope(p, r, msg);
        if (strcmp(asks[i].method, "GET") == 0) {
            size_t glen;
            char *got = at_without_date(r, &glen);
            if (!first) {
                first = got;
                flen = glen;
            } else {
                int same = glen == flen && memcmp(got, first, flen) == 0;
                cr_expect(same, "%s\nthe 403 differs from the one to GET %s (an account that "
                          "exists), the Date field left out:\n%s\nexpected one answer for "
                          "every path a user asks under /admin", msg, his,
                          wb_diff(first, flen, got, glen, 300));
                free(got);
            }
        }
        ht_free(r);
    }
    free(first);
    sqlite3 *db = db_oracle(at_db_path());
    char role[32];
    snprintf(role, sizeof role, "%s", at_user_value(db, "role", "alice"));
    sqlite3_close(db);
    cr_expect(strcmp(role, "user") == 0, "alice (role user) sent PUT %s {\"role\":\"admin\"}, "
              "refused with 403 -- and her role in the database is now \"%s\"; expected "
              "\"user\": a user who could make herself admin IS admin (OWASP API5, broken "
              "function level authorization)", her_role, role);
    expect_account(p, fd, a, "/me", alice, "alice", "user", "alice's token, after the refused "
                   "requests: a 403 ends no session");
}

Test(owners, an_admin_reads_an_account_and_nothing_secret)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    set_role("alice", "admin");
    char a[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    char his[64], hers[64], his_role[64];
    snprintf(his, sizeof his, "/admin/users/%lld", bob);
    snprintf(hers, sizeof hers, "/admin/users/%lld", alice);
    snprintf(his_role, sizeof his_role, "/admin/users/%lld/role", bob);

    struct ht_response *r = ask(p, fd, "GET", his, at_bearer(a, NULL), NULL);
    char msg[1024];
    snprintf(msg, sizeof msg, "GET %s with alice's token, alice an admin (the test set her role "
             "in the database: UPDATE users SET role = 'admin'): 200 and bob's account "
             "{\"id\", \"username\", \"role\"}. auth.c: admin_gate() (authenticate(), role "
             "\"admin\"), then the route /admin/users/{id} -> get_account(): account_id(), "
             "users.c users_get(), account_respond()", his);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    char want[160];
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"bob\",\"role\":\"user\"}", bob);
    jt_expect_json(p, r, want, msg);
    ht_expect_header(p, r, "Cache-Control", "no-store", msg);
    static const char *const secrets[] = {"password", "hash", "argon2", "battery-staple"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++) {
        char *body = strndup(r->body, r->body_len);
        cr_assert(body != NULL, "test setup: out of memory");
        int found = strcasestr(body, secrets[i]) != NULL;
        free(body);
        cr_expect(found == 0, "%s\nthe body holds \"%s\": %s\nexpected nothing of the password, "
                  "not even its hash -- an admin manages roles, not secrets (user_respond() "
                  "writes id, username and role only)", msg, secrets[i],
                  wb_esc(r->body, r->body_len, 300));
    }
    ht_free(r);
    expect_account(p, fd, a, hers, alice, "alice", "admin", "alice's token, her own account: "
                   "its role read from the database, \"admin\"");

    r = ask(p, fd, "HEAD", his, at_bearer(a, NULL), NULL);
    snprintf(msg, sizeof msg, "HEAD %s with the admin's token: HEAD wherever GET is, 200 "
             "(the route /admin/users/{id} allows GET and HEAD)", his);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);

    static const char *const missing[] = {"/admin/users/999999", "/admin", "/admin/nope",
                                          "/admin/users", "/admin/users/0", "/admin/users/bob"};
    for (size_t i = 0; i < sizeof missing / sizeof missing[0]; i++) {
        r = ask(p, fd, "GET", missing[i], at_bearer(a, NULL), NULL);
        snprintf(msg, sizeof msg, "GET %s with the admin's token: %s, so 404, a problem "
                 "document. auth.c: %s", missing[i],
                 i ? "no admin resource has that path" : "no account has that id",
                 i ? "auth_serve(), after admin_gate(): a path under /admin that is no route "
                     "-> 404"
                   : "get_account(): users_get() answers AUTH_MISSING (or account_id() 0) -> "
                     "account_respond() 404");
        expect_404(p, r, msg);
        ht_free(r);
    }

    const struct {
        const char *method, *target, *allow;
    } wrong[] = {
        {"DELETE", his, "GET"},
        {"POST", his, "GET"},
        {"PUT", his, "GET"},
        {"GET", his_role, "PUT"},
        {"DELETE", his_role, "PUT"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        r = ask(p, fd, wrong[i].method, wrong[i].target, at_bearer(a, NULL), NULL);
        snprintf(msg, sizeof msg, "%s %s with the admin's token: the path is an admin "
                 "resource, the method is not one of it, so 405 with Allow (%s%s). auth.c "
                 "auth_serve(): a route without that method -> not_allowed() (routes[] says "
                 "GET|HEAD for /admin/users/{id}, PUT for /admin/users/{id}/role)", wrong[i].method, wrong[i].target, wrong[i].allow,
                 strcmp(wrong[i].allow, "GET") == 0 ? ", HEAD" : "");
        cJSON_Delete(jt_expect_problem(p, r, 405, msg));
        const char *allow = ht_header(r, "Allow");
        int has = allow && strstr(allow, wrong[i].allow) != NULL;
        cr_expect(has, "%s\nexpected %s in Allow\nreceived: %s", msg, wrong[i].allow,
                  ht_describe_response(r));
        ht_free(r);
    }
}

/* PUT target body with token: the response (ht_free() it). */
static struct ht_response *put_role(struct wb_proc *p, int fd, const char *token,
                                    const char *target, const char *body)
{
    return ask(p, fd, "PUT", target, at_bearer(token, AT_JSON), body);
}

Test(owners, an_admin_sets_a_role_to_user_or_admin_and_nothing_else)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    set_role("alice", "admin");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    char target[64];
    snprintf(target, sizeof target, "/admin/users/%lld/role", bob);

    static const char *const roles[] = {"admin", "user", "admin"};
    for (size_t i = 0; i < sizeof roles / sizeof roles[0]; i++) {
        char body[96], want[160], msg[1024];
        snprintf(body, sizeof body, i == 2 ? "{\"role\":\"%s\",\"username\":\"mallory\"}"
                                           : "{\"role\":\"%s\"}", roles[i]);
        struct ht_response *r = put_role(p, fd, a, target, body);
        snprintf(msg, sizeof msg, "PUT %s %s with the admin alice's token: 200 and bob's account "
                 "as it is now%s. auth.c put_role(): read_fields() of "
                 "\"role\" (role_check) -> users.c users_set_role(): UPDATE users SET role = ?2 "
                 "WHERE id = ?1 RETURNING id, username, role, stepped to SQLITE_DONE", target,
                 body, i == 2 ? " -- \"username\" is not read: only the role changes" : "");
        ht_expect_status(p, r, 200, NULL, 0, msg);
        snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"bob\",\"role\":\"%s\"}", bob,
                 roles[i]);
        jt_expect_json(p, r, want, msg);
        ht_free(r);
        sqlite3 *db = db_oracle(at_db_path());
        char role[32], name[64];
        snprintf(role, sizeof role, "%s", at_user_value(db, "role", "bob"));
        snprintf(name, sizeof name, "%s", db_value(db, "SELECT group_concat(username) FROM "
                                                       "users ORDER BY id"));
        sqlite3_close(db);
        cr_expect(strcmp(role, roles[i]) == 0, "%s\nbob's role in the database is now \"%s\"; "
                  "expected \"%s\" -- the answer must be what was written: users.c "
                  "users_set_role() reads the row from the UPDATE's own RETURNING, then steps "
                  "the statement to SQLITE_DONE and finalizes it, which commits the change",
                  msg, role, roles[i]);
        cr_expect(strstr(name, "mallory") == NULL, "%s\nthe users are now %s: no account may "
                  "be renamed by this route", msg, name);
        expect_account(p, fd, b, "/me", bob, "bob", roles[i], "bob's token, after the admin "
                       "set his role: his session reads the role from the database");
    }

    static const struct {
        const char *body, *why;
    } bad[] = {
        {"{\"role\":\"root\"}", "a role that does not exist"},
        {"{\"role\":\"Admin\"}", "\"Admin\": roles are compared exactly"},
        {"{\"role\":1}", "a number"},
        {"{}", "no role at all"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct ht_response *r = put_role(p, fd, a, target, bad[i].body);
        char msg[768];
        snprintf(msg, sizeof msg, "PUT %s %s with the admin's token -- %s: 422 with an error "
                 "at \"/role\" (auth.c put_role(): read_fields() with role_check: \"user\" or "
                 "\"admin\"), and bob's role stays", target, bad[i].body, bad[i].why);
        cJSON *j = jt_expect_problem(p, r, 422, msg);
        cr_expect(at_has_error_at(j, "/role"), "%s\nthe errors point at %s; expected \"/role\" "
                  "among them", msg, at_error_pointers(j));
        cJSON_Delete(j);
        ht_free(r);
    }
    sqlite3 *db = db_oracle(at_db_path());
    char role[32];
    snprintf(role, sizeof role, "%s", at_user_value(db, "role", "bob"));
    sqlite3_close(db);
    cr_expect(strcmp(role, "admin") == 0, "after %zu refused PUTs of his role, bob's role is "
              "\"%s\"; expected \"admin\", as the admin last set it", sizeof bad / sizeof bad[0],
              role);

    struct ht_response *r = put_role(p, fd, a, "/admin/users/999999/role", "{\"role\":\"admin\"}");
    cJSON_Delete(jt_expect_problem(p, r, 404, "PUT /admin/users/999999/role {\"role\":\"admin\"} "
                                   "with the admin's token: no account has that id, 404 -- "
                                   "users_set_role()'s UPDATE matches no row and RETURNs none: "
                                   "AUTH_MISSING"));
    ht_free(r);
    long long n = oracle_count("SELECT count(*) FROM users");
    cr_expect(n == 2, "after PUT /admin/users/999999/role, the users table has %lld rows; "
                      "expected 2: setting a role makes no account", n);
}

Test(owners, the_role_is_read_from_the_database_at_every_request)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    at_register(p, fd, "carol", "carols-secret");
    char a[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a); /* while she is a user */
    char his[64], her_role[64];
    snprintf(his, sizeof his, "/admin/users/%lld", bob);
    snprintf(her_role, sizeof her_role, "/admin/users/%lld/role", alice);

    struct ht_response *r = ask(p, fd, "GET", his, at_bearer(a, NULL), NULL);
    char msg[1024];
    snprintf(msg, sizeof msg, "GET %s with alice's token, alice a user (the default role): "
             "403 with WWW-Authenticate: %s, a problem document. auth.c auth_serve(): "
             "admin_area() -> admin_gate(): authenticate(), then who.role -- the users row's, read "
             "with the session -- other than \"admin\" -> challenge(c, 403, "
             "\"insufficient_scope\", ...)", his, SCOPE);
    expect_403_scope(p, r, msg);
    ht_free(r);

    set_role("alice", "admin");
    expect_account(p, fd, a, his, bob, "bob", "user", "the SAME token of alice's, just after "
                   "the test made her admin in the database (no new login): the role is read "
                   "with the session at every request -- auth.c admin_gate() checks who.role, which "
                   "sessions_find() read from the users row -- so the promotion works at once");
    expect_account(p, fd, a, "/me", alice, "alice", "admin", "alice's token, after the "
                   "promotion");

    set_role("alice", "user");
    r = ask(p, fd, "GET", his, at_bearer(a, NULL), NULL);
    snprintf(msg, sizeof msg, "GET %s with alice's token, moments after the test set her role "
             "back to 'user' in the database: 403 with %s at once, on the token she holds -- "
             "never a role remembered from an earlier request or from the login. auth.c "
             "admin_gate(): the role of the session's user, read at every request", his, SCOPE);
    expect_403_scope(p, r, msg);
    ht_free(r);

    /* demoted by another admin, through the API */
    set_role("alice", "admin");
    set_role("carol", "admin");
    at_login(p, fd, "carol", "carols-secret", c);
    expect_account(p, fd, a, his, bob, "bob", "user", "alice's token, an admin again");
    r = put_role(p, fd, c, her_role, "{\"role\":\"user\"}");
    snprintf(msg, sizeof msg, "PUT %s {\"role\":\"user\"} with carol's token, carol an admin: "
             "200, alice is a user now (users.c users_set_role())", her_role);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
    r = ask(p, fd, "GET", his, at_bearer(a, NULL), NULL);
    snprintf(msg, sizeof msg, "GET %s with alice's token, right after the admin carol set her "
             "role to user with PUT %s: 403 with %s -- the demotion holds at once, without a "
             "logout (auth.c admin_gate() reads the role at every request)", his, her_role, SCOPE);
    expect_403_scope(p, r, msg);
    ht_free(r);
    expect_account(p, fd, a, "/me", alice, "alice", "user", "alice's token after her demotion: "
                   "still her session -- a demotion takes the role, not the session");
}

Test(owners, an_admin_gets_the_same_404_for_another_users_item)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "carol", "carols-secret");
    set_role("carol", "admin");
    char a[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "carol", "carols-secret", c);
    long long x = make_item(p, fd, a, "alice", "{\"name\":\"alice-pear\"}");
    long long y = make_item(p, fd, c, "carol", "{\"name\":\"carol-plum\"}");
    char target[64], row[512], after[512];
    snprintf(target, sizeof target, "/items/%lld", x);
    row_of(x, row, sizeof row);

    static const struct {
        const char *method, *headers, *body;
    } asks[] = {
        {"GET", NULL, NULL},
        {"PUT", AT_JSON, "{\"name\":\"admins-now\"}"},
        {"PATCH", MERGE, "{\"name\":\"admins-now\"}"},
        {"DELETE", NULL, NULL},
    };
    for (size_t i = 0; i < sizeof asks / sizeof asks[0]; i++) {
        struct ht_response *r = ask(p, fd, asks[i].method, target, at_bearer(c, asks[i].headers),
                                    asks[i].body);
        char msg[768];
        snprintf(msg, sizeof msg, "%s %s%s%s with carol's token, carol an ADMIN, on alice's "
                 "item: a role opens /admin, not other people's items -- 404, as to any other "
                 "user. auth.c items(): the view is store_scope(store, who.id) whatever "
                 "who.role says", asks[i].method, target, asks[i].body ? " " : "",
                 asks[i].body ? asks[i].body : "");
        expect_404(p, r, msg);
        ht_free(r);
    }
    row_of(x, after, sizeof after);
    cr_expect(strcmp(row, after) == 0, "alice's item after the admin's PUT, PATCH and DELETE:"
              "\n  before: %s\n  after:  %s\nexpected it untouched", row, after);
    struct walk w;
    walk(p, fd, c, "/items", 0, &w, "carol's token (an admin)");
    long long want[] = {y};
    cr_expect(saw_exactly(&w, want, 1), "carol, an admin, asked GET /items and saw %s; expected "
              "her own item %lld alone, not alice's %lld -- the list is the caller's, admin or "
              "not (auth.c items(), store_scope())", seen(&w, 1), y, x);
    struct ht_response *r = ask(p, fd, "GET", target, at_bearer(a, NULL), NULL);
    char msg[256];
    snprintf(msg, sizeof msg, "GET %s with alice's token, after the admin's refused requests: "
             "her item, 200", target);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
}
