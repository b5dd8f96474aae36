/* throttle -- failed logins counted by key, so that guessing passwords
 * gets slow (stage 7).
 *
 * A key is a text: "the account alice, from 127.0.0.2", or "the client
 * 127.0.0.2". Each failure of a key counts against a rule: rule->max
 * failures within rule->window_ms of the first one lock the key for
 * rule->lock_ms, and a locked key is answered 429 Too Many Requests with
 * Retry-After, before any password is hashed. A success clears its key.
 *
 * The table has a fixed number of slots: memory stays bounded whatever
 * the clients send. A key that finds no free slot among the few it may
 * use takes the one whose count runs out first. Every function takes the
 * time as an argument (now_ms, any clock that does not jump back), so
 * that tests decide it; every function may be called from any thread. */
#ifndef THROTTLE_H
#define THROTTLE_H

#include <stddef.h>

#define THROTTLE_KEY_MAX 96    /* bytes of a key that count; the rest is cut */

struct throttle_rule {
    int max;                /* failures that lock the key, >= 1 */
    long long window_ms;    /* counted from the first failure for this long */
    long long lock_ms;      /* then the key waits this long */
};

struct throttle;

/* A table of slots counters (>= 1). NULL when memory ran out. */
struct throttle *throttle_new(size_t slots);
void throttle_free(struct throttle *t);

/* How long key must wait at now_ms before it may try again: 0 when it
 * may try now, else the milliseconds left of its lock. */
long long throttle_wait(struct throttle *t, const char *key, long long now_ms);

/* One more failure of key at now_ms, counted under rule: the max-th
 * failure within the window locks the key for rule->lock_ms from now
 * (and its count starts again). A failure after the window has passed
 * starts a new count. */
void throttle_fail(struct throttle *t, const char *key, const struct throttle_rule *rule,
                   long long now_ms);

/* Forgets key's failures (a success): the next failure counts as the
 * first. A lock already set stays. */
void throttle_clear(struct throttle *t, const char *key);

#endif
