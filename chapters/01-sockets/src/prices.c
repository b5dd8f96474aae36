/* prices -- the "Means to an End" binary protocol. See prices.h. */
#include "prices.h"

#include <stdlib.h>

int32_t prices_get_be32(const unsigned char *p)
{
    /* TODO(stage 4): p[0] is the most significant byte. Assemble the four
     * bytes in a uint32_t (shifting into the sign bit of an int is
     * undefined behaviour), then return it as int32_t. */
    (void)p;
    return 0;
}

void prices_put_be32(unsigned char *p, int32_t v)
{
    /* TODO(stage 4): the reverse: p[0] = the top 8 bits of (uint32_t)v,
     * ..., p[3] = the low 8 bits. */
    (void)p;
    (void)v;
}

int prices_decode(const unsigned char *buf, size_t len, struct prices_msg *m)
{
    /* TODO(stage 4): fewer than PRICES_MSG_LEN bytes: return 0. Else fill
     * m->type, m->a (bytes 1-4), m->b (bytes 5-8) and return
     * PRICES_MSG_LEN. */
    (void)buf;
    (void)len;
    (void)m;
    return 0;
}

int prices_insert(struct prices *db, int32_t time, int32_t price)
{
    /* TODO(stage 4): append {time, price} to db->v, growing it with
     * realloc() when db->len == db->cap (double the capacity). */
    (void)db;
    (void)time;
    (void)price;
    return -1;
}

int32_t prices_mean(const struct prices *db, int32_t mintime, int32_t maxtime)
{
    /* TODO(stage 4): the mean of the prices with mintime <= time <=
     * maxtime. Sum in an int64_t: the sum of many int32 prices overflows
     * an int32. 0 when mintime > maxtime or nothing matches. */
    (void)db;
    (void)mintime;
    (void)maxtime;
    return 0;
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
    c->data = calloc(1, sizeof(struct prices)); /* this client's prices */
    return c->data ? 0 : LOOP_CLOSE;
}

static int prices_on_data(struct loop *l, struct conn *c)
{
    /* TODO(stage 4): while prices_decode() finds a whole message at the
     * start of c->in: buf_consume() its 9 bytes, then
     *  - 'I': prices_insert() into c->data (a struct prices *);
     *  - 'Q': prices_put_be32() the mean into 4 bytes, queue them with
     *    loop_send(l, c, ...);
     *  - any other type: return LOOP_CLOSE.
     * Leave an incomplete message in c->in. */
    (void)l;
    (void)c;
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
