/* throttle -- see throttle.h. */
#define _POSIX_C_SOURCE 200809L
#include "throttle.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

/* A key may use the slot its hash names and the PROBE - 1 after it:
 * looking a key up costs at most PROBE comparisons, however full. */
#define PROBE 16

struct slot {
    char key[THROTTLE_KEY_MAX + 1];  /* "" for a free slot */
    int failures;                    /* in the window that began at first_ms */
    long long first_ms;
    long long until_ms;              /* locked until then */
    long long expires_ms;            /* after this, the slot tells nothing */
};

struct throttle {
    pthread_mutex_t lock;
    size_t n;
    struct slot *slots;
    /* The key of the slots' hash (SipHash), random for each table: no
     * client can pick names whose keys fall on the slots of another key
     * -- its own "client ..." key, say -- to push it out. */
    unsigned char hash_key[crypto_shorthash_KEYBYTES];
};

struct throttle *throttle_new(size_t slots)
{
    struct throttle *t = calloc(1, sizeof *t);
    if (sodium_init() < 0 || !t || !(t->slots = calloc(slots, sizeof *t->slots))) {
        free(t);
        return NULL;
    }
    t->n = slots;
    randombytes_buf(t->hash_key, sizeof t->hash_key);
    pthread_mutex_init(&t->lock, NULL);
    return t;
}

void throttle_free(struct throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t->slots);
    free(t);
}

/* The keyed hash of the key's first THROTTLE_KEY_MAX bytes. */
static uint64_t hash(const struct throttle *t, const char *key)
{
    unsigned char out[crypto_shorthash_BYTES];
    size_t len = strnlen(key, THROTTLE_KEY_MAX);
    crypto_shorthash(out, (const unsigned char *)key, len, t->hash_key);
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof out; i++)
        h = h << 8 | out[i];
    return h;
}

/* 1 when slot a is a better one to give a new key than b (NULL): a free
 * slot, else a spent one, else the one whose count runs out first. */
static int better_spare(const struct slot *a, const struct slot *b, long long now_ms)
{
    if (!b)
        return 1;
    int ra = !a->key[0] ? 0 : a->expires_ms <= now_ms ? 1 : 2,
        rb = !b->key[0] ? 0 : b->expires_ms <= now_ms ? 1 : 2;
    return ra != rb ? ra < rb : ra == 2 && a->expires_ms < b->expires_ms;
}

static int same_key(const struct slot *s, const char *key)
{
    return strncmp(s->key, key, THROTTLE_KEY_MAX) == 0;
}

/* key's slot, or NULL; with make, a slot for it when it has none: a free
 * or spent one among its PROBE, else the one of them that runs out
 * first, emptied. Under t->lock. */
static struct slot *find(struct throttle *t, const char *key, long long now_ms, int make)
{
    size_t start = (size_t)(hash(t, key) % t->n), probe = t->n < PROBE ? t->n : PROBE;
    struct slot *spare = NULL;
    for (size_t i = 0; i < probe; i++) {
        struct slot *s = &t->slots[(start + i) % t->n];
        if (s->key[0] && same_key(s, key))
            return s;
        if (better_spare(s, spare, now_ms))
            spare = s;
    }
    if (!make)
        return NULL;
    memset(spare, 0, sizeof *spare);
    size_t len = strlen(key);
    memcpy(spare->key, key, len < THROTTLE_KEY_MAX ? len : THROTTLE_KEY_MAX);
    return spare;
}

long long throttle_wait(struct throttle *t, const char *key, long long now_ms)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, now_ms, 0);
    long long wait = s && s->until_ms > now_ms ? s->until_ms - now_ms : 0;
    pthread_mutex_unlock(&t->lock);
    return wait;
}

void throttle_fail(struct throttle *t, const char *key, const struct throttle_rule *rule,
                   long long now_ms)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, now_ms, 1);
    if (s->failures == 0 || now_ms - s->first_ms >= rule->window_ms) {
        s->failures = 0; /* a new window */
        s->first_ms = now_ms;
    }
    if (++s->failures >= rule->max) {
        s->until_ms = now_ms + rule->lock_ms;
        s->failures = 0;
    }
    long long window_end = s->first_ms + rule->window_ms;
    s->expires_ms = s->until_ms > window_end ? s->until_ms : window_end;
    pthread_mutex_unlock(&t->lock);
}

void throttle_clear(struct throttle *t, const char *key)
{
    pthread_mutex_lock(&t->lock);
    struct slot *s = find(t, key, 0, 0);
    if (s)
        s->failures = 0;
    pthread_mutex_unlock(&t->lock);
}
