/* kv -- the UDP key-value store. See kv.h.
 *
 * A plain array searched from the start: fine for the few keys a test
 * stores, O(n) per request. A hash table (sqlite's src/hash.c is a small
 * one to read) is what a real store would use. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

struct entry {
    char *key, *value; /* malloc'd; not NUL-terminated: bytes */
    size_t klen, vlen;
};

struct kv {
    struct entry *v;
    size_t len, cap;
};

struct kv *kv_new(void)
{
    return calloc(1, sizeof(struct kv));
}

void kv_free(struct kv *kv)
{
    if (!kv)
        return;
    for (size_t i = 0; i < kv->len; i++) {
        free(kv->v[i].key);
        free(kv->v[i].value);
    }
    free(kv->v);
    free(kv);
}

static struct entry *find(struct kv *kv, const char *key, size_t klen)
{
    for (size_t i = 0; i < kv->len; i++) {
        struct entry *e = &kv->v[i];
        if (e->klen == klen && memcmp(e->key, key, klen) == 0)
            return e;
    }
    return NULL;
}

/* A malloc'd copy of p[0..n); malloc(0) may return NULL, so ask for 1. */
static char *copy(const char *p, size_t n)
{
    char *d = malloc(n ? n : 1);
    if (d && n)
        memcpy(d, p, n);
    return d;
}

static int insert(struct kv *kv, const char *key, size_t klen,
                  const char *value, size_t vlen)
{
    char *v = copy(value, vlen);
    if (!v)
        return -1;
    struct entry *e = find(kv, key, klen);
    if (e) {
        free(e->value);
        e->value = v;
        e->vlen = vlen;
        return 0;
    }
    if (kv->len == kv->cap) {
        size_t cap = kv->cap ? kv->cap * 2 : 16;
        struct entry *nv = realloc(kv->v, cap * sizeof *nv);
        if (!nv) {
            free(v);
            return -1;
        }
        kv->v = nv;
        kv->cap = cap;
    }
    char *k = copy(key, klen);
    if (!k) {
        free(v);
        return -1;
    }
    kv->v[kv->len++] = (struct entry){ k, v, klen, vlen };
    return 0;
}

int kv_handle(struct kv *kv, const char *req, size_t len, char *reply,
              size_t cap)
{
    static const char version[] = "version";

    if (len >= KV_DGRAM_MAX)
        return 0;

    const char *eq = memchr(req, '=', len);
    if (eq) {
        size_t klen = (size_t)(eq - req);
        if (klen == sizeof version - 1 && memcmp(req, version, klen) == 0)
            return 0; /* the version is not the client's to change */
        return insert(kv, req, klen, eq + 1, len - klen - 1);
    }

    const char *value = "";
    size_t vlen = 0;
    if (len == sizeof version - 1 && memcmp(req, version, len) == 0) {
        value = KV_VERSION;
        vlen = sizeof KV_VERSION - 1;
    } else {
        struct entry *e = find(kv, req, len);
        if (e) {
            value = e->value;
            vlen = e->vlen;
        }
    }
    if (len + 1 + vlen > cap)
        return 0;
    memcpy(reply, req, len);
    reply[len] = '=';
    memcpy(reply + len + 1, value, vlen);
    return (int)(len + 1 + vlen);
}
