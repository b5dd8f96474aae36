/* Stage 4: migrate a file that has rows -- a version-1 file, written by the
 * test the way a stage-1 server left it, with 100 items of its own, goes
 * to version 2: the tags move into item_tags (a foreign key, ON DELETE
 * CASCADE), the items get a sku, and every row, every tag in its order and
 * the AUTOINCREMENT sequence stay. A step that fails leaves the file
 * exactly at version 1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "db.h"
#include "dbtest.h"
#include "restc.h"

WB_SUITE(migrate);

/* Version 1 of the schema, as the stage-1 server wrote it: a file out
 * there, which the code of today must bring along. */
static const char v1_schema[] =
    "CREATE TABLE items (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),\n"
    "  qty INTEGER NOT NULL DEFAULT 0 CHECK (qty BETWEEN 0 AND 2147483647),\n"
    "  price REAL NOT NULL DEFAULT 0 CHECK (price BETWEEN 0 AND 1e9),\n"
    "  tags TEXT NOT NULL DEFAULT '[]',\n"
    "  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),\n"
    "  created_at TEXT NOT NULL,\n"
    "  updated_at TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE TABLE idempotency_keys (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  item TEXT NOT NULL,\n"
    "  created_ms INTEGER NOT NULL\n"
    ") STRICT;\n"
    "PRAGMA user_version = 1;\n";

#define ROWS 100

/* Writes a version-1 file at path with ROWS items (ids 1..ROWS; ROWS + 5
 * were created and the last 5 deleted, so that the sequence is ahead of
 * the largest id) and one idempotency key. When bad_tags is not NULL, the
 * item with id 57 has it as its tags column. */
static void write_v1(const char *path, const char *bad_tags)
{
    static const char *const names[] = {
        "pear", "O'Brien's \"best\"", "\xC3\xA9t\xC3\xA9 \xF0\x9F\x8D\x90", "100% _cotton_",
        "back\\slash", "-- not a comment", "Robert'); DROP TABLE items;--", "\xE2\x98\x83",
    };
    static const char *const words[] = {"fruit", "green", "\xC3\xA9", "a \"b\"", "x'y", "50%",
                                        "\xF0\x9F\x8D\x8F", "--", "tag with spaces"};
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    cr_assert(sqlite3_open(path, &db) == SQLITE_OK, "the test cannot create %s", path);
    db_exec(db, "PRAGMA journal_mode = WAL");
    db_exec(db, v1_schema);
    db_exec(db, "BEGIN");
    cr_assert(sqlite3_prepare_v2(db,
                                 "INSERT INTO items (name, qty, price, tags, version, created_at, "
                                 "updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                                 -1, &st, NULL) == SQLITE_OK,
              "the test cannot prepare its INSERT: %s", sqlite3_errmsg(db));
    for (int i = 1; i <= ROWS + 5; i++) {
        uint32_t r = wb_random_u32();
        char name[128], created[32], updated[32];
        snprintf(name, sizeof name, "%s %d", names[r % 8], i);
        cJSON *tags = cJSON_CreateArray();
        for (uint32_t k = 0; k < (r >> 3) % 6; k++) {
            char tag[64];
            snprintf(tag, sizeof tag, "%s%u", words[(r >> (6 + k)) % 9], k);
            cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
        }
        char *text = cJSON_PrintUnformatted(tags);
        cJSON_Delete(tags);
        snprintf(created, sizeof created, "2026-01-%02dT10:00:00.%03dZ", 1 + i % 28, i);
        snprintf(updated, sizeof updated, "2026-02-%02dT11:30:00.%03dZ", 1 + i % 28, i);
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 2, (r >> 12) % 1000);
        sqlite3_bind_double(st, 3, (double)((r >> 16) % 100000) / 100);
        sqlite3_bind_text(st, 4, bad_tags && i == 57 ? bad_tags : text, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, 1 + (r >> 24) % 5);
        sqlite3_bind_text(st, 6, created, -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(st, 7, updated, -1, SQLITE_TRANSIENT);
        cr_assert(sqlite3_step(st) == SQLITE_DONE, "the test cannot insert: %s",
                  sqlite3_errmsg(db));
        sqlite3_reset(st);
        cJSON_free(text);
    }
    sqlite3_finalize(st);
    char sql[128];
    snprintf(sql, sizeof sql, "DELETE FROM items WHERE id > %d", ROWS);
    db_exec(db, sql);
    db_exec(db, "INSERT INTO idempotency_keys VALUES ('key-1', '{\"id\":1}', 1)");
    db_exec(db, "COMMIT");
    sqlite3_close(db);
}

/* Every row of sql (each column as text, | between them, a line per row),
 * malloc'd: the content of a table, to compare before and after. */
static char *dump(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    size_t len = 0, cap = 1 << 16;
    char *out = malloc(cap);
    cr_assert(out != NULL, "out of memory");
    out[0] = '\0';
    cr_assert(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK,
              "the test's query %s failed: %s", sql, sqlite3_errmsg(db));
    while (sqlite3_step(st) == SQLITE_ROW) {
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const char *v = (const char *)sqlite3_column_text(st, c);
            size_t n = strlen(v ? v : "NULL") + 2;
            if (len + n + 1 > cap) {
                cap = 2 * (len + n + 1);
                out = realloc(out, cap);
                cr_assert(out != NULL, "out of memory");
            }
            len += (size_t)sprintf(out + len, "%s%c", v ? v : "NULL",
                                   c + 1 < sqlite3_column_count(st) ? '|' : '\n');
        }
    }
    sqlite3_finalize(st);
    return out;
}

/* The items as a version-1 file has them, and as a version-2 file must
 * have them: the same text when the migration kept everything. */
#define ITEMS_V1                                                                                 \
    "SELECT id, name, qty, price, json(tags), version, created_at, updated_at FROM items "       \
    "ORDER BY id"
#define ITEMS_V2                                                                                 \
    "SELECT id, name, qty, price, (SELECT json_group_array(tag) FROM (SELECT tag FROM "          \
    "item_tags WHERE item_id = items.id ORDER BY position)), version, created_at, updated_at "   \
    "FROM items ORDER BY id"

/* The whole file, schema and rows, as text: to show it did not change. */
static char *whole_file(sqlite3 *db)
{
    char *schema = db_fingerprint(db);
    char *items = dump(db, "SELECT * FROM items ORDER BY id");
    char *rest = dump(db, "SELECT name, seq, NULL FROM sqlite_sequence UNION ALL "
                          "SELECT key, item, created_ms "
                          "FROM idempotency_keys");
    size_t n = strlen(schema) + strlen(items) + strlen(rest) + 1;
    char *all = malloc(n);
    cr_assert(all != NULL, "out of memory");
    snprintf(all, n, "%s%s%s", schema, items, rest);
    free(schema);
    free(items);
    free(rest);
    return all;
}

/* ---- db_migrate() ------------------------------------------------------------ */

Test(migrate, db_migrate_takes_a_version_1_file_to_version_2_with_every_row)
{
    const char *path = db_tmp_path("v1.db");
    write_v1(path, NULL);
    sqlite3 *t = db_oracle(path);
    char *before = dump(t, ITEMS_V1);
    sqlite3_close(t);

    char err[512] = "";
    sqlite3 *db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    int rc = db_migrate(db, err, sizeof err);
    cr_assert(rc == 0, "db_migrate() on a version-1 file of %d items returned %d: %s "
              "(WB_SEED=%llu)", ROWS, rc, err, (unsigned long long)wb_seed());
    char want[16];
    snprintf(want, sizeof want, "%d", db_version());
    cr_expect(db_version() >= 2 && strcmp(db_value(db, "PRAGMA user_version"), want) == 0,
              "after db_migrate() the file is at user_version %s and db_version() is %d; "
              "expected both 2 (or more, after later stages): append step 2 to migrations[] "
              "in db.c", db_value(db, "PRAGMA user_version"), db_version());
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM pragma_table_info('items') WHERE "
                                  "name = 'tags'"), "0") == 0 &&
                  strcmp(db_value(db, "SELECT type FROM pragma_table_info('items') WHERE "
                                      "name = 'sku'"), "TEXT") == 0,
              "after the migration, items has %s column tags and a sku of type \"%s\"; "
              "expected no tags column (ALTER TABLE items DROP COLUMN tags) and sku TEXT "
              "(ALTER TABLE items ADD COLUMN sku TEXT ...)",
              db_value(db, "SELECT count(*) FROM pragma_table_info('items') WHERE name = "
                           "'tags'"),
              db_value(db, "SELECT type FROM pragma_table_info('items') WHERE name = 'sku'"));
    cr_expect(strcmp(db_value(db, "SELECT \"table\" || ' ' || \"from\" || '->' || \"to\" || ' ' "
                                  "|| on_delete FROM pragma_foreign_key_list('item_tags')"),
                     "items item_id->id CASCADE") == 0,
              "item_tags' foreign key is \"%s\"; expected \"items item_id->id CASCADE\": "
              "item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE",
              db_value(db, "SELECT \"table\" || ' ' || \"from\" || '->' || \"to\" || ' ' || "
                           "on_delete FROM pragma_foreign_key_list('item_tags')"));
    cr_expect(strcmp(db_value(db, "SELECT \"unique\" || ' ' || (SELECT group_concat(name) FROM "
                                  "pragma_index_info(il.name)) FROM pragma_index_list('items') "
                                  "AS il WHERE origin = 'c' AND \"unique\""), "1 sku") == 0,
              "the unique index made on items is \"%s\"; expected \"1 sku\": CREATE UNIQUE INDEX "
              "items_sku ON items (sku)",
              db_value(db, "SELECT \"unique\" || ' ' || (SELECT group_concat(name) FROM "
                           "pragma_index_info(il.name)) FROM pragma_index_list('items') AS il "
                           "WHERE origin = 'c' AND \"unique\""));
    char *after = dump(db, ITEMS_V2);
    cr_expect(strcmp(before, after) == 0,
              "the %d items after the migration differ from before it (each row: id | name | "
              "qty | price | tags | version | created_at | updated_at; the tags before from the "
              "JSON column, after from item_tags in the order of position):\n%s\nINSERT INTO "
              "item_tags ... SELECT items.id, t.key, t.value FROM items, json_each(items.tags) "
              "AS t keeps every tag and its place (WB_SEED=%llu)",
              ROWS, wb_diff(before, strlen(before), after, strlen(after), 400),
              (unsigned long long)wb_seed());
    cr_expect(strcmp(db_value(db, "SELECT seq FROM sqlite_sequence WHERE name = 'items'"),
                     "105") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM idempotency_keys"), "1") == 0,
              "after the migration the items' sequence is %s and %s idempotency keys are left; "
              "expected 105 (ids 101-105 were given, then deleted: never again) and 1",
              db_value(db, "SELECT seq FROM sqlite_sequence WHERE name = 'items'"),
              db_value(db, "SELECT count(*) FROM idempotency_keys"));
    cr_expect(strcmp(db_value(db, "PRAGMA integrity_check"), "ok") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM pragma_foreign_key_check"), "0") == 0,
              "after the migration integrity_check says \"%s\" and foreign_key_check finds %s "
              "rows; expected \"ok\" and 0",
              db_value(db, "PRAGMA integrity_check"),
              db_value(db, "SELECT count(*) FROM pragma_foreign_key_check"));
    cr_expect(sqlite3_get_autocommit(db) != 0, "db_migrate() returned inside a transaction");
    free(before);
    free(after);
    sqlite3_close(db);
}

Test(migrate, a_step_that_fails_leaves_the_file_exactly_at_version_1)
{
    static const struct {
        const char *tags, *why;
    } cases[] = {
        {"[\"ok\", 7]", "a tag that is a number: NOT NULL (the CASE gives NULL) refuses it"},
        {"{\"a\": \"b\"}", "an object: its key \"a\" is no INTEGER position (STRICT)"},
        {"[\"this tag is far too long to be a tag: more than fifty characters\"]",
         "a tag of 63 characters: CHECK (length(tag) BETWEEN 1 AND 50)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[32];
        snprintf(name, sizeof name, "bad%zu.db", i);
        const char *path = db_tmp_path(name);
        write_v1(path, cases[i].tags);
        sqlite3 *t = db_oracle(path);
        char *before = whole_file(t);
        sqlite3_close(t);

        char err[512] = "";
        sqlite3 *db = db_open(path, 1000, err, sizeof err);
        cr_assert(db != NULL, "db_open() failed: %s", err);
        int rc = db_migrate(db, err, sizeof err);
        cr_expect(rc == -1 && *err,
                  "db_migrate() on a version-1 file whose item 57 has the tags %s (%s) returned "
                  "%d, err \"%s\"; expected -1 and why", cases[i].tags, cases[i].why, rc, err);
        cr_expect(sqlite3_get_autocommit(db) != 0,
                  "db_migrate() left the connection inside a transaction after a failure: "
                  "ROLLBACK");
        sqlite3_close(db);
        t = db_oracle(path);
        char *after = whole_file(t);
        sqlite3_close(t);
        cr_expect(strcmp(before, after) == 0,
                  "a failed migration (item 57 has the tags %s: %s) changed the file -- its "
                  "schema, user_version or rows:\n%s\nEvery step, and user_version, in one "
                  "transaction: a ROLLBACK leaves the file exactly at version 1, and the "
                  "operator can mend the row and start again", cases[i].tags, cases[i].why,
                  wb_diff(before, strlen(before), after, strlen(after), 400));
        free(before);
        free(after);
    }
}

/* Chapter 05 keeps its users in the same file: its steps come after this
 * chapter's (db_extend()), with the same user_version. */
Test(migrate, a_later_chapters_steps_run_after_yours_with_the_same_version)
{
    static const char *const later[] = {
        "CREATE TABLE later_a (x INTEGER NOT NULL) STRICT;\n",
        "CREATE TABLE later_b (y INTEGER NOT NULL) STRICT;\n",
    };
    static const char *const broken[] = {"CREATE TABLE later_a (x INTEGER) STRICT;\n",
                                         "INSERT INTO no_such_table VALUES (1);\n"};
    const int own = db_version();
    const char *path = db_tmp_path("later.db");
    char err[512] = "", want[16];

    db_extend(later, 2);
    cr_expect(db_version() == own + 2,
              "after db_extend() of 2 steps, db_version() is %d; expected %d (your %d steps, "
              "then the later chapter's 2)", db_version(), own + 2, own);
    sqlite3 *db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    int rc = db_migrate(db, err, sizeof err);
    cr_assert(rc == 0, "db_migrate() of a new file, with 2 steps appended by db_extend(), "
              "failed: %s -- run step(v) for v up to db_version() - 1, not migrations[v] up "
              "to NSTEPS", err);
    sqlite3_close(db);
    sqlite3 *t = db_oracle(path);
    snprintf(want, sizeof want, "%d", own + 2);
    cr_expect(strcmp(db_value(t, "PRAGMA user_version"), want) == 0,
              "after db_migrate() with 2 steps appended, user_version is %s; expected %s -- "
              "PRAGMA user_version = db_version()", db_value(t, "PRAGMA user_version"), want);
    cr_expect(strcmp(db_value(t, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                 "('later_a', 'later_b', 'items')"), "3") == 0,
              "after db_migrate() with 2 steps appended, the tables items, later_a and later_b "
              "are not all there: run your steps, then step(v) for the appended ones");
    sqlite3_close(t);

    /* the same file, again: up to date, nothing runs */
    db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    rc = db_migrate(db, err, sizeof err);
    cr_expect(rc == 0, "a second db_migrate() of a file at version %s, with the same 2 steps "
              "appended, failed: %s -- a file at db_version() is up to date", want, err);
    sqlite3_close(db);

    /* a later step that fails: the file stays at your version */
    const char *path2 = db_tmp_path("later-broken.db");
    db_extend(NULL, 0);
    db = db_open(path2, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    cr_assert(db_migrate(db, err, sizeof err) == 0, "db_migrate() of a new file failed: %s", err);
    db_extend(broken, 2);
    *err = '\0';
    rc = db_migrate(db, err, sizeof err);
    cr_expect(rc == -1 && *err, "db_migrate() with an appended step that fails (INSERT INTO "
              "no_such_table) returned %d, err \"%s\"; expected -1 and why", rc, err);
    sqlite3_close(db);
    t = db_oracle(path2);
    snprintf(want, sizeof want, "%d", own);
    cr_expect(strcmp(db_value(t, "PRAGMA user_version"), want) == 0 &&
                  strcmp(db_value(t, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                     "'later_a'"), "0") == 0,
              "after an appended step failed, user_version is %s and later_a %s; expected "
              "%s and no later_a -- the appended steps are in the same transaction as yours",
              db_value(t, "PRAGMA user_version"),
              db_value(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'later_a'"), want);
    sqlite3_close(t);
}

/* ---- the server ---------------------------------------------------------------- */

Test(migrate, restd_upgrades_a_version_1_file_and_serves_every_item_of_it)
{
    const char *path = db_tmp_path("items.db");
    write_v1(path, NULL);
    /* what each item must be, from the version-1 rows */
    sqlite3 *t = db_oracle(path);
    char *rows = dump(t, "SELECT json_object('id', id, 'name', name, 'qty', qty, 'price', price, "
                         "'tags', json(tags), 'version', version, 'created_at', created_at, "
                         "'updated_at', updated_at) FROM items ORDER BY id");
    char ntags[32];
    snprintf(ntags, sizeof ntags, "%s",
             db_value(t, "SELECT sum(json_array_length(tags)) FROM items"));
    sqlite3_close(t);

    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    t = db_oracle(path);
    cr_expect(atoi(db_value(t, "PRAGMA user_version")) >= 2 &&
                  strcmp(db_value(t, "SELECT count(*) FROM item_tags"), ntags) == 0,
              "restd --db on a version-1 file listens; the file is then at user_version %s "
              "with %s rows in item_tags; expected 2 or more and %s (every tag of the file): the "
              "server migrates before it listens\n%s", db_value(t, "PRAGMA user_version"),
              db_value(t, "SELECT count(*) FROM sqlite_schema WHERE name = 'item_tags'")[0] == '1'
                  ? db_value(t, "SELECT count(*) FROM item_tags")
                  : "no table, no",
              ntags, wb_describe(p));
    sqlite3_close(t);
    struct ht_response *r = rc_send(p, fd, "GET", "/items?limit=100", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET /items?limit=100 on the migrated file");
    cJSON *page = jt_body(p, r, "the first page of the migrated items");
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    cr_assert(cJSON_GetArraySize(items) == ROWS,
              "GET /items?limit=100 on a file migrated from version 1 with %d items answered "
              "%d items\n%s", ROWS, cJSON_GetArraySize(items), wb_describe(p));
    char *line = rows;
    const cJSON *got;
    cJSON_ArrayForEach(got, items)
    {
        char *end = strchr(line, '\n');
        *end = '\0';
        cJSON *want = cJSON_Parse(line);
        const char *d = jt_diff(want, got);
        cr_expect(d == NULL,
                  "an item of the version-1 file came back different through the API: %s\n"
                  "expected %s\n(WB_SEED=%llu)", d ? d : "", line,
                  (unsigned long long)wb_seed());
        cJSON_Delete(want);
        line = end + 1;
        if (d)
            break;
    }
    cJSON_Delete(page);
    ht_free(r);
    r = rc_send(p, fd, "GET", "/items/57", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET /items/57 on the migrated file");
    cr_expect(ht_header(r, "ETag") && strchr(ht_header(r, "ETag"), '"'),
              "GET /items/57 has no ETag after the migration\n%s", wb_describe(p));
    ht_free(r);
    long long id = rc_create(p, fd, "{\"name\":\"after the migration\",\"tags\":[\"new\"]}", NULL,
                             0);
    cr_expect(id == 106, "the first item created on the migrated file got the id %lld; expected "
              "106: the version-1 file had given ids up to 105 (sqlite_sequence), and the "
              "migration must keep AUTOINCREMENT's memory", id);
    free(rows);
}

Test(migrate, restd_refuses_a_file_it_cannot_migrate_and_leaves_it_as_it_was)
{
    const char *path = db_tmp_path("items.db");
    /* first a good version-1 file: refusing everything is no answer */
    const char *good = db_tmp_path("good.db");
    write_v1(good, NULL);
    struct wb_proc *ok = wb_start("--db", good, NULL);
    wb_stop(ok, 2000);

    write_v1(path, "[\"ok\", 7]");
    sqlite3 *t = db_oracle(path);
    char *before = whole_file(t);
    sqlite3_close(t);
    char why[512];
    const char *args[] = {"--db", path, NULL};
    struct wb_proc *p = wb_try_start(why, sizeof why, args);
    struct wb_proc *last = wb_last();
    cr_assert(p == NULL, "restd --db %s started listening on a version-1 file whose item 57 "
              "has the tags [\"ok\", 7], which cannot move to item_tags; expected it to refuse "
              "the file and exit", path);
    int status = 0;
    cr_assert(wb_wait_exit(last, 2000, &status),
              "restd did not exit after a failed migration\n%s", wb_describe(last));
    const char *err = wb_stderr_tail(last, 2048);
    int refused = WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(err, path);
    cr_expect(refused,
              "restd --db %s with a migration that fails: expected an exit status other than "
              "0 and a message naming the file on stderr\n%s", path, wb_describe(last));
    t = db_oracle(path);
    char *after = whole_file(t);
    sqlite3_close(t);
    cr_expect(strcmp(before, after) == 0,
              "the failed start changed the file:\n%s",
              wb_diff(before, strlen(before), after, strlen(after), 400));
    free(before);
    free(after);
}

/* The tags of item id in item_tags, "position:tag,..." in order. */
static const char *tag_rows(sqlite3 *db, long long id)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT group_concat(position || ':' || tag, ',') FROM (SELECT "
                              "position, tag FROM item_tags WHERE item_id = %lld ORDER BY "
                              "position)", id);
    return db_value(db, sql);
}

Test(migrate, the_tags_are_rows_which_change_and_go_with_their_item)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char loc[64];
    long long id = rc_create(p, fd, "{\"name\":\"pear\",\"tags\":[\"b\",\"a\",\"b2\"]}", loc,
                             sizeof loc);
    long long other = rc_create(p, fd, "{\"name\":\"fig\",\"tags\":[\"keep\"]}", NULL, 0);
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(tag_rows(db, id), "0:b,1:a,2:b2") == 0,
              "after POST of tags [\"b\",\"a\",\"b2\"], item_tags has for the item: \"%s\"; "
              "expected \"0:b,1:a,2:b2\" (position:tag): one row per tag, in the client's "
              "order", tag_rows(db, id));
    const char *put = "{\"name\":\"pear\",\"tags\":[\"z\"]}";
    struct ht_response *r = rc_send(p, fd, "PUT", loc, "Content-Type: application/json\r\n",
                                    put, strlen(put));
    ht_expect_status(p, r, 200, NULL, 0, "PUT with the tags [\"z\"]");
    ht_free(r);
    cr_expect(strcmp(tag_rows(db, id), "0:z") == 0,
              "after PUT of tags [\"z\"], item_tags has for the item: \"%s\"; expected \"0:z\": "
              "the old rows go, the new ones come, in the same transaction", tag_rows(db, id));
    r = rc_send(p, fd, "DELETE", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of the item");
    ht_free(r);
    char sql[96];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM item_tags WHERE item_id = %lld", id);
    cr_expect(strcmp(db_value(db, sql), "0") == 0 && strcmp(tag_rows(db, other), "0:keep") == 0,
              "after DELETE of the item, item_tags keeps %s of its rows (expected 0: ON DELETE "
              "CASCADE, with PRAGMA foreign_keys = ON on the server's connection), and the other "
              "item's are \"%s\" (expected \"0:keep\")", db_value(db, sql), tag_rows(db, other));
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM pragma_foreign_key_check"), "0") == 0,
              "foreign_key_check finds tags whose item is gone");
    sqlite3_close(db);
}

Test(migrate, a_second_start_on_a_migrated_file_changes_nothing)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    write_v1(path, NULL);
    struct wb_proc *p = wb_start("--db", path, NULL);
    wb_stop(p, 2000);
    sqlite3 *t = db_oracle(path);
    char *before = whole_file(t);
    sqlite3_close(t);
    p = wb_start("--db", path, NULL);
    wb_stop(p, 2000);
    t = db_oracle(path);
    char *after = whole_file(t);
    sqlite3_close(t);
    cr_expect(strcmp(before, after) == 0,
              "a second start on a file the first start migrated changed it:\n%s\nAt the "
              "newest version db_migrate() has no step to run: it must leave the file alone",
              wb_diff(before, strlen(before), after, strlen(after), 400));
    free(before);
    free(after);
}
