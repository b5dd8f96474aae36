/* store -- where the items live, behind an interface (given).
 *
 * The handlers (api.c) never see how items are kept: they call these
 * functions and turn each status into an HTTP answer. This chapter's
 * implementation (store.c) keeps them in memory; chapter 04 brings one on
 * SQLite with the same functions, and the handlers do not change.
 *
 * Every function is called on the loop thread (api_may_block() is 0 for
 * this store), so none of them locks. What a function gives back in a
 * struct item is a copy the caller owns: item_free() it. */
#ifndef STORE_H
#define STORE_H

#include <stddef.h>
#include <stdint.h>

/* "2026-12-02T10:00:00.123Z": RFC 3339, UTC, milliseconds. */
#define STORE_TIME_LEN 24

struct item {
    int64_t id;            /* > 0; given by the store, never reused */
    int64_t version;       /* 1 when created, one more at every change */
    char *name;            /* UTF-8, 1 to 200 code points, no NUL */
    int64_t qty;           /* 0 to 2^31-1; 0 when the client gave none */
    double price;          /* 0 to 1e9, finite; 0 when the client gave none */
    char **tags;           /* ntags strings, each UTF-8 of 1 to 50 code points */
    size_t ntags;
    char created_at[STORE_TIME_LEN + 1];
    char updated_at[STORE_TIME_LEN + 1];
};

/* Frees what it holds (name, tags) and zeroes it; NULL is fine. */
void item_free(struct item *it);

/* A deep copy of src into dst. Returns 0, or -1 when memory ran out (dst
 * is then empty). */
int item_copy(struct item *dst, const struct item *src);

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,     /* no item has that id */
    STORE_STALE,         /* the item's version is not the one expected */
    STORE_ERROR,         /* memory ran out, or the storage failed */
};

struct store;

/* Opens the store. spec says where it lives; the in-memory store ignores
 * it. NULL on failure. */
struct store *store_open(const char *spec);
void store_close(struct store *s);

/* Stores a new item with the fields of in (its id, version and times are
 * ignored): the next id, version 1, both times now. out gets the stored
 * item. */
enum store_status store_create(struct store *s, const struct item *in, struct item *out);

/* The item with this id into out. */
enum store_status store_get(struct store *s, int64_t id, struct item *out);

/* Replaces the fields of item id with those of in, one version up, and
 * updated_at now; created_at stays. version > 0: only if the item is at
 * that version (STORE_STALE otherwise, and nothing changes). out gets the
 * stored item. */
enum store_status store_replace(struct store *s, int64_t id, int64_t version,
                                const struct item *in, struct item *out);

/* Deletes item id; version > 0: only if it is at that version. */
enum store_status store_delete(struct store *s, int64_t id, int64_t version);

/* At most limit items with an id above after, in id order, into a new
 * array *items of *n (free each with item_free, then the array); *more is
 * 1 when items with higher ids remain. */
enum store_status store_list(struct store *s, int64_t after, size_t limit, struct item **items,
                             size_t *n, int *more);

#endif
