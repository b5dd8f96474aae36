/* kv -- a key-value store over UDP (stage 7).
 *
 * "Unusual Database Program" from Protohackers. Every datagram is one
 * request, and the request is the whole datagram -- UDP keeps message
 * boundaries, so there is no framing to do, but a datagram can be lost.
 *
 *   "key=value"   insert: the key is everything before the first '=', the
 *                 value everything after it (it may hold more '='s). An
 *                 existing key gets the new value. No answer.
 *   "key"         retrieve: the answer is "key=value", or "key=" when the
 *                 key is not stored.
 *   "version"     answers "version=" KV_VERSION; inserting "version" is
 *                 ignored.
 *
 * Keys and values are bytes: "", NUL bytes and '\n' are allowed. Requests
 * of KV_DGRAM_MAX bytes or more are ignored. */
#ifndef KV_H
#define KV_H

#include <stddef.h>

#define KV_DGRAM_MAX 1000
#define KV_VERSION "netd 1.0"

/* The store. Opaque: use the functions below. */
struct kv;

/* Returns a new empty store, or NULL when memory runs out. */
struct kv *kv_new(void);

/* Frees the store and everything in it. NULL is a no-op. */
void kv_free(struct kv *kv);

/* Handles the request req[0..len).
 * Returns the length of the answer written to reply[0..cap) (> 0), 0 when
 * there is no answer (an insert, or an ignored request), or -1 when memory
 * runs out. An answer that would not fit in cap bytes is not sent (0). */
int kv_handle(struct kv *kv, const char *req, size_t len, char *reply,
              size_t cap);

#endif
