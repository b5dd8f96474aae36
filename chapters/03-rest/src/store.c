/* store -- the in-memory store (given): see store.h.
 *
 * The items sit in one array in id order -- ids only grow, so a new item
 * goes at the end -- and are found by binary search. Deleting moves the
 * rest down, and a page of a list looks at every item: fine for the
 * thousands of items of the tests; chapter 04's SQLite store is the one for
 * real sizes. The idempotency keys sit in a hash table and a queue. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct keys;
static void keys_free(struct keys *k);

struct store {
    struct item *items;
    size_t n, cap;
    int64_t last_id;    /* the highest id ever given: ids are never reused */
    struct keys *keys;  /* the idempotency keys; NULL until the first */
};

struct store *store_open(const char *spec, int busy_ms, char *err, size_t errlen)
{
    (void)spec, (void)busy_ms;
    struct store *s = calloc(1, sizeof(struct store));
    if (!s)
        snprintf(err, errlen, "out of memory");
    return s;
}

int store_may_block(const struct store *s)
{
    (void)s;
    return 0; /* memory answers at once */
}

void store_close(struct store *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        item_free(&s->items[i]);
    free(s->items);
    keys_free(s->keys);
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
    store_time_now(it.created_at);
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
    store_time_now(next.updated_at);
    if (item_copy(out, &next) < 0) {
        item_free(&next);
        return STORE_ERROR;
    }
    item_free(it);
    *it = next;
    return STORE_OK;
}

enum store_status store_update(struct store *s, int64_t id, store_change_fn change, void *ctx,
                               struct item *out)
{
    struct item *it = find(s, id), next = {0};
    if (!it)
        return STORE_NOT_FOUND;
    int rc = change(ctx, it, &next);
    enum store_status st = rc > 0   ? STORE_DECLINED
                           : rc < 0 ? STORE_ERROR
                                    : store_replace(s, id, it->version, &next, out);
    item_free(&next);
    return st;
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

/* ---- pages ---------------------------------------------------------------- */

/* a before b in q's order: < 0; after: > 0; the same item: 0. */
static int compare(const struct store_query *q, const struct store_key *a,
                   const struct store_key *b)
{
    int c = 0;
    switch (q->sort) {
    case STORE_SORT_NAME:
        c = strcmp(a->name, b->name);
        break;
    case STORE_SORT_QTY:
        c = (a->qty > b->qty) - (a->qty < b->qty);
        break;
    case STORE_SORT_PRICE:
        c = (a->price > b->price) - (a->price < b->price);
        break;
    case STORE_SORT_ID:
        break;
    }
    if (c == 0)
        c = (a->id > b->id) - (a->id < b->id);
    return q->desc ? -c : c;
}

static struct store_key key_of(const struct item *it)
{
    return (struct store_key){it->id, it->name, it->qty, it->price};
}

/* needle occurs in hay, ASCII letters matching either case. */
static int contains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t k = 0;
        while (k < n && hay[k] &&
               tolower((unsigned char)hay[k]) == tolower((unsigned char)needle[k]))
            k++;
        if (k == n)
            return 1;
    }
    return n == 0;
}

enum store_status store_list(struct store *s, const struct store_query *q, struct item **items,
                             size_t *n, int *more)
{
    *items = NULL;
    *n = 0;
    *more = 0;
    /* One pass over every item, keeping the first limit + 1 that belong
     * after q->after in q's order, sorted, in best[] (insertion: limit is
     * at most 100); the one past limit only says that more follow. An
     * index on the sort key would find them without looking at every
     * item: chapter 04 has SQLite do that. */
    size_t keep = q->limit + 1, m = 0;
    const struct item **best = malloc(keep * sizeof *best);
    if (!best)
        return STORE_ERROR;
    for (size_t i = 0; i < s->n; i++) {
        struct store_key k = key_of(&s->items[i]);
        if (q->name && !contains(s->items[i].name, q->name))
            continue;
        if (q->after && compare(q, &k, q->after) <= 0)
            continue;
        size_t at = m;
        while (at > 0) {
            struct store_key prev = key_of(best[at - 1]);
            if (compare(q, &prev, &k) < 0)
                break;
            at--;
        }
        if (at == keep)
            continue; /* after all the kept ones */
        if (m < keep)
            m++;
        memmove(&best[at + 1], &best[at], (m - 1 - at) * sizeof *best);
        best[at] = &s->items[i];
    }
    size_t count = m < q->limit ? m : q->limit;
    *more = m > count;
    if (count && !(*items = calloc(count, sizeof **items))) {
        free(best);
        return STORE_ERROR;
    }
    for (; *n < count; (*n)++) {
        if (item_copy(&(*items)[*n], best[*n]) < 0) {
            for (size_t k = 0; k < *n; k++)
                item_free(&(*items)[k]);
            free(*items);
            *items = NULL;
            *n = 0;
            free(best);
            return STORE_ERROR;
        }
    }
    free(best);
    return STORE_OK;
}

/* ---- idempotency keys --------------------------------------------------------- */

/* A key and the item it created, as it was created. The records form a
 * queue in the order they came (the oldest goes first) and hang in the
 * hash table's chains by their key. */
struct key_record {
    char *key;
    uint64_t hash;
    long long at_ms;            /* when, on the monotonic clock */
    struct item item;
    struct key_record *newer;   /* the queue */
    struct key_record *next;    /* the chain of its bucket */
};

#define KEY_BUCKETS 16384       /* a power of two above STORE_KEYS_MAX */

struct keys {
    struct key_record *bucket[KEY_BUCKETS];
    struct key_record *oldest, *newest;
    size_t n;
};

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t hash_of(const char *key)
{
    uint64_t h = 14695981039346656037ULL; /* FNV-1a */
    for (; *key; key++)
        h = (h ^ (unsigned char)*key) * 1099511628211ULL;
    return h;
}

static struct key_record *key_find(struct keys *k, const char *key, uint64_t h)
{
    for (struct key_record *r = k->bucket[h % KEY_BUCKETS]; r; r = r->next)
        if (r->hash == h && strcmp(r->key, key) == 0)
            return r;
    return NULL;
}

/* Forgets the oldest record. */
static void key_forget_oldest(struct keys *k)
{
    struct key_record *r = k->oldest, **p = &k->bucket[r->hash % KEY_BUCKETS];
    while (*p != r)
        p = &(*p)->next;
    *p = r->next;
    k->oldest = r->newer;
    if (!k->oldest)
        k->newest = NULL;
    k->n--;
    free(r->key);
    item_free(&r->item);
    free(r);
}

static void keys_free(struct keys *k)
{
    while (k && k->oldest)
        key_forget_oldest(k);
    free(k);
}

enum store_status store_create_once(struct store *s, const char *key, const struct item *in,
                                    struct item *out)
{
    if (!s->keys && !(s->keys = calloc(1, sizeof *s->keys)))
        return STORE_ERROR;
    struct keys *k = s->keys;
    long long now = now_ms();
    while (k->oldest && (k->n >= STORE_KEYS_MAX || now - k->oldest->at_ms >= STORE_KEY_TTL_MS))
        key_forget_oldest(k);

    uint64_t h = hash_of(key);
    struct key_record *r = key_find(k, key, h);
    if (r) {
        if (!item_same_fields(&r->item, in))
            return STORE_KEY_REUSED;
        return item_copy(out, &r->item) < 0 ? STORE_ERROR : STORE_REPLAYED;
    }
    if (!(r = calloc(1, sizeof *r)) || !(r->key = strdup(key))) {
        free(r);
        return STORE_ERROR;
    }
    enum store_status st = store_create(s, in, &r->item);
    if (st != STORE_OK || item_copy(out, &r->item) < 0) {
        /* a created item stays (its id is used up), unremembered: a retry
         * creates another, as it would without a key */
        item_free(&r->item);
        free(r->key);
        free(r);
        return st != STORE_OK ? st : STORE_ERROR;
    }
    r->hash = h;
    r->at_ms = now;
    r->next = k->bucket[h % KEY_BUCKETS];
    k->bucket[h % KEY_BUCKETS] = r;
    if (k->newest)
        k->newest->newer = r;
    else
        k->oldest = r;
    k->newest = r;
    k->n++;
    return STORE_OK;
}
