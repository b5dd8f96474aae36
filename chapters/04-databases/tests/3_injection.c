/* Stage 3: injection-proof queries -- text that is SQL round-trips as
 * text, byte for byte, and the database is the same afterwards: the same
 * schema, the same number of rows, no file attached. The tests hold their
 * own SQLite connection as the oracle. OWASP SQL Injection Prevention
 * Cheat Sheet: option 1, prepared statements with bound parameters. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "restc.h"

WB_SUITE(injection);

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Names that are SQL, or break SQL that is built by pasting text. */
static const char *const hostile[] = {
    "'",
    "''",
    "\"",
    "--",
    "/*",
    "*/",
    ";",
    "\\'",
    "' OR '1'='1",
    "' OR 1=1 --",
    "Robert'); DROP TABLE items;--",
    "x' UNION SELECT sql, 1, 1, 1, 1, 1, 1, 1 FROM sqlite_schema --",
    "x'); ATTACH DATABASE 'pwned.db' AS pwned; --",
    "x'); PRAGMA user_version = 0; --",
    "x'); DELETE FROM items; --",
    "%",
    "_",
    "\\",
    "x\\' OR 1=1 #",
    "1; SELECT load_extension('evil')",
};

/* json: {"name": <name as a JSON string>, "tags": [<its first 50 bytes>]}
 * (the names are ASCII: 50 bytes are 50 characters, a tag's most). */
static char *item_json(const char *name)
{
    char tag[51];
    snprintf(tag, sizeof tag, "%s", name);
    cJSON *j = cJSON_CreateObject(), *tags = cJSON_AddArrayToObject(j, "tags");
    cJSON_AddStringToObject(j, "name", name);
    cJSON_AddItemToArray(tags, cJSON_CreateString(tag));
    char *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    return text;
}

Test(injection, names_that_are_sql_are_stored_as_text_and_change_nothing)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    sqlite3 *db = db_oracle(db_tmp_path("items.db"));
    char *before = db_fingerprint(db);
    for (size_t i = 0; i < COUNT(hostile); i++) {
        char *json = item_json(hostile[i]), loc[64];
        long long id = rc_create(p, fd, json, loc, sizeof loc);
        struct ht_response *r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
        ht_expect_status(p, r, 200, NULL, 0, "GET of an item whose name is SQL");
        cJSON *got = jt_body(p, r, "GET"), *want = cJSON_Parse(json);
        const cJSON *gn = cJSON_GetObjectItemCaseSensitive(got, "name");
        const char *d = jt_diff(cJSON_GetObjectItemCaseSensitive(want, "tags"),
                                cJSON_GetObjectItemCaseSensitive(got, "tags"));
        cr_expect(cJSON_IsString(gn) && strcmp(gn->valuestring, hostile[i]) == 0 && !d,
                  "POST /items with the name %s (and the same tag), then GET %s: the name or "
                  "tag came back as %s -- bound as a parameter, text is text",
                  wb_esc(hostile[i], strlen(hostile[i]), 80), loc, ht_describe_response(r));
        /* at rest too: the database holds exactly those bytes */
        char sql[96];
        snprintf(sql, sizeof sql, "SELECT name FROM items WHERE id = %lld", id);
        const char *stored = db_value(db, sql);
        cr_expect(strcmp(stored, hostile[i]) == 0,
                  "the row of item %lld holds the name %s; expected %s byte for byte", id,
                  wb_esc(stored, strlen(stored), 80), wb_esc(hostile[i], strlen(hostile[i]), 80));
        cJSON_Delete(got);
        cJSON_Delete(want);
        ht_free(r);
        cJSON_free(json);
    }
    char *after = db_fingerprint(db);
    char count[32];
    snprintf(count, sizeof count, "%zu", COUNT(hostile));
    cr_expect(strcmp(before, after) == 0,
              "after %zu items named with SQL, the database's schema or user_version changed:\n%s\n"
              "Some text reached the database as SQL: bind every value "
              "(sqlite3_bind_text()), never paste it into the statement", COUNT(hostile),
              wb_diff(before, strlen(before), after, strlen(after), 400));
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), count) == 0,
              "the database holds %s items; expected the %s created: none deleted, none added",
              db_value(db, "SELECT count(*) FROM items"), count);
    char pwned[600];
    snprintf(pwned, sizeof pwned, "%s/pwned.db", wb_tmpdir());
    cr_expect(access(pwned, F_OK) != 0 && access("pwned.db", F_OK) != 0,
              "a file pwned.db appeared: a name's ATTACH DATABASE ran as SQL");
    free(before);
    free(after);
    sqlite3_close(db);
}

Test(injection, changes_and_filters_with_sql_in_them_stay_text)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    sqlite3 *db = db_oracle(db_tmp_path("items.db"));
    char loc[64];
    rc_create(p, fd, "{\"name\":\"plain\"}", loc, sizeof loc);
    rc_create(p, fd, "{\"name\":\"other\"}", NULL, 0);
    char *before = db_fingerprint(db);

    /* PUT and PATCH carry SQL in every member a client sends */
    const char *put = "{\"name\":\"x', qty = 99 --\",\"tags\":[\"'); DROP TABLE items; --\"]}";
    struct ht_response *r = rc_send(p, fd, "PUT", loc, "Content-Type: application/json\r\n",
                                    put, strlen(put));
    ht_expect_status(p, r, 200, NULL, 0, "PUT with SQL in the name and a tag");
    ht_free(r);
    const char *patch = "{\"name\":\"y\\\" OR \\\"\\\"=\\\"\"}";
    r = rc_send(p, fd, "PATCH", loc, "Content-Type: application/merge-patch+json\r\n", patch,
                strlen(patch));
    ht_expect_status(p, r, 200, NULL, 0, "PATCH with SQL in the name");
    ht_free(r);

    /* filters: text that would widen a pasted WHERE finds only itself */
    static const struct {
        const char *target;
        int want;
        const char *why;
    } cases[] = {
        {"/items?name=%27%20OR%20%271%27%3D%271", 0, "' OR '1'='1 is in no name"},
        {"/items?name=x%27", 0, "x' is in no name now (the PATCH replaced it)"},
        {"/items?name=%22%20OR", 1, "\" OR is in the patched name"},
        {"/items?name=other", 1, "the other item, untouched"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        r = rc_send(p, fd, "GET", cases[i].target, NULL, NULL, 0);
        ht_expect_status(p, r, 200, NULL, 0, "GET /items with a filter");
        cJSON *page = jt_body(p, r, "the page");
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items"));
        cr_expect(n == cases[i].want, "GET %s gave %d items; expected %d -- %s", cases[i].target,
                  n, cases[i].want, cases[i].why);
        cJSON_Delete(page);
        ht_free(r);
    }
    char *after = db_fingerprint(db);
    cr_expect(strcmp(before, after) == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM items"), "2") == 0 &&
                  strcmp(db_value(db, "SELECT group_concat(qty) FROM items"), "0,0") == 0,
              "after changes and filters carrying SQL, the database is not what the API said: "
              "schema\n%s\nitems %s, qty %s (expected 2 items, qty 0,0)",
              wb_diff(before, strlen(before), after, strlen(after), 300),
              db_value(db, "SELECT count(*) FROM items"),
              db_value(db, "SELECT group_concat(qty) FROM items"));
    free(before);
    free(after);
    sqlite3_close(db);
}
