/* store -- the items in a SQLite database: store.h (chapter 03's
 * interface) on db.h. Stage 1 opens and migrates; the items themselves
 * come with the next stages of the chapter, and until then every
 * operation answers STORE_ERROR (a 500 problem). */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

struct store {
    sqlite3 *db;
    pthread_mutex_t lock; /* one connection, one user at a time */
};

struct store *store_open(const char *spec, char *err, size_t errlen)
{
    struct store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "%s: out of memory", spec);
        return NULL;
    }
    char why[400];
    if (!(s->db = db_open(spec, DB_BUSY_MS, err, errlen)))
        goto fail;
    if (db_migrate(s->db, why, sizeof why) < 0) {
        snprintf(err, errlen, "%s: %s", spec, why);
        goto fail;
    }
    pthread_mutex_init(&s->lock, NULL);
    return s;
fail:
    sqlite3_close(s->db);
    free(s);
    return NULL;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    sqlite3_close(s->db);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

int store_may_block(const struct store *s)
{
    (void)s;
    return 1; /* a commit waits for the disk, a statement for a lock */
}

enum store_status store_create(struct store *s, const struct item *in, struct item *out)
{
    (void)s, (void)in, (void)out;
    return STORE_ERROR;
}

enum store_status store_get(struct store *s, int64_t id, struct item *out)
{
    (void)s, (void)id, (void)out;
    return STORE_ERROR;
}

enum store_status store_replace(struct store *s, int64_t id, int64_t version,
                                const struct item *in, struct item *out)
{
    (void)s, (void)id, (void)version, (void)in, (void)out;
    return STORE_ERROR;
}

enum store_status store_delete(struct store *s, int64_t id, int64_t version)
{
    (void)s, (void)id, (void)version;
    return STORE_ERROR;
}

enum store_status store_list(struct store *s, const struct store_query *q, struct item **items,
                             size_t *n, int *more)
{
    (void)s, (void)q;
    *items = NULL;
    *n = 0;
    *more = 0;
    return STORE_ERROR;
}

enum store_status store_create_once(struct store *s, const char *key, const struct item *in,
                                    struct item *out)
{
    (void)s, (void)key, (void)in, (void)out;
    return STORE_ERROR;
}
