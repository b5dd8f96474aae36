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

Test(injection, sort_order_and_ids_with_sql_in_them_are_refused)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    rc_create(p, fd, "{\"name\":\"pear\"}", NULL, 0);
    sqlite3 *db = db_oracle(path);
    char *before = db_fingerprint(db);
    static const struct {
        const char *target;
        int status;
        const char *why;
    } cases[] = {
        {"/items?sort=name%3B%20DROP%20TABLE%20items", 400,
         "sort=name; DROP TABLE items: sort takes one of id, name, qty, price"},
        {"/items?sort=id--", 400, "sort=id--: not one of the four"},
        {"/items?sort=name&order=asc%2C%20name", 400, "order=asc, name: asc or desc"},
        {"/items?sort=(SELECT%201)", 400, "sort=(SELECT 1)"},
        {"/items/1%20OR%201=1", 404, "the id 1 OR 1=1: not a number, no item"},
        {"/items/1;DROP%20TABLE%20items", 404, "the id 1;DROP TABLE items"},
        {"/items/0x1", 404, "the id 0x1"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct ht_response *r = rc_send(p, fd, "GET", cases[i].target, NULL, NULL, 0);
        char why[300];
        snprintf(why, sizeof why, "GET %s -- %s: the text never reaches SQL (an allow-list, a "
                 "number parsed whole)", cases[i].target, cases[i].why);
        cJSON_Delete(jt_expect_problem(p, r, cases[i].status, why));
        ht_free(r);
    }
    char *after = db_fingerprint(db);
    cr_expect(strcmp(before, after) == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0,
              "after sorts, orders and ids carrying SQL the schema or the rows changed:\n%s",
              wb_diff(before, strlen(before), after, strlen(after), 300));
    free(before);
    free(after);
    sqlite3_close(db);
}

Test(injection, a_cursor_whose_key_is_sql_walks_like_any_other)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    static const char *const names[] = {
        "a' OR '1'='1", "b\\\"; DROP TABLE items; --", "c') UNION SELECT 1 --", "d%_\\\\",
    };
    for (size_t i = 0; i < COUNT(names); i++) {
        char body[160];
        snprintf(body, sizeof body, "{\"name\":\"%s\"}", names[i]);
        rc_create(p, fd, body, NULL, 0);
    }
    /* one item per page: every cursor holds one of these names as its key */
    char target[1024] = "/items?sort=name&limit=1";
    int seen = 0;
    for (int page = 0; page < 10 && *target; page++) {
        struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
        ht_expect_status(p, r, 200, NULL, 0, "a page of one item, by name");
        cJSON *j = jt_body(p, r, "the page");
        seen += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "items"));
        const cJSON *next = cJSON_GetObjectItemCaseSensitive(j, "next");
        snprintf(target, sizeof target, "%s", cJSON_IsString(next) ? next->valuestring : "");
        cJSON_Delete(j);
        ht_free(r);
    }
    cr_expect(seen == (int)COUNT(names),
              "a walk by name, one item per page, over %zu items whose names are SQL saw %d; "
              "expected each once: the cursor's key is bound (?2), whatever its bytes",
              COUNT(names), seen);
}

Test(injection, an_idempotency_key_full_of_sql_is_just_a_key)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    const char *key = "Idempotency-Key: \"'); DELETE FROM idempotency_keys; --\"\r\n";
    const char *body = "{\"name\":\"keyed\"}";
    char first[64] = "", headers[160];
    snprintf(headers, sizeof headers, "Content-Type: application/json\r\n%s", key);
    for (int i = 0; i < 2; i++) {
        struct ht_response *r = rc_send(p, fd, "POST", "/items", headers, body, strlen(body));
        ht_expect_status(p, r, 201, NULL, 0, i ? "the retry with the same key: the first 201"
                                               : "a POST whose Idempotency-Key is SQL");
        const char *loc = ht_header(r, "Location");
        if (i == 0)
            snprintf(first, sizeof first, "%s", loc ? loc : "");
        else
            cr_expect(loc && strcmp(loc, first) == 0,
                      "the retry with the key %s got Location %s; expected %s, the first's: the "
                      "key is a bound value, stored and found as it is", key,
                      loc ? loc : "(none)", first);
        ht_free(r);
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM idempotency_keys"), "1") == 0,
              "after two POSTs with one key full of SQL: %s items and %s keys; expected 1 and 1",
              db_value(db, "SELECT count(*) FROM items"),
              db_value(db, "SELECT count(*) FROM idempotency_keys"));
    sqlite3_close(db);
}

Test(injection, a_filter_of_wildcards_matches_only_itself)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    static const char *const names[] = {"100%", "a_b", "axb", "ab", "back\\\\slash", "plain"};
    for (size_t i = 0; i < COUNT(names); i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\":\"%s\"}", names[i]);
        rc_create(p, fd, body, NULL, 0);
    }
    static const struct {
        const char *query;
        int want;
        const char *why;
    } cases[] = {
        {"name=%25", 1, "% is in one name: 100%"},
        {"name=_", 1, "_ is in one name: a_b (not every name of one character or more)"},
        {"name=a_b", 1, "a_b: not axb, where _ would match any character"},
        {"name=%5C", 1, "a backslash is in one name (the escape character itself, escaped)"},
        {"name=b", 4, "b is in a_b, axb, ab and back\\slash"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        char target[128];
        snprintf(target, sizeof target, "/items?%s", cases[i].query);
        struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
        ht_expect_status(p, r, 200, NULL, 0, "GET /items with a filter");
        cJSON *page = jt_body(p, r, "the page");
        int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(page, "items"));
        cr_expect(n == cases[i].want,
                  "GET %s gave %d items; expected %d -- %s. LIKE's wildcards % and _ (and the "
                  "escape \\) in the client's text are escaped in the bound pattern, with "
                  "ESCAPE '\\' in the SQL", target, n, cases[i].want, cases[i].why);
        cJSON_Delete(page);
        ht_free(r);
    }
}
