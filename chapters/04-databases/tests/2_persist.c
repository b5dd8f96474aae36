/* Stage 2: the same API, persistent -- chapter 03's tests of creating,
 * reading, changing, listing, conditions and idempotency keys run again
 * on --db (compiled from chapters/03-rest/tests into this suite: see
 * harness/lib/wbreuse.h), and the tests here check what only a database
 * can keep: items and ETags across a restart, ids never given twice,
 * idempotency keys, deletes and skus across a restart, and a walk through
 * the pages that equals the test's own SELECT. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>
#include <sys/wait.h>

#include "dbtest.h"
#include "restc.h"

WB_SUITE(persist);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* GET target on fd: the body and the ETag, as one string
 * "ETag <etag>\n<body>", malloc'd. */
static char *snapshot(struct wb_proc *p, int fd, const char *target)
{
    struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of an item created before");
    const char *etag = ht_header(r, "ETag");
    size_t cap = r->body_len + 128;
    char *s = malloc(cap);
    cr_assert(s != NULL, "out of memory");
    snprintf(s, cap, "ETag %s\n%s", etag ? etag : "(none)", r->body);
    ht_free(r);
    return s;
}

Test(persist, items_and_etags_survive_a_restart)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    static const char *const bodies[] = {
        "{\"name\":\"pear\",\"qty\":3,\"price\":1.25,\"tags\":[\"fruit\",\"green\"]}",
        "{\"name\":\"\\u00e9t\\u00e9 \\ud83c\\udf50\",\"tags\":[\"\\u2603\"]}",
        "{\"name\":\"quote ' and \\\" and \\\\\"}",
        "{\"name\":\"x\",\"qty\":2147483647,\"price\":1000000000}",
        "{\"name\":\"y\",\"price\":0.1}",
    };
    char locs[COUNT(bodies)][64], *before[COUNT(bodies)];
    for (size_t i = 0; i < COUNT(bodies); i++)
        rc_create(p, fd, bodies[i], locs[i], sizeof locs[i]);
    const char *put = "{\"name\":\"pear\",\"qty\":4}";
    struct ht_response *r = rc_send(p, fd, "PUT", locs[0], "Content-Type: application/json\r\n",
                                    put, strlen(put));
    ht_expect_status(p, r, 200, NULL, 0, "PUT (so that one item is at version 2)");
    ht_free(r);
    for (size_t i = 0; i < COUNT(bodies); i++)
        before[i] = snapshot(p, fd, locs[i]);
    int status = wb_stop(p, 2000);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(clean, "restd --db did not exit 0 on SIGTERM\n%s", wb_describe(p));

    p = wb_start("--db", path, NULL);
    fd = wb_connect(p);
    for (size_t i = 0; i < COUNT(bodies); i++) {
        char *after = snapshot(p, fd, locs[i]);
        cr_expect(strcmp(before[i], after) == 0,
                  "GET %s after a restart differs from before it (the item was created from "
                  "%s):\n%s\nItems, versions and times live in the file now: every member and "
                  "the ETag come back exactly -- name and tags byte for byte, price as the "
                  "same double", locs[i], bodies[i],
                  wb_diff(before[i], strlen(before[i]), after, strlen(after), 300));
        free(after);
        free(before[i]);
    }
}

Test(persist, an_id_is_never_given_twice_not_even_after_a_restart)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    rc_create(p, fd, "{\"name\":\"a\"}", NULL, 0);
    char loc[64];
    long long newest = rc_create(p, fd, "{\"name\":\"b\"}", loc, sizeof loc);
    struct ht_response *r = rc_send(p, fd, "DELETE", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of the newest item");
    ht_free(r);
    wb_stop(p, 2000);
    p = wb_start("--db", path, NULL);
    fd = wb_connect(p);
    long long next = rc_create(p, fd, "{\"name\":\"c\"}", NULL, 0);
    cr_expect(next > newest,
              "after deleting the newest item (id %lld) and a restart, a new item got the id "
              "%lld; expected a higher one: a client holding /items/%lld must never find "
              "another item there. A plain INTEGER PRIMARY KEY gives \"one more than the "
              "largest id now\"; AUTOINCREMENT remembers the largest ever (sqlite_sequence)",
              newest, next, newest);
}

Test(persist, a_walk_through_the_pages_equals_the_databases_own_order)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    /* 150 rows written by the test itself: names from a few letters, so
     * that ties are many, in two cases and with a 2-byte character */
    sqlite3 *db = db_oracle(path);
    sqlite3_stmt *st = NULL;
    cr_assert(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK &&
                  sqlite3_prepare_v2(db,
                                     "INSERT INTO items (name, qty, price, created_at, "
                                     "updated_at) VALUES (?1, ?2, ?3, '2026-12-02T10:00:00.000Z', "
                                     "'2026-12-02T10:00:00.000Z')",
                                     -1, &st, NULL) == SQLITE_OK,
              "the test cannot write rows: %s", sqlite3_errmsg(db));
    static const char *const parts[] = {"a", "B", "b", "\xC3\xA9", "%", "_"};
    for (int i = 0; i < 150; i++) {
        uint32_t r = wb_random_u32();
        char name[8];
        snprintf(name, sizeof name, "%s%s", parts[r % 6], parts[(r >> 4) % 6]);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (r >> 8) % 5);
        sqlite3_bind_double(st, 3, (double)((r >> 12) % 7) / 4);
        cr_assert(sqlite3_step(st) == SQLITE_DONE, "the test cannot insert: %s",
                  sqlite3_errmsg(db));
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
    cr_assert(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "COMMIT failed");

    static const struct {
        const char *query, *order;
    } walks[] = {
        {"sort=name", "name, id"},
        {"sort=name&order=desc", "name DESC, id DESC"},
        {"sort=qty", "qty, id"},
        {"sort=price&order=desc", "price DESC, id DESC"},
        {"name=b", "id"},
        {"name=%25", "id"},
        {"name=_&sort=name", "name, id"},
    };
    for (size_t w = 0; w < COUNT(walks); w++) {
        /* the oracle: the database's own answer */
        char sql[256], want[4096] = "", got[4096] = "";
        const char *filter = strstr(walks[w].query, "name=b")   ? " WHERE name LIKE '%b%'"
                             : strstr(walks[w].query, "%25")    ? " WHERE instr(name, '%') > 0"
                             : strstr(walks[w].query, "name=_") ? " WHERE instr(name, '_') > 0"
                                                                : "";
        snprintf(sql, sizeof sql, "SELECT id FROM items%s ORDER BY %s", filter, walks[w].order);
        cr_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "%s", sql);
        while (sqlite3_step(st) == SQLITE_ROW)
            snprintf(want + strlen(want), sizeof want - strlen(want), " %lld",
                     (long long)sqlite3_column_int64(st, 0));
        sqlite3_finalize(st);

        char next[4096];
        snprintf(next, sizeof next, "/items?limit=17&%s", walks[w].query);
        int pages = 0;
        while (*next && pages++ < 100) {
            struct ht_response *r = rc_send(p, fd, "GET", next, NULL, NULL, 0);
            ht_expect_status(p, r, 200, NULL, 0, "a page of the walk");
            cJSON *page = jt_body(p, r, "a page");
            const cJSON *it, *nx = cJSON_GetObjectItemCaseSensitive(page, "next");
            cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(page, "items"))
            {
                const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
                snprintf(got + strlen(got), sizeof got - strlen(got), " %lld",
                         (long long)cJSON_GetNumberValue(id));
            }
            snprintf(next, sizeof next, "%s", cJSON_IsString(nx) ? nx->valuestring : "");
            cJSON_Delete(page);
            ht_free(r);
        }
        cr_expect(strcmp(want, got) == 0,
                  "the walk from /items?limit=17&%s saw the ids\n  [%s ]\nexpected the "
                  "database's own order, SELECT id FROM items%s ORDER BY %s:\n  [%s ]\n"
                  "(seed %llu)", walks[w].query, got, filter, walks[w].order, want,
                  (unsigned long long)wb_seed());
    }
    sqlite3_close(db);
}

/* Stops p with SIGTERM, which must end it with status 0, and starts
 * restd again on the same file. */
static struct wb_proc *restart(struct wb_proc *p, const char *path)
{
    int status = wb_stop(p, 2000);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(clean, "restd --db did not exit 0 on SIGTERM\n%s", wb_describe(p));
    return wb_start("--db", path, NULL);
}

Test(persist, an_idempotency_key_survives_a_restart)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    const char *headers = "Content-Type: application/json\r\nIdempotency-Key: \"k-restart\"\r\n";
    const char *body = "{\"name\":\"pear\",\"qty\":3,\"tags\":[\"fruit\"]}";
    struct ht_response *first = rc_send(p, fd, "POST", "/items", headers, body, strlen(body));
    ht_expect_status(p, first, 201, NULL, 0, "POST /items with Idempotency-Key \"k-restart\"");
    const char *loc = ht_header(first, "Location");
    char loc1[128];
    snprintf(loc1, sizeof loc1, "%s", loc ? loc : "(none)");

    p = restart(p, path);
    fd = wb_connect(p);
    struct ht_response *again = rc_send(p, fd, "POST", "/items", headers, body, strlen(body));
    ht_expect_status(p, again, 201, NULL, 0, "the same POST with the same Idempotency-Key, "
                     "sent again after a restart: the first answer again, 201");
    loc = ht_header(again, "Location");
    int same_loc = strcmp(loc1, loc ? loc : "(none)") == 0;
    int same_body = first->body_len == again->body_len &&
                    memcmp(first->body, again->body, first->body_len) == 0;
    cr_expect(same_loc && same_body,
              "POST /items with Idempotency-Key \"k-restart\" was answered 201, Location %s; "
              "after a restart the same POST with the same key was answered 201, Location "
              "%s, body:\n%s\nexpected the first answer again, the same id, Location and "
              "body. The key was forgotten at the restart: keys kept in memory die with the "
              "process -- store them in the database (idempotency_keys), in the same "
              "transaction as their item", loc1, loc ? loc : "(none)",
              wb_diff(first->body, first->body_len, again->body, again->body_len, 300));
    ht_free(first);
    ht_free(again);
    sqlite3 *db = db_oracle(path);
    const char *n = db_value(db, "SELECT count(*) FROM items");
    cr_expect(strcmp(n, "1") == 0,
              "after a POST with Idempotency-Key \"k-restart\", a restart and the same POST "
              "again, the table items has %s rows; expected 1: a retry with a known key "
              "creates nothing, also after a restart", n);
    sqlite3_close(db);
}

Test(persist, a_deleted_item_stays_deleted_after_a_restart)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char kept[64], gone[64];
    long long kept_id = rc_create(p, fd, "{\"name\":\"kept\",\"tags\":[\"a\"]}", kept, sizeof kept);
    long long gone_id = rc_create(p, fd, "{\"name\":\"gone\",\"tags\":[\"b\"]}", gone, sizeof gone);
    struct ht_response *r = rc_send(p, fd, "DELETE", gone, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of the newer of two items");
    ht_free(r);

    p = restart(p, path);
    fd = wb_connect(p);
    r = rc_send(p, fd, "GET", gone, NULL, NULL, 0);
    ht_expect_status(p, r, 404, NULL, 0, "GET of an item whose DELETE was answered 204 before "
                     "a restart: it stays deleted. A 204 says the DELETE is done: it was "
                     "committed (COMMIT, not ROLLBACK, not a transaction left open) before "
                     "the answer went out");
    ht_free(r);
    r = rc_send(p, fd, "GET", kept, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of the other item, never deleted, after a "
                     "restart: a DELETE removes its own row only (DELETE ... WHERE id = ?1)");
    ht_free(r);
    long long next = rc_create(p, fd, "{\"name\":\"new\"}", NULL, 0);
    cr_expect(next > kept_id && next > gone_id,
              "items %lld and %lld were created, %lld deleted, the server restarted: a new "
              "item then got the id %lld; expected one above both -- an id, once given, is "
              "never given again (AUTOINCREMENT: the largest id ever is kept in "
              "sqlite_sequence, in the file)", kept_id, gone_id, gone_id, next);
}
