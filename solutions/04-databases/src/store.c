/* store -- chapter 03's store.h on SQLite (db.h): the items in the
 * database file.
 *
 * The handlers run on the HTTP layer's worker threads (store_may_block()
 * is 1), several at once, and a SQLite connection with its statements
 * belongs to one thread at a time. So: one connection for the changes --
 * SQLite has one writer per file anyway -- taken by one request at a time
 * (the mutex, so that this server's writers queue here, in order, instead
 * of polling SQLite's lock), and STORE_READERS connections for the reads,
 * each lent to one request at a time. In WAL mode the readers never wait
 * for the writer, nor it for them (stage 6).
 *
 * Every change is one transaction, BEGIN IMMEDIATE ... COMMIT: it takes
 * the write lock before it reads, so that what it read is still true when
 * it writes (a version check, an idempotency key), and a failure anywhere
 * rolls all of it back. Every read is one transaction too, BEGIN ...
 * COMMIT: an item's row and its tags from one snapshot. A request waits
 * for the writer's mutex and SQLite's lock (another process's, such as
 * the sqlite3 shell's) busy_ms in all; then STORE_BUSY (503).
 *
 * Every value goes in as a bound parameter; the only text built into SQL
 * is the ORDER BY column and direction and the page's conditions, chosen
 * from fixed strings by enum. */
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

/* Connections for reads: one per worker thread of the HTTP layer
 * (CONN_WORKERS), so that a read never waits for a connection. */
#define STORE_READERS 4

struct store {
    struct store *base;       /* a view (store_scope(), chapter 05): the store it
                                 is of; NULL for the store itself */
    int64_t owner;            /* a view's user; 0 for the store: every item */
    sqlite3 *db;              /* the writer's connection: every change */
    pthread_mutex_t lock;     /* one change at a time uses it */
    int busy_ms;              /* what a request may wait for a lock, in all */
    sqlite3 *readers[STORE_READERS]; /* opened: every one, to close them */
    sqlite3 *idle[STORE_READERS];    /* not lent out: nidle of them */
    int nidle;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_back; /* a reader came back */
};

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st);
static void release(sqlite3_stmt *st);

/* An item's row; its tags are rows of item_tags (load_tags()). */
#define COLUMNS "id, name, qty, price, sku, version, created_at, updated_at"

/* Chapter 05: every item has an owner_id, and a view of the store for
 * one user (store_scope(), ITEM_OWNER) reaches only that user's items --
 * each statement through a view is the statement sql with the owner in
 * it, ?9: in the WHERE of a statement on an item by its id, and of a
 * list; in the VALUES of a new item. The store itself (owner 0: chapter
 * 04, and chapter 05 before its owners) runs sql as it is, and needs no
 * owner_id column. */
#define OWNED(owner, sql) ((owner) ? sql " AND owner_id = ?9" : sql)

/* ---- open and close ------------------------------------------------------ */

struct store *store_open(const char *spec, int busy_ms, char *err, size_t errlen)
{
    if (!spec) {
        snprintf(err, errlen, "no database: give its file with --db FILE");
        return NULL;
    }
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", spec);
        return NULL;
    }
    s->busy_ms = busy_ms > 0 ? busy_ms : DB_BUSY_MS;
    char why[400];
    if (!(s->db = db_open(spec, s->busy_ms, err, errlen)))
        goto fail;
    if (db_migrate(s->db, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", spec, why);
        goto fail;
    }
    /* the readers after the migration: they open a file that is ready */
    for (int i = 0; i < STORE_READERS; i++) {
        if (!(s->readers[i] = db_open(spec, s->busy_ms, err, errlen)))
            goto fail;
        s->idle[s->nidle++] = s->readers[i];
    }
    pthread_mutex_init(&s->lock, NULL);
    pthread_mutex_init(&s->idle_lock, NULL);
    pthread_cond_init(&s->idle_back, NULL);
    return s;
fail:
    for (int i = 0; i < STORE_READERS; i++)
        sqlite3_close(s->readers[i]);
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

/* Finalizes the statements db kept (prepare()), then closes it.
 * sqlite3_close() refuses (SQLITE_BUSY) while a statement is left: then
 * the -wal stays behind, and the log says so. */
static void close_connection(sqlite3 *db)
{
    sqlite3_stmt *p;
    while ((p = sqlite3_next_stmt(db, NULL)))
        sqlite3_finalize(p);
    if (sqlite3_close(db) != SQLITE_OK)
        fprintf(stderr, "store: a connection to the database does not close: %s\n",
                sqlite3_errmsg(db));
}

void store_close(struct store *s)
{
    if (!s)
        return;
    /* every connection: whichever closes last checkpoints the WAL into
     * the file and deletes it */
    for (int i = 0; i < STORE_READERS; i++) {
        /* statistics for the query planner where this connection's queries
         * would have used them -- the readers ran the pages (cheap:
         * https://sqlite.org/pragma.html#pragma_optimize) */
        sqlite3_exec(s->readers[i], "PRAGMA optimize", NULL, NULL, NULL);
        close_connection(s->readers[i]);
    }
    close_connection(s->db);
    pthread_mutex_destroy(&s->lock);
    pthread_mutex_destroy(&s->idle_lock);
    pthread_cond_destroy(&s->idle_back);
    free(s);
}

int store_may_block(const struct store *s)
{
    (void)s;
    return 1; /* a commit waits for the disk, a statement for a lock */
}

/* ---- rows and items -------------------------------------------------------- */

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

/* A row of COLUMNS into out, its tags not yet. 0, or -1 (out freed). */
static int read_row(sqlite3_stmt *st, struct item *out)
{
    memset(out, 0, sizeof *out);
    const char *name = (const char *)sqlite3_column_text(st, 1);
    const char *sku = (const char *)sqlite3_column_text(st, 4);
    const char *created = (const char *)sqlite3_column_text(st, 6);
    const char *updated = (const char *)sqlite3_column_text(st, 7);
    out->id = sqlite3_column_int64(st, 0);
    out->qty = sqlite3_column_int64(st, 2);
    out->price = sqlite3_column_double(st, 3);
    out->version = sqlite3_column_int64(st, 5);
    snprintf(out->created_at, sizeof out->created_at, "%s", created ? created : "");
    snprintf(out->updated_at, sizeof out->updated_at, "%s", updated ? updated : "");
    if (name && (out->name = strdup(name)) && (!sku || (out->sku = strdup(sku))))
        return 0;
    item_free(out);
    return -1;
}

/* The tags of it (it->id) from item_tags, in their order. 0, or -1. */
static int load_tags(sqlite3 *db, struct item *it)
{
    sqlite3_stmt *st = NULL;
    int step = SQLITE_ERROR;
    if (prepare(db, "SELECT tag FROM item_tags WHERE item_id = ?1 ORDER BY position", &st) ==
            SQLITE_OK &&
        sqlite3_bind_int64(st, 1, it->id) == SQLITE_OK) {
        while ((step = sqlite3_step(st)) == SQLITE_ROW) {
            char **more = realloc(it->tags, (it->ntags + 1) * sizeof *more);
            if (!more)
                break;
            it->tags = more;
            const char *tag = (const char *)sqlite3_column_text(st, 0); /* NULL: no memory */
            if (!tag || !(it->tags[it->ntags] = strdup(tag)))
                break;
            it->ntags++;
        }
    }
    release(st);
    return step == SQLITE_DONE ? 0 : -1;
}

/* Makes item id's tags those of in: deletes the old rows, inserts one per
 * tag -- one statement, prepared once, reset and bound again for each.
 * Inside the caller's transaction. 0, or -1. */
static int save_tags(struct store *s, int64_t id, const struct item *in)
{
    sqlite3_stmt *st = NULL;
    int ok = 0;
    if (prepare(s->db, "DELETE FROM item_tags WHERE item_id = ?1", &st) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK)
        ok = sqlite3_step(st) == SQLITE_DONE;
    release(st);
    st = NULL;
    if (!ok || prepare(s->db, "INSERT INTO item_tags (item_id, position, tag) VALUES (?1, ?2, ?3)",
                       &st) != SQLITE_OK)
        ok = 0;
    for (size_t i = 0; ok && i < in->ntags; i++)
        ok = sqlite3_reset(st) == SQLITE_OK && sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
             sqlite3_bind_int64(st, 2, (sqlite3_int64)i) == SQLITE_OK &&
             sqlite3_bind_text(st, 3, in->tags[i], -1, SQLITE_TRANSIENT) == SQLITE_OK &&
             sqlite3_step(st) == SQLITE_DONE;
    release(st);
    return ok ? 0 : -1;
}

/* ---- statements and transactions --------------------------------------------- */

/* A statement for sql on db, ready to bind and step: the one made for the
 * same text before, reset, or a new one that the connection keeps. A small
 * statement costs more to compile than to run, so each connection keeps
 * every statement it has made (SQLITE_PREPARE_PERSISTENT) and finds it
 * again by its text (sqlite3_next_stmt(), sqlite3_sql()); a statement in
 * use is not taken twice. Give it back with release(), not
 * sqlite3_finalize(); store_close() finalizes them all. */
static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
    for (sqlite3_stmt *p = sqlite3_next_stmt(db, NULL); p; p = sqlite3_next_stmt(db, p))
        if (!sqlite3_stmt_busy(p) && strcmp(sqlite3_sql(p), sql) == 0) {
            *st = p;
            return SQLITE_OK;
        }
    return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
}

/* Gives a statement back to its connection: reset (a SELECT left
 * half-read would hold its read transaction), no values bound. */
static void release(sqlite3_stmt *st)
{
    if (st) {
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
}

/* Runs one statement without results (BEGIN, COMMIT, ROLLBACK). */
static int exec(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = prepare(db, sql, &st) == SQLITE_OK ? sqlite3_step(st) : SQLITE_ERROR;
    release(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* What a failed statement on db means for the client: STORE_BUSY when a
 * lock stayed taken past the busy timeout ("database is locked"),
 * STORE_ERROR for anything else. */
static enum store_status failure(sqlite3 *db)
{
    return (sqlite3_errcode(db) & 0xff) == SQLITE_BUSY ? STORE_BUSY : STORE_ERROR;
}

/* Starts a change: the writer's connection (waiting for this server's
 * other changes), then BEGIN IMMEDIATE (waiting for other processes'),
 * within busy_ms in all. STORE_OK with the mutex held -- finish() lets it
 * go --, or STORE_BUSY / STORE_ERROR without. */
static enum store_status begin(struct store *s)
{
    struct timespec until, now;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += s->busy_ms / 1000;
    until.tv_nsec += (long)(s->busy_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    if (pthread_mutex_timedlock(&s->lock, &until) != 0)
        return STORE_BUSY;
    clock_gettime(CLOCK_REALTIME, &now);
    long long left = (long long)(until.tv_sec - now.tv_sec) * 1000 +
                     (until.tv_nsec - now.tv_nsec) / 1000000;
    sqlite3_busy_timeout(s->db, left > 0 ? (int)left : 1); /* what is left of it */
    if (exec(s->db, "BEGIN IMMEDIATE") == 0)
        return STORE_OK;
    enum store_status st = failure(s->db);
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* Ends the change: COMMIT when the operation succeeded -- st is what it
 * answers --, ROLLBACK otherwise; then the writer's connection is free. A
 * failed COMMIT is an error, rolled back: nothing was stored, so nothing
 * may be acknowledged. */
static enum store_status finish(struct store *s, enum store_status st)
{
    int keep = st == STORE_OK || st == STORE_REPLAYED || st == STORE_KEY_REUSED;
    if (keep && exec(s->db, "COMMIT") == 0) {
        pthread_mutex_unlock(&s->lock);
        return st;
    }
    if (keep)
        st = failure(s->db); /* the COMMIT's: busy or an error, nothing stored */
    exec(s->db, "ROLLBACK");
    pthread_mutex_unlock(&s->lock);
    return st;
}

/* Lends a reader's connection to this request: there is always one for
 * each worker thread, so it hardly ever waits. */
static sqlite3 *reader_take(struct store *s)
{
    pthread_mutex_lock(&s->idle_lock);
    while (s->nidle == 0)
        pthread_cond_wait(&s->idle_back, &s->idle_lock);
    sqlite3 *db = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->idle_lock);
    return db;
}

static void reader_return(struct store *s, sqlite3 *db)
{
    pthread_mutex_lock(&s->idle_lock);
    s->idle[s->nidle++] = db;
    pthread_cond_signal(&s->idle_back);
    pthread_mutex_unlock(&s->idle_lock);
}

/* Binds a view's owner at ?9 (OWNED()); nothing for the store itself. */
static int bind_owner(sqlite3_stmt *st, int64_t owner)
{
    return owner ? sqlite3_bind_int64(st, 9, owner) : SQLITE_OK;
}

/* The store a view is of, into *s, and the view's owner; the store
 * itself stays, owner 0. */
static int64_t unview(struct store **s)
{
    int64_t owner = (*s)->owner;
    if ((*s)->base)
        *s = (*s)->base;
    return owner;
}

/* Binds the fields of the items row a client sends -- name, qty, price,
 * sku (NULL for none) -- at ?1 to ?4. 0, or -1. */
static int bind_fields(sqlite3_stmt *st, const struct item *in)
{
    return sqlite3_bind_text(st, 1, in->name, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
                   sqlite3_bind_int64(st, 2, in->qty) == SQLITE_OK &&
                   sqlite3_bind_double(st, 3, in->price) == SQLITE_OK &&
                   (in->sku ? sqlite3_bind_text(st, 4, in->sku, -1, SQLITE_TRANSIENT)
                            : sqlite3_bind_null(st, 4)) == SQLITE_OK
               ? 0
               : -1;
}

/* What a failed step of a change means: another item has the sku (the
 * UNIQUE index said so), or failure()'s answer. */
static enum store_status step_failed(struct store *s)
{
    return sqlite3_extended_errcode(s->db) == SQLITE_CONSTRAINT_UNIQUE ? STORE_CONFLICT
                                                                       : failure(s->db);
}

/* The item with id into out, read on db; owner > 0: only if it is
 * owner's. */
static enum store_status get_row(sqlite3 *db, int64_t id, int64_t owner, struct item *out)
{
    sqlite3_stmt *st = NULL;
    enum store_status rc = STORE_ERROR;
    if (prepare(db, OWNED(owner, "SELECT " COLUMNS " FROM items WHERE id = ?1"), &st) ==
            SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK && bind_owner(st, owner) == SQLITE_OK) {
        int step = sqlite3_step(st);
        rc = step == SQLITE_DONE ? STORE_NOT_FOUND
             : step == SQLITE_ROW ? (read_row(st, out) == 0 ? STORE_OK : STORE_ERROR)
                                  : STORE_ERROR;
    }
    release(st);
    if (rc == STORE_OK && load_tags(db, out) < 0) {
        item_free(out);
        rc = STORE_ERROR;
    }
    return rc;
}

/* Inserts the item in, owner's (0: no one's), inside the caller's
 * transaction; out gets it. */
static enum store_status create_locked(struct store *s, int64_t owner, const struct item *in,
                                       struct item *out)
{
    sqlite3_stmt *st = NULL;
    char now[STORE_TIME_LEN + 1];
    enum store_status rc = STORE_ERROR;
    store_time_now(now);
    if (prepare(s->db,
                owner ? "INSERT INTO items (name, qty, price, sku, version, created_at, "
                        "updated_at, owner_id) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5, ?9)"
                      : "INSERT INTO items (name, qty, price, sku, version, created_at, "
                        "updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
                &st) == SQLITE_OK &&
        bind_fields(st, in) == 0 && bind_owner(st, owner) == SQLITE_OK &&
        sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? STORE_OK : step_failed(s);
    release(st);
    if (rc != STORE_OK)
        return rc;
    int64_t id = sqlite3_last_insert_rowid(s->db);
    return save_tags(s, id, in) == 0 ? get_row(s->db, id, owner, out) : STORE_ERROR;
}

/* ---- the operations ----------------------------------------------------------- */

enum store_status store_create(struct store *s, const struct item *in, struct item *out)
{
    int64_t owner = unview(&s);
    enum store_status st = begin(s);
    if (st == STORE_OK)
        st = finish(s, create_locked(s, owner, in, out));
    if (st != STORE_OK)
        item_free(out);
    return st;
}

enum store_status store_get(struct store *s, int64_t id, struct item *out)
{
    int64_t owner = unview(&s);
    sqlite3 *db = reader_take(s);
    enum store_status st = exec(db, "BEGIN") == 0 ? get_row(db, id, owner, out) : failure(db);
    exec(db, "COMMIT"); /* a read: nothing to keep, the snapshot to let go */
    reader_return(s, db);
    return st;
}

/* After a change that matched no row: was the item missing (or not
 * owner's), or at another version? */
static enum store_status why_unchanged(struct store *s, int64_t id, int64_t owner)
{
    struct item it = {0};
    enum store_status st = get_row(s->db, id, owner, &it);
    item_free(&it);
    return st == STORE_OK ? STORE_STALE : st;
}

/* Writes in as item id, if it is at version (0: any) and owner's (0:
 * anyone's), inside the caller's transaction; out gets the stored item. */
static enum store_status update_locked(struct store *s, int64_t id, int64_t version,
                                       int64_t owner, const struct item *in, struct item *out)
{
    sqlite3_stmt *st = NULL;
    char now[STORE_TIME_LEN + 1];
    enum store_status rc = STORE_ERROR;
    store_time_now(now);
    if (prepare(s->db,
                OWNED(owner, "UPDATE items SET name = ?1, qty = ?2, price = ?3, sku = ?4, "
                             "version = version + 1, updated_at = ?5 "
                             "WHERE id = ?6 AND (?7 = 0 OR version = ?7)"),
                &st) == SQLITE_OK &&
        bind_fields(st, in) == 0 && bind_owner(st, owner) == SQLITE_OK &&
        sqlite3_bind_text(st, 5, now, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 6, id) == SQLITE_OK &&
        sqlite3_bind_int64(st, 7, version) == SQLITE_OK) {
        if (sqlite3_step(st) != SQLITE_DONE)
            rc = step_failed(s);
        else if (sqlite3_changes(s->db) == 0)
            rc = why_unchanged(s, id, owner);
        else
            rc = save_tags(s, id, in) == 0 ? get_row(s->db, id, owner, out) : STORE_ERROR;
    }
    release(st);
    return rc;
}

enum store_status store_replace(struct store *s, int64_t id, int64_t version,
                                const struct item *in, struct item *out)
{
    int64_t owner = unview(&s);
    enum store_status rc = begin(s);
    if (rc == STORE_OK)
        rc = finish(s, update_locked(s, id, version, owner, in, out));
    if (rc != STORE_OK)
        item_free(out);
    return rc;
}

enum store_status store_update(struct store *s, int64_t id, store_change_fn change, void *ctx,
                               struct item *out)
{
    /* the write lock first (IMMEDIATE), then the read: no other change
     * can come between what change() saw and what is written */
    struct item current = {0}, next = {0};
    int64_t owner = unview(&s);
    enum store_status rc = begin(s);
    if (rc != STORE_OK)
        return rc;
    if ((rc = get_row(s->db, id, owner, &current)) == STORE_OK) {
        int c = change(ctx, &current, &next);
        rc = c > 0    ? STORE_DECLINED
             : c < 0  ? STORE_ERROR
                      : update_locked(s, id, 0, owner, &next, out);
    }
    rc = finish(s, rc);
    item_free(&current);
    item_free(&next);
    if (rc != STORE_OK)
        item_free(out);
    return rc;
}

enum store_status store_delete(struct store *s, int64_t id, int64_t version)
{
    sqlite3_stmt *st = NULL;
    int64_t owner = unview(&s);
    enum store_status rc = begin(s);
    if (rc == STORE_OK) {
        rc = STORE_ERROR;
        if (prepare(s->db,
                    OWNED(owner, "DELETE FROM items WHERE id = ?1 AND (?2 = 0 OR version = ?2)"),
                    &st) == SQLITE_OK &&
            sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
            sqlite3_bind_int64(st, 2, version) == SQLITE_OK &&
            bind_owner(st, owner) == SQLITE_OK && sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(s->db) ? STORE_OK : why_unchanged(s, id, owner);
        release(st);
        rc = finish(s, rc);
    }
    return rc;
}

/* ---- pages ------------------------------------------------------------------------ */

/* "%needle%" for LIKE ... ESCAPE '\': the needle's own %, _ and \ are
 * escaped, so that they match themselves. malloc'd. */
static char *like_pattern(const char *needle)
{
    char *p = malloc(2 * strlen(needle) + 3), *o = p;
    if (!p)
        return NULL;
    *o++ = '%';
    for (; *needle; needle++) {
        if (*needle == '%' || *needle == '_' || *needle == '\\')
            *o++ = '\\';
        *o++ = *needle;
    }
    *o++ = '%';
    *o = '\0';
    return p;
}

enum store_status store_list(struct store *s, const struct store_query *q, struct item **items,
                             size_t *n, int *more)
{
    /* The ORDER BY column comes from this table, by enum: never from the
     * client's text (a column name cannot be a bound parameter). */
    static const char *const keys[] = {"id", "name", "qty", "price"}; /* enum store_sort */
    int64_t owner = unview(&s);
    const char *key = keys[q->sort], *dir = q->desc ? "DESC" : "ASC", *cmp = q->desc ? "<" : ">";
    /* The place after the cursor as a row value, (key, id) > (?2, ?3): the
     * order of the index (key, id) itself, so the page starts with a search
     * in it (stage 7). Without a cursor or a filter, no condition at all. */
    char sql[512], after[64] = "";
    if (q->after && q->sort == STORE_SORT_ID)
        snprintf(after, sizeof after, " AND id %s ?3", cmp);
    else if (q->after)
        snprintf(after, sizeof after, " AND (%s, id) %s (?2, ?3)", key, cmp);
    /* a view's page: the owner's rows alone, an equality the index
     * (owner_id, id) finds them by (chapter 05) */
    snprintf(sql, sizeof sql,
             "SELECT " COLUMNS " FROM items WHERE %s%s%s ORDER BY %s %s, id %s LIMIT ?4",
             q->name ? "name LIKE ?1 ESCAPE '\\'" : "1", owner ? " AND owner_id = ?9" : "",
             after, key, dir, dir);

    *items = NULL;
    *n = 0;
    *more = 0;
    sqlite3_stmt *st = NULL;
    char *pattern = q->name ? like_pattern(q->name) : NULL;
    enum store_status rc = STORE_ERROR;
    size_t cap = q->limit;
    sqlite3 *db = reader_take(s);
    if (exec(db, "BEGIN") < 0) {
        rc = failure(db);
        goto out;
    }
    if ((q->name && !pattern) || prepare(db, sql, &st) != SQLITE_OK ||
        !(*items = calloc(cap, sizeof **items)))
        goto out;
    if (pattern)
        sqlite3_bind_text(st, 1, pattern, -1, SQLITE_TRANSIENT);
    if (q->after && q->sort == STORE_SORT_NAME)
        sqlite3_bind_text(st, 2, q->after->name, -1, SQLITE_TRANSIENT);
    else if (q->after && q->sort == STORE_SORT_QTY)
        sqlite3_bind_int64(st, 2, q->after->qty);
    else if (q->after && q->sort == STORE_SORT_PRICE)
        sqlite3_bind_double(st, 2, q->after->price);
    if (q->after)
        sqlite3_bind_int64(st, 3, q->after->id);
    bind_owner(st, owner);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)q->limit + 1); /* one more: is there a next page? */
    int step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        if (*n == q->limit) {
            *more = 1;
            continue;
        }
        if (read_row(st, &(*items)[*n]) < 0)
            goto out;
        (*n)++;
        if (load_tags(db, &(*items)[*n - 1]) < 0)
            goto out;
    }
    rc = step == SQLITE_DONE ? STORE_OK : failure(db);
out:
    release(st);
    exec(db, "COMMIT");
    reader_return(s, db);
    free(pattern);
    if (rc != STORE_OK) {
        for (size_t i = 0; i < *n; i++)
            item_free(&(*items)[i]);
        free(*items);
        *items = NULL;
        *n = 0;
        *more = 0;
    } else if (*n == 0) {
        free(*items);
        *items = NULL;
    }
    return rc;
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

/* The key's record, if it has one: STORE_REPLAYED or STORE_KEY_REUSED
 * (out set for a replay), STORE_NOT_FOUND, or STORE_ERROR. */
static enum store_status find_key(struct store *s, const char *key, const struct item *in,
                                  struct item *out, long long now)
{
    sqlite3_stmt *st = NULL;
    enum store_status rc = STORE_ERROR;
    if (prepare(s->db, "SELECT item FROM idempotency_keys WHERE key = ?1 AND created_ms > ?2",
                &st) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, now - STORE_KEY_TTL_MS) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_DONE) {
            rc = STORE_NOT_FOUND;
        } else if (step == SQLITE_ROW &&
                   item_from_stored((const char *)sqlite3_column_text(st, 0), out) == 0) {
            rc = item_same_fields(out, in) ? STORE_REPLAYED : STORE_KEY_REUSED;
            if (rc == STORE_KEY_REUSED)
                item_free(out);
        }
    }
    release(st);
    return rc;
}

/* Remembers key -> it, inside the caller's transaction, after forgetting
 * the keys past their time and all but the newest STORE_KEYS_MAX - 1. */
static enum store_status remember_key(struct store *s, const char *key, const struct item *it,
                                      long long now)
{
    sqlite3_stmt *st = NULL;
    cJSON *j = item_to_json(it);
    char *text = j ? cJSON_PrintUnformatted(j) : NULL;
    int ok = 0;
    cJSON_Delete(j);
    /* the keys past their time or their number go first (an expired
     * record of this very key among them) */
    if (text &&
        prepare(s->db,
                "DELETE FROM idempotency_keys WHERE created_ms <= ?1 OR key IN (SELECT "
                "key FROM idempotency_keys ORDER BY created_ms DESC, rowid DESC "
                "LIMIT -1 OFFSET ?2)",
                &st) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, now - STORE_KEY_TTL_MS) == SQLITE_OK &&
        sqlite3_bind_int(st, 2, STORE_KEYS_MAX - 1) == SQLITE_OK)
        ok = sqlite3_step(st) == SQLITE_DONE;
    release(st);
    st = NULL;
    if (ok &&
        prepare(s->db, "INSERT INTO idempotency_keys (key, item, created_ms) VALUES (?1, ?2, ?3)",
                &st) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, key, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, now) == SQLITE_OK)
        ok = sqlite3_step(st) == SQLITE_DONE;
    else
        ok = 0;
    release(st);
    cJSON_free(text);
    return ok ? STORE_OK : STORE_ERROR;
}

enum store_status store_create_once(struct store *s, const char *key, const struct item *in,
                                    struct item *out)
{
    long long now = wall_ms();
    int64_t owner = unview(&s);
    /* a view's keys are its owner's: "7/" and the key, so that no one
     * replays -- and so reads -- another's item by sending their key */
    char mine[STORE_KEY_MAX + 24];
    if (owner) {
        snprintf(mine, sizeof mine, "%lld/%s", (long long)owner, key);
        key = mine;
    }
    enum store_status rc = begin(s);
    if (rc == STORE_OK) {
        /* the key and the item commit together, or neither does; an expired
         * record of the key goes first */
        rc = find_key(s, key, in, out, now);
        if (rc == STORE_NOT_FOUND && (rc = create_locked(s, owner, in, out)) == STORE_OK)
            rc = remember_key(s, key, out, now);
        rc = finish(s, rc);
    }
    if (rc != STORE_OK && rc != STORE_REPLAYED)
        item_free(out);
    return rc;
}

/* ---- views of one owner (chapter 05) ------------------------------------------------ */

#if ITEM_OWNER
struct store *store_scope(struct store *s, int64_t owner)
{
    struct store *v = calloc(1, sizeof *v);
    if (v) {
        v->base = s;
        v->owner = owner;
    }
    return v;
}

void store_unscope(struct store *view)
{
    free(view);
}
#endif
