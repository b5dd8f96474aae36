/* dbtest -- see dbtest.h. */
#include "dbtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wbtest.h"

const char *db_tmp_path(const char *name)
{
    /* not a message slot: a path must outlive many messages */
    static char paths[DB_TMP_PATHS][512];
    static int next;
    char *p = paths[next++ % DB_TMP_PATHS];
    snprintf(p, sizeof paths[0], "%s/%s", wb_tmpdir(), name);
    return p;
}

sqlite3 *db_oracle(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK)
        cr_fatal("the test cannot open %s: %s", path, db ? sqlite3_errmsg(db) : "?");
    sqlite3_busy_timeout(db, 5000);
    return db;
}

const char *db_value(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    char *out = wb_msgbuf(8192);
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        cr_fatal("the test's query %s failed: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, 8192, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        char copy[512];
        snprintf(copy, sizeof copy, "%s", msg ? msg : "?");
        sqlite3_free(msg);
        cr_fatal("the test's statement %s failed: %s", sql, copy);
    }
}

char *db_fingerprint(sqlite3 *db)
{
    const char *schema = db_value(db, "SELECT group_concat(sql, ';') FROM (SELECT sql FROM "
                                      "sqlite_schema WHERE sql IS NOT NULL ORDER BY name)");
    const char *version = db_value(db, "PRAGMA user_version");
    size_t n = strlen(schema) + strlen(version) + 32;
    char *s = malloc(n);
    cr_assert(s != NULL, "out of memory");
    snprintf(s, n, "user_version %s\n%s", version, schema);
    return s;
}
