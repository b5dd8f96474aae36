/* kv -- the UDP key-value store. See kv.h.
 *
 * Any structure works: a growable array searched from the start is fine
 * for this stage. Keys and values are bytes with a length -- they may hold
 * NULs -- so store (pointer, length) pairs, never C strings. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

struct kv {
    /* TODO(stage 7): the entries: keys and values with their lengths. */
    int unused;
};

struct kv *kv_new(void)
{
    return calloc(1, sizeof(struct kv));
}

void kv_free(struct kv *kv)
{
    /* TODO(stage 7): free every key and value too. */
    free(kv);
}

int kv_handle(struct kv *kv, const char *req, size_t len, char *reply,
              size_t cap)
{
    /* TODO(stage 7): see kv.h for the protocol.
     *  - len >= KV_DGRAM_MAX: ignore (return 0).
     *  - memchr(req, '=', len): an insert of key = req[0..eq) and value =
     *    the rest; "version" is not insertable. Return 0.
     *  - else a retrieve: write "key=value" ("key=" when unknown, "version="
     *    KV_VERSION for version) into reply and return its length, or 0
     *    when it would not fit in cap. */
    (void)kv;
    (void)req;
    (void)len;
    (void)reply;
    (void)cap;
    return 0;
}
