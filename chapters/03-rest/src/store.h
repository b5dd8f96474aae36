/* store -- where the items live, behind an interface (given).
 *
 * The handlers (api.c) never see how items are kept: they call these
 * functions and turn each status into an HTTP answer. This chapter's
 * implementation (store.c) keeps them in memory; chapter 04 brings one on
 * SQLite with the same functions, and the handlers do not change.
 *
 * Here every function is called on the loop thread (store_may_block() is
 * 0 for this store), so none of them locks. What a function gives back in a
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
    char *sku;             /* chapter 04 (item.h, ITEM_SKU): NULL, or a code of
                              1 to 32 of A-Z 0-9 - that no other item has */
    char created_at[STORE_TIME_LEN + 1];
    char updated_at[STORE_TIME_LEN + 1];
};

/* Frees what it holds (name, tags, sku) and zeroes it; NULL is fine. */
void item_free(struct item *it);

/* A deep copy of src into dst. Returns 0, or -1 when memory ran out (dst
 * is then empty). */
int item_copy(struct item *dst, const struct item *src);

/* 1 when a and b have the same fields a client sends (name, qty, price,
 * tags, sku): the same request, for an idempotency key. */
int item_same_fields(const struct item *a, const struct item *b);

/* Now, UTC, as "2026-12-02T10:00:00.123Z", into out (STORE_TIME_LEN + 1
 * bytes). */
void store_time_now(char *out);

enum store_status {
    STORE_OK = 0,
    STORE_NOT_FOUND,     /* no item has that id */
    STORE_STALE,         /* the item's version is not the one expected */
    STORE_REPLAYED,      /* store_create_once(): the key's item, created before */
    STORE_KEY_REUSED,    /* store_create_once(): the key was used for another item */
    STORE_CONFLICT,      /* chapter 04: another item has the sku (a unique value) */
    STORE_DECLINED,      /* store_update(): the change answered itself, nothing stored */
    STORE_BUSY,          /* chapter 04: the database stayed locked past busy_ms: nothing
                            was done, the client may try again (503) */
    STORE_ERROR,         /* memory ran out, or the storage failed */
};

struct store;

/* Opens the store. spec says where it lives (chapter 04: the database
 * file); busy_ms is how long a request may wait for a database another
 * holds before it gives up with STORE_BUSY (0: the store's default). The
 * in-memory store ignores both. NULL on failure, with why in
 * err[0..errlen): the place and the reason, for a message. */
struct store *store_open(const char *spec, int busy_ms, char *err, size_t errlen);
void store_close(struct store *s);

/* 1 when the store's functions may wait -- for a disk, for a lock --: then
 * the HTTP layer calls the handlers on its worker threads (api_may_block()),
 * several at once, and the store must be safe for that. 0 for this
 * chapter's in-memory store: it answers at once, on the loop thread. */
int store_may_block(const struct store *s);

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

/* What store_update() calls with the item as stored: it fills next with
 * the fields a client sends (name, qty, price, tags; sku) and returns 0
 * to have them stored, 1 to store nothing (it made an answer of its own: a
 * failed condition, a patch that is not valid), or -1 (memory ran out). */
typedef int (*store_change_fn)(void *ctx, const struct item *current, struct item *next);

/* Read, change, write as one step: the item with id goes to change(), and
 * what that puts in next is stored as by store_replace() -- with nothing
 * in between, so no other change is lost and none has to be retried
 * (here: one thread; chapter 04: one transaction, BEGIN IMMEDIATE). out
 * gets the stored item. STORE_DECLINED when change() returned 1,
 * STORE_ERROR when it returned -1. */
enum store_status store_update(struct store *s, int64_t id, store_change_fn change, void *ctx,
                               struct item *out);

/* Deletes item id; version > 0: only if it is at that version. */
enum store_status store_delete(struct store *s, int64_t id, int64_t version);

/* ---- pages of the collection (stage 6) ---------------------------------- */

/* What a list is sorted by. Ties are broken by id, in the same direction,
 * so that every item has one place in the order. Names sort by their
 * bytes (strcmp: for UTF-8 that is code point order). */
enum store_sort { STORE_SORT_ID, STORE_SORT_NAME, STORE_SORT_QTY, STORE_SORT_PRICE };

/* A place in the order: the sort's member of an item and its id. A page
 * starts right after it -- keyset paging: an item deleted or created
 * meanwhile moves no other item, so a walk through the pages sees every
 * item that stays exactly once. (An offset would skip one item for each
 * deletion before it.) */
struct store_key {
    int64_t id;
    const char *name;    /* STORE_SORT_NAME */
    int64_t qty;         /* STORE_SORT_QTY */
    double price;        /* STORE_SORT_PRICE */
};

struct store_query {
    enum store_sort sort;
    int desc;                      /* 1: from the highest down */
    const char *name;              /* NULL, or only the items whose name contains
                                      it: ASCII letters match either case, every
                                      other byte itself ('%' and '_' too) */
    const struct store_key *after; /* NULL: the first page */
    size_t limit;                  /* at most this many items, >= 1 */
};

/* One page: the first q->limit items after q->after in q's order, into a
 * new array *items of *n (free each with item_free(), then the array;
 * NULL when *n is 0). *more is 1 when more items follow the page. */
enum store_status store_list(struct store *s, const struct store_query *q, struct item **items,
                             size_t *n, int *more);

/* ---- idempotency keys (stage 8) ----------------------------------------- */

#define STORE_KEY_MAX 255                      /* bytes in a key */
#define STORE_KEYS_MAX 10000                   /* keys remembered at most */
#define STORE_KEY_TTL_MS (24LL * 3600 * 1000)  /* and for this long */

/* store_create() once per key, in one step: the first call with a key
 * creates the item and remembers it -- as it is now -- under the key
 * (STORE_OK). A later call with the same key and the same fields (name,
 * qty, price, tags) creates nothing: STORE_REPLAYED, and out gets the item
 * as it was created, even if it changed or went since. The same key with
 * other fields: STORE_KEY_REUSED. A key is forgotten after
 * STORE_KEY_TTL_MS, or sooner when STORE_KEYS_MAX newer ones came. */
enum store_status store_create_once(struct store *s, const char *key, const struct item *in,
                                    struct item *out);

/* ---- owners (chapter 05) ----------------------------------------------- */

/* A view of s for one request of the user owner (> 0): an item created
 * through it is owner's, for good; get, replace, update, delete and list
 * through it reach only owner's items -- another's is STORE_NOT_FOUND,
 * exactly as an id no item has, and stays untouched; an idempotency key
 * sent through it is owner's own. The view lives until store_unscope(),
 * and not past s. NULL when memory ran out. Only chapter 04's store built
 * with ITEM_OWNER (chapter 05, where the items have an owner_id) has
 * these two. */
struct store *store_scope(struct store *s, int64_t owner);
void store_unscope(struct store *view);

#endif
