/* authdb -- the users and sessions in chapter 04's database file: the
 * schema's steps after chapter 04's (stages 1 and 2), and the one
 * connection the auth modules share.
 *
 * The steps continue the file's PRAGMA user_version: main() hands them to
 * db_extend() before store_open() migrates the file, so the items' steps
 * and these run in the same transaction, in order. Only ever append a
 * step: a file out there is at some version.
 *
 * Every statement on users and sessions is short (a row by its key), so
 * one connection serves them all, lent to one thread at a time; what is
 * slow -- hashing a password -- happens before or after, never while the
 * connection is held. */
#ifndef AUTHDB_H
#define AUTHDB_H

#include <stddef.h>

#include <sqlite3.h>

/* The steps, in order, then NULL; and how many there are. */
extern const char *const authdb_steps[];
extern const int authdb_nsteps;

/* What an operation on users or sessions came to. */
enum auth_status {
    AUTH_OK = 0,
    AUTH_DENIED,   /* wrong credentials, or no such session: 401 */
    AUTH_TAKEN,    /* the username is someone's already: 409 */
    AUTH_MISSING,  /* no account has that id: 404 (stage 6) */
    AUTH_BUSY,     /* the database stayed locked past busy_ms: 503 */
    AUTH_ERROR,    /* memory or the storage failed: 500 */
};

struct authdb;

/* Opens a connection to path, a file store_open() has migrated already,
 * with db_open()'s settings. NULL with err[0..errlen) saying why. */
struct authdb *authdb_open(const char *path, int busy_ms, char *err, size_t errlen);
void authdb_close(struct authdb *a);

/* The connection, for this thread alone until authdb_release(); NULL when
 * another thread kept it past busy_ms (answer AUTH_BUSY). */
sqlite3 *authdb_take(struct authdb *a);
void authdb_release(struct authdb *a);

/* What a failed statement on db means: AUTH_BUSY for a lock that stayed
 * taken ("database is locked"), AUTH_ERROR for anything else. */
enum auth_status authdb_failure(sqlite3 *db);

#endif
