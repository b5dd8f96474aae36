/* db -- see db.h. */
#define _POSIX_C_SOURCE 200809L
#include "db.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The schema, one step per version: migrations[v - 1] takes a file from
 * version v - 1 to v. A step is only ever appended: a file out there is
 * at some version, and the steps after it are what it still needs. */
static const char *const migrations[] = {
    /* 1: the items, and the idempotency keys of POST /items */
    "CREATE TABLE items (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"  /* never reused, even after a delete */
    "  name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),\n"
    "  qty INTEGER NOT NULL DEFAULT 0 CHECK (qty BETWEEN 0 AND 2147483647),\n"
    "  price REAL NOT NULL DEFAULT 0 CHECK (price BETWEEN 0 AND 1e9),\n"
    "  tags TEXT NOT NULL DEFAULT '[]',\n"        /* a JSON array of strings */
    "  version INTEGER NOT NULL DEFAULT 1 CHECK (version >= 1),\n"
    "  created_at TEXT NOT NULL,\n"
    "  updated_at TEXT NOT NULL\n"
    ") STRICT;\n"
    "CREATE TABLE idempotency_keys (\n"
    "  key TEXT PRIMARY KEY,\n"
    "  item TEXT NOT NULL,\n"                     /* the item as first created, JSON */
    "  created_ms INTEGER NOT NULL\n"
    ") STRICT;\n",

    /* 2: the tags in a table of their own, one row per tag, so that SQL can
     * find, count and constrain them (a JSON text it cannot); deleting an
     * item deletes its tags. And the sku, a code no two items share.
     * json_each() reads each old array; a tag that is not a string (the
     * CASE gives NULL) or breaks a CHECK fails the step -- and so the whole
     * migration, which leaves the file at version 1. */
    "CREATE TABLE item_tags (\n"
    "  item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,\n"
    "  position INTEGER NOT NULL CHECK (position BETWEEN 0 AND 99),\n"
    "  tag TEXT NOT NULL CHECK (length(tag) BETWEEN 1 AND 50),\n"
    "  PRIMARY KEY (item_id, position)\n"   /* also the index the foreign key needs */
    ") STRICT, WITHOUT ROWID;\n"
    "INSERT INTO item_tags (item_id, position, tag)\n"
    "  SELECT items.id, t.key, CASE WHEN t.type = 'text' THEN t.value END\n"
    "  FROM items, json_each(items.tags) AS t;\n"
    "ALTER TABLE items DROP COLUMN tags;\n"
    "ALTER TABLE items ADD COLUMN sku TEXT CHECK (sku IS NULL OR length(sku) BETWEEN 1 AND 32);\n"
    "CREATE UNIQUE INDEX items_sku ON items (sku);\n",   /* NULLs do not collide */

    /* 3: an index for every order a page can ask for -- the sort key, then
     * id, as in ORDER BY key, id -- so that a page is a search in the index
     * (start at the cursor's place, read limit + 1 entries, in either
     * direction), not a scan of every row and a sort. By id the table
     * itself is that index. (SQLite ends every index entry with the rowid
     * anyway, so (name) alone would order ties the same; the id written
     * out says the whole order, as PostgreSQL needs it, for a fifth more
     * index pages.) */
    "CREATE INDEX items_name ON items (name, id);\n"
    "CREATE INDEX items_qty ON items (qty, id);\n"
    "CREATE INDEX items_price ON items (price, id);\n",
};

#define NSTEPS (int)(sizeof migrations / sizeof migrations[0])

/* The steps a later chapter appends after these (db_extend()). */
static const char *const *later_steps;
static int nlater;

void db_extend(const char *const *steps, int n)
{
    later_steps = steps;
    nlater = n;
}

int db_version(void)
{
    return NSTEPS + nlater;
}

/* The SQL of the step from version v to v + 1, for v in [0, db_version()):
 * this file's own steps, then the later chapter's. */
static const char *step(int v)
{
    return v < NSTEPS ? migrations[v] : later_steps[v - NSTEPS];
}

/* "path: what SQLite says" into err. */
static void say(char *err, size_t errlen, const char *path, sqlite3 *db, int rc)
{
    snprintf(err, errlen, "%s: %s", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

/* Runs one statement that returns one row of one value; its text into
 * out (may be NULL). SQLITE_ROW or an error code. */
static int one_value(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW && out)
        snprintf(out, cap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc;
}

sqlite3 *db_open(const char *path, int busy_ms, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    char mode[16] = "", sql[64];
    int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK) {
        say(err, errlen, path, db, rc);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_extended_result_codes(db, 1);
    /* busy_timeout first: the statements after it may meet a lock */
    snprintf(sql, sizeof sql, "PRAGMA busy_timeout = %d", busy_ms);
    if (one_value(db, sql, NULL, 0) != SQLITE_ROW ||
        one_value(db, "PRAGMA journal_mode = WAL", mode, sizeof mode) != SQLITE_ROW ||
        sqlite3_exec(db, "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON", NULL, NULL,
                     NULL) != SQLITE_OK) {
        say(err, errlen, path, db, 0);
        sqlite3_close(db);
        return NULL;
    }
    if (strcmp(mode, "wal") != 0) {
        snprintf(err, errlen, "%s: the journal mode stays \"%s\", not wal", path, mode);
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

int db_migrate(sqlite3 *db, char *err, size_t errlen)
{
    char version[32] = "", sql[64];
    int from;
    /* IMMEDIATE: the write lock now, so that two servers starting on one
     * file do not both migrate it */
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot begin the migration: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (one_value(db, "PRAGMA user_version", version, sizeof version) != SQLITE_ROW) {
        snprintf(err, errlen, "cannot read the schema version: %s", sqlite3_errmsg(db));
        goto fail;
    }
    from = (int)strtol(version, NULL, 10);
    if (from > db_version()) {
        snprintf(err, errlen, "the schema is at version %d, newer than this server's %d: "
                 "a newer server wrote it", from, db_version());
        goto fail;
    }
    for (int v = from; v < db_version(); v++)
        if (sqlite3_exec(db, step(v), NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "the migration to version %d failed: %s", v + 1,
                     sqlite3_errmsg(db));
            goto fail;
        }
    /* user_version is part of the transaction: it commits with the steps */
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", db_version());
    if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot commit the migration: %s", sqlite3_errmsg(db));
        goto fail;
    }
    return 0;
fail:
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}
