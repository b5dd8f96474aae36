/* Stage 5: constraints decide, transactions undo -- the sku is unique
 * (409 on POST, PUT and PATCH; eight clients racing for one sku get one
 * 201), and a failure injected by the test in the middle of a change (a
 * trigger of its own, on item_tags) rolls the whole request back: a 500
 * without a word of SQLite, nothing of it stored, an idempotency key not
 * used up, and the next request served. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "restc.h"

WB_SUITE(constraints);

#define JSON_CT "Content-Type: application/json\r\n"
#define PATCH_CT "Content-Type: application/merge-patch+json\r\n"

/* Sends method target with body on fd, expects a 409 problem, and checks
 * the item at loc (if any) is still before (its GET body). */
static void expect_409(struct wb_proc *p, int fd, const char *method, const char *target,
                       const char *headers, const char *body, const char *why)
{
    struct ht_response *r = rc_send(p, fd, method, target, headers, body, strlen(body));
    char msg[512];
    snprintf(msg, sizeof msg, "%s %s with %s -- %s: 409 Conflict, a problem document. The "
             "UNIQUE index refuses the row: sqlite3_step() fails, and sqlite3_extended_errcode() "
             "is SQLITE_CONSTRAINT_UNIQUE -> STORE_CONFLICT", method, target, body, why);
    cJSON_Delete(jt_expect_problem(p, r, 409, msg));
    ht_free(r);
}

/* GET target's body, malloc'd. */
static char *get_body(struct wb_proc *p, int fd, const char *target)
{
    struct ht_response *r = rc_send(p, fd, "GET", target, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of an item");
    char *b = strdup(r->body);
    ht_free(r);
    return b;
}

Test(constraints, a_taken_sku_is_409_and_changes_nothing)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char first[64], second[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"sku\":\"PEAR-1\"}", first, sizeof first);
    rc_create(p, fd, "{\"name\":\"fig\",\"sku\":\"FIG-1\",\"tags\":[\"x\"]}", second,
              sizeof second);
    /* items without a sku do not collide: NULLs are distinct in a UNIQUE index */
    rc_create(p, fd, "{\"name\":\"no sku\"}", NULL, 0);
    rc_create(p, fd, "{\"name\":\"no sku either\",\"sku\":null}", NULL, 0);
    char *fig = get_body(p, fd, second);
    cr_expect(strstr(fig, "\"sku\":\"FIG-1\"") != NULL,
              "GET %s of an item created with \"sku\":\"FIG-1\" answered %s; expected the sku "
              "in it: store it in the sku column, read it back in read_row()", second, fig);

    expect_409(p, fd, "POST", "/items", JSON_CT, "{\"name\":\"another pear\",\"sku\":\"PEAR-1\"}",
               "another item has the sku");
    expect_409(p, fd, "PUT", second, JSON_CT, "{\"name\":\"fig\",\"sku\":\"PEAR-1\"}",
               "another item has the sku");
    expect_409(p, fd, "PATCH", second, PATCH_CT, "{\"sku\":\"PEAR-1\",\"qty\":5}",
               "another item has the sku");
    char *after = get_body(p, fd, second);
    cr_expect(strcmp(fig, after) == 0,
              "a PUT and a PATCH refused with 409 changed the item:\n%s\nThe change is one "
              "transaction: a failed UPDATE means ROLLBACK, the tags and the version too",
              wb_diff(fig, strlen(fig), after, strlen(after), 300));
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "4") == 0,
              "after a POST refused with 409 the table has %s items; expected 4",
              db_value(db, "SELECT count(*) FROM items"));
    sqlite3_close(db);

    /* the same item may keep its own sku, and a freed sku may be taken */
    const char *own = "{\"name\":\"fig 2\",\"sku\":\"FIG-1\"}";
    struct ht_response *r = rc_send(p, fd, "PUT", second, JSON_CT, own, strlen(own));
    ht_expect_status(p, r, 200, NULL, 0, "PUT that keeps the item's own sku: no conflict with "
                     "itself");
    ht_free(r);
    r = rc_send(p, fd, "DELETE", first, NULL, NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE of the item with the sku PEAR-1");
    ht_free(r);
    r = rc_post(p, fd, "{\"name\":\"new pear\",\"sku\":\"PEAR-1\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST with the sku of a deleted item: it is free again");
    ht_free(r);
    free(fig);
    free(after);
}

Test(constraints, eight_clients_racing_for_one_sku_make_one_item)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    enum { CLIENTS = 8, ROUNDS = 5 };
    int fd[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fd[i] = wb_connect(p);
    for (int round = 0; round < ROUNDS; round++) {
        char req[CLIENTS][512];
        for (int i = 0; i < CLIENTS; i++) {
            char body[96];
            snprintf(body, sizeof body, "{\"name\":\"client %d\",\"sku\":\"RACE-%d\"}", i, round);
            snprintf(req[i], sizeof req[i],
                     "POST /items HTTP/1.1\r\nHost: localhost\r\n" JSON_CT
                     "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
        }
        for (int i = 0; i < CLIENTS; i++) /* all sent before any answer is read */
            wb_send_str(p, fd[i], req[i]);
        int created = 0, conflicts = 0;
        for (int i = 0; i < CLIENTS; i++) {
            struct ht_response *r = ht_must_read(p, fd[i], req[i], strlen(req[i]), 0, 5000,
                                                 "one of 8 concurrent POSTs with one sku");
            created += r->status == 201;
            conflicts += r->status == 409;
            cr_expect(r->status == 201 || r->status == 409,
                      "round %d: one of 8 concurrent POSTs with the sku RACE-%d got %d; expected "
                      "201 (the one that wins) or 409\n%s", round, round, r->status,
                      wb_describe(p));
            ht_free(r);
        }
        cr_expect(created == 1 && conflicts == CLIENTS - 1,
                  "round %d: 8 clients POSTed items with the sku RACE-%d at once: %d got 201 and "
                  "%d got 409; expected exactly 1 and 7. The UNIQUE index decides, inside the "
                  "INSERT: a SELECT first to see whether the sku is free can find it free for two "
                  "requests", round, round, created, conflicts);
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) || ' ' || count(DISTINCT sku) FROM items"),
                     "5 5") == 0,
              "after 5 rounds the table has (items, distinct skus) %s; expected 5 5",
              db_value(db, "SELECT count(*) || ' ' || count(DISTINCT sku) FROM items"));
    sqlite3_close(db);
}

/* The failure the test injects: any tag "boom" cannot be inserted. It
 * fires after the items row of the request was written. */
#define BOOM                                                                                     \
    "CREATE TRIGGER boom BEFORE INSERT ON item_tags WHEN NEW.tag = 'boom' "                      \
    "BEGIN SELECT RAISE(ABORT, 'injected failure: SQLITE trigger boom'); END"

/* Everything the test can see of the file's content. */
static char *content(sqlite3 *db)
{
    const char *v = db_value(db, "SELECT (SELECT count(*) FROM items) || ' items, ' || (SELECT "
                                 "count(*) FROM item_tags) || ' tags, ' || (SELECT count(*) FROM "
                                 "idempotency_keys) || ' keys, sequence ' || ifnull((SELECT seq "
                                 "FROM sqlite_sequence WHERE name = 'items'), 0) || ', ' || "
                                 "ifnull((SELECT group_concat(id || ':' || name || ':' || version, "
                                 "',') FROM items), '')");
    return strdup(v);
}

/* The answer to a request that met the injected failure: a 5xx, and not
 * a word of what SQLite said. */
static void expect_hidden_failure(struct wb_proc *p, struct ht_response *r, const char *what)
{
    cr_expect(r->status == 500,
              "%s met a failure inside the database (the test's trigger raised an error while "
              "the tags were written) and got %d; expected 500: the store returns STORE_ERROR "
              "after ROLLBACK\n%s", what, r->status, wb_describe(p));
    static const char *const words[] = {"SQLITE", "sqlite", "injected", "trigger", "boom",
                                        "constraint", "item_tags"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_expect(strstr(r->raw, words[i]) == NULL,
                  "the answer to %s holds \"%s\": %s\nWhat the database said is for the "
                  "server's log, never the client (it tells an attacker the schema: OWASP "
                  "Error Handling, CWE-209)", what, words[i], wb_esc(r->body, r->body_len, 300));
}

Test(constraints, a_failure_in_the_middle_rolls_the_whole_request_back)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"tags\":[\"a\",\"b\"]}", loc, sizeof loc);
    sqlite3 *db = db_oracle(path);
    db_exec(db, BOOM);
    char *before = content(db);
    char *item = get_body(p, fd, loc);

    /* each on a connection of its own: a 500 may close it */
    const char *keyed = "{\"name\":\"keyed\",\"tags\":[\"boom\"]}";
    struct ht_response *r =
        rc_post(p, wb_connect(p), "{\"name\":\"fig\",\"tags\":[\"ok\",\"boom\"]}");
    expect_hidden_failure(p, r, "POST /items with the tags [\"ok\",\"boom\"]");
    ht_free(r);
    const char *put = "{\"name\":\"renamed\",\"tags\":[\"c\",\"boom\"]}";
    r = rc_send(p, wb_connect(p), "PUT", loc, JSON_CT, put, strlen(put));
    expect_hidden_failure(p, r, "PUT with the tags [\"c\",\"boom\"]");
    ht_free(r);
    r = rc_send(p, wb_connect(p), "POST", "/items", JSON_CT "Idempotency-Key: \"k-1\"\r\n",
                keyed, strlen(keyed));
    expect_hidden_failure(p, r, "POST /items with an Idempotency-Key and the tags [\"boom\"]");
    ht_free(r);
    fd = wb_connect(p);

    char *after = content(db);
    cr_expect(strcmp(before, after) == 0,
              "three requests failed in the middle, and the file changed:\n  before: %s\n  "
              "after:  %s\nEvery change is one transaction -- BEGIN IMMEDIATE, the items row, "
              "the tags, the key, COMMIT -- and a failure anywhere is a ROLLBACK of all of it: "
              "no item without its tags, no half-renamed item, no key for nothing", before,
              after);
    char *still = get_body(p, fd, loc);
    cr_expect(strcmp(item, still) == 0, "the PUT that failed changed the item:\n%s",
              wb_diff(item, strlen(item), still, strlen(still), 300));

    /* The connection must be out of the transaction, the write lock free. */
    sqlite3_busy_timeout(db, 200);
    int locked = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK;
    cr_expect(locked == 0, "after the failed requests, the test cannot take the write lock "
              "(BEGIN IMMEDIATE: %s): the server's connection is still inside a transaction. "
              "On a failure, ROLLBACK before returning", sqlite3_errmsg(db));
    if (!locked)
        db_exec(db, "ROLLBACK");
    sqlite3_busy_timeout(db, 5000);
    db_exec(db, "DROP TRIGGER boom");
    r = rc_send(p, fd, "POST", "/items", JSON_CT "Idempotency-Key: \"k-1\"\r\n", keyed,
                strlen(keyed));
    ht_expect_status(p, r, 201, NULL, 0, "the keyed POST again, once the failure is gone: its "
                     "key was not used up, as the key's row is in the rolled-back transaction");
    ht_free(r);
    r = rc_send(p, fd, "PUT", loc, JSON_CT, put, strlen(put));
    ht_expect_status(p, r, 200, NULL, 0, "the PUT again, once the failure is gone");
    ht_free(r);
    cr_expect(strcmp(db_value(db, "SELECT group_concat(tag) FROM (SELECT tag FROM item_tags "
                                  "JOIN items ON items.id = item_id WHERE name = 'renamed' "
                                  "ORDER BY position)"), "c,boom") == 0,
              "after the PUT the item's tags are %s; expected c,boom",
              db_value(db, "SELECT group_concat(tag) FROM (SELECT tag FROM item_tags JOIN items "
                           "ON items.id = item_id WHERE name = 'renamed' ORDER BY position)"));
    sqlite3_close(db);
    free(before);
    free(after);
    free(item);
    free(still);
}

Test(constraints, a_sku_conflict_does_not_use_up_an_idempotency_key)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    rc_create(p, fd, "{\"name\":\"pear\",\"sku\":\"TAKEN\"}", NULL, 0);
    const char *taken = "{\"name\":\"keyed\",\"sku\":\"TAKEN\"}";
    struct ht_response *r = rc_send(p, fd, "POST", "/items",
                                    JSON_CT "Idempotency-Key: \"k-2\"\r\n", taken, strlen(taken));
    cJSON_Delete(jt_expect_problem(p, r, 409, "POST with an Idempotency-Key and a taken sku"));
    ht_free(r);
    const char *free_sku = "{\"name\":\"keyed\",\"sku\":\"FREE\"}";
    r = rc_send(p, fd, "POST", "/items", JSON_CT "Idempotency-Key: \"k-2\"\r\n", free_sku,
                strlen(free_sku));
    ht_expect_status(p, r, 201, NULL, 0, "the same key with a sku that is free: the first try "
                     "created nothing, so the key is still unused (not 422)");
    ht_free(r);
    r = rc_send(p, fd, "POST", "/items", JSON_CT "Idempotency-Key: \"k-2\"\r\n", free_sku,
                strlen(free_sku));
    ht_expect_status(p, r, 201, NULL, 0, "the retry of that request: the same 201 again");
    ht_free(r);
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "2") == 0,
              "the table has %s items; expected 2", db_value(db, "SELECT count(*) FROM items"));
    sqlite3_close(db);
}

Test(constraints, a_sku_that_breaks_the_rules_is_422_and_stores_nothing)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    static const char *const bodies[] = {
        "{\"name\":\"a\",\"sku\":\"lower-case\"}",
        "{\"name\":\"a\",\"sku\":\"-LEADING\"}",
        "{\"name\":\"a\",\"sku\":\"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456\"}",
        "{\"name\":\"a\",\"sku\":\"\"}",
        "{\"name\":\"a\",\"sku\":5}",
        "{\"name\":\"a\",\"sku\":\"A B\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ht_response *r = rc_post(p, fd, bodies[i]);
        char why[300];
        snprintf(why, sizeof why, "POST %s: a sku is null or 1 to 32 of A-Z, 0-9 and -, not "
                 "starting with - (422 from the API, before any SQL)", bodies[i]);
        cJSON *j = jt_expect_problem(p, r, 422, why);
        const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "errors"), 0);
        const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
        cr_expect(cJSON_IsString(ptr) && strcmp(ptr->valuestring, "/sku") == 0,
                  "the 422 to %s names the pointer %s; expected \"/sku\"", bodies[i],
                  cJSON_IsString(ptr) ? ptr->valuestring : "(none)");
        cJSON_Delete(j);
        ht_free(r);
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "0") == 0,
              "after six POSTs refused with 422 the table has %s items; expected 0",
              db_value(db, "SELECT count(*) FROM items"));
    sqlite3_close(db);
}

Test(constraints, a_patch_to_a_null_sku_frees_it)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"sku\":\"FREE-ME\"}", loc, sizeof loc);
    struct ht_response *r = rc_send(p, fd, "PATCH", loc, PATCH_CT, "{\"sku\":null}", 12);
    ht_expect_status(p, r, 200, NULL, 0, "PATCH {\"sku\":null}: the merge patch removes the sku");
    cr_expect(strstr(r->body, "\"sku\"") == NULL,
              "after PATCH {\"sku\":null} the item still has a sku: %s\nnull in a merge patch "
              "removes the member; the column is then NULL", r->body);
    ht_free(r);
    r = rc_post(p, fd, "{\"name\":\"fig\",\"sku\":\"FREE-ME\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST with the sku the other item gave up");
    ht_free(r);
}

Test(constraints, a_409_says_what_is_taken_without_sqlites_words)
{
    struct wb_proc *p = wb_start("--db", db_tmp_path("items.db"), NULL);
    int fd = wb_connect(p);
    rc_create(p, fd, "{\"name\":\"pear\",\"sku\":\"ONE\"}", NULL, 0);
    struct ht_response *r = rc_post(p, fd, "{\"name\":\"fig\",\"sku\":\"ONE\"}");
    cJSON_Delete(jt_expect_problem(p, r, 409, "POST with a taken sku"));
    static const char *const words[] = {"UNIQUE", "constraint", "items.sku", "SQLITE",
                                        "sqlite", "2067"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        cr_expect(strstr(r->body, words[i]) == NULL,
                  "the 409 holds \"%s\": %s\nSay what is wrong in the API's words (another "
                  "item has this sku); sqlite3_errmsg() names tables and columns, and stays in "
                  "the server", words[i], wb_esc(r->body, r->body_len, 300));
    ht_free(r);
}

Test(constraints, the_sku_survives_a_restart)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"bolt\",\"sku\":\"SKU-1\"}", loc, sizeof loc);

    int status = wb_stop(p, 2000);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(clean, "restd --db did not exit 0 on SIGTERM\n%s", wb_describe(p));
    p = wb_start("--db", path, NULL);
    fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET of an item created with a sku, after a restart");
    cJSON *j = jt_body(p, r, "the item created with \"sku\":\"SKU-1\"");
    const cJSON *sku = cJSON_GetObjectItemCaseSensitive(j, "sku");
    int kept = cJSON_IsString(sku) && strcmp(sku->valuestring, "SKU-1") == 0;
    cr_expect(kept, "an item was created with \"sku\":\"SKU-1\", then the server restarted: GET "
              "%s answers\n  %s\nexpected \"sku\":\"SKU-1\" in it. The sku is a column of "
              "items (sku TEXT, NULL for none), written by the INSERT with the other fields "
              "and read back by the SELECT", loc, wb_esc(r->body, r->body_len, 300));
    cJSON_Delete(j);
    ht_free(r);
    r = rc_post(p, fd, "{\"name\":\"nut\",\"sku\":\"SKU-1\"}");
    ht_expect_status(p, r, 409, NULL, 0, "POST of another item with the sku SKU-1, which an "
                     "item created before the restart has: a sku names one item, and the "
                     "database says so -- the UNIQUE index items_sku, in the file, not a "
                     "list of skus in memory");
    ht_free(r);
}
