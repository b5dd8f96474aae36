/* store -- the in-memory store (given): see store.h.
 *
 * The items sit in one array in id order -- ids only grow, so a new item
 * goes at the end -- and are found by binary search. Deleting moves the
 * rest down: fine for the thousands of items of the tests; chapter 04's
 * SQLite store is the one for real sizes. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct store {
    struct item *items;
    size_t n, cap;
    int64_t last_id; /* the highest id ever given: ids are never reused */
};

void item_free(struct item *it)
{
    if (!it)
        return;
    free(it->name);
    for (size_t i = 0; i < it->ntags; i++)
        free(it->tags[i]);
    free(it->tags);
    memset(it, 0, sizeof *it);
}

int item_copy(struct item *dst, const struct item *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->tags = NULL;
    dst->ntags = 0;
    if (src->name && !(dst->name = strdup(src->name)))
        goto fail;
    if (src->ntags) {
        if (!(dst->tags = calloc(src->ntags, sizeof *dst->tags)))
            goto fail;
        for (; dst->ntags < src->ntags; dst->ntags++)
            if (!(dst->tags[dst->ntags] = strdup(src->tags[dst->ntags])))
                goto fail;
    }
    return 0;
fail:
    item_free(dst);
    return -1;
}

/* Now as "2026-12-02T10:00:00.123Z". */
static void now_rfc3339(char *out)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[20];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, STORE_TIME_LEN + 1, "%.19s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

struct store *store_open(const char *spec)
{
    (void)spec;
    return calloc(1, sizeof(struct store));
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        item_free(&s->items[i]);
    free(s->items);
    free(s);
}

/* The index of the first item with an id >= id. */
static size_t lower_bound(const struct store *s, int64_t id)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->items[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The item with this id, or NULL. */
static struct item *find(struct store *s, int64_t id)
{
    size_t i = lower_bound(s, id);
    return i < s->n && s->items[i].id == id ? &s->items[i] : NULL;
}

enum store_status store_create(struct store *s, const struct item *in, struct item *out)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        struct item *items = realloc(s->items, cap * sizeof *items);
        if (!items)
            return STORE_ERROR;
        s->items = items;
        s->cap = cap;
    }
    struct item it;
    if (item_copy(&it, in) < 0)
        return STORE_ERROR;
    it.id = s->last_id + 1;
    it.version = 1;
    now_rfc3339(it.created_at);
    memcpy(it.updated_at, it.created_at, sizeof it.updated_at);
    if (item_copy(out, &it) < 0) {
        item_free(&it);
        return STORE_ERROR;
    }
    s->items[s->n++] = it;
    s->last_id = it.id;
    return STORE_OK;
}

enum store_status store_get(struct store *s, int64_t id, struct item *out)
{
    const struct item *it = find(s, id);
    if (!it)
        return STORE_NOT_FOUND;
    return item_copy(out, it) < 0 ? STORE_ERROR : STORE_OK;
}

enum store_status store_replace(struct store *s, int64_t id, int64_t version,
                                const struct item *in, struct item *out)
{
    struct item *it = find(s, id), next;
    if (!it)
        return STORE_NOT_FOUND;
    if (version > 0 && it->version != version)
        return STORE_STALE;
    if (item_copy(&next, in) < 0)
        return STORE_ERROR;
    next.id = it->id;
    next.version = it->version + 1;
    memcpy(next.created_at, it->created_at, sizeof next.created_at);
    now_rfc3339(next.updated_at);
    if (item_copy(out, &next) < 0) {
        item_free(&next);
        return STORE_ERROR;
    }
    item_free(it);
    *it = next;
    return STORE_OK;
}

enum store_status store_delete(struct store *s, int64_t id, int64_t version)
{
    struct item *it = find(s, id);
    if (!it)
        return STORE_NOT_FOUND;
    if (version > 0 && it->version != version)
        return STORE_STALE;
    item_free(it);
    size_t i = (size_t)(it - s->items);
    memmove(it, it + 1, (s->n - i - 1) * sizeof *it);
    s->n--;
    return STORE_OK;
}

enum store_status store_list(struct store *s, int64_t after, size_t limit, struct item **items,
                             size_t *n, int *more)
{
    size_t from = after < INT64_MAX ? lower_bound(s, after + 1) : s->n;
    size_t count = s->n - from < limit ? s->n - from : limit;
    *items = NULL;
    *n = 0;
    *more = from + count < s->n;
    if (count == 0)
        return STORE_OK;
    if (!(*items = calloc(count, sizeof **items)))
        return STORE_ERROR;
    for (; *n < count; (*n)++) {
        if (item_copy(&(*items)[*n], &s->items[from + *n]) < 0) {
            for (size_t k = 0; k < *n; k++)
                item_free(&(*items)[k]);
            free(*items);
            *items = NULL;
            *n = 0;
            return STORE_ERROR;
        }
    }
    return STORE_OK;
}
