/* Stage 1: open the database and migrate its schema -- the connection's
 * settings, user_version, STRICT tables, one transaction, a newer file
 * refused, and a server that says what is wrong with its file instead of
 * listening. The tests look at the file through their own SQLite
 * connection, opened after the server started and closed before it
 * stops. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <sqlite3.h>

#include "db.h"
#include "dbtest.h"
#include "wbtest.h"

WB_SUITE(open);

/* ---- db_open() and db_migrate() ------------------------------------------ */

Test(open, db_open_sets_up_the_connection)
{
    const char *path = db_tmp_path("items.db");
    char err[512] = "";
    sqlite3 *db = db_open(path, 1234, err, sizeof err);
    cr_assert(db != NULL, "db_open(\"%s\", 1234) returned NULL: %s", path, err);
    static const struct {
        const char *pragma, *want, *why;
    } cases[] = {
        {"PRAGMA journal_mode", "wal", "WAL: readers and the writer do not block each other"},
        {"PRAGMA synchronous", "2", "FULL (2): a commit returns once the WAL is on the disk"},
        {"PRAGMA foreign_keys", "1", "off in every new connection unless turned on"},
        {"PRAGMA busy_timeout", "1234", "the busy_ms given: wait for a lock that long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = db_value(db, cases[i].pragma);
        cr_expect(strcmp(got, cases[i].want) == 0,
                  "after db_open(), %s on its connection says \"%s\"; expected \"%s\" -- %s",
                  cases[i].pragma, got, cases[i].want, cases[i].why);
    }
    sqlite3_close(db);
    sqlite3 *check = db_oracle(path);
    cr_expect(strcmp(db_value(check, "PRAGMA journal_mode"), "wal") == 0,
              "another connection to %s finds the journal mode \"%s\"; expected \"wal\": WAL is "
              "remembered by the file", path, db_value(check, "PRAGMA journal_mode"));
    sqlite3_close(check);
}

Test(open, db_open_names_the_file_and_the_reason)
{
    static const struct {
        const char *name;
        const char *content; /* NULL: no file */
        const char *reason;  /* in sqlite3's words, part of the message */
    } cases[] = {
        {"no/such/dir/items.db", NULL, "unable to open"},
        {"junk.db", "this is not a database, but it is long enough to look like a header......"
                    "...............................................................",
         "not a database"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = db_tmp_path(cases[i].name);
        if (cases[i].content) {
            FILE *f = fopen(path, "w");
            cr_assert(f != NULL, "the test cannot write %s", path);
            fputs(cases[i].content, f);
            fclose(f);
        }
        char err[512] = "";
        sqlite3 *db = db_open(path, 100, err, sizeof err);
        cr_expect(db == NULL && strstr(err, path) && strstr(err, cases[i].reason),
                  "db_open(\"%s\") returned %s with err \"%s\"; expected NULL and a message "
                  "naming the file and saying \"%s\" (sqlite3_errmsg()): the first statement "
                  "on the connection is what reads the file", path, db ? "a connection" : "NULL",
                  err, cases[i].reason);
        sqlite3_close(db);
    }
}

Test(open, db_migrate_makes_the_schema_once)
{
    const char *path = db_tmp_path("items.db");
    char err[512] = "";
    sqlite3 *db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    int rc = db_migrate(db, err, sizeof err);
    cr_assert(rc == 0, "db_migrate() on a new file returned %d: %s", rc, err);
    char want[16];
    snprintf(want, sizeof want, "%d", db_version());
    cr_expect(strcmp(db_value(db, "PRAGMA user_version"), want) == 0,
              "after db_migrate(), PRAGMA user_version is %s; expected db_version() (%d)",
              db_value(db, "PRAGMA user_version"), db_version());
    const char *items = db_value(db, "SELECT sql FROM sqlite_schema WHERE name = 'items'");
    cr_expect(strstr(items, "STRICT") && strstr(items, "AUTOINCREMENT"),
              "the items table is \"%s\"; expected a STRICT table (types enforced) whose id is "
              "INTEGER PRIMARY KEY AUTOINCREMENT (ids never reused)", items);
    cr_expect(strcmp(db_value(db, "PRAGMA integrity_check"), "ok") == 0,
              "PRAGMA integrity_check after the migration: %s",
              db_value(db, "PRAGMA integrity_check"));
    const char *before = db_fingerprint(db);
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", before);
    db_exec(db, "INSERT INTO items (name, created_at, updated_at) VALUES ('pear', 'x', 'x')");
    rc = db_migrate(db, err, sizeof err);
    cr_expect(rc == 0, "db_migrate() on a file at db_version() returned %d: %s; expected 0 and "
              "nothing done", rc, err);
    cr_expect(strcmp(db_fingerprint(db), copy) == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM items"), "1") == 0,
              "a second db_migrate() changed the file: the schema or the row it held");
    cr_expect(sqlite3_get_autocommit(db) != 0,
              "db_migrate() left the connection inside a transaction: end it with COMMIT (or "
              "ROLLBACK on a failure) on every path");
    sqlite3_close(db);
}

Test(open, db_migrate_refuses_a_file_from_a_newer_server)
{
    const char *path = db_tmp_path("items.db");
    sqlite3 *t = NULL;
    cr_assert(sqlite3_open(path, &t) == SQLITE_OK, "the test cannot create %s", path);
    db_exec(t, "CREATE TABLE future (x); PRAGMA user_version = 99");
    sqlite3_close(t);
    char err[512] = "";
    sqlite3 *db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    int rc = db_migrate(db, err, sizeof err);
    cr_expect(rc == -1 && strstr(err, "99"),
              "db_migrate() of a file at user_version 99 returned %d with err \"%s\"; expected "
              "-1 and a message with the file's version (99): a newer server wrote it, and "
              "this one does not know its schema", rc, err);
    cr_expect(strcmp(db_value(db, "PRAGMA user_version"), "99") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items'"),
                         "0") == 0,
              "db_migrate() of a file at version 99 changed it: it must stay as it was");
    cr_expect(sqlite3_get_autocommit(db) != 0,
              "db_migrate() left the connection inside a transaction after refusing: ROLLBACK");
    sqlite3_close(db);
}

Test(open, a_failed_migration_leaves_the_file_as_it_was)
{
    /* A view called idempotency_keys makes the step fail halfway: after
     * CREATE TABLE items, at CREATE TABLE idempotency_keys. */
    const char *path = db_tmp_path("items.db");
    sqlite3 *t = NULL;
    cr_assert(sqlite3_open(path, &t) == SQLITE_OK, "the test cannot create %s", path);
    db_exec(t, "CREATE VIEW idempotency_keys AS SELECT 1 AS key");
    sqlite3_close(t);
    char err[512] = "";
    sqlite3 *db = db_open(path, 1000, err, sizeof err);
    cr_assert(db != NULL, "db_open() failed: %s", err);
    int rc = db_migrate(db, err, sizeof err);
    cr_expect(rc == -1 && *err, "db_migrate() on a file with a view named idempotency_keys "
              "returned %d (err \"%s\"); expected -1 and why: the step cannot create that table",
              rc, err);
    cr_expect(strcmp(db_value(db, "PRAGMA user_version"), "0") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items'"),
                         "0") == 0,
              "after the failed migration the file has user_version %s and %s table items; "
              "expected 0 and none: the whole migration is one transaction -- BEGIN, every "
              "step, user_version, COMMIT -- and a failure is a ROLLBACK of all of it",
              db_value(db, "PRAGMA user_version"),
              db_value(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items'"));
    cr_expect(sqlite3_get_autocommit(db) != 0,
              "db_migrate() left the connection inside a transaction after a failure: ROLLBACK");
    sqlite3_close(db);
}

/* ---- the server ------------------------------------------------------------ */

Test(open, restd_creates_and_migrates_its_file_before_it_listens)
{
    const char *path = db_tmp_path("items.db");
    struct wb_proc *p = wb_start("--db", path, NULL);
    sqlite3 *db = db_oracle(path);
    char want[16];
    snprintf(want, sizeof want, "%d", db_version());
    cr_expect(strcmp(db_value(db, "PRAGMA user_version"), want) == 0 &&
                  strcmp(db_value(db, "PRAGMA journal_mode"), "wal") == 0 &&
                  strcmp(db_value(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items'"),
                         "1") == 0,
              "restd --db %s printed its listening line; the file then has user_version %s "
              "(expected %s), journal mode %s (expected wal) and %s table items (expected "
              "1)\n%s", path, db_value(db, "PRAGMA user_version"), want,
              db_value(db, "PRAGMA journal_mode"),
              db_value(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'items'"),
              wb_describe(p));
    db_exec(db, "INSERT INTO items (name, created_at, updated_at) VALUES ('kept', 'x', 'x')");
    const char *schema = db_fingerprint(db);
    char before[4096];
    snprintf(before, sizeof before, "%s", schema);
    sqlite3_close(db);
    int status = wb_stop(p, 2000);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_expect(clean, "restd --db did not exit 0 on SIGTERM: %s", wb_describe(p));

    p = wb_start("--db", path, NULL);
    db = db_oracle(path);
    cr_expect(strcmp(db_fingerprint(db), before) == 0 &&
                  strcmp(db_value(db, "SELECT name FROM items"), "kept") == 0,
              "a second start on the same file must change nothing: the schema and the rows "
              "stay (the migration has nothing to do at db_version())\n%s", wb_describe(p));
    sqlite3_close(db);
}

Test(open, restd_refuses_a_file_it_cannot_use_with_a_message_and_no_listening)
{
    static const struct {
        const char *name;
        int junk;        /* 1: write bytes that are not a database */
        int newer;       /* 1: a database at user_version 99 */
        const char *why;
    } cases[] = {
        {"missing/items.db", 0, 0, "a directory that does not exist"},
        {"junk.db", 1, 0, "a file that is not a database"},
        {"newer.db", 0, 1, "a database from a newer server (user_version 99)"},
    };
    /* First a file it can use: refusing everything is no answer. */
    struct wb_proc *good = wb_start("--db", db_tmp_path("good.db"), NULL);
    wb_stop(good, 2000);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *path = db_tmp_path(cases[i].name);
        if (cases[i].junk) {
            FILE *f = fopen(path, "w");
            cr_assert(f != NULL, "the test cannot write %s", path);
            for (int k = 0; k < 200; k++)
                fputs("junk ", f);
            fclose(f);
        }
        if (cases[i].newer) {
            sqlite3 *t = NULL;
            cr_assert(sqlite3_open(path, &t) == SQLITE_OK, "the test cannot create %s", path);
            db_exec(t, "PRAGMA user_version = 99");
            sqlite3_close(t);
        }
        char why[512];
        const char *args[] = {"--db", path, NULL};
        long long t0 = wb_now_ms();
        struct wb_proc *p = wb_try_start(why, sizeof why, args);
        long long ms = wb_now_ms() - t0;
        struct wb_proc *last = wb_last();
        cr_assert(p == NULL, "restd --db %s (%s) started listening; expected it to refuse the "
                  "file and exit", path, cases[i].why);
        int status = 0;
        cr_assert(wb_wait_exit(last, 2000, &status),
                  "restd --db %s (%s) did not exit: expected a message and exit status 1 "
                  "within 2 s\n%s", path, cases[i].why, wb_describe(last));
        const char *err = wb_stderr_tail(last, 2048);
        int refused = WIFEXITED(status) && WEXITSTATUS(status) != 0 && strstr(err, path);
        cr_expect(refused && ms < 2500,
                  "restd --db %s (%s): expected an exit status other than 0 within 2 s and a "
                  "message naming the file on stderr; it took %lld ms\n%s", path, cases[i].why,
                  ms, wb_describe(last));
    }
}

Test(open, restd_refuses_a_busy_ms_that_is_not_a_number_of_ms)
{
    static const char *const values[] = {"0", "-5", "abc", "100000", ""};
    /* First a value it takes: refusing everything is no answer. */
    wb_stop(wb_start("--db", db_tmp_path("good.db"), "--busy-ms", "500", NULL), 2000);
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char why[512];
        const char *args[] = {"--db", db_tmp_path("items.db"), "--busy-ms", values[i], NULL};
        struct wb_proc *p = wb_try_start(why, sizeof why, args);
        struct wb_proc *last = wb_last();
        cr_assert(p == NULL, "restd --busy-ms \"%s\" started listening; expected it to refuse "
                  "the value (1 to 60000 ms) and exit with its usage", values[i]);
        int status = 0;
        cr_assert(wb_wait_exit(last, 2000, &status), "restd --busy-ms \"%s\" did not exit",
                  values[i]);
        int refused = WIFEXITED(status) && WEXITSTATUS(status) != 0;
        cr_expect(refused, "restd --busy-ms \"%s\": expected an exit status other than 0\n%s",
                  values[i], wb_describe(last));
    }
}
