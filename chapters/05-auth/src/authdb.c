/* authdb -- see authdb.h. Given: the connection, lent to one thread at
 * a time. Yours: the schema's steps (stages 1, 2, 6 and 8). */
#define _POSIX_C_SOURCE 200809L
#include "authdb.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"

const char *const authdb_steps[] = {
    /* TODO(stage 1): step 4, the users -- one CREATE TABLE users, STRICT:
     *   id INTEGER PRIMARY KEY AUTOINCREMENT (never reused),
     *   username TEXT NOT NULL UNIQUE with a CHECK of its length (3 to 32),
     *   password_hash TEXT NOT NULL with a CHECK that it starts $argon2id$,
     *   role TEXT NOT NULL DEFAULT 'user', CHECK (role IN ('user', 'admin')),
     *   created_at TEXT NOT NULL.
     * The UNIQUE is what makes a second "alice" a 409: the database
     * decides, as chapter 04's sku did. */

    /* TODO(stage 2): step 5, the sessions -- CREATE TABLE sessions,
     * STRICT, WITHOUT ROWID:
     *   token_hash BLOB PRIMARY KEY, CHECK (length(token_hash) = 32): the
     *     SHA-256 of the token, never the token itself,
     *   user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
     *   created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL (wall clock);
     * and CREATE INDEX sessions_user ON sessions (user_id), for "log out
     * everywhere" and the foreign key. Append it; never edit step 4. */

    /* TODO(stage 6): step 6, the items' owner -- ALTER TABLE items ADD
     * COLUMN owner_id INTEGER REFERENCES users (id) (no default: an item
     * from before has none, NULL, and no one reaches it). Every list is
     * one user's now: an index per order that starts with the owner --
     * items_owner (owner_id, id), items_owner_name (owner_id, name, id),
     * items_owner_qty (owner_id, qty, id), items_owner_price (owner_id,
     * price, id) -- and DROP INDEX IF EXISTS chapter 04's items_name,
     * items_qty and items_price, which no query uses any more. Chapter
     * 04's store, built here with ITEM_OWNER, writes and reads the
     * column. */

    /* TODO(stage 8): step 7, when tokens were taken back -- ALTER TABLE
     * users ADD COLUMN tokens_after INTEGER NOT NULL DEFAULT 0 (seconds
     * since 1970): a JWT made before it does not count. */

    NULL, /* the end (C has no empty array: the stub starts with this alone) */
};

const int authdb_nsteps = (int)(sizeof authdb_steps / sizeof authdb_steps[0]) - 1;

struct authdb {
    pthread_mutex_t lock;
    sqlite3 *db;
    int busy_ms;
};

struct authdb *authdb_open(const char *path, int busy_ms, char *err, size_t errlen)
{
    struct authdb *a = calloc(1, sizeof *a);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    a->busy_ms = busy_ms > 0 ? busy_ms : DB_BUSY_MS;
    if (!(a->db = db_open(path, a->busy_ms, err, errlen))) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->lock, NULL);
    return a;
}

void authdb_close(struct authdb *a)
{
    if (!a)
        return;
    sqlite3_close(a->db);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

sqlite3 *authdb_take(struct authdb *a)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until); /* pthread_mutex_timedlock()'s clock */
    until.tv_sec += a->busy_ms / 1000;
    until.tv_nsec += (long)(a->busy_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    return pthread_mutex_timedlock(&a->lock, &until) == 0 ? a->db : NULL;
}

void authdb_release(struct authdb *a)
{
    pthread_mutex_unlock(&a->lock);
}

enum auth_status authdb_failure(sqlite3 *db)
{
    return (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY ? AUTH_BUSY : AUTH_ERROR;
}
