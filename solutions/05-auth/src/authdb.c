/* authdb -- see authdb.h. */
#define _POSIX_C_SOURCE 200809L
#include "authdb.h"

#include <errno.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "db.h"

const char *const authdb_steps[] = {
    /* 4: the users. The hash is libsodium's whole string: algorithm,
     * version, costs, salt and hash, so that each row says how to check
     * it, and a row made with lower costs can be found and redone. No
     * default role but 'user': an admin is made by hand (SQL). */
    "CREATE TABLE users (\n"
    "  id INTEGER PRIMARY KEY AUTOINCREMENT,\n"
    "  username TEXT NOT NULL UNIQUE CHECK (length(username) BETWEEN 3 AND 32),\n"
    "  password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),\n"
    "  role TEXT NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),\n"
    "  created_at TEXT NOT NULL\n"
    ") STRICT;\n",

    /* 5: the sessions, by the SHA-256 of their token: the token itself is
     * never stored, so a copy of the file opens no session. A user's
     * sessions go with the user. */
    "CREATE TABLE sessions (\n"
    "  token_hash BLOB PRIMARY KEY CHECK (length(token_hash) = 32),\n"
    "  user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,\n"
    "  created_ms INTEGER NOT NULL,\n"
    "  seen_ms INTEGER NOT NULL\n"
    ") STRICT, WITHOUT ROWID;\n"
    "CREATE INDEX sessions_user ON sessions (user_id);\n",

    /* 6: every item has an owner, the user who made it (the store sets it
     * at the INSERT, chapter 04's store.c with ITEM_OWNER). An item from
     * before has none (NULL), and no user reaches it. Every list is one
     * user's now, so each of chapter 04's orders gets an index that starts
     * with the owner: a page is a search in it, not a walk through every
     * user's items (a user with 10 of 300,000 items, by name: 490 ms
     * with chapter 04's (name, id), 0.1 ms with (owner_id, name, id)).
     * Chapter 04's own sort indexes go: no query uses them any more, and
     * each costs every write. */
    "ALTER TABLE items ADD COLUMN owner_id INTEGER REFERENCES users (id);\n"
    "CREATE INDEX items_owner ON items (owner_id, id);\n"
    "CREATE INDEX items_owner_name ON items (owner_id, name, id);\n"
    "CREATE INDEX items_owner_qty ON items (owner_id, qty, id);\n"
    "CREATE INDEX items_owner_price ON items (owner_id, price, id);\n"
    "DROP INDEX IF EXISTS items_name;\n"
    "DROP INDEX IF EXISTS items_qty;\n"
    "DROP INDEX IF EXISTS items_price;\n",

    /* 7: a JWT (stage 8) is checked by its signature, without a lookup --
     * so taking tokens back needs a row again: a token made before the
     * account's tokens_after (seconds since 1970) no longer counts. */
    "ALTER TABLE users ADD COLUMN tokens_after INTEGER NOT NULL DEFAULT 0;\n",

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
