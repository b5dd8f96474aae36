/* store -- chapter 03's store.h on SQLite (db.h): the items in the
 * database file. See store.h (chapters/03-rest/src) for the contract of
 * each function: it is the spec the tests check. Given: the struct, the
 * conversions between rows, JSON and items. Yours: store_open() (stage
 * 1), the operations (stage 2), the tags in their own table and the sku
 * (stage 4), a unique sku's 409 (stage 5), readers and a writer (stage
 * 6), pages that search an index (stage 7), a clean close (stage 8).
 *
 * One connection, used by one request at a time (the mutex): the handlers
 * run on the HTTP layer's worker threads (store_may_block() is 1), and a
 * SQLite connection with its statements belongs to one thread at a time.
 * SQLite has one writer per file anyway; stage 6 gives the reads
 * connections of their own.
 *
 * Every change is one transaction, BEGIN IMMEDIATE ... COMMIT: it takes
 * the write lock before it reads, so that what it read is still true when
 * it writes (a version check, an idempotency key), and a failure anywhere
 * rolls all of it back. Every value goes in as a bound parameter; the only
 * text built into SQL is the ORDER BY column and direction, chosen from
 * fixed strings by enum. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "db.h"
#include "item.h"

struct store {
    sqlite3 *db;
    pthread_mutex_t lock; /* one request at a time on the connection */
};

/* TODO(stage 4): after migration 2 the items table has no tags column
 * but a sku: "id, name, qty, price, sku, version, ...", and read_row()
 * reads the sku (column 4, NULL for none) instead of the tags. */
#define COLUMNS "id, name, qty, price, tags, version, created_at, updated_at"

/* ---- open and close ------------------------------------------------------ */

struct store *store_open(const char *spec, int busy_ms, char *err, size_t errlen)
{
    /* TODO(stage 1): no spec (restd was started without --db): NULL, and
     * err says to give --db FILE. Then calloc the store; s->db =
     * db_open(spec, busy_ms > 0 ? busy_ms : DB_BUSY_MS, err, errlen);
     * then db_migrate() -- its err does not name the file: put "<spec>: "
     * before it. On a failure, close and free what you made and return
     * NULL (main.c prints err and exits 1, before it listens). Then
     * pthread_mutex_init(&s->lock, NULL). */
    (void)busy_ms;
    snprintf(err, errlen, "%s: store_open() is not written yet", spec ? spec : "(no --db)");
    return NULL;
}

/* TODO(stage 8): close every connection you opened -- after stage 6 the
 * readers and the writer: whichever closes last checkpoints the WAL into
 * the file and deletes the -wal. sqlite3_close()
 * answers SQLITE_BUSY when a statement was never finalized: check it and
 * say so on stderr (the -wal then stays: look for a path that skips
 * sqlite3_finalize()). */
void store_close(struct store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db); /* the last connection: checkpoints, removes -wal */
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int store_may_block(const struct store *s)
{
    (void)s;
    return 1; /* a commit waits for the disk, a statement for a lock */
}

/* ---- rows and items -------------------------------------------------------- */

/* The tags of it as a JSON array, malloc'd; NULL when memory ran out. */
static char *tags_to_json(const struct item *it)
{
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < it->ntags; i++) {
        cJSON *t = cJSON_CreateString(it->tags[i]);
        if (!t || !cJSON_AddItemToArray(a, t)) {
            cJSON_Delete(t);
            cJSON_Delete(a);
            return NULL;
        }
    }
    char *text = a ? cJSON_PrintUnformatted(a) : NULL;
    cJSON_Delete(a);
    return text;
}

/* The tags of a JSON array into it->tags. 0, or -1. */
static int tags_from_json(const cJSON *a, struct item *it)
{
    const cJSON *t;
    int n = cJSON_GetArraySize(a);
    if (!cJSON_IsArray(a) || (n && !(it->tags = calloc((size_t)n, sizeof *it->tags))))
        return -1;
    cJSON_ArrayForEach(t, a)
        if (!cJSON_IsString(t) || !(it->tags[it->ntags++] = strdup(t->valuestring)))
            return -1;
    return 0;
}

/* A row of COLUMNS into out. 0, or -1 (out freed). */
static int read_row(sqlite3_stmt *st, struct item *out)
{
    memset(out, 0, sizeof *out);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    const char *tags = (const char *)sqlite3_column_text(st, 4);
    const char *created = (const char *)sqlite3_column_text(st, 6);
    const char *updated = (const char *)sqlite3_column_text(st, 7);
    cJSON *a = tags ? cJSON_Parse(tags) : NULL;
    out->id = sqlite3_column_int64(st, 0);
    out->qty = sqlite3_column_int64(st, 2);
    out->price = sqlite3_column_double(st, 3);
    out->version = sqlite3_column_int64(st, 5);
    snprintf(out->created_at, sizeof out->created_at, "%s", created ? created : "");
    snprintf(out->updated_at, sizeof out->updated_at, "%s", updated ? updated : "");
    int rc = name && (out->name = strdup(name)) && tags_from_json(a, out) == 0 ? 0 : -1;
    cJSON_Delete(a);
    if (rc < 0)
        item_free(out);
    return rc;
}

/* ---- the operations ----------------------------------------------------------- */

/* TODO(stage 2): the operations of store.h, on the database. Each one:
 *  - pthread_mutex_lock(&s->lock) first, unlock on every way out: the
 *    handlers run on worker threads, and the connection and its
 *    statements are used by one thread at a time;
 *  - a change is one transaction: "BEGIN IMMEDIATE" (the write lock
 *    before the first read, so that what it reads -- a version, a key --
 *    is still true when it writes), then "COMMIT", or "ROLLBACK" on any
 *    failure; a COMMIT that fails means nothing was stored: STORE_ERROR;
 *  - every value a bound parameter: sqlite3_prepare_v2() with ?1, ?2 ...,
 *    sqlite3_bind_int64(), _double(), _text(st, i, text, -1,
 *    SQLITE_TRANSIENT); sqlite3_step() until SQLITE_DONE;
 *    sqlite3_finalize() on every path. Never snprintf() a value into SQL.
 * A few helpers you will want: one that reads the row of one id
 * (SELECT COLUMNS FROM items WHERE id = ?1, read_row()), one that inserts
 * (the tags as tags_to_json() text; created_at = updated_at =
 * store_time_now(); then the row of sqlite3_last_insert_rowid()).
 *  - store_replace(), store_delete(): UPDATE / DELETE ... WHERE id = ? AND
 *    (? = 0 OR version = ?); version + 1 and updated_at on UPDATE. When
 *    sqlite3_changes() is 0, look the id up: there -> STORE_STALE, else
 *    STORE_NOT_FOUND.
 *  - store_update() (PATCH's read-merge-write): BEGIN IMMEDIATE first,
 *    then read the row, then change(ctx, &current, &next): 0 -> the same
 *    UPDATE as store_replace() with next; 1 -> STORE_DECLINED; -1 ->
 *    STORE_ERROR. The write lock is taken before the read, so nothing can
 *    change the item in between: that is why IMMEDIATE.
 *  - store_list(): ORDER BY <column> <ASC|DESC>, id <ASC|DESC> -- the
 *    column and direction from fixed strings by enum (a name cannot be a
 *    bound parameter) --; the name filter as name LIKE ?1 ESCAPE '\'
 *    with '%' + the needle, its % _ and \ each escaped with \, + '%';
 *    after a place: (col > ?2 OR (col = ?2 AND id > ?3)) (< for DESC;
 *    only id > ?3 for the id sort); LIMIT limit + 1: one row more than
 *    the page says that more follow.
 *  - store_create_once(): one transaction -- the key's row in
 *    idempotency_keys, if any and not older than STORE_KEY_TTL_MS
 *    (created_ms, wall_ms()): item_from_stored() of its JSON, then
 *    item_same_fields() -> STORE_REPLAYED with it, or STORE_KEY_REUSED;
 *    no row -> delete the expired keys and all but the newest
 *    STORE_KEYS_MAX - 1, create the item, and INSERT the key with
 *    item_to_json() of it. The key and the item commit together. */

/* TODO(stage 4): the tags move to item_tags (db.c, step 2), one row per
 * tag, and the items get a sku:
 *  - a helper that loads an item's tags: SELECT tag FROM item_tags WHERE
 *    item_id = ?1 ORDER BY position -- after every read of a row
 *    (store_get(), each row of store_list(): a second statement may run
 *    while the first is still stepping);
 *  - one that saves them, in the change's transaction: DELETE FROM
 *    item_tags WHERE item_id = ?1, then INSERT (?1, ?2, ?3) once per tag
 *    -- prepared once, sqlite3_reset() and bound again for each tag;
 *  - INSERT and UPDATE no longer name the tags column (it is gone: the
 *    statement would not even prepare), and bind the sku instead
 *    (sqlite3_bind_null() for none); tags_to_json() has no use left --
 *    delete it, and its (void) in store_create_once();
 *  - store_delete(): nothing more -- ON DELETE CASCADE deletes the tags,
 *    as foreign_keys is ON (db_open()).
 * item_from_stored() already reads a sku. */

/* TODO(stage 5): the sku is unique (CREATE UNIQUE INDEX): an INSERT or
 * UPDATE that would give two items one sku fails its sqlite3_step() with
 * sqlite3_extended_errcode() == SQLITE_CONSTRAINT_UNIQUE. That is
 * STORE_CONFLICT (a 409 for the client), not STORE_ERROR -- and never a
 * look-up before the write: two requests could both find the sku free.
 * Any other failure in the middle of a change -- a constraint, a trigger,
 * the disk -- is STORE_ERROR, after ROLLBACK: none of the change stays,
 * and the connection is out of the transaction for the next request. */

/* TODO(stage 6): many clients at once. Up to here one connection serves
 * one request at a time; a change waiting for a lock (another process
 * holds it: the sqlite3 shell, a backup, the tests) then holds up every
 * read too, and waits as long as SQLite lets it. Make it:
 *  - the writer: s->db for changes only, behind s->lock; begin() takes the
 *    mutex with pthread_mutex_timedlock() (a CLOCK_REALTIME deadline of
 *    now + busy_ms; ETIMEDOUT -> STORE_BUSY), sets
 *    sqlite3_busy_timeout(s->db, what is left), then BEGIN IMMEDIATE;
 *    finish() unlocks after COMMIT or ROLLBACK;
 *  - the readers: STORE_READERS more connections (db_open() each, after
 *    the migration), lent one per request from a stack under a mutex and
 *    a condition variable; store_get() and store_list() run on one,
 *    inside BEGIN ... COMMIT (the row and its tags from one snapshot);
 *  - (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY from any statement is
 *    STORE_BUSY -- the client gets 503 and Retry-After -- never
 *    STORE_ERROR.
 * The struct needs busy_ms, the readers, the stack, its mutex and
 * condition variable; store_open() opens them, store_close() closes them
 * all (the last to close checkpoints the WAL). */

/* TODO(stage 7): store_list() on 300,000 items. With db.c's step 3 an
 * index holds each order; let the page's SQL say exactly that order:
 *  - after a cursor, WHERE (name, id) > (?2, ?3) -- a row value, compared
 *    column by column like the index -- and < for DESC (for sort=id,
 *    id > ?3);
 *  - without a filter, no name condition at all: pick "name LIKE ?1
 *    ESCAPE '\'" or "1" (fixed strings) instead of (?1 IS NULL OR ...).
 * Then in the sqlite3 shell, EXPLAIN QUERY PLAN of your statement says
 * SCAN items USING INDEX items_name for a first page and SEARCH items
 * USING INDEX items_name (name>?) after a cursor -- never USE TEMP
 * B-TREE FOR ORDER BY. */

/* TODO(stage 3): read every statement of store_create(), store_get(),
 * store_replace(), store_delete(), store_list() and store_create_once()
 * once more: no byte a client sent may be part of a statement's text.
 * Values are ?N parameters and bound; store_list()'s ORDER BY column and
 * direction come from fixed strings picked by enum; LIKE's wildcards in
 * the client's filter are escaped in the bound pattern; sqlite3_exec()
 * only ever runs constant text (BEGIN, COMMIT, ROLLBACK). */

enum store_status store_create(struct store *s, const struct item *in, struct item *out)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)in, (void)out;
    return STORE_ERROR;
}

enum store_status store_get(struct store *s, int64_t id, struct item *out)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)id, (void)out;
    return STORE_ERROR;
}

enum store_status store_replace(struct store *s, int64_t id, int64_t version,
                                const struct item *in, struct item *out)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)id, (void)version, (void)in, (void)out;
    return STORE_ERROR;
}

enum store_status store_update(struct store *s, int64_t id, store_change_fn change, void *ctx,
                               struct item *out)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)id, (void)change, (void)ctx, (void)out;
    return STORE_ERROR;
}

enum store_status store_delete(struct store *s, int64_t id, int64_t version)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)id, (void)version;
    return STORE_ERROR;
}

/* ---- pages ------------------------------------------------------------------------ */

enum store_status store_list(struct store *s, const struct store_query *q, struct item **items,
                             size_t *n, int *more)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)q;
    *items = NULL;
    *n = 0;
    *more = 0;
    return STORE_ERROR;
}

/* ---- idempotency keys ----------------------------------------------------------------- */

static long long wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The item as stored with a key (item_to_json()'s members) into out. */
static int item_from_stored(const char *text, struct item *out)
{
    cJSON *j = cJSON_Parse(text);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "created_at");
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "updated_at");
    const cJSON *sku = cJSON_GetObjectItemCaseSensitive(j, "sku");
    memset(out, 0, sizeof *out);
    int rc = -1;
    if (cJSON_IsString(name) && cJSON_IsString(c) && cJSON_IsString(u) &&
        (out->name = strdup(name->valuestring)) &&
        (!cJSON_IsString(sku) || (out->sku = strdup(sku->valuestring))) &&
        tags_from_json(cJSON_GetObjectItemCaseSensitive(j, "tags"), out) == 0) {
        out->id = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "id"));
        out->qty = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "qty"));
        out->price = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "price"));
        out->version =
            (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "version"));
        snprintf(out->created_at, sizeof out->created_at, "%s", c->valuestring);
        snprintf(out->updated_at, sizeof out->updated_at, "%s", u->valuestring);
        rc = 0;
    }
    cJSON_Delete(j);
    if (rc < 0)
        item_free(out);
    return rc;
}

enum store_status store_create_once(struct store *s, const char *key, const struct item *in,
                                    struct item *out)
{
    /* TODO(stage 2): see the plan above. */
    (void)s, (void)key, (void)in, (void)out;
    (void)tags_to_json, (void)read_row, (void)item_from_stored, (void)wall_ms; /* for you */
    return STORE_ERROR;
}
