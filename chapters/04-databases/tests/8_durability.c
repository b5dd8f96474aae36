/* Stage 8: durability and shutdown -- every 201 is sent only after the WAL
 * that holds its item was synced to the disk (a spy preloaded into restd
 * notes each fsync and each 201, in order); kill -9 at random moments
 * under four writing clients loses no acknowledged item, leaves no item
 * without its tags, and a retry of a request that was in flight creates
 * it at most once; SIGTERM leaves a closed database, without a -wal file,
 * and first finishes -- and acknowledges -- a change in flight. */
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "restc.h"

WB_SUITE(durability);

/* restd --db path with tests/spy/fsyncspy.c preloaded, writing its notes
 * to log. */
static struct wb_proc *start_spied(const char *path, const char *log)
{
    char exe[512], spy[600], asan[600];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    snprintf(spy, sizeof spy, "%s/fsyncspy.so", dirname(exe));
    cr_assert(access(spy, R_OK) == 0, "the test's spy %s is missing: make builds it", spy);
    const char *old = getenv("ASAN_OPTIONS");
    char *saved = old ? strdup(old) : NULL;
    /* the spy comes before AddressSanitizer's runtime: allow it */
    snprintf(asan, sizeof asan, "%s%sverify_asan_link_order=0", old ? old : "",
             old && *old ? ":" : "");
    setenv("ASAN_OPTIONS", asan, 1);
    setenv("LD_PRELOAD", spy, 1);
    setenv("WB_SPY_LOG", log, 1);
    struct wb_proc *p = wb_start("--db", path, NULL);
    unsetenv("LD_PRELOAD");
    unsetenv("WB_SPY_LOG");
    if (saved)
        setenv("ASAN_OPTIONS", saved, 1);
    else
        unsetenv("ASAN_OPTIONS");
    free(saved);
    return p;
}

Test(durability, every_201_comes_after_the_wal_is_on_the_disk)
{
    char path[512], log[512], wal[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    snprintf(log, sizeof log, "%s", db_tmp_path("spy.log"));
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct wb_proc *p = start_spied(path, log);
    int fd = wb_connect(p);
    enum { POSTS = 20 };
    for (int i = 0; i < POSTS; i++) {
        char body[64];
        snprintf(body, sizeof body, "{\"name\":\"durable %d\",\"tags\":[\"a\"]}", i);
        rc_create(p, fd, body, NULL, 0);
    }
    wb_stop(p, 2000);
    FILE *f = fopen(log, "r");
    cr_assert(f != NULL, "the spy wrote no log (%s): was it preloaded?", log);
    char line[700];
    int answers = 0, synced = 0, unsynced = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "201") == 0) {
            answers++;
            unsynced += !synced;
            synced = 0;
        } else if (strncmp(line, "sync ", 5) == 0 && strcmp(line + 5, wal) == 0) {
            synced = 1;
        }
    }
    fclose(f);
    cr_expect(answers == POSTS && unsynced == 0,
              "%d POSTs one after the other: the spy saw %d answers 201, and %d of them were "
              "sent without an fsync()/fdatasync() of %s since the answer before. A 201 says "
              "\"saved\": the COMMIT must have reached the disk first -- PRAGMA synchronous = "
              "FULL syncs the WAL at every commit (NORMAL only at checkpoints: a power cut "
              "loses the last commits)", POSTS, answers, unsynced, wal);
}

/* What a client sent and got back. */
struct sent {
    char name[48];
    char req[512];
    long long id;   /* 0: no 201 came (in flight when the server died) */
    char *body;     /* the 201's body */
};

Test(durability, kill_9_under_four_writers_loses_no_acknowledged_item, .timeout = 90)
{
    char path[512]; /* db_tmp_path()'s slot is reused by later messages */
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    enum { CLIENTS = 4, ROUNDS = 5, MAX = 4000 };
    struct sent *all = calloc(MAX, sizeof *all);
    int nall = 0;
    cr_assert(all != NULL, "out of memory");
    for (int round = 0; round < ROUNDS; round++) {
        struct wb_proc *p = wb_start("--db", path, NULL);
        int fd[CLIENTS];
        for (int c = 0; c < CLIENTS; c++)
            fd[c] = wb_connect(p);
        long long deadline = wb_now_ms() + 40 + wb_random_u32() % 400;
        int killed = 0;
        for (int step = 0; !killed && nall + CLIENTS <= MAX; step++) {
            struct sent *s = all + nall;
            for (int c = 0; c < CLIENTS; c++) {
                int ntags = (step + c) % 4;
                snprintf(s[c].name, sizeof s[c].name, "r%d c%d s%d t%d", round, c, step, ntags);
                char body[160];
                int len = snprintf(body, sizeof body, "{\"name\":\"%s\",\"tags\":[", s[c].name);
                for (int k = 0; k < ntags; k++)
                    len += snprintf(body + len, sizeof body - (size_t)len, "%s\"tag%d\"",
                                    k ? "," : "", k);
                snprintf(body + len, sizeof body - (size_t)len, "]}");
                snprintf(s[c].req, sizeof s[c].req,
                         "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
                         "application/json\r\nIdempotency-Key: \"%s\"\r\nContent-Length: "
                         "%zu\r\n\r\n%s", s[c].name, strlen(body), body);
                wb_send_str(p, fd[c], s[c].req);
            }
            if (wb_now_ms() >= deadline) {
                wb_signal(p, SIGKILL); /* with four requests on their way */
                killed = 1;
            }
            for (int c = 0; c < CLIENTS; c++) {
                char why[256];
                struct ht_response *r =
                    ht_try_read(fd[c], 0, killed ? 500 : 10000, why, sizeof why, NULL, NULL);
                if (r && r->status == 201) {
                    cJSON *j = cJSON_Parse(r->body);
                    s[c].id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id"));
                    s[c].body = strdup(r->body);
                    cJSON_Delete(j);
                } else if (!killed) {
                    cr_fatal("round %d: a POST got %s while the server was up and nothing was "
                             "killed yet; expected 201\n%s", round,
                             r ? "another status" : why, wb_describe(p));
                }
                ht_free(r);
            }
            nall += CLIENTS;
        }
        int status = 0;
        cr_assert(wb_wait_exit(p, 3000, &status), "restd did not die of SIGKILL");

        /* the restart: every acknowledged item, as it was acknowledged */
        p = wb_start("--db", path, NULL);
        int g = wb_connect(p);
        sqlite3 *db = db_oracle(path);
        cr_expect(strcmp(db_value(db, "PRAGMA integrity_check"), "ok") == 0,
                  "round %d: after kill -9 and a restart, integrity_check says: %s", round,
                  db_value(db, "PRAGMA integrity_check"));
        for (int i = 0; i < nall; i++) {
            if (!all[i].id)
                continue;
            char target[64];
            snprintf(target, sizeof target, "/items/%lld", all[i].id);
            struct ht_response *r = rc_send(p, g, "GET", target, NULL, NULL, 0);
            cr_expect(r->status == 200 && strcmp(r->body, all[i].body) == 0,
                      "round %d: the item \"%s\" was acknowledged with 201 and the body\n  %s\n"
                      "then the server was killed (kill -9) and started again: GET %s answers "
                      "%d\n  %s\nA 201 means the item is on the disk (WAL synced at COMMIT) -- "
                      "(WB_SEED=%llu)", round, all[i].name, all[i].body, target, r->status,
                      r->body, (unsigned long long)wb_seed());
            ht_free(r);
        }
        const char *torn = db_value(db, "SELECT count(*) FROM items WHERE (SELECT count(*) FROM "
                                        "item_tags WHERE item_id = items.id) != "
                                        "CAST(substr(name, instr(name, 't') + 1) AS INTEGER)");
        cr_expect(strcmp(torn, "0") == 0,
                  "round %d: after kill -9, %s items have another number of tags than they "
                  "were created with (the name says: t3 = 3 tags): the item and its tags are "
                  "one transaction, all or nothing", round, torn);
        /* the requests in flight, again with their keys: each exists once */
        for (int i = 0; i < nall; i++) {
            if (all[i].id)
                continue;
            struct ht_response *r = ht_exchange(p, all[i].req, strlen(all[i].req));
            ht_expect_status(p, r, 201, all[i].req, strlen(all[i].req),
                             "the retry of a POST that was in flight when the server was "
                             "killed, with its Idempotency-Key: 201, the first answer again "
                             "if the item was committed, a new item if it was not");
            cJSON *j = cJSON_Parse(r->body);
            all[i].id = (long long)cJSON_GetNumberValue(cJSON_GetObjectItem(j, "id"));
            all[i].body = strdup(r->body);
            cJSON_Delete(j);
            ht_free(r);
            char sql[160];
            snprintf(sql, sizeof sql, "SELECT count(*) FROM items WHERE name = '%s'",
                     all[i].name);
            cr_expect(strcmp(db_value(db, sql), "1") == 0,
                      "round %d: after the retry of \"%s\" (in flight at kill -9) there are %s "
                      "items of that name; expected 1: the key is stored in the same "
                      "transaction as its item, so a committed item is found by its key",
                      round, all[i].name, db_value(db, sql));
        }
        sqlite3_close(db);
        wb_stop(p, 2000);
    }
    for (int i = 0; i < nall; i++)
        free(all[i].body);
    free(all);
}

Test(durability, sigterm_closes_the_database_and_leaves_no_wal)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, NULL);
    int fd = wb_connect(p);
    char loc[64];
    rc_create(p, fd, "{\"name\":\"pear\",\"tags\":[\"a\"]}", loc, sizeof loc);
    for (int i = 0; i < 5; i++) { /* the readers' connections, used */
        struct ht_response *r = rc_send(p, fd, "GET", i % 2 ? loc : "/items", NULL, NULL, 0);
        ht_expect_status(p, r, 200, NULL, 0, "a GET before the SIGTERM");
        ht_free(r);
    }
    char wal[512];
    snprintf(wal, sizeof wal, "%s-wal", path);
    struct stat st;
    cr_expect(stat(wal, &st) == 0, "while restd runs there is no %s: is the journal mode WAL?",
              wal);
    long long t0 = wb_now_ms();
    int status = wb_stop(p, 2000);
    long long ms = wb_now_ms() - t0;
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_expect(clean && ms < 2000, "restd on SIGTERM: exit status %d after %lld ms; expected 0 "
              "within 2 s\n%s", WIFEXITED(status) ? WEXITSTATUS(status) : -1, ms,
              wb_describe(p));
    int left = stat(wal, &st) == 0;
    cr_expect(left == 0,
              "after restd exited on SIGTERM, %s is still there (%lld bytes): the last "
              "connection to close checkpoints the WAL into the database and deletes it -- "
              "unless a statement was never finalized (sqlite3_close() then fails with "
              "SQLITE_BUSY) or a connection was never closed. Close every connection, the "
              "readers and the writer, and check what sqlite3_close() returns",
              wal, left ? (long long)st.st_size : 0LL);
    sqlite3 *db = db_oracle(path);
    cr_expect(strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0,
              "after the SIGTERM the file holds %s items; expected 1",
              db_value(db, "SELECT count(*) FROM items"));
    sqlite3_close(db);
}

Test(durability, sigterm_finishes_a_change_in_flight)
{
    char path[512];
    snprintf(path, sizeof path, "%s", db_tmp_path("items.db"));
    struct wb_proc *p = wb_start("--db", path, "--busy-ms", "4000", NULL);
    int fd = wb_connect(p);
    sqlite3 *db = db_oracle(path);
    db_exec(db, "BEGIN IMMEDIATE"); /* the write lock, as another process would hold it */
    const char *body = "{\"name\":\"in flight\",\"tags\":[\"a\"]}";
    char req[256];
    snprintf(req, sizeof req, "POST /items HTTP/1.1\r\nHost: localhost\r\nContent-Type: "
             "application/json\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
    wb_send_str(p, fd, req);
    int waits = wb_silent(fd, 300);
    cr_assert(waits, "a POST was answered, or its connection closed, while the test held the "
              "write lock: with --busy-ms 4000 it must wait for the lock\n%s", wb_describe(p));

    wb_signal(p, SIGTERM); /* while the POST waits for the lock */
    int held = wb_silent(fd, 200);
    db_exec(db, "COMMIT");
    sqlite3_close(db);
    char why[256];
    struct ht_response *r = ht_try_read(fd, 0, 5000, why, sizeof why, NULL, NULL);
    if (!r)
        cr_fatal("a POST waited for a write lock the test held; restd got SIGTERM meanwhile, "
                 "and 200 ms later the lock was free: no answer came (%s)%s. A shutdown "
                 "finishes the requests it began: it stops accepting, lets the worker finish "
                 "the change in flight and send its answer (with Connection: close), and "
                 "only then closes the database and exits 0 -- never drop a change in "
                 "flight, never close the database under a worker\n%s", why,
                 held ? "" : " -- the connection ended within 200 ms of the SIGTERM, while "
                             "the change still waited", wb_describe(p));
    ht_expect_status(p, r, 201, req, strlen(req), "a POST in flight at SIGTERM, waiting for a "
                     "lock that was freed 200 ms later, well within --busy-ms 4000: the "
                     "change is done and acknowledged (Connection: close is fine)");
    char loc[64];
    snprintf(loc, sizeof loc, "%s", ht_header(r, "Location") ? ht_header(r, "Location") : "");
    ht_free(r);
    int status = 0;
    int exited = wb_wait_exit(p, 3000, &status);
    int clean = exited && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_expect(clean, "restd got SIGTERM while a POST waited for the lock, then answered it: it "
              "must then exit 0, within 3 s -- %s\n%s", exited ? "it exited, but not with 0"
              : "it is still running", wb_describe(p));

    p = wb_start("--db", path, NULL);
    fd = wb_connect(p);
    r = rc_send(p, fd, "GET", loc, NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET, after a restart, of the item whose POST was "
                     "answered 201 during the shutdown: a 201 means it is in the file, "
                     "committed before the answer and before the database was closed");
    ht_free(r);
}
