/* Stage 6: many clients at once -- concurrent creates all succeed,
 * read-modify-write converges, a lock held by another process makes a
 * change wait and, past --busy-ms, gives 503 with Retry-After; reads never
 * wait for writers (WAL), and other clients are answered while a change
 * waits. The test's own connection is the other process. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "restc.h"

WB_SUITE(concurrency);

#define JSON_CT "Content-Type: application/json\r\n"

/* The bytes of method target with a JSON body (may be NULL) and extra
 * header lines, into buf. */
static const char *request(char *buf, size_t cap, const char *method, const char *target,
                           const char *headers, const char *body)
{
    if (body)
        snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s%sContent-Length: %zu\r\n\r\n%s",
                 method, target, JSON_CT, headers ? headers : "", strlen(body), body);
    else
        snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", method, target,
                 headers ? headers : "");
    return buf;
}

Test(concurrency, eight_clients_creating_at_once_all_get_201)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    enum { CLIENTS = 8, EACH = 50 };
    int fd[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fd[i] = wb_connect(p);
    char req[CLIENTS][256];
    int created = 0;
    for (int n = 0; n < EACH; n++) {
        for (int i = 0; i < CLIENTS; i++) { /* all sent before any answer is read */
            char body[64];
            snprintf(body, sizeof body, "{\"name\":\"client %d item %d\",\"tags\":[\"t%d\"]}", i, n,
                     n);
            request(req[i], sizeof req[i], "POST", "/items", NULL, body);
            wb_send_str(p, fd[i], req[i]);
        }
        for (int i = 0; i < CLIENTS; i++) {
            struct ht_response *r = ht_must_read(p, fd[i], req[i], strlen(req[i]), 0, 10000,
                                                 "one of 8 clients creating items at once");
            if (r->status != 201)
                cr_fatal("client %d, item %d of 8 clients x 50 creating at once: status %d; "
                         "expected 201 for every one -- never 500, never \"database is "
                         "locked\": one writer's connection, taken by one change at a time, "
                         "with BEGIN IMMEDIATE\n%s\n%s", i, n, r->status,
                         wb_esc(r->body, r->body_len, 300), wb_describe(p));
            created++;
            ht_free(r);
        }
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(created == CLIENTS * EACH &&
                  strcmp(db_value(db, "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || "
                                      "(SELECT count(*) FROM item_tags) FROM items"),
                         "400 400 400") == 0,
              "8 clients x 50 creates got %d answers 201; the table then has (items, distinct "
              "ids, tags) %s; expected 400 400 400", created,
              db_value(db, "SELECT count(*) || ' ' || count(DISTINCT id) || ' ' || (SELECT "
                           "count(*) FROM item_tags) FROM items"));
    sqlite3_close(db);
}

Test(concurrency, ten_clients_counting_with_if_match_lose_no_update)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    enum { CLIENTS = 10, EACH = 5 };
    int fd[CLIENTS], done[CLIENTS] = {0}, finished = 0, conflicts = 0;
    for (int i = 0; i < CLIENTS; i++)
        fd[i] = wb_connect(p);
    char loc[64];
    rc_create(p, fd[0], "{\"name\":\"counter\",\"qty\":0}", loc, sizeof loc);
    /* In rounds: every client that is not done reads the counter, then all
     * of them write qty + 1 with If-Match at once; one per round wins, the
     * others get 412 and read again. */
    for (int round = 0; finished < CLIENTS && round < 400; round++) {
        char etag[CLIENTS][64];
        long long qty[CLIENTS];
        char req[CLIENTS][512];
        for (int i = 0; i < CLIENTS; i++) {
            if (done[i] == EACH)
                continue;
            struct ht_response *r = rc_send(p, fd[i], "GET", loc, NULL, NULL, 0);
            ht_expect_status(p, r, 200, NULL, 0, "GET of the counter");
            cJSON *j = jt_body(p, r, "the counter");
            qty[i] = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "qty"));
            snprintf(etag[i], sizeof etag[i], "%s", ht_header(r, "ETag") ? ht_header(r, "ETag") : "");
            cJSON_Delete(j);
            ht_free(r);
        }
        for (int i = 0; i < CLIENTS; i++) {
            if (done[i] == EACH)
                continue;
            char body[96], cond[96];
            snprintf(body, sizeof body, "{\"name\":\"counter\",\"qty\":%lld}", qty[i] + 1);
            snprintf(cond, sizeof cond, "If-Match: %s\r\n", etag[i]);
            request(req[i], sizeof req[i], "PUT", loc, cond, body);
            wb_send_str(p, fd[i], req[i]);
        }
        for (int i = 0; i < CLIENTS; i++) {
            if (done[i] == EACH)
                continue;
            struct ht_response *r = ht_must_read(p, fd[i], req[i], strlen(req[i]), 0, 10000,
                                                 "a PUT with If-Match among 10 at once");
            cr_assert(r->status == 200 || r->status == 412,
                      "a PUT with If-Match among 10 at once got %d; expected 200 (it won) or "
                      "412 (another changed the item first)\n%s", r->status, wb_describe(p));
            conflicts += r->status == 412;
            if (r->status == 200 && ++done[i] == EACH)
                finished++;
            ht_free(r);
        }
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(finished == CLIENTS &&
                  strcmp(db_value(db, "SELECT qty FROM items WHERE name = 'counter'"), "50") == 0,
              "10 clients each counted 5 times with GET, then PUT qty + 1 with If-Match (again "
              "on 412): the counter is %s; expected 50 -- each 200 must have written on the "
              "version its client read (UPDATE ... WHERE version = ?), so no increment is lost "
              "(%d answers were 412)",
              db_value(db, "SELECT qty FROM items WHERE name = 'counter'"), conflicts);
    sqlite3_close(db);
}

Test(concurrency, patches_at_once_without_if_match_all_succeed)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    enum { CLIENTS = 10, ROUNDS = 3 };
    int fd[CLIENTS];
    for (int i = 0; i < CLIENTS; i++)
        fd[i] = wb_connect(p);
    char loc[64];
    rc_create(p, fd[0], "{\"name\":\"shared\"}", loc, sizeof loc);
    for (int round = 0; round < ROUNDS; round++) {
        char req[CLIENTS][512];
        for (int i = 0; i < CLIENTS; i++) {
            char body[64];
            snprintf(body, sizeof body, "{\"qty\":%d}", round * CLIENTS + i);
            snprintf(req[i], sizeof req[i],
                     "PATCH %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                     "application/merge-patch+json\r\nContent-Length: %zu\r\n\r\n%s",
                     loc, strlen(body), body);
            wb_send_str(p, fd[i], req[i]);
        }
        for (int i = 0; i < CLIENTS; i++) {
            struct ht_response *r = ht_must_read(p, fd[i], req[i], strlen(req[i]), 0, 10000,
                                                 "one of 10 PATCHes at once");
            cr_assert(r->status == 200,
                      "round %d: one of 10 PATCHes at once, none with If-Match, got %d; expected "
                      "200 for all: a client that sent no If-Match asked for no version. "
                      "store_update() takes the write lock (BEGIN IMMEDIATE) before it reads the "
                      "item, so no other change comes between the read, the merge and the "
                      "write -- no STORE_STALE, no 412, no retry\n%s", round, r->status, wb_describe(p));
            ht_free(r);
        }
    }
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT version FROM items"), "31") == 0,
              "after 30 PATCHes that all answered 200 the item is at version %s; expected 31",
              db_value(db, "SELECT version FROM items"));
    sqlite3_close(db);
}

Test(concurrency, a_lock_held_briefly_makes_a_change_wait)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "5000", NULL);
    int fd = wb_connect(p);
    sqlite3 *db = db_oracle(path);
    db_exec(db, "BEGIN IMMEDIATE"); /* the write lock, as another process would hold it */
    char req[256];
    request(req, sizeof req, "POST", "/items", NULL, "{\"name\":\"waits\"}");
    wb_send_str(p, fd, req);
    int quiet = wb_silent(fd, 300);
    db_exec(db, "COMMIT");
    cr_expect(quiet, "a POST was answered while another connection held the write lock: it "
              "must wait for the lock (busy_timeout), not fail at once\n%s", wb_describe(p));
    struct ht_response *r = ht_must_read(p, fd, req, strlen(req), 0, 5000,
                                         "a POST that waited for the lock");
    ht_expect_status(p, r, 201, req, strlen(req), "a POST that waited 300 ms for another "
                     "connection's write lock, held for less than --busy-ms 5000: it gets the "
                     "lock and creates the item");
    ht_free(r);
    sqlite3_close(db);
}

Test(concurrency, a_lock_held_past_busy_ms_is_503_with_retry_after)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "300", NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    sqlite3 *db = db_oracle(path);
    db_exec(db, "BEGIN IMMEDIATE");
    static const struct {
        const char *method, *body;
    } changes[] = {
        {"POST", "{\"name\":\"blocked\"}"},
        {"PUT", "{\"name\":\"blocked\"}"},
        {"DELETE", NULL},
    };
    for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++) {
        char req[256];
        int post = strcmp(changes[i].method, "POST") == 0;
        request(req, sizeof req, changes[i].method, post ? "/items" : loc, NULL, changes[i].body);
        long long t0 = wb_now_ms();
        struct ht_response *r = ht_exchange(p, req, strlen(req));
        long long ms = wb_now_ms() - t0;
        char why[400];
        snprintf(why, sizeof why, "%s while another connection holds the write lock for longer "
                 "than --busy-ms 300: 503 (SQLITE_BUSY -> STORE_BUSY), a problem document with "
                 "Retry-After, after about 300 ms -- not 500, not a hang", changes[i].method);
        cJSON_Delete(jt_expect_problem(p, r, 503, why));
        cr_expect(ht_header(r, "Retry-After") != NULL,
                  "the 503 to %s has no Retry-After field: say when to try again (RFC 9110 "
                  "section 10.2.3), e.g. \"Retry-After: 1\"", changes[i].method);
        cr_expect(ms >= 250 && ms < 2500,
                  "the 503 to %s came after %lld ms; expected about 300: wait --busy-ms for the "
                  "lock (busy_timeout), then give up", changes[i].method, ms);
        cr_expect(strstr(r->raw, "locked") == NULL && strstr(r->raw, "SQLITE") == NULL,
                  "the 503 holds SQLite's words: %s", wb_esc(r->raw, r->raw_len, 300));
        ht_free(r);
    }
    /* reads do not wait for a writer: WAL */
    struct ht_response *r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET while another connection holds the write lock: "
                     "in WAL mode a reader never waits for the writer");
    ht_free(r);
    db_exec(db, "COMMIT");
    cr_expect(strcmp(db_value(db, "SELECT count(*) || ' ' || group_concat(name) FROM items"),
                     "1 pear") == 0,
              "after three changes answered 503 the table holds %s; expected the one item, "
              "unchanged: a 503 means nothing was done",
              db_value(db, "SELECT count(*) || ' ' || group_concat(name) FROM items"));
    r = rc_post(p, fd, "{\"name\":\"after\"}");
    ht_expect_status(p, r, 201, NULL, 0, "POST once the lock is free again");
    ht_free(r);
    sqlite3_close(db);
}

Test(concurrency, a_long_read_does_not_block_writers)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "300", NULL);
    int fd = wb_connect(p);
    rc_create(p, fd, "{\"name\":\"first\"}", NULL, 0);
    sqlite3 *db = db_oracle(path);
    db_exec(db, "BEGIN");
    cr_assert(strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0,
              "the test's read transaction sees %s items; expected 1",
              db_value(db, "SELECT count(*) FROM items"));
    for (int i = 0; i < 5; i++) {
        struct ht_response *r = rc_post(p, fd, "{\"name\":\"during the read\"}");
        ht_expect_status(p, r, 201, NULL, 0, "POST while another connection has a read "
                         "transaction open: in WAL mode the writer does not wait for readers");
        ht_free(r);
    }
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0,
              "the test's read transaction, opened before 5 POSTs, now sees %s items; expected "
              "still 1: a snapshot", db_value(db, "SELECT count(*) FROM items"));
    db_exec(db, "COMMIT");
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "6") == 0,
              "after its read transaction, the test sees %s items; expected 6",
              db_value(db, "SELECT count(*) FROM items"));
    sqlite3_close(db);
}

Test(concurrency, other_clients_are_answered_while_changes_wait)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "4000", NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\"}", loc, sizeof loc);
    sqlite3 *db = db_oracle(path);
    db_exec(db, "BEGIN IMMEDIATE");
    enum { WAITING = 3 };
    int w[WAITING];
    char req[256];
    request(req, sizeof req, "POST", "/items", NULL, "{\"name\":\"waits\"}");
    for (int i = 0; i < WAITING; i++) {
        w[i] = wb_connect(p);
        wb_send_str(p, w[i], req);
    }
    wb_pause_ms(100); /* let them reach the store */
    static const char *const targets[] = {"/health", NULL};
    for (int k = 0; k < 2; k++) {
        const char *target = targets[k] ? targets[k] : loc;
        char get[160];
        request(get, sizeof get, "GET", target, NULL, NULL);
        long long t0 = wb_now_ms();
        struct ht_response *r = ht_exchange(p, get, strlen(get));
        long long ms = wb_now_ms() - t0;
        cr_expect(r->status == 200 && ms < 1000,
                  "GET %s while 3 POSTs wait for a write lock another connection holds: %d "
                  "after %lld ms; expected 200 at once. Waiting changes must stall neither the "
                  "event loop (only /items goes to a worker) nor the reads (a reader's "
                  "connection of its own, not the writer's)\n%s", target, r->status, ms,
                  wb_describe(p));
        ht_free(r);
    }
    db_exec(db, "COMMIT");
    for (int i = 0; i < WAITING; i++) {
        struct ht_response *r = ht_must_read(p, w[i], req, strlen(req), 0, 5000,
                                             "a POST that waited for the lock");
        ht_expect_status(p, r, 201, req, strlen(req), "a POST that waited while the test held "
                         "the lock, then got it");
        ht_free(r);
    }
    sqlite3_close(db);
}
