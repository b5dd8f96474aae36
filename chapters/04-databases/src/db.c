/* db -- opening the database and migrating its schema (stage 1), and the
 * schema's second version (stage 4). See db.h for the contract: it is the
 * spec the tests check.
 *
 * Given: the schema's first version, as a migration step, and two small
 * helpers. Yours: db_open() and db_migrate(), then step 2. The SQLite calls you need are few:
 * sqlite3_open_v2(), sqlite3_exec() for statements without results,
 * sqlite3_prepare_v2() + sqlite3_step() + sqlite3_column_text() +
 * sqlite3_finalize() for one with (one_value() below does that),
 * sqlite3_errmsg() for the reason, sqlite3_close(). https://sqlite.org/cintro.html */
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

    /* TODO(stage 4): step 2, appended here -- never an edit of step 1:
     * files out there are at version 1 already. In one string:
     *  - CREATE TABLE item_tags: item_id (INTEGER NOT NULL, REFERENCES
     *    items (id) ON DELETE CASCADE), position (INTEGER NOT NULL, 0 to
     *    99), tag (TEXT NOT NULL, 1 to 50 characters), PRIMARY KEY
     *    (item_id, position); STRICT, WITHOUT ROWID;
     *  - INSERT INTO item_tags ... SELECT items.id, t.key, CASE WHEN
     *    t.type = 'text' THEN t.value END FROM items, json_each(items.tags)
     *    AS t -- a tag that is not a string gives NULL, NOT NULL refuses
     *    it, and the whole migration rolls back;
     *  - ALTER TABLE items DROP COLUMN tags;
     *  - ALTER TABLE items ADD COLUMN sku TEXT CHECK (sku IS NULL OR
     *    length(sku) BETWEEN 1 AND 32);
     *  - CREATE UNIQUE INDEX items_sku ON items (sku).
     * https://sqlite.org/foreignkeys.html, https://sqlite.org/json1.html
     * (json_each), https://sqlite.org/lang_altertable.html */

    /* TODO(stage 7): step 3, an index for every order a page can ask for:
     * CREATE INDEX items_name ON items (name, id); the same for qty and
     * for price. The index then holds the rows in the page's order, ties
     * included, so ORDER BY name, id LIMIT 21 reads 21 entries of it
     * instead of sorting the table. https://sqlite.org/queryplanner.html */
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
    /* TODO(stage 1):
     *  1. sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
     *     SQLITE_OPEN_CREATE, NULL). Not SQLITE_OK: say() why (db may be
     *     set even then: sqlite3_close() it) and return NULL.
     *  2. The connection's settings, each a PRAGMA statement:
     *     busy_timeout first (snprintf the number in: a pragma takes no
     *     bound parameter), then journal_mode = WAL -- it answers the mode
     *     it is now in: anything but "wal" is a failure --, synchronous =
     *     FULL and foreign_keys = ON. These statements are also the first
     *     to read the file: one that is not a database fails here ("file
     *     is not a database"), and so must db_open().
     *  3. On any failure: say(err, errlen, path, db, 0), sqlite3_close(),
     *     NULL. */
    (void)busy_ms;
    (void)say; /* the helpers above, for when you write it */
    snprintf(err, errlen, "%s: db_open() is not written yet", path);
    return NULL;
}

int db_migrate(sqlite3 *db, char *err, size_t errlen)
{
    /* TODO(stage 1): one transaction around everything --
     *  1. BEGIN IMMEDIATE (the write lock at once: two servers starting on
     *     one file must not both migrate it);
     *  2. PRAGMA user_version (one_value()): above db_version() ->
     *     refuse, a newer server wrote the file; say both numbers in err;
     *  3. run step(v) for each v from user_version to db_version() - 1
     *     (sqlite3_exec() runs a text of several statements) -- step(),
     *     not migrations[v]: chapter 05 appends its own steps after yours
     *     (db_extend()), and a file at version 5 is then up to date;
     *  4. PRAGMA user_version = db_version(), then COMMIT.
     * On any failure: err says which step and sqlite3_errmsg(), ROLLBACK,
     * and -1 -- the file is then exactly as it was. A file already at
     * db_version(): nothing to run, COMMIT, 0. */
    (void)db;
    (void)one_value;
    (void)step;
    (void)migrations;
    snprintf(err, errlen, "db_migrate() is not written yet");
    return -1;
}
