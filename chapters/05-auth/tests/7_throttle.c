/* Stage 7: slow down the guessing. restd counts failed logins by key, in a
 * table of fixed size (throttle.c): per account from one client --
 * "account <client address> <username as sent>" -- and per client,
 * whatever the accounts -- "client <client address>". Too many, and the
 * next login from that client is 429 Too Many Requests with Retry-After,
 * the right password too, before any hash is paid for. The owner, from
 * another address, is never locked out by an attacker; a name no one has
 * is locked exactly as an account is, so that nothing is enumerated; the
 * address is the socket's, never a header.
 *
 * throttle.c's functions take the clock as an argument: the unit tests
 * decide it, and test the edges to the millisecond. The end-to-end tests
 * use locks of 60 s that no test waits out, or one of 1.5 s that one test
 * waits out by asking again and again until a deadline. Every 127.x.y.z
 * is loopback on Linux: wb_connect_from() stands for another client. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "authtest.h"
#include "throttle.h"

WB_SUITE(throttle);

/* ---- throttle.c with a clock of the test's ---------------------------------- */

/* Every time in the unit tests is t0 + some ms: t0 is past 2^32 ms, as the
 * monotonic clock of a machine that has run for 50 days is. */
#define T0 5000000000LL

/* A table under test, its rule, and what was done to it (for messages). */
struct tt {
    struct throttle *t;
    struct throttle_rule rule;
    char calls[1536];
    size_t used;
};

static void tt_new(struct tt *x, size_t slots, int max, long long window_ms, long long lock_ms)
{
    memset(x, 0, sizeof *x);
    x->rule.max = max;
    x->rule.window_ms = window_ms;
    x->rule.lock_ms = lock_ms;
    x->t = throttle_new(slots);
    cr_assert(x->t != NULL, "throttle_new(%zu) returned NULL: the table is given code (two "
              "calloc()s in throttle.c) -- is memory short?", slots);
}

/* A key for a message: quoted; a long one cut, with its length. */
static const char *shown_key(const char *key)
{
    size_t n = strlen(key);
    char *out = wb_msgbuf(96);
    if (n <= 40)
        snprintf(out, 96, "\"%s\"", key);
    else
        snprintf(out, 96, "\"%.26s...\" (%zu bytes)", key, n);
    return out;
}

/* Appends a call to x's list, "..." once it is full. */
static void tt_note(struct tt *x, const char *call)
{
    size_t cap = sizeof x->calls;
    if (x->used + strlen(call) + 8 < cap)
        x->used += (size_t)snprintf(x->calls + x->used, cap - x->used, "%s%s",
                                    x->used ? ", " : "", call);
    else if (x->used + 5 < cap)
        x->used += (size_t)snprintf(x->calls + x->used, cap - x->used, ", ...");
}

static void tt_fail(struct tt *x, const char *key, long long at)
{
    throttle_fail(x->t, key, &x->rule, T0 + at);
    char call[160];
    snprintf(call, sizeof call, "fail(%s, t0+%lld)", shown_key(key), at);
    tt_note(x, call);
}

static void tt_clear(struct tt *x, const char *key)
{
    throttle_clear(x->t, key);
    char call[160];
    snprintf(call, sizeof call, "clear(%s)", shown_key(key));
    tt_note(x, call);
}

/* throttle_wait() of key at t0 + at must be want, or the test stops (what
 * follows would only repeat it): why says why, and what to fix. */
static void tt_expect_wait(struct tt *x, const char *key, long long at, long long want,
                           const char *why)
{
    long long got = throttle_wait(x->t, key, T0 + at);
    cr_assert(got == want, "throttle_wait(t, %s, t0+%lld) returned %lld; expected %lld -- %s\n"
              "the rule: {.max = %d, .window_ms = %lld, .lock_ms = %lld}; t0 = %lld ms (past "
              "2^32: every time is a long long)\nthe calls before it (fail = throttle_fail(), "
              "clear = throttle_clear()): %s", shown_key(key), at, got, want, why, x->rule.max,
              x->rule.window_ms, x->rule.lock_ms, T0, x->used ? x->calls : "none");
}

WB_UNIT_TEST(throttle, the_max_th_failure_locks_a_key_for_exactly_lock_ms)
{
    struct tt x;
    tt_new(&x, 64, 3, 60000, 1500);
    const char *k = "account 127.0.0.2 alice";
    tt_expect_wait(&x, k, 0, 0, "a key that never failed may try now (throttle_wait(): no slot "
                   "-> 0)");
    tt_fail(&x, k, 0);
    tt_fail(&x, k, 10);
    tt_expect_wait(&x, k, 10, 0, "2 failures of 3 (max - 1): not locked yet -- throttle.c "
                   "throttle_fail() locks at the max-th failure, not before");
    tt_fail(&x, k, 20);
    tt_expect_wait(&x, k, 20, 1500, "the 3rd failure, the rule's max, locks the key for "
                   "lock_ms from that very failure. throttle.c throttle_fail(): ++failures, "
                   "and at rule->max, until_ms = now_ms + rule->lock_ms; throttle_wait(): "
                   "until_ms - now_ms while it is ahead");
    tt_expect_wait(&x, k, 21, 1499, "1 ms after the lock was set: the ms left of it "
                   "(throttle_wait(): until_ms - now_ms)");
    tt_expect_wait(&x, k, 1519, 1, "1 ms before the lock ends: still locked");
    tt_expect_wait(&x, k, 1520, 0, "exactly lock_ms after the failure that locked: the lock "
                   "is over (throttle_wait(): until_ms <= now_ms -> 0)");
    tt_expect_wait(&x, k, 1525, 0, "5 ms after the lock ended: 0, never a negative wait "
                   "(throttle_wait(): until_ms <= now_ms -> 0)");
    tt_fail(&x, k, 1520);
    tt_fail(&x, k, 1530);
    tt_expect_wait(&x, k, 1530, 0, "2 failures after the lock ended: a lock starts the count "
                   "again (throttle_fail() sets failures back to 0 when it locks), so these "
                   "are the 1st and 2nd of a new count, not the 4th and 5th");
    tt_fail(&x, k, 1540);
    tt_expect_wait(&x, k, 1540, 1500, "the 3rd failure of the new count locks again, for "
                   "lock_ms");

    struct tt one;
    tt_new(&one, 64, 1, 60000, 700);
    tt_fail(&one, "client 127.0.0.2", 0);
    tt_expect_wait(&one, "client 127.0.0.2", 0, 700, "with .max = 1 the first failure is "
                   "the max-th: it locks at once (throttle_fail(): ++failures >= rule->max)");
    throttle_free(one.t);
    throttle_free(x.t);
}

WB_UNIT_TEST(throttle, a_failure_a_whole_window_after_the_first_starts_a_new_count)
{
    struct tt x;
    tt_new(&x, 64, 3, 1000, 500);
    const char *a = "account 127.0.0.2 alice", *b = "account 127.0.0.2 bob";
    tt_fail(&x, a, 0);
    tt_fail(&x, a, 500);
    tt_fail(&x, a, 999);
    tt_expect_wait(&x, a, 999, 500, "3 failures within 999 ms of the first, window_ms 1000: "
                   "they count together, and the 3rd locks for lock_ms. throttle.c "
                   "throttle_fail(): a window runs window_ms from its first failure "
                   "(first_ms); the max-th failure in it sets until_ms = now_ms + lock_ms");
    tt_fail(&x, b, 0);
    tt_fail(&x, b, 500);
    tt_fail(&x, b, 1000);
    tt_expect_wait(&x, b, 1000, 0, "the 3rd failure came exactly window_ms (1000) after the "
                   "first: that window is over, so it is the 1st of a new count. "
                   "throttle_fail(): when now_ms - first_ms >= rule->window_ms, failures = 0 "
                   "and first_ms = now_ms before counting -- the window is counted from its "
                   "first failure, not from the last one");
    tt_fail(&x, b, 1001);
    tt_expect_wait(&x, b, 1001, 0, "the 2nd failure of the count that began at t0+1000");
    tt_fail(&x, b, 1002);
    tt_expect_wait(&x, b, 1002, 500, "the 3rd failure of the count that began at t0+1000: "
                   "it locks");
    throttle_free(x.t);
}

WB_UNIT_TEST(throttle, a_success_forgets_the_failures_but_not_a_lock)
{
    struct tt x;
    tt_new(&x, 64, 3, 60000, 1500);
    const char *k = "account 127.0.0.2 alice", *other = "account 127.0.0.2 bob";
    tt_clear(&x, "account 127.0.0.9 nobody"); /* a key with no slot: nothing happens */
    tt_fail(&x, other, 0);
    tt_fail(&x, other, 1);
    tt_fail(&x, k, 2);
    tt_fail(&x, k, 3);
    tt_clear(&x, k);
    tt_fail(&x, k, 4);
    tt_fail(&x, k, 5);
    tt_expect_wait(&x, k, 5, 0, "2 failures, throttle_clear(), 2 failures: a good login "
                   "forgets the failures before it, so only 2 count, not 4. throttle.c "
                   "throttle_clear(): find(t, key, 0, 0), and its slot's failures = 0");
    tt_fail(&x, k, 6);
    tt_expect_wait(&x, k, 6, 1500, "the 3rd failure since throttle_clear() locks: the count "
                   "goes on from 0 (throttle_fail() locks at rule->max)");
    tt_clear(&x, k);
    tt_expect_wait(&x, k, 7, 1499, "throttle_clear() of a locked key: the lock stays "
                   "(throttle.h) -- throttle_clear() sets failures to 0 and leaves until_ms as "
                   "it is");
    tt_fail(&x, other, 8);
    tt_expect_wait(&x, other, 8, 1500, "another key's 2 failures stay when this one is "
                   "cleared: its 3rd locks (throttle_clear() touches the key's own slot only)");
    throttle_free(x.t);
}

WB_UNIT_TEST(throttle, keys_are_counted_apart_by_their_first_throttle_key_max_bytes)
{
    struct tt x;
    tt_new(&x, 1024, 3, 60000, 1500);
    const char *a = "account 127.0.0.2 alice", *b = "account 127.0.0.2 bob";
    tt_fail(&x, a, 0);
    tt_fail(&x, b, 1);
    tt_fail(&x, a, 2);
    tt_fail(&x, b, 3);
    tt_fail(&x, a, 4);
    tt_expect_wait(&x, a, 4, 1500, "alice's key failed 3 times, bob's 2 times in between: "
                   "alice's 3rd failure locks her key. throttle.c throttle_fail() counts in "
                   "the slot find(t, key, now_ms, 1) gives that key");
    tt_expect_wait(&x, b, 4, 0, "bob's key failed twice: a count and a lock belong to one "
                    "key (one slot), never to the table");
    tt_expect_wait(&x, "account 127.0.0.3 alice", 4, 0, "the same name from another client "
                   "is another key: never locked by alice's key from 127.0.0.2");
    tt_expect_wait(&x, "client 127.0.0.2", 4, 0, "a key that never failed");

    const char *c1 = "client 127.0.0.1", *c10 = "client 127.0.0.10";
    tt_fail(&x, c10, 10);
    tt_fail(&x, c10, 11);
    tt_fail(&x, c10, 12);
    tt_expect_wait(&x, c10, 12, 1500, "3 failures lock the key");
    tt_expect_wait(&x, c1, 12, 0, "\"client 127.0.0.1\" is a prefix of the locked \"client "
                   "127.0.0.10\", not the same key");

    /* keys past THROTTLE_KEY_MAX: the first THROTTLE_KEY_MAX bytes count */
    char l1[301], l2[301], l3[301];
    memset(l1, 'x', 300);
    memcpy(l1, "account 127.0.0.2 ", 18);
    l1[299] = '1';
    l1[300] = '\0';
    memcpy(l2, l1, sizeof l2);
    l2[299] = '2';
    memcpy(l3, l1, sizeof l3);
    l3[THROTTLE_KEY_MAX - 6] = 'y';
    tt_fail(&x, l1, 20);
    tt_fail(&x, l1, 21);
    tt_fail(&x, l1, 22);
    tt_expect_wait(&x, l1, 22, 1500, "a key of 300 bytes, far past THROTTLE_KEY_MAX, failed 3 "
                   "times: it locks like any other (find() keeps its first THROTTLE_KEY_MAX "
                   "bytes; nothing of yours may copy or compare more)");
    tt_expect_wait(&x, l2, 22, 1500, "this key of 300 bytes differs from the locked one only "
                   "in its last byte: throttle.h counts a key by its first THROTTLE_KEY_MAX "
                   "bytes, so it is the same key, locked");
    tt_expect_wait(&x, l3, 22, 0, "this key of 300 bytes differs from the locked one within "
                   "its first THROTTLE_KEY_MAX bytes: another key");
    throttle_free(x.t);
}

WB_UNIT_TEST(throttle, a_full_table_gives_away_the_slot_that_runs_out_first_and_goes_on)
{
    /* 8 slots, 8 keys: each locked by one failure, one ms apart */
    struct tt x;
    tt_new(&x, 8, 1, 1000, 60000);
    char k[8][32];
    for (int i = 0; i < 8; i++) {
        snprintf(k[i], sizeof k[i], "client 10.0.0.%d", i);
        tt_fail(&x, k[i], i);
    }
    for (int i = 0; i < 8; i++)
        tt_expect_wait(&x, k[i], 8, 60000 + i - 8, "with .max = 1 a failure locks; 8 keys fit "
                       "a table of 8 slots. throttle.c throttle_fail(): until_ms = now_ms + "
                       "rule->lock_ms at the max-th failure");
    tt_fail(&x, "client 10.0.1.1", 100);
    tt_fail(&x, "client 10.0.1.2", 101);
    tt_expect_wait(&x, "client 10.0.1.1", 101, 59999, "a new key in a full table: it takes "
                   "a slot (the one that runs out first) and its failure locks it");
    tt_expect_wait(&x, "client 10.0.1.2", 101, 60000, "a second new key in a full table");
    for (int i = 2; i < 8; i++)
        tt_expect_wait(&x, k[i], 101, 60000 + i - 101, "the table was full, and two new keys "
                       "came: they took the slots of the two keys that run out first (locked "
                       "at t0+0 and t0+1), so this one, locked later, keeps its lock "
                       "(throttle.h). find() chooses by each slot's expires_ms: throttle_fail() "
                       "sets it to the later of until_ms and first_ms + window_ms -- left at 0, "
                       "a slot that holds a lock looks free and is given away");
    throttle_free(x.t);

    /* 64 slots, 10,000 keys locked one after another: the table stays its
     * size, and works */
    struct tt y;
    tt_new(&y, 64, 3, 60000, 600000);
    char key[64];
    for (int i = 0; i < 10000; i++) {
        snprintf(key, sizeof key, "account 10.%d.%d.%d user%d", i / 65536, i / 256 % 256,
                 i % 256, i);
        for (int f = 0; f < 3; f++)
            throttle_fail(y.t, key, &y.rule, T0 + i);
    }
    tt_note(&y, "10000 keys \"account 10.0.0.0 user0\" ... \"account 10.0.39.15 user9999\", "
            "3 failures each, key i at t0+i");
    tt_expect_wait(&y, key, 20000, 600000 + 9999 - 20000, "the last of 10000 keys, each "
                   "locked by its 3 failures, in a table of 64 slots: the newest lock is "
                   "never the one given away (it runs out last); throttle_fail() keeps "
                   "expires_ms, the later of until_ms and first_ms + window_ms");
    const char *fresh = "account 127.0.0.2 alice";
    tt_fail(&y, fresh, 20000);
    tt_fail(&y, fresh, 20001);
    tt_expect_wait(&y, fresh, 20001, 0, "a new key's 2 failures, after 10000 others filled "
                   "the table");
    tt_fail(&y, fresh, 20002);
    tt_expect_wait(&y, fresh, 20002, 600000, "a new key's 3rd failure, after 10000 others "
                   "filled a table of 64 slots: it still locks -- the table never grows and "
                   "never stops counting");
    throttle_free(y.t);
}

/* ---- restd, end to end ------------------------------------------------------ */

#define OWNER "127.0.0.1"    /* wb_connect()'s address */
#define ATTACKER "127.0.0.2" /* wb_connect_from() */
#define BYSTANDER "127.0.0.3"

/* What post_session() does, for a message about a missing 429. */
#define HOW_429                                                                              \
    "auth.c post_session(): between read_fields() and users_login(), guess_keys() of the "   \
    "username as sent, then guess_wait() -- the longer throttle_wait() of \"account "        \
    "<client> <name>\" and \"client <client>\" at loop_now_ms() --: above 0 -> "              \
    "too_many(). Each AUTH_DENIED -> guess_failed(): throttle_fail() of both. throttle.c: "  \
    "throttle_fail() locks a key at its rule's max-th failure, throttle_wait() gives the ms " \
    "left"

/* A login and when it happened, on the test's clock (wb_now_ms(), the
 * server's loop_now_ms() too). */
struct attempt {
    struct ht_response *r;
    long long sent_ms, got_ms; /* before the request was sent, after the answer came */
};

/* A lock: set by the answer to a request sent at sent_ms and answered at
 * got_ms, for ms. */
struct lock {
    long long sent_ms, got_ms, ms;
};

/* POST /sessions {"username":name,"password":pw} on fd, with the header
 * lines more (NULL: none) before Content-Type. */
static struct attempt try_login(struct wb_proc *p, int fd, const char *name, const char *pw,
                                const char *more)
{
    char *body = at_creds(name, pw);
    char headers[512];
    snprintf(headers, sizeof headers, "%s%s", more ? more : "", AT_JSON);
    struct attempt a;
    a.sent_ms = wb_now_ms();
    a.r = rc_send(p, fd, "POST", "/sessions", headers, body, strlen(body));
    a.got_ms = wb_now_ms();
    free(body);
    return a;
}

static struct lock lock_of(const struct attempt *a, long long ms)
{
    struct lock l = {a->sent_ms, a->got_ms, ms};
    return l;
}

/* A login refused: 401, a problem document. */
static void expect_401(struct wb_proc *p, const struct attempt *a, const char *msg)
{
    cJSON_Delete(jt_expect_problem(p, a->r, 401, msg));
}

/* A login: 201 with a token of 43 characters, into token when not NULL. */
static void expect_201(struct wb_proc *p, const struct attempt *a, char *token, const char *msg)
{
    ht_expect_status(p, a->r, 201, NULL, 0, msg);
    cJSON *j = jt_body(p, a->r, msg);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
    int ok = cJSON_IsString(t) && strlen(t->valuestring) == AT_TOKEN_LEN;
    if (ok && token)
        memcpy(token, t->valuestring, AT_TOKEN_LEN + 1);
    cJSON_Delete(j);
    cr_assert(ok, "%s\nexpected {\"token\": <43 characters>, ...}\nreceived: %s", msg,
              ht_describe_response(a->r));
}

/* A locked login: 429, a problem document with nothing of a session, and
 * Retry-After: the whole seconds left of the lock l when the server
 * answered, rounded up (at least 1). The test knows that moment to within
 * the requests' round trips: the range of values that fits it. */
static void expect_429(struct wb_proc *p, const struct attempt *a, const struct lock *l,
                       const char *msg)
{
    cJSON *j = jt_expect_problem(p, a->r, 429, msg);
    int has_token = cJSON_GetObjectItemCaseSensitive(j, "token") != NULL;
    cJSON_Delete(j);
    cr_assert(has_token == 0, "%s\nthe 429 has a \"token\" member: a locked login opens no "
              "session, whatever the password -- post_session() answers too_many() before "
              "users_login()\nreceived: %s", msg, ht_describe_response(a->r));
    size_t cookies = ht_header_count(a->r, "Set-Cookie");
    cr_assert(cookies == 0, "%s\nthe 429 has %zu Set-Cookie field(s): a locked login opens "
              "no session\nreceived: %s", msg, cookies, ht_describe_response(a->r));
    long long lo_ms = l->sent_ms + l->ms - a->got_ms, hi_ms = l->got_ms + l->ms - a->sent_ms;
    long lo = lo_ms > 1000 ? (long)((lo_ms + 999) / 1000) : 1;
    long hi = hi_ms > 1000 ? (long)((hi_ms + 999) / 1000) : 1;
    const char *ra = ht_header(a->r, "Retry-After");
    int digits = ra && ra[0] && strspn(ra, "0123456789") == strlen(ra) && strlen(ra) <= 9;
    long got = digits ? atol(ra) : -1;
    char want[64], began[80];
    if (lo == hi)
        snprintf(want, sizeof want, "Retry-After: %ld", lo);
    else
        snprintf(want, sizeof want, "Retry-After: %ld or %ld", lo, hi);
    if (l->got_ms == l->sent_ms)
        snprintf(began, sizeof began, "%lld ms", a->sent_ms - l->sent_ms);
    else
        snprintf(began, sizeof began, "between %lld and %lld ms", a->sent_ms - l->got_ms,
                 a->sent_ms - l->sent_ms);
    cr_assert(digits && got >= lo && got <= hi,
              "%s\nexpected %s -- the whole seconds left of the lock, rounded up, so never 0 "
              "(RFC 6585 section 4, RFC 9110 section 10.2.3: digits only). The lock of %lld "
              "ms began %s before this request was sent. auth.c too_many() writes (wait_ms + "
              "999) / 1000 of the longer of the two throttle_wait()s\nreceived: %s", msg, want,
              l->ms, began, ht_describe_response(a->r));
}

Test(throttle, after_max_wrong_passwords_even_the_right_one_is_429_with_retry_after)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "60000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_register(p, fd, "bob", "battery-staple");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);

    struct attempt a = {0};
    for (int i = 1; i <= 3; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "restd --login-max-failures 3 --lockout-ms 60000; POST "
                 "/sessions for alice with a wrong password from " OWNER ", failure %d of 3: "
                 "401 -- a login is refused only after the 3rd failure (auth.c post_session() "
                 "asks guess_wait() before users_login(), and counts each AUTH_DENIED with "
                 "guess_failed())", i);
        a = try_login(p, fd, "alice", "wrong-password", NULL);
        expect_401(p, &a, msg);
        ht_free(a.r);
    }
    struct lock l = lock_of(&a, 60000);
    a = try_login(p, fd, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3 --lockout-ms 60000; alice's password "
               "was wrong 3 times from " OWNER ", which locks the pair (alice, " OWNER ") for "
               "60 s: POST /sessions with her RIGHT password from " OWNER " now is 429 Too Many "
               "Requests, a problem document with Retry-After -- while locked no password is "
               "even checked, or the answer would tell a guesser which guess was right. "
               HOW_429);
    ht_free(a.r);
    a = try_login(p, fd, "alice", "wrong-password", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3 --lockout-ms 60000; a 4th wrong "
               "password for alice from " OWNER ", during her lock: 429 too, never 401 -- the "
               "lock is looked at before the password (" HOW_429 ")");
    ht_free(a.r);

    struct ht_response *r = at_me(p, fd, at_bearer(token, NULL));
    char msg[512];
    snprintf(msg, sizeof msg, "GET /me with alice's token %s, from a login before the lock, "
             "while her logins from " OWNER " are locked: 200 -- only POST /sessions counts "
             "failures and answers 429; a session already open goes on", token);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);
    a = try_login(p, fd, "bob", "battery-staple", NULL);
    expect_201(p, &a, NULL, "restd --login-max-failures 3; bob's right password from " OWNER
               " while alice is locked there: 201 -- the lock is the key \"account " OWNER
               " alice\"; bob's key has no failure, and the client's 3 failures are far "
               "below --ip-login-limit (20). auth.c post_session(): the keys hold the "
               "username as sent");
    ht_free(a.r);
}

Test(throttle, a_name_no_one_has_is_locked_exactly_as_an_account_is)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "60000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    struct lock la = {0}, lm = {0};
    for (int i = 1; i <= 4; i++) {
        int locked = i == 4;
        const char *pw = locked ? "correct-horse" : "wrong-password";
        struct attempt a = try_login(p, fd, "alice", pw, NULL);
        struct attempt m = try_login(p, fd, "mallory", pw, NULL);
        char msg[1024];
        if (locked == 0) {
            snprintf(msg, sizeof msg, "restd --login-max-failures 3; POST /sessions for alice "
                     "with a wrong password from " OWNER ", failure %d of 3: 401", i);
            expect_401(p, &a, msg);
            snprintf(msg, sizeof msg, "restd --login-max-failures 3; POST /sessions for "
                     "mallory, a name no one has, from " OWNER ", failure %d of 3: 401", i);
            expect_401(p, &m, msg);
            la = lock_of(&a, 60000);
            lm = lock_of(&m, 60000);
        } else {
            expect_429(p, &a, &la, "restd --login-max-failures 3 --lockout-ms 60000; alice "
                       "failed 3 times from " OWNER ": her 4th login, with the right password, "
                       "is 429. " HOW_429);
            expect_429(p, &m, &lm, "restd --login-max-failures 3 --lockout-ms 60000; "
                       "mallory, a name no one has, failed 3 times from " OWNER ": the 4th "
                       "try is 429, as alice's is -- the key is the username as sent, an "
                       "account or not (\"account <client> mallory\"); if only real accounts "
                       "were locked, a 429 would tell an attacker which names exist. auth.c "
                       "post_session(): guess_wait() and guess_failed() before and "
                       "whatever users_login() finds");
        }
        size_t alen, mlen;
        char *want = at_without_date(a.r, &alen), *got = at_without_date(m.r, &mlen);
        int same = alen == mlen && memcmp(want, got, alen) == 0;
        cr_expect(same, "restd --login-max-failures 3; try %d of alice (an account) and of "
                  "mallory (no account), the same password, one after the other from " OWNER
                  ", got different answers (the Date field left out):\n%s\nEvery failed or "
                  "locked login gets the same bytes whether the name has an account or not: "
                  "the same 401s, then the same 429 at the same try (OWASP Authentication "
                  "Cheat Sheet). auth.c post_session()", i, wb_diff(want, alen, got, mlen, 300));
        free(want);
        free(got);
        ht_free(a.r);
        ht_free(m.r);
    }
}

Test(throttle, the_owner_still_logs_in_from_elsewhere_while_an_attacker_is_locked)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "60000", NULL);
    int own = wb_connect(p);
    long long alice = at_register(p, own, "alice", "correct-horse");
    int bad = wb_connect_from(p, ATTACKER);
    struct attempt a = {0};
    for (int i = 1; i <= 3; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "restd --login-max-failures 3; POST /sessions for alice with "
                 "a wrong password from " ATTACKER ", failure %d of 3: 401", i);
        char guess[16];
        snprintf(guess, sizeof guess, "guess-%d", i);
        a = try_login(p, bad, "alice", guess, NULL);
        expect_401(p, &a, msg);
        ht_free(a.r);
    }
    struct lock l = lock_of(&a, 60000);
    a = try_login(p, bad, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3 --lockout-ms 60000; 3 wrong passwords "
               "for alice from " ATTACKER ": alice's right password from " ATTACKER " is 429. "
               HOW_429);
    ht_free(a.r);

    char token[AT_TOKEN_LEN + 1];
    a = try_login(p, own, "alice", "correct-horse", NULL);
    expect_201(p, &a, token, "restd --login-max-failures 3; alice is locked from " ATTACKER
               ", where someone guessed her password 3 times; she logs in from " OWNER " with "
               "her password: 201 -- the count is per account AND client (\"account "
               "<client> alice\", the client from client_address()), so an attacker locks out "
               "only themselves, never the owner. auth.c post_session()");
    ht_free(a.r);
    struct ht_response *r = at_me(p, own, at_bearer(token, NULL));
    ht_expect_status(p, r, 200, NULL, 0, "GET /me with the token alice got from " OWNER
                     " while " ATTACKER " is locked: 200");
    ht_free(r);
    (void)alice;

    a = try_login(p, bad, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3; alice logged in from " OWNER ", then "
               "her right password came again from " ATTACKER ", which is locked: still 429 "
               "-- her good login clears her count from " OWNER " alone (throttle_clear() of "
               "\"account " OWNER " alice\"), never the lock of another client");
    ht_free(a.r);
    a = try_login(p, bad, "alice", "correct-horse", "X-Forwarded-For: 10.1.2.3\r\nForwarded: "
                  "for=10.1.2.3\r\nX-Real-IP: 10.1.2.3\r\n");
    expect_429(p, &a, &l, "restd --login-max-failures 3; alice's right password from the "
               "locked " ATTACKER ", with X-Forwarded-For: 10.1.2.3, Forwarded: for=10.1.2.3 "
               "and X-Real-IP: 10.1.2.3: still 429 -- anyone can write those headers, a new "
               "address at every try. The client is the socket's peer: auth.c "
               "client_address() with getpeername(), never a header");
    ht_free(a.r);
    int again = wb_connect_from(p, ATTACKER);
    a = try_login(p, again, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3; alice's right password on a NEW "
               "connection from the locked " ATTACKER ": still 429 -- the key holds the "
               "client's address, not the connection, or a guesser would reconnect at every "
               "try (client_address())");
    ht_free(a.r);
    int other = wb_connect_from(p, BYSTANDER);
    a = try_login(p, other, "alice", "correct-horse", NULL);
    expect_201(p, &a, NULL, "restd --login-max-failures 3; alice's right password from "
               BYSTANDER ", a third client, while " ATTACKER " is locked: 201");
    ht_free(a.r);
}

Test(throttle, the_right_password_works_again_once_the_lock_has_passed)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "1500", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    struct attempt a = {0};
    for (int i = 1; i <= 3; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "restd --login-max-failures 3 --lockout-ms 1500; POST "
                 "/sessions for alice with a wrong password from " OWNER ", failure %d of 3: "
                 "401", i);
        a = try_login(p, fd, "alice", "wrong-password", NULL);
        expect_401(p, &a, msg);
        ht_free(a.r);
    }
    struct lock l = lock_of(&a, 1500);
    /* the right password every 100 ms until it opens, or until a deadline
     * well past the lock */
    long long deadline = l.got_ms + 1500 + 4000;
    int tries = 0, opened = 0;
    while (opened == 0 && wb_now_ms() < deadline) {
        a = try_login(p, fd, "alice", "correct-horse", NULL);
        tries++;
        if (a.r->status == 201 && a.got_ms >= l.sent_ms + 1500) {
            opened = 1;
            expect_201(p, &a, NULL, "restd --lockout-ms 1500; alice's right password from "
                       OWNER ", once her lock of 1500 ms has passed");
        } else { /* a 201 sooner is a lock that ended too soon, or none */
            char msg[800];
            snprintf(msg, sizeof msg, "restd --login-max-failures 3 --lockout-ms 1500; alice's "
                     "right password from " OWNER ", answered %lld ms after the 3rd wrong one "
                     "was sent (try %d): 429 for as long as the lock lasts -- 1500 ms from "
                     "that failure (throttle_fail(): until_ms = now_ms + rule->lock_ms) -- "
                     "then 201. %s", a.got_ms - l.sent_ms, tries, HOW_429);
            expect_429(p, &a, &l, msg);
        }
        ht_free(a.r);
        if (opened == 0 && wb_ms_left(deadline))
            wb_pause_ms(wb_ms_left(deadline) < 100 ? wb_ms_left(deadline) : 100);
    }
    cr_assert(opened, "restd --login-max-failures 3 --lockout-ms 1500; alice's right password "
              "from " OWNER " was still refused %lld ms after the lock of 1500 ms began (%d "
              "tries, every 100 ms): a lock ends after lock_ms. throttle.c throttle_wait(): 0 "
              "once now_ms >= until_ms, and until_ms = now_ms + rule->lock_ms in "
              "throttle_fail() (the rule from --lockout-ms: c->auth->per_account)",
              wb_now_ms() - l.got_ms, tries);
}

Test(throttle, a_good_login_resets_the_count_of_its_account)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "60000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    struct attempt a = {0};
    for (int round = 1; round <= 4; round++) {
        for (int i = 1; i <= (round == 4 ? 3 : 2); i++) {
            char msg[640];
            snprintf(msg, sizeof msg, "restd --login-max-failures 3; round %d: alice's wrong "
                     "password from " OWNER ", failure %d since her last good login: 401%s",
                     round, i, round > 1 ? " -- a good login resets the count of her "
                     "account from this client: auth.c post_session(), after AUTH_OK, "
                     "guess_right(): throttle_clear() of \"account <client> alice\" "
                     "(throttle.c throttle_clear(): failures = 0)" : "");
            a = try_login(p, fd, "alice", "wrong-password", NULL);
            expect_401(p, &a, msg);
            ht_free(a.r);
        }
        if (round == 4)
            break;
        char msg[512];
        snprintf(msg, sizeof msg, "restd --login-max-failures 3; round %d: alice's right "
                 "password from " OWNER " after 2 wrong ones: 201 -- 2 failures are below "
                 "the max", round);
        a = try_login(p, fd, "alice", "correct-horse", NULL);
        expect_201(p, &a, NULL, msg);
        ht_free(a.r);
    }
    struct lock l = lock_of(&a, 60000);
    a = try_login(p, fd, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --login-max-failures 3 --lockout-ms 60000; after 3 rounds of "
               "2 wrong passwords and a good login, 3 wrong ones in a row: the next login is "
               "429 -- the count starts again after a good login, and goes on counting. "
               HOW_429);
    ht_free(a.r);
}

Test(throttle, a_client_failing_across_many_names_is_locked_for_every_name)
{
    struct wb_proc *p = wb_start("--ip-login-limit", "4", "--login-max-failures", "10", NULL);
    int own = wb_connect(p);
    at_register(p, own, "alice", "correct-horse");
    int bad = wb_connect_from(p, ATTACKER);
    struct attempt a = try_login(p, bad, "alice", "wrong-password", NULL);
    expect_401(p, &a, "restd --ip-login-limit 4; alice's wrong password from " ATTACKER
               ", the client's failure 1 of 4: 401");
    ht_free(a.r);
    a = try_login(p, bad, "alice", "correct-horse", NULL);
    expect_201(p, &a, NULL, "restd --ip-login-limit 4; alice's right password from " ATTACKER
               " after 1 failure: 201");
    ht_free(a.r);
    static const char *const names[] = {"bob", "carol", "dave"};
    for (int i = 0; i < 3; i++) {
        char msg[512];
        snprintf(msg, sizeof msg, "restd --ip-login-limit 4 --login-max-failures 10; POST "
                 "/sessions for %s, a name no one has, from " ATTACKER ", the client's "
                 "failure %d of 4 (alice's good login in between clears her own count only): "
                 "401", names[i], i + 2);
        a = try_login(p, bad, names[i], "Summer2024!", NULL);
        expect_401(p, &a, msg);
        ht_free(a.r);
    }
    struct lock l = lock_of(&a, 60000); /* --ip-window-ms: 60000, and the lock as long */
    a = try_login(p, bad, "erin", "Summer2024!", NULL);
    expect_429(p, &a, &l, "restd --ip-login-limit 4 (--ip-window-ms 60000); " ATTACKER " "
               "failed 4 times within a minute, for 4 names (alice, bob, carol, dave) -- one "
               "password tried against many names, a spray -- with alice's good login in "
               "between: POST /sessions for erin, a name it never tried, is 429. The client "
               "has a count of its own, the key \"client <client>\" under c->auth->per_client, "
               "and a good login does not clear it (throttle_clear() of the account's key "
               "alone). " HOW_429);
    ht_free(a.r);
    a = try_login(p, bad, "alice", "correct-horse", NULL);
    expect_429(p, &a, &l, "restd --ip-login-limit 4; alice's RIGHT password from the locked "
               ATTACKER ": 429 -- a locked client gets no answer about any password (" HOW_429
               ")");
    ht_free(a.r);

    int other = wb_connect_from(p, BYSTANDER);
    a = try_login(p, other, "mallory", "wrong-password", NULL);
    expect_401(p, &a, "restd --ip-login-limit 4; a wrong password from " BYSTANDER ", another "
               "client, while " ATTACKER " is locked: 401 -- each client has its own count "
               "(\"client <client>\", from client_address())");
    ht_free(a.r);
    a = try_login(p, other, "alice", "correct-horse", NULL);
    expect_201(p, &a, NULL, "restd --ip-login-limit 4; alice's right password from " BYSTANDER
               " while " ATTACKER " is locked: 201");
    ht_free(a.r);
    a = try_login(p, own, "alice", "correct-horse", NULL);
    expect_201(p, &a, NULL, "restd --ip-login-limit 4; alice's right password from " OWNER
               " while " ATTACKER " is locked: 201");
    ht_free(a.r);
}

/* Milliseconds with their fractions, on the monotonic clock. */
static double precise_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

Test(throttle, a_locked_login_is_answered_without_hashing_the_password)
{
    /* OWASP's floor for Argon2id: 2 passes over 19 MiB, ~20 ms a verify */
    const char *path = at_db_path();
    struct wb_proc *p = wb_start("--db", path, "--pwhash", "owasp", "--login-max-failures",
                                 "5", "--lockout-ms", "60000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    enum { ROUNDS = 5 };
    double denied[ROUNDS], locked[ROUNDS];
    char all[512];
    size_t o = 0;
    struct attempt a = {0};
    for (int i = 0; i < ROUNDS; i++) {
        char msg[256];
        snprintf(msg, sizeof msg, "restd --pwhash owasp --login-max-failures 5; alice's wrong "
                 "password from " OWNER ", failure %d of 5: 401", i + 1);
        double t0 = precise_ms();
        a = try_login(p, fd, "alice", "wrong-password", NULL);
        denied[i] = precise_ms() - t0;
        expect_401(p, &a, msg);
        ht_free(a.r);
        o += (size_t)snprintf(all + o, sizeof all - o, " 401 %.1f", denied[i]);
    }
    struct lock l = lock_of(&a, 60000);
    for (int i = 0; i < ROUNDS; i++) {
        double t0 = precise_ms();
        a = try_login(p, fd, "alice", "correct-horse", NULL);
        locked[i] = precise_ms() - t0;
        expect_429(p, &a, &l, "restd --pwhash owasp --login-max-failures 5 --lockout-ms "
                   "60000; alice's right password from " OWNER " after 5 wrong ones: 429. "
                   HOW_429);
        ht_free(a.r);
        o += (size_t)snprintf(all + o, sizeof all - o, " 429 %.1f", locked[i]);
    }
    double md = at_median(denied, ROUNDS), ml = at_median(locked, ROUNDS);
    cr_expect(ml < md / 3, "restd --pwhash owasp --login-max-failures 5: a 401 to a wrong "
              "password took %.2f ms (median of %d: one Argon2id verify), and a 429 to the "
              "locked pair's right password %.2f ms; expected the 429 under a third of the "
              "401's time. A locked login is answered before anything is hashed: otherwise "
              "every locked guess still costs a hash, and a flood of them keeps the server's "
              "cores busy. auth.c post_session(): guess_wait() and too_many() right after "
              "read_fields(), before users_login()\nevery login, in ms:%s", md, ROUNDS, ml,
              all);
}

Test(throttle, a_wrong_current_password_counts_as_a_failed_login)
{
    struct wb_proc *p = wb_start("--login-max-failures", "3", "--lockout-ms", "60000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    char t[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", t);
    static const char wrong[] = "{\"current_password\":\"wrong-password\","
                                "\"new_password\":\"brand-new-secret\"}";
    static const char right[] = "{\"current_password\":\"correct-horse\","
                                "\"new_password\":\"brand-new-secret\"}";
    char headers[256];
    snprintf(headers, sizeof headers, "%s%s", at_bearer(t, NULL), AT_JSON);
    for (int i = 1; i <= 3; i++) {
        struct ht_response *r = rc_send(p, fd, "PUT", "/me/password", headers, wrong,
                                        strlen(wrong));
        char msg[512];
        snprintf(msg, sizeof msg, "restd --login-max-failures 3; PUT /me/password with "
                 "alice's session and a wrong current password, failure %d of 3: 403, "
                 "nothing changed (stage 4)", i);
        cJSON_Delete(jt_expect_problem(p, r, 403, msg));
        ht_free(r);
    }
    struct ht_response *r = rc_send(p, fd, "PUT", "/me/password", headers, right,
                                    strlen(right));
    const char *why = "restd --login-max-failures 3; PUT /me/password with alice's session "
                      "and the RIGHT current password, after 3 wrong ones from " OWNER ": 429 "
                      "with Retry-After -- the current password is a guess like a login's, "
                      "or whoever stole a session tests passwords at hash speed. auth.c "
                      "put_password(): guess_keys() of the account's own name and "
                      "guess_wait() before users_change_password(); AUTH_DENIED -> "
                      "guess_failed(), AUTH_OK -> guess_right()";
    cJSON_Delete(jt_expect_problem(p, r, 429, why));
    const char *ra = ht_header(r, "Retry-After");
    cr_expect(ra && atol(ra) >= 1, "%s\nexpected a Retry-After of 1 second or more\n"
              "received: %s", why, ht_describe_response(r));
    ht_free(r);
    struct attempt a = try_login(p, fd, "alice", "correct-horse", NULL);
    cJSON_Delete(jt_expect_problem(p, a.r, 429, "POST /sessions for alice with her password "
                                   "from " OWNER ", where 3 wrong current passwords locked "
                                   "her account: 429 -- PUT /me/password counts under the "
                                   "login's own key, \"account <client> alice\""));
    ht_free(a.r);
    int other = wb_connect_from(p, ATTACKER);
    a = try_login(p, other, "alice", "correct-horse", NULL);
    expect_201(p, &a, NULL, "POST /sessions for alice with her OLD password from another "
               "client (" ATTACKER "): 201 -- the locked PUT changed nothing, and another "
               "client is not locked out");
    ht_free(a.r);
}

