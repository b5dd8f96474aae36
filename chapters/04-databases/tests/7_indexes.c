/* Stage 7: indexes and query plans -- every order a page can ask for is a
 * search in an index (EXPLAIN QUERY PLAN, read by the test: no scan of the
 * table, no temporary B-tree for ORDER BY), and on 300,000 items a page
 * deep in the collection costs about what a lookup by id costs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "query.h"
#include "restc.h"

WB_SUITE(indexes);

/* The plan of sql, its lines joined with " / ", in a message slot. */
static const char *plan_of(sqlite3 *db, const char *sql)
{
    char eqp[512];
    snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *st = NULL;
    char *out = wb_msgbuf(1024);
    size_t len = 0;
    cr_assert(sqlite3_prepare_v2(db, eqp, -1, &st, NULL) == SQLITE_OK,
              "the test cannot explain %s: %s", sql, sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW && len < 900)
        len += (size_t)snprintf(out + len, 1024 - len, "%s%s", len ? " / " : "",
                                (const char *)sqlite3_column_text(st, 3));
    sqlite3_finalize(st);
    return out;
}

static const struct order {
    const char *query;  /* the page's query string */
    const char *key;    /* the column */
    const char *value;  /* a value of its type, as SQL */
    int desc;
} orders[] = {
    {"sort=name", "name", "'a'", 0},   {"sort=name&order=desc", "name", "'a'", 1},
    {"sort=qty", "qty", "5", 0},       {"sort=qty&order=desc", "qty", "5", 1},
    {"sort=price", "price", "1.5", 0}, {"sort=price&order=desc", "price", "1.5", 1},
};
#define NORDERS (sizeof orders / sizeof orders[0])

Test(indexes, every_order_is_a_search_in_an_index)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    sqlite3 *db = db_oracle(path);
    for (size_t i = 0; i < NORDERS; i++) {
        const char *dir = orders[i].desc ? "DESC" : "ASC", *cmp = orders[i].desc ? "<" : ">";
        char first[256], after[256];
        snprintf(first, sizeof first, "SELECT * FROM items ORDER BY %s %s, id %s LIMIT 21",
                 orders[i].key, dir, dir);
        snprintf(after, sizeof after,
                 "SELECT * FROM items WHERE (%s, id) %s (%s, 7) ORDER BY %s %s, id %s LIMIT 21",
                 orders[i].key, cmp, orders[i].value, orders[i].key, dir, dir);
        const char *sqls[] = {first, after};
        for (int k = 0; k < 2; k++) {
            const char *plan = plan_of(db, sqls[k]);
            cr_expect(strstr(plan, "INDEX") && !strstr(plan, "TEMP B-TREE"),
                      "the page of GET /items?%s%s, as SQL:\n  %s\nhas the query plan:\n  %s\n"
                      "expected it to use an index (\"USING INDEX\" or \"USING COVERING "
                      "INDEX\") and no \"USE TEMP B-TREE FOR ORDER BY\": without an index on "
                      "(%s, id), every page reads and sorts the whole table. Add migration "
                      "step 3: CREATE INDEX ... ON items (%s, id)", orders[i].query,
                      k ? " after a cursor" : "", sqls[k], plan, orders[i].key, orders[i].key);
        }
    }
    sqlite3_close(db);
    (void)p;
}

Test(indexes, the_id_order_and_a_filtered_page_need_no_sort)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    sqlite3 *db = db_oracle(path);
    static const struct {
        const char *sql, *what;
    } cases[] = {
        {"SELECT * FROM items WHERE id > 7 ORDER BY id ASC LIMIT 21",
         "sort=id after a cursor: the table is its own index, by id (rowid)"},
        {"SELECT * FROM items WHERE id < 7 ORDER BY id DESC LIMIT 21", "sort=id&order=desc"},
        {"SELECT * FROM items WHERE name LIKE '%pea%' ESCAPE '\\' ORDER BY name ASC, id ASC "
         "LIMIT 21", "name=pea&sort=name: the filter tests each entry of the name index in order"},
        {"SELECT * FROM items WHERE name LIKE '%pea%' ESCAPE '\\' AND (qty, id) > (5, 7) "
         "ORDER BY qty ASC, id ASC LIMIT 21", "name=pea&sort=qty after a cursor"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *plan = plan_of(db, cases[i].sql);
        int ordered = !strstr(plan, "TEMP B-TREE") &&
                      (strstr(plan, "INDEX") || strstr(plan, "INTEGER PRIMARY KEY"));
        cr_expect(ordered,
                  "the page of %s, as SQL:\n  %s\nhas the query plan:\n  %s\nexpected no \"USE "
                  "TEMP B-TREE FOR ORDER BY\": the rows must come out of an index (or the table, "
                  "by id) in the page's order", cases[i].what, cases[i].sql, plan);
    }
    sqlite3_close(db);
    (void)p;
}

/* Median of n values (sorts them). */
static long long median(long long *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            long long t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* How long GET target takes on fd, in microseconds: the median of n. */
static long long time_get(struct wb_proc *p, int fd, const char *target, int n)
{
    long long us[16];
    for (int i = 0; i < n; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
        clock_gettime(CLOCK_MONOTONIC, &b);
        ht_expect_status(p, r, 200, NULL, 0, "a GET on 300,000 items");
        ht_free(r);
        us[i] = (b.tv_sec - a.tv_sec) * 1000000LL + (b.tv_nsec - a.tv_nsec) / 1000;
    }
    return median(us, n);
}

#define ITEMS 300000

Test(indexes, a_deep_page_of_300000_items_costs_about_a_lookup, .timeout = 60)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    sqlite3 *db = db_oracle(path);
    /* 300,000 rows in one transaction, made by SQLite itself: names with
     * many ties, qty and price spread out */
    char seed[512];
    snprintf(seed, sizeof seed,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d) "
             "INSERT INTO items (name, qty, price, created_at, updated_at) SELECT 'item ' || "
             "((i * 7919) %% 100003), (i * 31) %% 1000, ((i * 17) %% 100000) / 100.0, "
             "'2026-12-02T10:00:00.000Z', '2026-12-02T10:00:00.000Z' FROM n", ITEMS);
    db_exec(db, "BEGIN");
    db_exec(db, seed);
    db_exec(db, "COMMIT");

    int fd = wb_connect(p); /* now: an idle connection is closed after a while */
    long long lookup = time_get(p, fd, "/items/150000", 9);
    for (size_t i = 0; i < NORDERS; i++) {
        /* the place of the item 290,000 positions into this order, as the
         * cursor of the page after it */
        char sql[256];
        const char *dir = orders[i].desc ? "DESC" : "ASC";
        snprintf(sql, sizeof sql, "SELECT id, name, qty, price FROM items ORDER BY %s %s, id %s "
                 "LIMIT 1 OFFSET 290000", orders[i].key, dir, dir);
        sqlite3_stmt *st = NULL;
        cr_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
                      sqlite3_step(st) == SQLITE_ROW, "the test's query failed: %s",
                  sqlite3_errmsg(db));
        char name[64];
        snprintf(name, sizeof name, "%s", (const char *)sqlite3_column_text(st, 1));
        struct item last = {.id = sqlite3_column_int64(st, 0), .name = name,
                            .qty = sqlite3_column_int64(st, 2),
                            .price = sqlite3_column_double(st, 3)};
        sqlite3_finalize(st);
        char q[128], deep[512], first[160];
        snprintf(q, sizeof q, "%s&limit=20", orders[i].query);
        snprintf(first, sizeof first, "/items?%s", q);
        struct list_query lq;
        cJSON *errors = cJSON_CreateArray();
        cr_assert(query_parse((struct http_slice){q, strlen(q)}, &lq, errors) == 0 &&
                      query_next(&lq, &last, deep, sizeof deep) > 0,
                  "the test cannot make a cursor for %s", q);
        cJSON_Delete(errors);
        long long t_first = time_get(p, fd, first, 5), t_deep = time_get(p, fd, deep, 5);
        long long bound = 10 * lookup + 5000;
        cr_expect(t_first <= bound && t_deep <= bound,
                  "on %d items, GET /items?%s takes %lld us for the first page of 20 and %lld "
                  "us for a page 290,000 items deep (medians); GET /items/150000 takes %lld us. "
                  "Expected each page within 10 times the lookup + 5 ms (%lld us): a page is a "
                  "search in the index on (%s, id) -- WHERE (%s, id) %s (?, ?) ORDER BY %s %s, "
                  "id %s LIMIT 21 reads 21 index entries --, not a scan and a sort of every "
                  "row", ITEMS, orders[i].query, t_first, t_deep, lookup, bound, orders[i].key,
                  orders[i].key, orders[i].desc ? "<" : ">", orders[i].key, dir, dir);
    }
    sqlite3_close(db);
}
