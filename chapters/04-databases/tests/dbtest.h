/* dbtest -- what this chapter's tests share: the test's own SQLite
 * connection to the server's file, the oracle that seeds, checks and
 * breaks it behind the server's back. Open it after the server started,
 * close it before the test ends. Every function fails the test with a
 * message when SQLite does. */
#ifndef DBTEST_H
#define DBTEST_H

#include <sqlite3.h>

/* "<the test's directory>/<name>", valid until DB_TMP_PATHS more calls. */
#define DB_TMP_PATHS 16
const char *db_tmp_path(const char *name);

/* The test's connection to path, an existing file; a busy timeout of 5 s. */
sqlite3 *db_oracle(const char *path);

/* The first column of the first row of sql, as text ("" for NULL or no
 * row), in a message slot. */
const char *db_value(sqlite3 *db, const char *sql);

/* Runs sql, one or more statements without results. */
void db_exec(sqlite3 *db, const char *sql);

/* The schema's CREATE statements in name order and the user_version, as
 * one malloc'd text: to compare a file before and after. */
char *db_fingerprint(sqlite3 *db);

#endif
