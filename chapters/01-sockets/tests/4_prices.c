/* Stage 4: a binary protocol in network byte order -- "Means to an End". */
#include <limits.h>
#include <sys/socket.h>
#include <unistd.h>

#include "prices.h"
#include "wbtest.h"

WB_SUITE(prices);

/* One 9-byte message, built here independently of the learner's code. */
static void msg(unsigned char out[9], char type, int32_t a, int32_t b)
{
    uint32_t ua = (uint32_t)a, ub = (uint32_t)b;
    out[0] = (unsigned char)type;
    for (int i = 0; i < 4; i++) {
        out[1 + i] = (unsigned char)(ua >> (24 - 8 * i));
        out[5 + i] = (unsigned char)(ub >> (24 - 8 * i));
    }
}

Test(prices, prices_get_be32_reads_big_endian)
{
    static const struct {
        unsigned char b[4];
        int32_t want;
    } cases[] = {
        { { 0x00, 0x00, 0x30, 0x39 }, 12345 },
        { { 0x00, 0x00, 0x00, 0x65 }, 101 },
        { { 0xff, 0xff, 0xff, 0xff }, -1 },
        { { 0x80, 0x00, 0x00, 0x00 }, INT32_MIN },
        { { 0x7f, 0xff, 0xff, 0xff }, INT32_MAX },
        { { 0x01, 0x02, 0x03, 0x04 }, 0x01020304 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int32_t got = prices_get_be32(cases[i].b);
        cr_expect(eq(i32, got, cases[i].want),
                  "prices_get_be32({%02x %02x %02x %02x}) returned %d; expected %d (the first "
                  "byte is the most significant)",
                  cases[i].b[0], cases[i].b[1], cases[i].b[2], cases[i].b[3], got, cases[i].want);
    }
}

Test(prices, prices_put_be32_writes_big_endian)
{
    static const int32_t values[] = { 0, 1, 12345, -1, INT32_MIN, INT32_MAX, 0x01020304 };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        unsigned char got[4] = { 0 }, want[9];
        msg(want, 'x', values[i], 0);
        prices_put_be32(got, values[i]);
        cr_expect(memcmp(got, want + 1, 4) == 0,
                  "prices_put_be32(%d) wrote %02x %02x %02x %02x; expected %02x %02x %02x %02x",
                  values[i], got[0], got[1], got[2], got[3], want[1], want[2], want[3], want[4]);
    }
}

Test(prices, prices_decode_needs_all_nine_bytes)
{
    unsigned char m[9];
    msg(m, 'I', 12345, -7);
    for (size_t len = 0; len < 9; len++) {
        struct prices_msg out = { 0 };
        int got = prices_decode(m, len, &out);
        cr_assert(eq(int, got, 0), "prices_decode() of the first %zu bytes returned %d; a message "
                  "is 9 bytes, fewer are incomplete (0)", len, got);
    }
    struct prices_msg out = { 0 };
    int got = prices_decode(m, 9, &out);
    cr_assert(eq(int, got, PRICES_MSG_LEN), "prices_decode() of a whole 9-byte message "
              "returned %d; expected %d, the bytes it used", got, PRICES_MSG_LEN);
    cr_assert(out.type == 'I' && out.a == 12345 && out.b == -7,
              "decoded type '%c' a %d b %d; expected 'I' 12345 -7", out.type, out.a, out.b);
}

Test(prices, prices_mean_of_the_protohackers_example)
{
    struct prices db = { 0 };
    int rc = prices_insert(&db, 12345, 101);
    cr_assert(eq(int, rc, 0), "prices_insert(db, 12345, 101) returned %d; expected 0", rc);
    prices_insert(&db, 12346, 102);
    prices_insert(&db, 12347, 100);
    prices_insert(&db, 40960, 5);
    int32_t got = prices_mean(&db, 12288, 16384);
    cr_assert(eq(i32, got, 101), "mean over 12288..16384 of 101, 102, 100 (and 5 at 40960, "
              "outside) returned %d; expected 101", got);
    got = prices_mean(&db, 12345, 12345);
    cr_assert(eq(i32, got, 101), "the range includes both ends: mean over 12345..12345 "
              "returned %d; expected 101", got);
    prices_free(&db);
}

Test(prices, prices_mean_does_not_overflow)
{
    struct prices db = { 0 };
    for (int i = 0; i < 3; i++)
        prices_insert(&db, i, INT32_MAX);
    int32_t got = prices_mean(&db, 0, 10);
    cr_assert(eq(i32, got, INT32_MAX), "the mean of three INT32_MAX prices is INT32_MAX; got %d. "
              "The sum does not fit in an int32_t: sum in int64_t", got);
    prices_free(&db);
    prices_insert(&db, 1, -3);
    prices_insert(&db, 2, -4);
    got = prices_mean(&db, INT32_MIN, INT32_MAX);
    cr_assert(eq(i32, got, -3), "the mean of -3 and -4 rounds toward zero: -3; got %d", got);
    prices_free(&db);
}

Test(prices, prices_mean_is_zero_when_nothing_matches)
{
    struct prices db = { 0 };
    cr_assert(eq(i32, prices_mean(&db, 0, 100), 0), "no prices at all: the mean is 0");
    prices_insert(&db, 50, 10);
    cr_assert(eq(i32, prices_mean(&db, 0, 100), 10), "one price of 10 in range: the mean is 10");
    cr_assert(eq(i32, prices_mean(&db, 60, 100), 0), "no price in range: the mean is 0");
    cr_assert(eq(i32, prices_mean(&db, 100, 0), 0), "mintime > maxtime: the mean is 0");
    prices_free(&db);
}

static void example_session(unsigned char *out)
{
    msg(out, 'I', 12345, 101);
    msg(out + 9, 'I', 12346, 102);
    msg(out + 18, 'I', 12347, 100);
    msg(out + 27, 'I', 40960, 5);
    msg(out + 36, 'Q', 12288, 16384);
}

Test(prices, answers_the_example_session)
{
    unsigned char s[45];
    example_session(s);
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, s, sizeof s);
    wb_expect_bytes(p, fd, "\x00\x00\x00\x65", 4, WB_IO_MS,
                    "sent four inserts and Q 12288 16384 in one write; the answer is the "
                    "mean 101 as 4 big-endian bytes");
}

Test(prices, answers_a_session_sent_one_byte_at_a_time)
{
    unsigned char s[45];
    example_session(s);
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int fd = wb_connect(p);
    wb_send_bytewise(p, fd, s, sizeof s);
    wb_expect_bytes(p, fd, "\x00\x00\x00\x65", 4, WB_IO_MS,
                    "sent the example session one byte per write: keep a partial message "
                    "in c->in until all 9 bytes are there");
}

Test(prices, answers_several_queries_in_order)
{
    unsigned char s[5 * 9];
    msg(s, 'I', 1, 10);
    msg(s + 9, 'I', 2, 20);
    msg(s + 18, 'Q', 1, 1);
    msg(s + 27, 'Q', 1, 2);
    msg(s + 36, 'Q', 3, 1);
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, s, sizeof s);
    wb_expect_bytes(p, fd, "\x00\x00\x00\x0a\x00\x00\x00\x0f\x00\x00\x00\x00", 12, WB_IO_MS,
                    "inserted (1, 10) and (2, 20), then asked Q 1 1, Q 1 2, Q 3 1: "
                    "expected 10, 15 and 0");
}

Test(prices, an_unknown_message_type_closes_the_connection)
{
    unsigned char s[27];
    msg(s, 'I', 1, 10);
    msg(s + 9, 'Q', 0, 5);
    msg(s + 18, 'X', 1, 2);
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, s, 18);
    wb_expect_bytes(p, fd, "\x00\x00\x00\x0a", 4, WB_IO_MS,
                    "inserted (1, 10) and asked Q 0 5: the mean is 10");
    wb_send(p, fd, s + 18, 9);
    wb_expect_eof(p, fd, WB_IO_MS, "then sent a message of type 'X' (only 'I' and 'Q' exist)");
}

Test(prices, an_incomplete_message_at_the_end_is_ignored)
{
    unsigned char s[27]; /* three messages, of which 23 bytes are sent */
    msg(s, 'I', 1, 10);
    msg(s + 9, 'Q', 0, 100);
    msg(s + 18, 'Q', 0, 100); /* only 5 of its 9 bytes are sent */
    struct wb_proc *p = wb_start("--mode", "prices", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, s, 23);
    shutdown(fd, SHUT_WR);
    wb_expect_bytes(p, fd, "\x00\x00\x00\x0a", 4, WB_IO_MS,
                    "sent an insert, a query, and the first 5 bytes of a second query, then "
                    "shut down the sending side: the first query is answered (10)");
    wb_expect_eof(p, fd, WB_IO_MS,
                  "the unfinished second query gets no answer, just the close");
}
