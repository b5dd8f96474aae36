/* rawinsert -- the physical anchor of `make bench CHAPTER=databases`: how
 * many items per second SQLite itself commits on this disk, with no HTTP
 * and no server around it. Each item is what POST /items writes, in a
 * transaction of its own as the server makes it: BEGIN IMMEDIATE, the
 * items row, its two tags, COMMIT -- prepared statements, reset and bound
 * again; the server's pragmas.
 *
 *   rawinsert FILE SECONDS full|normal
 *
 * FILE is a database the reference server has created and migrated (so
 * the schema, its indexes and constraints are exactly the server's).
 * Prints "inserts/s N". */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc != 4 || (strcmp(argv[3], "full") != 0 && strcmp(argv[3], "normal") != 0)) {
        fprintf(stderr, "usage: rawinsert FILE SECONDS full|normal\n");
        return 2;
    }
    double seconds = atof(argv[2]);
    sqlite3 *db = NULL;
    sqlite3_stmt *item = NULL, *tag = NULL;
    char sync[64];
    snprintf(sync, sizeof sync, "PRAGMA synchronous = %s", argv[3]);
    if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        run(db, "PRAGMA journal_mode = WAL") < 0 || run(db, sync) < 0 ||
        run(db, "PRAGMA foreign_keys = ON") < 0 ||
        sqlite3_prepare_v2(db,
                           "INSERT INTO items (name, qty, price, version, created_at, updated_at) "
                           "VALUES ('pear', 3, 1.25, 1, ?1, ?1)",
                           -1, &item, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO item_tags (item_id, position, tag) VALUES (?1, ?2, ?3)",
                           -1, &tag, NULL) != SQLITE_OK) {
        fprintf(stderr, "rawinsert: %s: %s\n", argv[1], db ? sqlite3_errmsg(db) : "no memory");
        sqlite3_close(db);
        return 1;
    }
    static const char *const tags[] = {"fruit", "green"};
    long n = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds) {
        int ok = run(db, "BEGIN IMMEDIATE") == 0;
        sqlite3_reset(item);
        ok = ok && sqlite3_bind_text(item, 1, "2026-12-02T10:00:00.000Z", -1, SQLITE_STATIC) ==
                       SQLITE_OK &&
             sqlite3_step(item) == SQLITE_DONE;
        sqlite3_int64 id = sqlite3_last_insert_rowid(db);
        for (int k = 0; ok && k < 2; k++) {
            sqlite3_reset(tag);
            ok = sqlite3_bind_int64(tag, 1, id) == SQLITE_OK &&
                 sqlite3_bind_int(tag, 2, k) == SQLITE_OK &&
                 sqlite3_bind_text(tag, 3, tags[k], -1, SQLITE_STATIC) == SQLITE_OK &&
                 sqlite3_step(tag) == SQLITE_DONE;
        }
        if (!ok || run(db, "COMMIT") < 0) {
            fprintf(stderr, "rawinsert: %s\n", sqlite3_errmsg(db));
            run(db, "ROLLBACK");
            break;
        }
        n++;
        t = now_s();
    }
    sqlite3_finalize(item);
    sqlite3_finalize(tag);
    sqlite3_close(db);
    printf("inserts/s %ld\n", (long)((double)n / (t - t0)));
    return 0;
}
