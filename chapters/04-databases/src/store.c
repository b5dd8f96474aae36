/* store -- the items in a SQLite database: chapter 03's store.h on
 * db.h. See store.h (in chapters/03-rest/src) for the contract. Stage 1
 * opens the database and migrates it; the items come with the next
 * stages, and until then every operation answers STORE_ERROR (a 500
 * problem). */
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
    /* TODO(stage 1): calloc the store; s->db = db_open(spec, DB_BUSY_MS,
     * err, errlen); then db_migrate() -- its err does not name the file:
     * put "<spec>: " before it. On a failure, close and free what you
     * made and return NULL (main.c prints err and exits 1, before it
     * listens). Then pthread_mutex_init(&s->lock, NULL). */
    (void)spec;
    snprintf(err, errlen, "%s: store_open() is not written yet", spec);
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
