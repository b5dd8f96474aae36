/* Stage 4: a session's life -- and its end. DELETE /sessions/current
 * logs out this token, DELETE /sessions every token of the account; a
 * login ends the token it came with (session fixation); a session ends
 * when idle for --session-idle-ms or older than --session-max-ms, decided
 * by session_valid(), a pure function tested here at its edges without a
 * clock, and end to end only with wide margins; and PUT /me/password asks
 * for the current password, keeps the session that changed it and ends
 * every other. An ended session is a deleted row: the test looks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "authtest.h"
#include "sessions.h"

WB_SUITE(lifecycle);

/* ---- helpers -------------------------------------------------------------- */

/* GET /me with token must be 200 with the account {id, name, "user"}. */
static void expect_open(struct wb_proc *p, int fd, const char *token, long long id,
                        const char *name, const char *why)
{
    struct ht_response *r = at_me(p, fd, at_bearer(token, NULL));
    char msg[1024], want[128];
    snprintf(msg, sizeof msg, "GET /me with %s's token %s -- %s: its session is still open, "
             "so 200 and the account", name, token, why);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"%s\",\"role\":\"user\"}", id, name);
    jt_expect_json(p, r, want, msg);
    ht_free(r);
}

/* GET /me with token must be 401 with error="invalid_token": the session
 * has ended. */
static void expect_ended(struct wb_proc *p, int fd, const char *token, const char *why)
{
    struct ht_response *r = at_me(p, fd, at_bearer(token, NULL));
    char msg[1024];
    snprintf(msg, sizeof msg, "GET /me with the token %s -- %s: that session has ended, so "
             "401 with WWW-Authenticate: %s, error=\"invalid_token\"", token, why, AT_REALM);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    const char *ch = ht_header(r, "WWW-Authenticate");
    int ok = ch && strncmp(ch, "Bearer ", 7) == 0 && strstr(ch, "error=\"invalid_token\"");
    cr_expect(ok, "%s\nreceived: %s", msg, ht_describe_response(r));
    ht_free(r);
}

/* r must be a 401 problem with the bare challenge (no credentials). */
static void expect_bare_401(struct wb_proc *p, const struct ht_response *r, const char *msg)
{
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_expect_header(p, r, "WWW-Authenticate", AT_REALM, msg);
}

/* r must be 204 No Content with no body at all. */
static void expect_204(struct wb_proc *p, const struct ht_response *r, const char *msg)
{
    ht_expect_status(p, r, 204, NULL, 0, msg);
    int empty = r->body_len == 0 && ht_header(r, "Content-Length") == NULL;
    cr_expect(empty, "%s\n204 No Content has no body and no Content-Length (RFC 9110 sections "
              "8.6 and 15.3.5): auth.c no_content()\nreceived: %s", msg,
              ht_describe_response(r));
    ht_expect_no_extra(p, r, msg);
}

/* The first column of sql's first row, a number, on a connection of the
 * test's own that is closed before it returns. */
static long long oracle_count(const char *sql)
{
    sqlite3 *db = db_oracle(at_db_path());
    long long n = atoll(db_value(db, sql));
    sqlite3_close(db);
    return n;
}

/* How many rows of sessions belong to the account id. */
static long long sessions_of(long long id)
{
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE user_id = %lld", id);
    return oracle_count(sql);
}

/* How many rows of sessions hold token's hash (0 or 1). */
static long long rows_of(const char *token)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
    size_t n = 0;
    int ok = sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &n, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32;
    cr_assert(ok, "the token %s does not decode to 32 bytes of base64url", token);
    crypto_hash_sha256(digest, raw, sizeof raw);
    char sql[160];
    size_t o = (size_t)snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE "
                                "token_hash = x'");
    for (size_t i = 0; i < sizeof digest; i++)
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%02x", digest[i]);
    snprintf(sql + o, sizeof sql - o, "'");
    return oracle_count(sql);
}

/* The stored password hash of the account name, copied into out[0..cap). */
static void hash_of(const char *name, char *out, size_t cap)
{
    sqlite3 *db = db_oracle(at_db_path());
    snprintf(out, cap, "%s", at_user_value(db, "password_hash", name));
    sqlite3_close(db);
}

/* {"current_password":cur,"new_password":next}: malloc'd. */
static char *change_body(const char *cur, const char *next)
{
    cJSON *j = cJSON_CreateObject();
    char *s = NULL;
    if (j && cJSON_AddStringToObject(j, "current_password", cur) &&
        cJSON_AddStringToObject(j, "new_password", next))
        s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cr_assert(s != NULL, "test setup: out of memory");
    return s;
}

/* PUT /me/password with token (NULL: no Authorization) and the body json,
 * as application/json. */
static struct ht_response *put_password(struct wb_proc *p, int fd, const char *token,
                                        const char *json)
{
    char headers[256];
    snprintf(headers, sizeof headers, "%s%s", token ? at_bearer(token, NULL) : "", AT_JSON);
    return rc_send(p, fd, "PUT", "/me/password", headers, json, strlen(json));
}

/* PUT /me/password from cur to next with token, which must be 204. */
static void change_ok(struct wb_proc *p, int fd, const char *token, const char *cur,
                      const char *next, const char *why)
{
    char *body = change_body(cur, next);
    struct ht_response *r = put_password(p, fd, token, body);
    char msg[768];
    snprintf(msg, sizeof msg, "PUT /me/password %s with alice's token -- %s: the right current "
             "password and a valid new one, so 204. auth.c put_password() -> users.c "
             "users_change_password() -> sessions.c sessions_end_all()", body, why);
    free(body);
    expect_204(p, r, msg);
    ht_free(r);
}

/* ---- session_valid(): the edges, without a clock --------------------------- */

WB_UNIT_TEST(lifecycle, session_valid_ends_a_session_exactly_at_its_limits)
{
    const long long T = 1LL << 40;              /* ms: about 35 years after 1970 */
    const long long NOW = 1733000000000LL;      /* a wall clock of 2024, in ms */
    const long long IDLE = 30LL * 60 * 1000, MAX = 12LL * 3600 * 1000;
    static const struct {
        long long created, seen, now, idle, max;
        int want;
        const char *why;
    } rows[] = {
        /* idle 1000, max 5000, created 0: the idle limit */
        {0, 2001, 3000, 1000, 5000, 1, "idle 999 ms of 1000: one ms left"},
        {0, 2000, 3000, 1000, 5000, 0, "idle exactly 1000 ms: the limit itself has ended it"},
        {0, 1999, 3000, 1000, 5000, 0, "idle 1001 ms: past the limit"},
        /* the absolute limit, used just now */
        {0, 4999, 4999, 1000, 5000, 1, "4999 ms old, used just now: one ms left"},
        {0, 5000, 5000, 1000, 5000, 0, "exactly 5000 ms old: ended, however fresh the use"},
        {0, 5001, 5001, 1000, 5000, 0, "5001 ms old, used just now"},
        /* both */
        {0, 4001, 4999, 1000, 5000, 1, "idle 998 and 4999 ms old: both within"},
        {0, 4000, 5000, 1000, 5000, 0, "idle 1000 and 5000 ms old: both limits reached"},
        {0, 3000, 6000, 1000, 5000, 0, "idle 3000 and 6000 ms old: both past"},
        {0, 3000, 4500, 1000, 5000, 0, "idle 1500 ms but only 4500 ms old: idle alone ends it"},
        /* made this very moment */
        {0, 0, 0, 1000, 5000, 1, "created == seen == now (0): a session just made"},
        {NOW, NOW, NOW, IDLE, MAX, 1, "created == seen == now: a session just made"},
        /* real clocks and the defaults (30 min, 12 h) */
        {NOW, NOW + MAX - IDLE, NOW + MAX - 1, IDLE, MAX, 1,
         "the defaults, one ms short of both limits"},
        {NOW, NOW + MAX - 1, NOW + MAX, IDLE, MAX, 0, "the defaults, exactly 12 h old"},
        {NOW, NOW, NOW + IDLE, IDLE, MAX, 0, "the defaults, idle exactly 30 min"},
        /* near 2^40 ms: differences that do not fit 32 bits, limits a
         * float cannot tell from their neighbours */
        {0, 0, T, IDLE, MAX, 0, "made and last used at 0, now 2^40: 2^40 ms idle and old (an "
         "int difference would wrap to 0)"},
        {T, T, T + (1LL << 32) + 5, IDLE, MAX, 0, "idle 2^32 + 5 ms (an int difference would "
         "wrap to 5)"},
        {0, T, T + 1, IDLE, MAX, 0, "used a ms ago, but 2^40 ms old"},
        {0, 0, T - 1, T, T, 1, "limits of 2^40 ms, one ms short of both"},
        {0, 0, T, T, T, 0, "limits of 2^40 ms, exactly reached"},
        {T, T, T + T - 1, T, T, 1, "from 2^40, limits of 2^40 ms, one ms short"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        int got = session_valid(rows[i].created, rows[i].seen, rows[i].now, rows[i].idle,
                                rows[i].max);
        int open = got != 0;
        cr_expect(open == rows[i].want,
                  "row %zu: session_valid(created_ms=%lld, seen_ms=%lld, now_ms=%lld, "
                  "idle_ms=%lld, max_ms=%lld) returned %d; expected %s -- %s.\nnow - seen = "
                  "%lld ms idle, now - created = %lld ms old. sessions.c session_valid(): a "
                  "session is open while now_ms - seen_ms < idle_ms AND now_ms - created_ms < "
                  "max_ms -- at exactly a limit it has ended; subtract in long long (never in "
                  "an int or a float)",
                  i, rows[i].created, rows[i].seen, rows[i].now, rows[i].idle, rows[i].max, got,
                  rows[i].want ? "open (nonzero)" : "ended (0)", rows[i].why,
                  rows[i].now - rows[i].seen, rows[i].now - rows[i].created);
    }
}

/* ---- logging out ------------------------------------------------------------ */

Test(lifecycle, logout_ends_this_session_and_no_other)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", b);
    expect_open(p, fd, a, alice, "alice", "before any logout");

    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(a, NULL), NULL, 0);
    char msg[512];
    snprintf(msg, sizeof msg, "DELETE /sessions/current with alice's token A (%s): log out, "
             "204. auth.c delete_current(): authenticate(), then sessions.c sessions_end() of "
             "that very token", a);
    expect_204(p, r, msg);
    ht_free(r);
    expect_ended(p, fd, a, "token A after DELETE /sessions/current with it: sessions_end() "
                 "deletes its row, and sessions_find() finds nothing");
    long long ra = rows_of(a), rb = rows_of(b), all = sessions_of(alice);
    cr_expect(ra == 0 && rb == 1 && all == 1,
              "after alice logged out with token A, the sessions table has %lld row(s) for A, "
              "%lld for her other token B, %lld in all for her (user_id %lld); expected 0, 1 "
              "and 1: logging out deletes the row of that one token (sessions.c sessions_end(): "
              "DELETE FROM sessions WHERE token_hash = ?1, the token's SHA-256)",
              ra, rb, all, alice);
    expect_open(p, fd, b, alice, "alice", "her other token B, after she logged out with A: "
                "a logout ends one session, the one it came with");
}

Test(lifecycle, logout_without_a_valid_token_is_401_and_ends_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", b);

    static const char *const targets[] = {"/sessions/current", "/sessions"};
    for (size_t i = 0; i < 2; i++) {
        struct ht_response *r = rc_send(p, fd, "DELETE", targets[i], NULL, NULL, 0);
        char msg[512];
        snprintf(msg, sizeof msg, "DELETE %s without an Authorization field: no credentials, "
                 "so 401 with the bare challenge -- auth.c %s() calls authenticate() first "
                 "and ends nothing when it says no", targets[i],
                 i ? "delete_all" : "delete_current");
        expect_bare_401(p, r, msg);
        ht_free(r);
        r = rc_send(p, fd, "DELETE", targets[i], at_bearer("garbage-token", NULL), NULL, 0);
        snprintf(msg, sizeof msg, "DELETE %s with Authorization: Bearer garbage-token: a token "
                 "that opens no session, 401 with error=\"invalid_token\" -- auth.c %s() "
                 "calls authenticate() first", targets[i], i ? "delete_all" : "delete_current");
        cJSON_Delete(jt_expect_problem(p, r, 401, msg));
        ht_free(r);
    }
    long long n = sessions_of(alice);
    cr_expect(n == 2, "after four refused logouts (no token, a token that opens nothing) alice "
              "(id %lld) has %lld session rows; expected her 2: a request that is not "
              "authenticated ends no session (auth.c delete_current(), delete_all())",
              alice, n);
    expect_open(p, fd, a, alice, "alice", "token A after the refused logouts");
    expect_open(p, fd, b, alice, "alice", "token B after the refused logouts");

    /* and a logout with a token works */
    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(a, NULL), NULL, 0);
    expect_204(p, r, "DELETE /sessions/current with alice's token A, after the refused ones: "
               "204 (auth.c delete_current() -> sessions.c sessions_end())");
    ht_free(r);
    expect_ended(p, fd, a, "token A, logged out");
}

Test(lifecycle, logout_everywhere_ends_every_session_of_the_account)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char a[3][AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    for (int i = 0; i < 3; i++)
        at_login(p, fd, "alice", "correct-horse", a[i]);
    at_login(p, fd, "bob", "battery-staple", b);

    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions", at_bearer(a[1], NULL), NULL, 0);
    char msg[512];
    snprintf(msg, sizeof msg, "DELETE /sessions with alice's second token (%s): log out "
             "everywhere, 204. auth.c delete_all(): authenticate(), then sessions.c "
             "sessions_end_all(s, u.id, NULL, 0)", a[1]);
    expect_204(p, r, msg);
    ht_free(r);
    for (int i = 0; i < 3; i++) {
        char why[256];
        snprintf(why, sizeof why, "alice's token #%d of 3, after DELETE /sessions with #2: "
                 "every session of the account ends, the one that asked too "
                 "(sessions_end_all() with keep NULL)", i + 1);
        expect_ended(p, fd, a[i], why);
    }
    long long na = sessions_of(alice), nb = sessions_of(bob);
    cr_expect(na == 0 && nb == 1, "after alice logged out everywhere, the sessions table has "
              "%lld row(s) for alice (id %lld) and %lld for bob (id %lld); expected 0 and 1: "
              "sessions.c sessions_end_all(): DELETE FROM sessions WHERE user_id = ?1 AND "
              "token_hash != ?2 -- the account's rows, no one else's", na, alice, nb, bob);
    expect_open(p, fd, b, bob, "bob", "bob's token, after alice logged out everywhere: her "
                "account's sessions, not everybody's");
}

/* ---- a login ends the token it came with --------------------------------------- */

Test(lifecycle, a_login_ends_the_session_it_came_with)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", b);
    expect_open(p, fd, a, alice, "alice", "token A, before the second login with it");

    char *body = at_creds("alice", "correct-horse"), headers[256];
    snprintf(headers, sizeof headers, "%s%s", at_bearer(a, NULL), AT_JSON);
    struct ht_response *r = rc_send(p, fd, "POST", "/sessions", headers, body, strlen(body));
    char msg[768];
    snprintf(msg, sizeof msg, "POST /sessions %s with Authorization: Bearer <A, alice's open "
             "token %s>: a good login, 201 and a NEW token", body, a);
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
    int shape = cJSON_IsString(t) && strlen(t->valuestring) == AT_TOKEN_LEN;
    if (shape)
        memcpy(c, t->valuestring, AT_TOKEN_LEN + 1);
    cJSON_Delete(j);
    cr_assert(shape, "%s\nexpected {\"token\": \"<43 characters>\", ...}\nreceived: %s", msg,
              ht_describe_response(r));
    ht_free(r);
    int fresh = strcmp(c, a) != 0;
    cr_expect(fresh, "%s\nthe login answered the very token it came with (%s): a login always "
              "opens a new session (sessions.c sessions_create()) -- keeping a token the "
              "client brought lets whoever planted it in the victim's browser share the "
              "session (session fixation)", msg, c);
    expect_ended(p, fd, a, "token A, after a login that came with it: auth.c post_session(), "
                 "once sessions_create() made the new session, ends the one of the bearer "
                 "token the request came with (sessions.c sessions_end()) -- OWASP: renew the "
                 "session at login");
    expect_open(p, fd, c, alice, "alice", "token C, the one that login gave");
    expect_open(p, fd, b, alice, "alice", "token B, which the login did not come with: only "
                "the presented token ends");
    long long n = sessions_of(alice);
    cr_expect(n == 2, "alice logged in 3 times, the third time with token A, which ended: "
              "the sessions table has %lld rows for her; expected 2 (B and C) -- "
              "post_session() deletes A's row through sessions_end()", n);
}

Test(lifecycle, only_a_successful_login_ends_the_token_it_came_with)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);

    char headers[256], msg[768];
    char *body = at_creds("alice", "wrong-password");
    snprintf(headers, sizeof headers, "%s%s", at_bearer(a, NULL), AT_JSON);
    struct ht_response *r = rc_send(p, fd, "POST", "/sessions", headers, body, strlen(body));
    snprintf(msg, sizeof msg, "POST /sessions %s with Authorization: Bearer <alice's open token "
             "A>: a wrong password, 401", body);
    free(body);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_free(r);
    expect_open(p, fd, a, alice, "alice", "token A, after a FAILED login that came with it: "
                "auth.c post_session() ends the presented token only after sessions_create() "
                "made a new session -- otherwise anyone could log a victim out by sending "
                "their token with a wrong password");

    /* a token that opens nothing: the login goes on, nothing else ends */
    body = at_creds("alice", "correct-horse");
    snprintf(headers, sizeof headers, "%s%s", at_bearer("garbage-token", NULL), AT_JSON);
    r = rc_send(p, fd, "POST", "/sessions", headers, body, strlen(body));
    snprintf(msg, sizeof msg, "POST /sessions %s with Authorization: Bearer garbage-token: the "
             "credentials are right, so 201 -- a login needs no session, and a token that "
             "opens nothing has nothing to end (sessions.c sessions_end() answers AUTH_OK for "
             "a token that is not one)", body);
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    ht_free(r);
    expect_open(p, fd, a, alice, "alice", "token A, after another login that came with "
                "garbage-token, not with A");
    long long n = sessions_of(alice);
    cr_expect(n == 2, "alice logged in once, failed once with token A, and logged in once with "
              "a garbage token: the sessions table has %lld rows for her; expected 2 (A and "
              "the new one) -- a failed login ends nothing, and a garbage token nothing else",
              n);

    /* and the good login that comes with A ends it */
    body = at_creds("alice", "correct-horse");
    snprintf(headers, sizeof headers, "%s%s", at_bearer(a, NULL), AT_JSON);
    r = rc_send(p, fd, "POST", "/sessions", headers, body, strlen(body));
    snprintf(msg, sizeof msg, "POST /sessions %s with Authorization: Bearer <alice's open token "
             "A>: the right password, so 201", body);
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    ht_free(r);
    expect_ended(p, fd, a, "token A, after a SUCCESSFUL login that came with it: auth.c "
                 "post_session() ends the presented token (sessions.c sessions_end()) once "
                 "sessions_create() made the new session");
}

/* ---- a new password --------------------------------------------------------------- */

Test(lifecycle, a_password_change_needs_a_session_first)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], before[256], after[256];
    at_login(p, fd, "alice", "correct-horse", a);
    hash_of("alice", before, sizeof before);

    char *body = change_body("correct-horse", "a-new-password");
    struct ht_response *r = put_password(p, fd, NULL, body);
    char msg[768];
    snprintf(msg, sizeof msg, "PUT /me/password %s without an Authorization field: whose "
             "password? 401 with the bare challenge. auth.c put_password() calls "
             "authenticate() before anything else", body);
    expect_bare_401(p, r, msg);
    ht_free(r);
    r = rc_send(p, fd, "PUT", "/me/password", "Content-Type: text/plain\r\n", "{", 1);
    expect_bare_401(p, r, "PUT /me/password without an Authorization field and a body \"{\" "
                    "as text/plain: 401 before the body is read (not 415 or 400) -- auth.c "
                    "put_password(): authenticate() first, read_fields() after");
    ht_free(r);
    r = put_password(p, fd, "garbage-token", body);
    snprintf(msg, sizeof msg, "PUT /me/password %s with Authorization: Bearer garbage-token: a "
             "token that opens no session, 401 with error=\"invalid_token\" (auth.c "
             "put_password() -> authenticate())", body);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_free(r);
    hash_of("alice", after, sizeof after);
    cr_expect(strcmp(before, after) == 0, "after three PUT /me/password without a valid token, "
              "alice's password_hash changed:\n  before: %s\n  after:  %s\nexpected it "
              "unchanged: put_password() must refuse before users_change_password()", before,
              after);
    free(body);
    expect_open(p, fd, a, alice, "alice", "her token, after the refused changes");

    change_ok(p, fd, a, "correct-horse", "a-new-password", "the same body with her token");
}

Test(lifecycle, a_wrong_current_password_is_403_and_changes_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", b);
    at_login(p, fd, "alice", "correct-horse", c);
    char before[256], after[256];
    hash_of("alice", before, sizeof before);

    char *body = change_body("not-the-password", "a-new-password");
    struct ht_response *r = put_password(p, fd, a, body);
    char msg[768];
    snprintf(msg, sizeof msg, "PUT /me/password %s with alice's token: the current password is "
             "wrong, so 403 Forbidden, a problem document -- a stolen token alone must not let "
             "anyone lock the owner out. users.c users_change_password() verifies the current "
             "password with crypto_pwhash_str_verify() and answers AUTH_DENIED; auth.c "
             "put_password() answers 403", body);
    free(body);
    cJSON_Delete(jt_expect_problem(p, r, 403, msg));
    ht_free(r);
    hash_of("alice", after, sizeof after);
    cr_expect(strcmp(before, after) == 0, "%s\nalice's password_hash changed:\n  before: %s\n  "
              "after:  %s\nexpected it unchanged: nothing is written when the current password "
              "is wrong", msg, before, after);
    long long n = sessions_of(alice);
    cr_expect(n == 3, "%s\nalice (id %lld) has %lld session rows after it; expected her 3: a "
              "refused change ends no session (sessions_end_all() only after AUTH_OK)", msg,
              alice, n);
    expect_open(p, fd, a, alice, "alice", "the token that asked, after the refused change");
    expect_open(p, fd, b, alice, "alice", "her second token, after the refused change");
    expect_open(p, fd, c, alice, "alice", "her third token, after the refused change");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token); /* the old password still works */

    change_ok(p, fd, a, "correct-horse", "a-new-password", "after the refused one");
}

Test(lifecycle, a_too_short_new_password_is_422_and_changes_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "alice", "correct-horse", b);
    char before[256], after[256];
    hash_of("alice", before, sizeof before);

    char *body = change_body("correct-horse", "seven-7");
    struct ht_response *r = put_password(p, fd, a, body);
    char msg[768];
    snprintf(msg, sizeof msg, "PUT /me/password %s with alice's token: the new password has 7 "
             "characters, fewer than 8, so 422 with an error at \"/new_password\". auth.c "
             "put_password(): read_fields() checks \"new_password\" with "
             "users_check_password(), as POST /users does", body);
    free(body);
    cJSON *j = jt_expect_problem(p, r, 422, msg);
    cr_expect(at_has_error_at(j, "/new_password"), "%s\nthe errors point at %s; expected "
              "\"/new_password\" among them", msg, at_error_pointers(j));
    cJSON_Delete(j);
    ht_free(r);
    hash_of("alice", after, sizeof after);
    cr_expect(strcmp(before, after) == 0, "%s\nalice's password_hash changed:\n  before: %s\n  "
              "after:  %s\nexpected it unchanged", msg, before, after);
    long long n = sessions_of(alice);
    cr_expect(n == 2, "%s\nalice has %lld session rows after it; expected her 2: a refused "
              "change ends no session", msg, n);
    expect_open(p, fd, b, alice, "alice", "her other token, after the refused change");

    change_ok(p, fd, a, "correct-horse", "eight-88", "a new password of exactly 8 characters");
}

Test(lifecycle, a_new_password_keeps_this_session_and_ends_every_other)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char a[AT_TOKEN_LEN + 1], o1[AT_TOKEN_LEN + 1], o2[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", o1);
    at_login(p, fd, "alice", "correct-horse", a);
    at_login(p, fd, "bob", "battery-staple", b);
    at_login(p, fd, "alice", "correct-horse", o2);

    change_ok(p, fd, a, "correct-horse", "brand-new-secret", "alice's second of three sessions");
    expect_open(p, fd, a, alice, "alice", "the token that changed the password: the session "
                "that proved it knows the password goes on (sessions_end_all(s, u.id, tok.p, "
                "tok.n) keeps it: token_hash != ?2)");
    expect_ended(p, fd, o1, "alice's first token, after she changed her password with her "
                 "second: a password is changed because someone else may know it, so every "
                 "other session ends -- auth.c put_password() -> sessions.c sessions_end_all()");
    expect_ended(p, fd, o2, "alice's third token, after she changed her password with her "
                 "second (sessions_end_all())");
    expect_open(p, fd, b, bob, "bob", "bob's token, after alice changed her password: only "
                "her sessions end (WHERE user_id = ?1)");
    long long na = sessions_of(alice), nb = sessions_of(bob), ra = rows_of(a);
    cr_expect(na == 1 && ra == 1 && nb == 1, "after alice changed her password, the sessions "
              "table has %lld row(s) for her, %lld of them the token that changed it, and %lld "
              "for bob; expected 1, 1 and 1", na, ra, nb);

    /* the new password, and only it */
    char *body = at_creds("alice", "correct-horse");
    struct ht_response *r = at_post(p, fd, "/sessions", body);
    char msg[512];
    snprintf(msg, sizeof msg, "POST /sessions %s, alice's OLD password after she changed it: "
             "401 -- users.c users_change_password() UPDATEs password_hash with a hash of the "
             "new one", body);
    free(body);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_free(r);
    char fresh[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "brand-new-secret", fresh);

    char hash[256];
    hash_of("alice", hash, sizeof hash);
    int is_argon = strncmp(hash, "$argon2id$", 10) == 0;
    int new_ok = crypto_pwhash_str_verify(hash, "brand-new-secret", 16) == 0;
    int old_ok = crypto_pwhash_str_verify(hash, "correct-horse", 13) == 0;
    cr_expect(is_argon && new_ok && old_ok == 0,
              "alice's stored hash after the change is\n  %s\nexpected an Argon2id string "
              "(crypto_pwhash_str()) that verifies the new password \"brand-new-secret\" "
              "(%s) and not the old \"correct-horse\" (%s) -- users.c "
              "users_change_password()", hash, new_ok ? "it does" : "it does NOT",
              old_ok ? "it DOES" : "it does not");
}

/* ---- timeouts, end to end: wide margins only ---------------------------------- */

Test(lifecycle, a_busy_session_stays_open_and_an_idle_one_ends)
{
    struct wb_proc *p = wb_start("--session-idle-ms", "1500", NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1];
    long long t0 = wb_now_ms();
    at_login(p, fd, "alice", "correct-horse", a);
    /* a use every 300 ms for 2.5 s: longer than the idle time, so only
     * renewals keep it open */
    int uses = 0;
    for (long long next = t0; wb_now_ms() - t0 < 2500; next += 300) {
        char why[320];
        snprintf(why, sizeof why, "restd --session-idle-ms 1500; the token was used every 300 "
                 "ms since the login, %lld ms ago (use #%d): a session in use never goes idle. "
                 "sessions.c sessions_find() sets seen_ms to now (when a sixteenth of the idle "
                 "time has passed since), and session_valid() measures idleness from seen_ms, "
                 "not from created_ms", wb_now_ms() - t0, uses + 1);
        expect_open(p, fd, a, alice, "alice", why);
        uses++;
        if (wb_ms_left(next + 300))
            wb_pause_ms(wb_ms_left(next + 300));
    }
    long long quiet = wb_now_ms();
    wb_pause_ms(3000); /* twice the idle time, without a word */
    char why[320];
    snprintf(why, sizeof why, "restd --session-idle-ms 1500; the token was last used %lld ms "
             "ago (after %d uses): idle longer than --session-idle-ms, so the session has "
             "ended -- sessions.c session_valid(): now_ms - seen_ms < idle_ms",
             wb_now_ms() - quiet, uses);
    expect_ended(p, fd, a, why);
}

Test(lifecycle, a_session_ends_at_its_maximum_age_even_in_use)
{
    struct wb_proc *p = wb_start("--session-max-ms", "2000", "--session-idle-ms", "600000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1];
    long long t0 = wb_now_ms();
    at_login(p, fd, "alice", "correct-horse", a);
    long long made = wb_now_ms(); /* the session was created in [t0, made] */
    int early = 0, uses = 0;
    for (long long next = made;; next += 250) {
        long long sent = wb_now_ms();
        if (sent - made >= 3500)
            break;
        struct ht_response *r = at_me(p, fd, at_bearer(a, NULL));
        long long got = wb_now_ms();
        uses++;
        if (got - t0 < 1000) { /* surely younger than 2000 ms at the server */
            char why[320];
            snprintf(why, sizeof why, "restd --session-max-ms 2000; the token is at most %lld ms "
                     "old (use #%d): younger than --session-max-ms, so 200. sessions.c "
                     "session_valid(): now_ms - created_ms < max_ms", got - t0, uses);
            char msg[512];
            snprintf(msg, sizeof msg, "GET /me with alice's token %s -- %s", a, why);
            ht_expect_status(p, r, 200, NULL, 0, msg);
            early++;
        }
        ht_free(r);
        if (wb_ms_left(next + 250))
            wb_pause_ms(wb_ms_left(next + 250));
    }
    cr_assert(early > 0, "the test could not use the token within 1 s of logging in (the "
              "login and the first GET /me took %lld ms): is the machine overloaded?",
              wb_now_ms() - t0);
    char why[320];
    snprintf(why, sizeof why, "restd --session-max-ms 2000 --session-idle-ms 600000; the token "
             "is over %lld ms old and was used every 250 ms (%d uses): older than "
             "--session-max-ms, so the session has ended, however busy -- sessions.c "
             "session_valid(): now_ms - created_ms < max_ms, and created_ms never changes "
             "(sessions_find() renews seen_ms only)", wb_now_ms() - made, uses);
    expect_ended(p, fd, a, why);
}

Test(lifecycle, an_ended_session_is_deleted_at_its_next_use_or_login)
{
    struct wb_proc *p = wb_start("--session-idle-ms", "500", NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], c[AT_TOKEN_LEN + 1], d[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    wb_pause_ms(1500); /* three times the idle time */
    long long before = rows_of(a);
    cr_expect(before == 1, "alice's first token, unused for 1.5 s (idle 500 ms): the sessions "
              "table has %lld row(s) for it before anyone uses it; expected 1 -- an ended "
              "session stays a row until it is used or its user logs in again (sessions.c "
              "sessions_create() INSERTs one row per login)", before);
    expect_ended(p, fd, a, "restd --session-idle-ms 500; alice's first token, unused for 1.5 s "
                 "(sessions.c session_valid())");
    long long after = rows_of(a);
    cr_expect(after == 0, "restd --session-idle-ms 500: GET /me with alice's timed-out token "
              "was refused; after it, the sessions table has %lld row(s) for that token; "
              "expected 0 -- sessions.c sessions_find() DELETEs the row of a session that "
              "session_valid() says has ended, so the table does not fill with dead sessions",
              after);

    /* a token no one shows again: its user's next login sweeps it */
    at_login(p, fd, "alice", "correct-horse", c);
    wb_pause_ms(1500);
    at_login(p, fd, "alice", "correct-horse", d);
    long long swept = rows_of(c), rest = sessions_of(alice);
    cr_expect(swept == 0 && rest == 1, "restd --session-idle-ms 500: alice logged in, never "
              "used the token for 1.5 s, and logged in again: the sessions table has %lld "
              "row(s) for the ended token and %lld in all for her; expected 0 and 1 -- "
              "sessions.c sessions_create() first DELETEs the user's ended sessions (seen_ms <= "
              "now - idle_ms OR created_ms <= now - max_ms): a token never shown again would "
              "otherwise keep its row for ever", swept, rest);
    expect_open(p, fd, d, alice, "alice", "the newest login, just made");
}

/* ---- the routes ------------------------------------------------------------------ */

Test(lifecycle, the_session_routes_answer_405_with_their_methods)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", a);
    static const struct {
        const char *method, *target;
        const char *allow[2];
    } cases[] = {
        {"GET", "/sessions", {"POST", "DELETE"}},
        {"PUT", "/sessions/current", {"DELETE", NULL}},
        {"POST", "/sessions/current", {"DELETE", NULL}},
        {"GET", "/me/password", {"PUT", NULL}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = rc_send(p, fd, cases[i].method, cases[i].target, at_bearer(a, NULL),
                                        NULL, 0);
        char msg[512];
        snprintf(msg, sizeof msg, "%s %s with alice's token: the path is one of auth.c's routes, "
                 "the method is not, so 405 with Allow: %s%s%s (auth_serve() builds it from "
                 "routes[] with router_allow())", cases[i].method, cases[i].target,
                 cases[i].allow[0], cases[i].allow[1] ? ", " : "",
                 cases[i].allow[1] ? cases[i].allow[1] : "");
        cJSON_Delete(jt_expect_problem(p, r, 405, msg));
        const char *allow = ht_header(r, "Allow");
        for (int k = 0; k < 2 && cases[i].allow[k]; k++) {
            int has = allow && strstr(allow, cases[i].allow[k]) != NULL;
            cr_expect(has, "%s\nexpected %s in Allow\nreceived: %s", msg, cases[i].allow[k],
                      ht_describe_response(r));
        }
        ht_free(r);
    }
    expect_open(p, fd, a, alice, "alice", "her token after the 405s: a wrong method ends no "
                "session");
    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(a, NULL), NULL, 0);
    expect_204(p, r, "DELETE /sessions/current with alice's token: the method these 405s "
               "named (auth.c delete_current())");
    ht_free(r);
}
