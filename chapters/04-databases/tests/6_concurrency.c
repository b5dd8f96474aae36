/* Stage 6: many clients at once -- concurrent creates all succeed,
 * read-modify-write converges, a lock held by another process makes a
 * change wait and, past --busy-ms, gives 503 with Retry-After; reads never
 * wait for writers (WAL), and other clients are answered while a change
 * waits; a read sees an item whole (its row and its tags from one
 * snapshot) while changes commit, and reads of items being deleted never
 * fail. The test's own connection is the other process. */
#include <poll.h>
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
            const char *tag = ht_header(r, "ETag");
            snprintf(etag[i], sizeof etag[i], "%s", tag ? tag : "");
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
                      "write -- no STORE_STALE, no 412, no retry\n%s", round, r->status,
                      wb_describe(p));
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

/* The test's own change of item id, as another process's: the name
 * "n<ntags>" and ntags tags, in one transaction. */
static void oracle_flip(sqlite3 *db, sqlite3_stmt *const st[3], long long id, int ntags)
{
    char name[8];
    snprintf(name, sizeof name, "n%d", ntags);
    int ok = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
             sqlite3_bind_int64(st[0], 1, id) == SQLITE_OK &&
             sqlite3_bind_text(st[0], 2, name, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_step(st[0]) == SQLITE_DONE && sqlite3_bind_int64(st[1], 1, id) == SQLITE_OK &&
             sqlite3_step(st[1]) == SQLITE_DONE;
    sqlite3_reset(st[0]);
    sqlite3_reset(st[1]);
    for (int k = 0; ok && k < ntags; k++) {
        ok = sqlite3_bind_int64(st[2], 1, id) == SQLITE_OK &&
             sqlite3_bind_int(st[2], 2, k) == SQLITE_OK &&
             sqlite3_bind_text(st[2], 3, "o", -1, SQLITE_STATIC) == SQLITE_OK &&
             sqlite3_step(st[2]) == SQLITE_DONE;
        sqlite3_reset(st[2]);
    }
    cr_assert(ok && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK,
              "the test cannot change an item with its own connection: %s", sqlite3_errmsg(db));
}

Test(concurrency, reads_during_writes_see_whole_items)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "5000", NULL);
    enum { PAIRS = 4, ROUNDS = 40, READS = 8, MAX_TAGS = 5, MAX_FLIPS = 300 };
    int wfd[PAIRS], rfd[PAIRS];
    char loc[PAIRS][64];
    long long id[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        wfd[i] = wb_connect(p);
        rfd[i] = wb_connect(p);
        id[i] = rc_create(p, wfd[i], "{\"name\":\"n0\",\"tags\":[]}", loc[i], sizeof loc[i]);
    }
    /* The test changes the items too, as another process would, again and
     * again while GETs are unanswered: its commits skip the sync
     * (synchronous OFF), so they come far more often than the server's,
     * each of which waits for an fsync. */
    sqlite3 *db = db_oracle(path);
    sqlite3_stmt *st[3] = {NULL, NULL, NULL};
    db_exec(db, "PRAGMA synchronous = OFF");
    cr_assert(sqlite3_prepare_v2(db, "UPDATE items SET name = ?2 WHERE id = ?1", -1, &st[0],
                                 NULL) == SQLITE_OK &&
                  sqlite3_prepare_v2(db, "DELETE FROM item_tags WHERE item_id = ?1", -1,
                                     &st[1], NULL) == SQLITE_OK &&
                  sqlite3_prepare_v2(db, "INSERT INTO item_tags (item_id, position, tag) "
                                     "VALUES (?1, ?2, ?3)", -1, &st[2], NULL) == SQLITE_OK,
              "the test cannot prepare its changes: %s", sqlite3_errmsg(db));
    int torn = 0, flips = 0;
    char first[1024] = "";
    /* In rounds: 4 readers send READS GETs of the items each (pipelined),
     * and 4 writers PUT their item with another number of tags -- the name
     * says how many --, all sent before any answer is read; while GETs are
     * unanswered, the test changes the items itself. */
    for (int round = 0; round < ROUNDS; round++) {
        char wreq[PAIRS][256], rreq[PAIRS][READS][128], all[READS * 128];
        int pending[PAIRS], unread = PAIRS * READS;
        for (int i = 0; i < PAIRS; i++) {
            all[0] = '\0';
            for (int k = 0; k < READS; k++) {
                request(rreq[i][k], sizeof rreq[i][k], "GET", loc[(i + k + round) % PAIRS],
                        NULL, NULL);
                strcat(all, rreq[i][k]);
            }
            wb_send_str(p, rfd[i], all);
            pending[i] = READS;
        }
        for (int i = 0; i < PAIRS; i++) {
            int ntags = (round + i) % (MAX_TAGS + 1);
            char body[128];
            int len = snprintf(body, sizeof body, "{\"name\":\"n%d\",\"tags\":[", ntags);
            for (int k = 0; k < ntags; k++)
                len += snprintf(body + len, sizeof body - (size_t)len, "%s\"t%d\"", k ? "," : "",
                                k);
            snprintf(body + len, sizeof body - (size_t)len, "]}");
            request(wreq[i], sizeof wreq[i], "PUT", loc[i], NULL, body);
            wb_send_str(p, wfd[i], wreq[i]);
        }
        for (int n = 0; unread > 0; n++) {
            if (n < MAX_FLIPS) {
                oracle_flip(db, st, id[n % PAIRS], (round + n) % (MAX_TAGS + 1));
                flips++;
            }
            struct pollfd pfd[PAIRS];
            for (int i = 0; i < PAIRS; i++)
                pfd[i] = (struct pollfd){.fd = pending[i] ? rfd[i] : -1, .events = POLLIN};
            poll(pfd, PAIRS, n < MAX_FLIPS ? 0 : 10000);
            for (int i = 0; i < PAIRS; i++) {
                if (!pending[i] || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                const char *req = rreq[i][READS - pending[i]];
                struct ht_response *r = ht_must_read(p, rfd[i], req, strlen(req), 0, 10000,
                                                     "a GET while the item changes");
                ht_expect_status(p, r, 200, NULL, 0, "a GET of an item that PUTs change at "
                                 "the same moment");
                cJSON *j = jt_body(p, r, "a GET while the item changes");
                const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
                const cJSON *tags = cJSON_GetObjectItemCaseSensitive(j, "tags");
                int want = -1, got = cJSON_GetArraySize(tags);
                if (cJSON_IsString(name))
                    sscanf(name->valuestring, "n%d", &want);
                if (want != got && !torn++)
                    snprintf(first, sizeof first, "round %d: %.*s answered\n  %s", round,
                             (int)strcspn(req, "\r"), req, wb_esc(r->body, r->body_len, 400));
                cJSON_Delete(j);
                ht_free(r);
                pending[i]--;
                unread--;
            }
        }
        for (int i = 0; i < PAIRS; i++) {
            struct ht_response *r = ht_must_read(p, wfd[i], wreq[i], strlen(wreq[i]), 0, 10000,
                                                 "a PUT while other clients read");
            ht_expect_status(p, r, 200, NULL, 0, "a PUT without If-Match while 3 other PUTs "
                             "and the GETs run at once");
            ht_free(r);
        }
    }
    for (int k = 0; k < 3; k++)
        sqlite3_finalize(st[k]);
    sqlite3_close(db);
    cr_expect(torn == 0,
              "4 clients PUT their items %d times each, and the test changed them %d times "
              "with its own connection -- always a name that says the number of tags (\"n3\": "
              "3 tags) --, while 4 others GET them: %d of %d GETs answered an item whose "
              "tags do not match its name, the row of one version and the tags of another. "
              "The first:\n%s\nstore_get() must read the row and its tags in one read "
              "transaction (BEGIN ... COMMIT on the reader's connection: one snapshot); as "
              "two statements outside it, a commit can land between them", ROUNDS, flips,
              torn, ROUNDS * PAIRS * READS, first);
}

Test(concurrency, deletes_and_reads_at_once_answer_no_5xx)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    enum { ITEMS = 40, PAIRS = 4, ROUNDS = 12, STEP = 3, READS = 8 };
    int dfd[PAIRS], gfd[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        dfd[i] = wb_connect(p);
        gfd[i] = wb_connect(p);
    }
    char loc[ITEMS][64];
    for (int n = 0; n < ITEMS; n++) {
        char body[96];
        snprintf(body, sizeof body, "{\"name\":\"item %d\",\"tags\":[\"a\",\"b\"]}", n);
        rc_create(p, dfd[n % PAIRS], body, loc[n], sizeof loc[n]);
    }
    /* Round k: 4 clients DELETE items 3k .. 3k+3 (the first was deleted in
     * the round before: 404), and 4 others GET the same items, READS GETs
     * each, pipelined; everything is sent before any answer is read. */
    int deleted = 0;
    for (int round = 0; round < ROUNDS; round++) {
        char dreq[PAIRS][128], greq[PAIRS][READS][128], all[READS * 128];
        for (int i = 0; i < PAIRS; i++) {
            request(dreq[i], sizeof dreq[i], "DELETE", loc[round * STEP + i], NULL, NULL);
            wb_send_str(p, dfd[i], dreq[i]);
            all[0] = '\0';
            for (int k = 0; k < READS; k++) {
                request(greq[i][k], sizeof greq[i][k], "GET",
                        loc[round * STEP + (PAIRS - 1 - i + k) % PAIRS], NULL, NULL);
                strcat(all, greq[i][k]);
            }
            wb_send_str(p, gfd[i], all);
        }
        for (int n = 0; n < PAIRS * (1 + READS); n++) {
            int del = n < PAIRS, i = del ? n : (n - PAIRS) / READS;
            const char *req = del ? dreq[i] : greq[i][(n - PAIRS) % READS];
            struct ht_response *r = ht_must_read(p, del ? dfd[i] : gfd[i], req, strlen(req), 0,
                                                 10000, "a DELETE or a GET of an item that is "
                                                 "being deleted");
            int ok = del ? r->status == 204 || r->status == 404
                         : r->status == 200 || r->status == 404;
            if (!ok)
                cr_fatal("round %d: 4 clients DELETE items while 4 others GET the same items: "
                         "%.*s answered %d; expected %s. A GET and a DELETE of one item at "
                         "once: the GET finds it or not, the DELETE deletes it or finds it "
                         "gone -- never an error. Each GET reads on a reader's connection of "
                         "its own, lent to one request at a time, in its own read transaction; "
                         "never on the writer's connection, which a change holds from BEGIN "
                         "IMMEDIATE to COMMIT\n%s\n%s", round, (int)strcspn(req, "\r"), req,
                         r->status, del ? "204 (deleted) or 404 (deleted before)"
                                        : "200 (not deleted yet) or 404 (deleted)",
                         wb_esc(r->body, r->body_len, 300), wb_describe(p));
            deleted += del && r->status == 204;
            ht_free(r);
        }
    }
    sqlite3 *db = db_oracle(path);
    char want[32];
    snprintf(want, sizeof want, "%d", ITEMS - deleted);
    const char *left = db_value(db, "SELECT count(*) FROM items");
    cr_expect(strcmp(left, want) == 0,
              "of %d items, %d DELETEs answered 204 (while GETs of the same items ran): the "
              "table then holds %s items; expected %s. A 204 means the row is gone for good "
              "(committed), and any other answer means nothing was deleted", ITEMS, deleted,
              left, want);
    sqlite3_close(db);
}
