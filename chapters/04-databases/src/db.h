/* db -- the SQLite database behind the store: opening a connection the
 * way a server needs it, and bringing the schema up to date (stage 1).
 *
 * A connection's settings live in the connection, not in the file (only
 * journal_mode=WAL is remembered by the file), so every connection the
 * server opens goes through db_open(). The schema's version is the
 * file's PRAGMA user_version, an integer SQLite keeps in the file's
 * header and never uses itself: 0 for a new file, db_version() once
 * db_migrate() has run. */
#ifndef DB_H
#define DB_H

#include <stddef.h>

#include <sqlite3.h>

/* The schema version this code reads and writes: the number of its
 * migration steps (db.c), 1 for the schema of stage 1, 2 after stage 4's
 * -- and the later chapter's steps after them. */
int db_version(void);

/* Appends n more steps after db.c's own: steps[0] takes a file from
 * version NSTEPS to NSTEPS + 1, and so on. Chapter 05 keeps its users and
 * sessions in the same file, with the same user_version. Call it once,
 * before the first db_migrate(), while one thread runs; steps must stay
 * valid as long as the program runs. */
void db_extend(const char *const *steps, int n);

/* How long a statement waits for another connection's lock before it
 * gives up with SQLITE_BUSY ("database is locked"), in ms. */
#define DB_BUSY_MS 1000

/* Opens the database file at path, creating it if it is not there (but
 * not its directory), and sets the connection up:
 *   journal_mode=WAL   readers do not block the writer, nor it them
 *   synchronous=FULL   a commit returns once the WAL is on the disk
 *   foreign_keys=ON    off by default, in every connection
 *   busy_timeout       busy_ms: wait for a lock, do not fail at once
 * Also runs a first statement, so that a file that is not a database is
 * found here and not at the first request. Returns the connection, or NULL
 * with err[0..errlen) naming path and saying why ("items.db: file is not
 * a database"). */
sqlite3 *db_open(const char *path, int busy_ms, char *err, size_t errlen);

/* Brings the schema from the file's user_version up to db_version(), in one
 * transaction (BEGIN IMMEDIATE): every step, then user_version, then
 * COMMIT -- or, when anything fails, ROLLBACK, and the file is exactly as
 * it was. A file already at db_version() is left alone. A file at a higher
 * version was written by newer code: refused, unchanged. Returns 0, or
 * -1 with err[0..errlen) saying why. */
int db_migrate(sqlite3 *db, char *err, size_t errlen);

#endif
