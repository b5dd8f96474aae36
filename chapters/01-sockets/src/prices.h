/* prices -- a binary protocol with fixed-size messages (stage 4).
 *
 * "Means to an End" from Protohackers: each client inserts timestamped
 * prices and asks for the mean price over a time range. Every message is
 * exactly 9 bytes:
 *
 *   byte 0     type: 'I' (insert) or 'Q' (query)
 *   bytes 1-4  int32, big-endian (network byte order)
 *   bytes 5-8  int32, big-endian
 *
 *   'I' timestamp price    store the price; no answer
 *   'Q' mintime maxtime    answer with 4 bytes: the mean (int32, big-endian)
 *                          of the prices with mintime <= timestamp <= maxtime,
 *                          rounded toward zero; 0 when there are none or
 *                          when mintime > maxtime
 *
 * Each connection has its own prices. A message of any other type closes
 * the connection; an unfinished message when the client hangs up is
 * ignored. */
#ifndef PRICES_H
#define PRICES_H

#include <stddef.h>
#include <stdint.h>

#include "loop.h"

#define PRICES_MSG_LEN 9

struct prices_msg {
    unsigned char type; /* 'I', 'Q', or anything a client sent */
    int32_t a;          /* timestamp, or mintime */
    int32_t b;          /* price, or maxtime */
};

/* Reads a big-endian int32 from p[0..4). */
int32_t prices_get_be32(const unsigned char *p);

/* Writes v as a big-endian int32 to p[0..4). */
void prices_put_be32(unsigned char *p, int32_t v);

/* Decodes the message at the start of buf[0..len).
 * Returns PRICES_MSG_LEN after filling *m, or 0 when fewer than
 * PRICES_MSG_LEN bytes are there (m untouched). Any type byte is decoded;
 * the caller decides what an unknown one means. */
int prices_decode(const unsigned char *buf, size_t len, struct prices_msg *m);

/* One client's prices. Zero-initialise it: struct prices p = {0}; */
struct prices {
    struct prices_entry {
        int32_t time;
        int32_t price;
    } *v;
    size_t len;
    size_t cap;
};

/* Stores price at time. Returns 0, or -1 when memory runs out. */
int prices_insert(struct prices *db, int32_t time, int32_t price);

/* The mean price over mintime <= time <= maxtime, rounded toward zero;
 * 0 when no price is in range or mintime > maxtime. Never overflows: the
 * sum of many int32 prices does not fit in an int32. */
int32_t prices_mean(const struct prices *db, int32_t mintime, int32_t maxtime);

/* Frees what db holds and empties it. */
void prices_free(struct prices *db);

/* The "prices" service. */
extern const struct service prices_service;

#endif
