/* Stage 7: a key-value store over UDP -- one datagram, one request. */
#include <sys/socket.h>
#include <unistd.h>

#include "kv.h"
#include "wbtest.h"

WB_SUITE(udp);

/* Calls kv_handle() and checks the answer (NULL: no answer expected). */
static void expect_handle(struct kv *kv, const char *req, size_t len, const char *want,
                          size_t wantlen)
{
    char reply[2048], e1[256], e2[256], e3[256];
    memset(reply, 0, sizeof reply);
    int n = kv_handle(kv, req, len, reply, sizeof reply);
    wb_escape(req, len, 60, e1, sizeof e1);
    if (!want) {
        cr_assert(eq(int, n, 0), "kv_handle(%s) returned %d (%s); expected 0: no answer", e1, n,
                  n > 0 ? wb_escape(reply, (size_t)n, 60, e2, sizeof e2) : "");
        return;
    }
    cr_assert(eq(int, n, (int)wantlen), "kv_handle(%s) returned %d; expected the answer %s "
              "(%zu bytes)", e1, n, wb_escape(want, wantlen, 60, e3, sizeof e3), wantlen);
    cr_assert(memcmp(reply, want, wantlen) == 0, "kv_handle(%s) answered %s; expected %s", e1,
              wb_escape(reply, (size_t)n, 60, e2, sizeof e2),
              wb_escape(want, wantlen, 60, e3, sizeof e3));
}
static void EXPECT(struct kv *kv, const char *req, const char *want)
{
    expect_handle(kv, req, strlen(req), want, want ? strlen(want) : 0);
}

Test(udp, kv_handle_stores_and_retrieves)
{
    struct kv *kv = kv_new();
    cr_assert(kv != NULL, "kv_new() returned NULL; expected an empty store");
    EXPECT(kv, "foo=bar", NULL);
    EXPECT(kv, "foo", "foo=bar");
    EXPECT(kv, "foo=baz", NULL);
    EXPECT(kv, "foo", "foo=baz");   /* a new value replaces the old */
    EXPECT(kv, "nothing", "nothing="); /* unknown keys answer "key=" */
    kv_free(kv);
}

Test(udp, kv_handle_splits_at_the_first_equals_sign)
{
    struct kv *kv = kv_new();
    EXPECT(kv, "foo=bar=baz", NULL);
    EXPECT(kv, "foo", "foo=bar=baz");
    EXPECT(kv, "empty=", NULL);
    EXPECT(kv, "empty", "empty=");
    EXPECT(kv, "=x", NULL); /* the empty key */
    EXPECT(kv, "", "=x");
    EXPECT(kv, "==", NULL);
    EXPECT(kv, "", "==");
    kv_free(kv);
}

Test(udp, kv_handle_keys_are_bytes)
{
    struct kv *kv = kv_new();
    expect_handle(kv, "a\0b=1", 5, NULL, 0);
    expect_handle(kv, "a\0c=2", 5, NULL, 0);
    expect_handle(kv, "a\0b", 3, "a\0b=1", 5);
    expect_handle(kv, "a", 1, "a=", 2);
    kv_free(kv);
}

Test(udp, kv_handle_version_is_read_only)
{
    struct kv *kv = kv_new();
    EXPECT(kv, "version", "version=" KV_VERSION);
    EXPECT(kv, "version=hacked", NULL);
    EXPECT(kv, "version", "version=" KV_VERSION);
    kv_free(kv);
}

Test(udp, kv_handle_ignores_requests_of_1000_bytes_or_more)
{
    struct kv *kv = kv_new();
    char big[KV_DGRAM_MAX];
    memset(big, 'k', sizeof big);
    big[0] = 'x';
    big[1] = '=';
    expect_handle(kv, big, sizeof big, NULL, 0);
    EXPECT(kv, "x", "x=");
    expect_handle(kv, big, sizeof big - 1, NULL, 0); /* 999 bytes: a real insert */
    char want[KV_DGRAM_MAX];
    memcpy(want, big, sizeof big - 1);
    expect_handle(kv, "x", 1, want, sizeof big - 1);
    kv_free(kv);
}

/* Sends s as one datagram (an insert: no answer comes). */
static void send_datagram(struct wb_proc *p, int fd, const char *s)
{
    char e[128];
    ssize_t n = send(fd, s, strlen(s), 0);
    cr_assert(eq(long, (long)n, (long)strlen(s)),
              "test setup: send() of the datagram %s returned %ld (%s); expected %zu\n%s",
              wb_escape(s, strlen(s), 60, e, sizeof e), (long)n,
              n < 0 ? strerror(errno) : "no error", strlen(s), wb_describe(p));
}

/* One request over UDP, resent a few times in case a datagram is lost. */
static size_t ask(struct wb_proc *p, int fd, const char *req, size_t len, char *reply, size_t cap)
{
    for (int attempt = 0; attempt < 3; attempt++) {
        cr_assert(send(fd, req, len, 0) == (ssize_t)len, "send: %s", strerror(errno));
        if (!wb_silent(fd, 700)) {
            ssize_t n = recv(fd, reply, cap, 0);
            cr_assert(n >= 0, "recv: %s (ECONNREFUSED: nothing listens on the UDP port)\n%s",
                      strerror(errno), wb_describe(p));
            return (size_t)n;
        }
    }
    return 0;
}

static void expect_answer(struct wb_proc *p, int fd, const char *req, const char *want)
{
    char reply[2048], e1[256], e2[256], e3[256];
    size_t n = ask(p, fd, req, strlen(req), reply, sizeof reply);
    cr_assert(n == strlen(want) && memcmp(reply, want, n) == 0,
              "sent the datagram %s; expected the answer %s, received %s\n%s",
              wb_escape(req, strlen(req), 80, e1, sizeof e1),
              wb_escape(want, strlen(want), 80, e2, sizeof e2),
              n ? wb_escape(reply, n, 80, e3, sizeof e3) : "nothing within 2 s", wb_describe(p));
}

Test(udp, answers_over_udp)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    int fd = wb_udp_connect(p);
    send_datagram(p, fd, "lang=C");
    expect_answer(p, fd, "lang", "lang=C");
    expect_answer(p, fd, "version", "version=" KV_VERSION);
}

Test(udp, a_datagram_is_one_request_even_with_newlines)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    int fd = wb_udp_connect(p);
    send_datagram(p, fd, "a\nb=c\nd");
    expect_answer(p, fd, "a\nb", "a\nb=c\nd");
    expect_answer(p, fd, "a", "a=");
}

Test(udp, clients_share_one_store)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    int one = wb_udp_connect(p), two = wb_udp_connect(p);
    send_datagram(p, one, "shared=yes");
    expect_answer(p, one, "shared", "shared=yes"); /* the insert has landed */
    expect_answer(p, two, "shared", "shared=yes");
}

Test(udp, an_oversized_datagram_is_ignored)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    int fd = wb_udp_connect(p);
    char big[1200];
    memset(big, 'z', sizeof big);
    ssize_t sent = send(fd, big, sizeof big, 0);
    cr_assert(eq(long, (long)sent, (long)sizeof big),
              "test setup: send() of a %zu-byte datagram returned %ld (%s); expected %zu",
              sizeof big, (long)sent, sent < 0 ? strerror(errno) : "no error", sizeof big);
    cr_assert(wb_silent(fd, 300), "a 1200-byte datagram must get no answer (requests of %d "
              "bytes or more are ignored)", KV_DGRAM_MAX);
    expect_answer(p, fd, "z", "z=");
}
