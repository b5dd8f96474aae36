/* prices -- the "Means to an End" binary protocol. See prices.h. */
#include "prices.h"

#include <stdlib.h>

int32_t prices_get_be32(const unsigned char *p)
{
    /* Assemble in uint32_t: shifting a byte into the sign bit of an int
     * is undefined behaviour. The conversion back to int32_t is
     * implementation-defined in C11 and two's complement everywhere we run. */
    uint32_t u = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                 (uint32_t)p[2] << 8 | (uint32_t)p[3];
    return (int32_t)u;
}

void prices_put_be32(unsigned char *p, int32_t v)
{
    uint32_t u = (uint32_t)v;
    p[0] = (unsigned char)(u >> 24);
    p[1] = (unsigned char)(u >> 16);
    p[2] = (unsigned char)(u >> 8);
    p[3] = (unsigned char)u;
}

int prices_decode(const unsigned char *buf, size_t len, struct prices_msg *m)
{
    if (len < PRICES_MSG_LEN)
        return 0;
    m->type = buf[0];
    m->a = prices_get_be32(buf + 1);
    m->b = prices_get_be32(buf + 5);
    return PRICES_MSG_LEN;
}

int prices_insert(struct prices *db, int32_t time, int32_t price)
{
    if (db->len == db->cap) {
        size_t cap = db->cap ? db->cap * 2 : 64;
        struct prices_entry *v = realloc(db->v, cap * sizeof *v);
        if (!v)
            return -1;
        db->v = v;
        db->cap = cap;
    }
    db->v[db->len].time = time;
    db->v[db->len].price = price;
    db->len++;
    return 0;
}

int32_t prices_mean(const struct prices *db, int32_t mintime, int32_t maxtime)
{
    /* 2^32 prices of at most 2^31 fit in 63 bits: int64_t cannot overflow
     * for any number of entries this process can hold. */
    int64_t sum = 0, count = 0;

    if (mintime > maxtime)
        return 0;
    for (size_t i = 0; i < db->len; i++) {
        if (db->v[i].time >= mintime && db->v[i].time <= maxtime) {
            sum += db->v[i].price;
            count++;
        }
    }
    /* The mean of int32 values is an int32: the cast cannot lose. */
    return count ? (int32_t)(sum / count) : 0;
}

void prices_free(struct prices *db)
{
    free(db->v);
    db->v = NULL;
    db->len = db->cap = 0;
}

/* ---- the service -------------------------------------------------------- */

static int prices_on_open(struct loop *l, struct conn *c)
{
    (void)l;
    c->data = calloc(1, sizeof(struct prices));
    return c->data ? 0 : LOOP_CLOSE;
}

static int prices_on_data(struct loop *l, struct conn *c)
{
    struct prices *db = c->data;
    struct prices_msg m;
    unsigned char answer[4];

    while (prices_decode((const unsigned char *)c->in.data, c->in.len, &m)) {
        buf_consume(&c->in, PRICES_MSG_LEN);
        if (m.type == 'I') {
            if (prices_insert(db, m.a, m.b) < 0)
                return LOOP_CLOSE;
        } else if (m.type == 'Q') {
            prices_put_be32(answer, prices_mean(db, m.a, m.b));
            if (loop_send(l, c, answer, sizeof answer) < 0)
                return LOOP_CLOSE;
        } else {
            return LOOP_CLOSE; /* not our protocol: stop listening */
        }
    }
    return 0;
}

static void prices_on_close(struct loop *l, struct conn *c)
{
    (void)l;
    if (c->data)
        prices_free(c->data);
    free(c->data);
    c->data = NULL;
}

const struct service prices_service = {
    .name = "prices",
    .on_open = prices_on_open,
    .on_data = prices_on_data,
    .on_close = prices_on_close,
};
