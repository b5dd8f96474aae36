/* Stage 2: log in -- POST /sessions trades a username and its password
 * for a bearer token: 32 random bytes, base64url, a new one at every
 * login, a row in sessions for each. Every failure gets one answer: a
 * wrong password and a name no one has are the same 401, byte for byte,
 * and take the same time (a dummy hash for the unknown name). A hash made
 * with lower costs than --pwhash is made again at the next good login.
 * And the body is checked before any hashing: \u0000 never logs in. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>
#include <sqlite3.h>

#include "authtest.h"

WB_SUITE(login);

/* POST /sessions for name and pw: a 401 problem with a Bearer challenge.
 * Returns the response (ht_free() it). */
static struct ht_response *expect_401(struct wb_proc *p, int fd, const char *name,
                                      const char *pw, const char *why)
{
    char *body = at_creds(name, pw);
    struct ht_response *r = at_post(p, fd, "/sessions", body);
    char msg[768];
    snprintf(msg, sizeof msg, "POST /sessions %s -- %s: 401 Unauthorized, a problem document. "
             "users.c users_login() returns AUTH_DENIED, auth.c post_session() answers 401",
             body, why);
    free(body);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    const char *ch = ht_header(r, "WWW-Authenticate");
    cr_expect(ch && strncmp(ch, "Bearer", 6) == 0,
              "%s\nexpected WWW-Authenticate: Bearer realm=\"restd\" -- a 401 always says how to "
              "authenticate (RFC 9110 section 15.5.2)\nreceived: %s", msg,
              ht_describe_response(r));
    return r;
}

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

Test(login, a_login_is_201_with_a_bearer_token_of_32_random_bytes)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    const char *body = "{\"username\":\"alice\",\"password\":\"correct-horse\"}";
    struct ht_response *r = at_post(p, fd, "/sessions", body);
    ht_expect_status(p, r, 201, NULL, 0, "POST /sessions with alice's username and password: "
                     "201 and a token. auth.c post_session() -> users.c users_login() -> "
                     "sessions.c sessions_create()");
    ht_expect_header(p, r, "Cache-Control", "no-store", "an answer with a token is never "
                     "stored by a cache (RFC 6749 section 5.1): post_session() adds "
                     "Cache-Control: no-store");
    cJSON *j = jt_body(p, r, "the 201 to POST /sessions");
    const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "token");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "token_type");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    int shape = cJSON_IsString(tok) && cJSON_IsString(type) &&
                strcmp(type->valuestring, "Bearer") == 0 && cJSON_IsNumber(exp) &&
                exp->valuedouble > 0;
    cr_assert(shape, "POST /sessions %s answered\n  %s\nexpected {\"token\": \"<43 characters>\", "
              "\"token_type\": \"Bearer\", \"expires_in\": <seconds, > 0>} (RFC 6749 section "
              "5.1)", body, wb_esc(r->body, r->body_len, 400));
    const char *t = tok->valuestring;
    size_t len = strlen(t), good = strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                                "0123456789-_");
    unsigned char raw[64];
    size_t n = 0;
    const char *end = NULL;
    int decoded = len == AT_TOKEN_LEN && good == len &&
                  sodium_base642bin(raw, sizeof raw, t, len, NULL, &n, &end,
                                    sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                  n == 32 && end == t + len;
    cr_expect(decoded, "the token is \"%s\" (%zu characters)\nexpected 43 characters of "
              "A-Z a-z 0-9 - _ that decode to 32 bytes: sessions.c sessions_create() fills 32 "
              "bytes with randombytes_buf() and writes them with sodium_bin2base64(..., "
              "sodium_base64_VARIANT_URLSAFE_NO_PADDING) -- 256 bits no one can guess", t, len);
    const cJSON *m;
    cJSON_ArrayForEach(m, j)
    {
        int secret = strcasestr(m->string, "pass") || strcasestr(m->string, "hash");
        cr_expect(secret == 0, "the 201 to POST /sessions has the member \"%s\": %s\nit holds "
                  "the token, its type and its lifetime, nothing of the password", m->string,
                  wb_esc(r->body, r->body_len, 300));
    }
    cJSON_Delete(j);
    ht_free(r);
}

Test(login, every_login_is_a_session_of_its_own_with_a_new_token)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char t1[AT_TOKEN_LEN + 1], t2[AT_TOKEN_LEN + 1], t3[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", t1);
    at_login(p, fd, "alice", "correct-horse", t2);
    at_login(p, fd, "bob", "battery-staple", t3);
    cr_expect(strcmp(t1, t2) != 0 && strcmp(t1, t3) != 0 && strcmp(t2, t3) != 0,
              "three logins gave the tokens\n  %s\n  %s\n  %s\nexpected three different "
              "ones: every login draws 32 new random bytes (randombytes_buf() in "
              "sessions_create()), never a token made from the name or the password", t1, t2,
              t3);
    sqlite3 *db = db_oracle(at_db_path());
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE user_id = %lld", alice);
    const char *a = db_value(db, sql);
    cr_expect(strcmp(a, "2") == 0, "alice (id %lld) logged in twice; the sessions table has %s "
              "rows with her user_id; expected 2: sessions.c sessions_create() INSERTs one row "
              "per login", alice, a);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE user_id = %lld", bob);
    const char *b = db_value(db, sql);
    cr_expect(strcmp(b, "1") == 0, "bob (id %lld) logged in once; the sessions table has %s "
              "rows with his user_id; expected 1", bob, b);
    sqlite3_close(db);
}

Test(login, a_wrong_password_and_an_unknown_user_get_the_same_401)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    struct ht_response *first = expect_401(p, fd, "alice", "wrong-password", "alice's name with "
                                           "a wrong password");
    size_t flen;
    char *want = at_without_date(first, &flen);
    static const struct {
        const char *name, *pw, *why;
    } others[] = {
        {"mallory", "wrong-password", "a username no one has"},
        {"Alice", "correct-horse", "\"Alice\": no one has that name (names are lower case)"},
        {"a-name-far-too-long-to-be-anyones-username", "correct-horse",
         "a name longer than any username"},
        {"alice", "", "alice with an empty password"},
    };
    for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
        struct ht_response *r = expect_401(p, fd, others[i].name, others[i].pw, others[i].why);
        size_t glen;
        char *got = at_without_date(r, &glen);
        int same = glen == flen && memcmp(got, want, flen) == 0;
        cr_expect(same, "POST /sessions for %s answered differently from alice with a wrong "
                  "password (the Date field left out):\n%s\nEvery failed login gets the same "
                  "status, fields and body -- the same detail text too: a difference tells an "
                  "attacker which usernames exist (OWASP Authentication Cheat Sheet). auth.c "
                  "post_session() answers every AUTH_DENIED with one 401", others[i].why,
                  wb_diff(want, flen, got, glen, 300));
        free(got);
        ht_free(r);
    }
    free(want);
    ht_free(first);
    char token[AT_TOKEN_LEN + 1]; /* and the right password still opens a session */
    at_login(p, fd, "alice", "correct-horse", token);
}

Test(login, an_unknown_user_takes_as_long_as_a_wrong_password)
{
    /* OWASP's floor for Argon2id: 2 passes over 19 MiB, ~20 ms a hash;
     * and stage 7's counts of failed logins high enough never to answer
     * 429: this test times hashes, 14 failures from one client */
    const char *path = at_db_path();
    struct wb_proc *p = wb_start("--db", path, "--pwhash", "owasp", "--login-max-failures",
                                 "1000", "--ip-login-limit", "1000", NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    enum { ROUNDS = 7 };
    double wrong[ROUNDS], unknown[ROUNDS];
    char all[1024];
    size_t o = 0;
    for (int i = 0; i < ROUNDS; i++) {
        for (int k = 0; k < 2; k++) {
            char name[32];
            snprintf(name, sizeof name, "%s", k ? "nobody-here" : "alice");
            double t0 = now_ms();
            struct ht_response *r = expect_401(p, fd, name, "wrong-password",
                                               k ? "a username no one has" : "a wrong password");
            double ms = now_ms() - t0;
            ht_free(r);
            (k ? unknown : wrong)[i] = ms;
            if (o < sizeof all - 40)
                o += (size_t)snprintf(all + o, sizeof all - o, " %s %.1f", k ? "u" : "w", ms);
        }
    }
    double mw = at_median(wrong, ROUNDS), mu = at_median(unknown, ROUNDS);
    cr_expect(mw >= 5.0, "with --pwhash owasp a login with a wrong password took %.2f ms "
              "(median of %d); expected 5 ms or more: the password must be checked against the "
              "stored hash with crypto_pwhash_str_verify(), which runs Argon2id with the "
              "hash's costs (users.c users_login())\nevery login, in ms (w wrong password, u "
              "unknown user):%s", mw, ROUNDS, all);
    cr_expect(mu >= 0.5 * mw, "with --pwhash owasp, a login for a username no one has took "
              "%.2f ms (median of %d), and one with a wrong password %.2f ms: an attacker who "
              "times the answers learns which usernames exist. users.c users_login(): when "
              "there is no such account, check the password against u->dummy (a hash of a "
              "random password made at start, with the same costs) all the same, and answer "
              "no\nevery login, in ms (w wrong password, u unknown user):%s", mu, ROUNDS, mw,
              all);
    char token[AT_TOKEN_LEN + 1]; /* and the right password still opens a session */
    at_login(p, fd, "alice", "correct-horse", token);
}

Test(login, a_good_login_makes_a_hash_with_lower_costs_again_and_never_weaker)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    const char *path = at_db_path();
    struct wb_proc *p = wb_start(NULL); /* --pwhash test */
    int fd = wb_connect(p);
    at_register(p, fd, "carol", "rehash-me-please");
    sqlite3 *db = db_oracle(path);
    char old[256];
    snprintf(old, sizeof old, "%s", at_user_value(db, "password_hash", "carol"));
    sqlite3_close(db);
    cr_assert(strstr(old, "$m=8,t=1,") != NULL, "carol registered under --pwhash test, and her "
              "hash is %s; expected the costs m=8,t=1 in it (users_create() hashes with "
              "u->cost)", old);
    at_stop(p);

    p = wb_start("--db", path, "--pwhash", "owasp", NULL);
    fd = wb_connect(p);
    ht_free(expect_401(p, fd, "carol", "not-her-password", "a wrong password, after a restart "
                       "with --pwhash owasp"));
    db = db_oracle(path);
    const char *now = at_user_value(db, "password_hash", "carol");
    cr_expect(strcmp(now, old) == 0, "a login with a WRONG password changed carol's hash:\n  "
              "before: %s\n  after:  %s\nonly a password that verified may be hashed again "
              "(users_login(): crypto_pwhash_str_needs_rehash() after a successful "
              "crypto_pwhash_str_verify())", old, now);
    sqlite3_close(db);

    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "carol", "rehash-me-please", token);
    db = db_oracle(path);
    char fresh[256];
    snprintf(fresh, sizeof fresh, "%s", at_user_value(db, "password_hash", "carol"));
    sqlite3_close(db);
    cr_expect(strstr(fresh, "$m=19456,t=2,p=1$") != NULL,
              "carol's hash was made with --pwhash test (%s); she logged in to a server "
              "running --pwhash owasp, and her hash is now\n  %s\nexpected the costs "
              "m=19456,t=2,p=1 in it: after a good login, users_login() asks "
              "crypto_pwhash_str_needs_rehash(hash, u->cost->ops, u->cost->mem) and, when it "
              "says so, hashes the password again and UPDATEs the row -- the only moment the "
              "server has the password to do it", old, fresh);
    int ok = crypto_pwhash_str_verify(fresh, "rehash-me-please", 16) == 0;
    cr_expect(ok, "carol's new hash %s does not verify her password \"rehash-me-please\"",
              fresh);
    at_stop(p);

    /* back to a cheaper profile: her stronger hash stays as it is */
    p = wb_start("--db", path, "--pwhash", "test", NULL);
    fd = wb_connect(p);
    at_login(p, fd, "carol", "rehash-me-please", token);
    db = db_oracle(path);
    now = at_user_value(db, "password_hash", "carol");
    cr_expect(strcmp(now, fresh) == 0,
              "carol's hash was made at --pwhash owasp (%s); she logged in to a server "
              "running --pwhash test, and her hash is now\n  %s\nexpected it unchanged: "
              "rehash only when the stored costs were LOWER than the profile's (m= times t= "
              "of the string against cost->mem times cost->ops) -- a server started with a "
              "cheap profile must not weaken the hashes it finds", fresh, now);
    sqlite3_close(db);
}

Test(login, passwords_and_usernames_are_compared_exactly)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "Exact-Password-1");
    static const struct {
        const char *name, *pw, *why;
    } wrong[] = {
        {"alice", "exact-password-1", "the password in another case"},
        {"alice", "Exact-Password-1 ", "the password with a space after it"},
        {"alice", "Exact-Password-", "the password without its last character"},
        {"alice", "Exact-Password-12", "the password with a character more"},
        {" alice", "Exact-Password-1", "the username with a space before it"},
        {"ALICE", "Exact-Password-1", "the username in upper case"},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++)
        ht_free(expect_401(p, fd, wrong[i].name, wrong[i].pw, wrong[i].why));
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "Exact-Password-1", token);
}

Test(login, a_nul_in_the_password_never_logs_in)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    /* cJSON cuts the string at \u0000: "correct-horse" -- alice's password */
    static const char *const bodies[] = {
        "{\"username\":\"alice\",\"password\":\"correct-horse\\u0000anything\"}",
        "{\"username\":\"alice\\u0000x\",\"password\":\"correct-horse\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ht_response *r = at_post(p, fd, "/sessions", bodies[i]);
        char why[512];
        snprintf(why, sizeof why, "POST /sessions %s: 422. cJSON's string ends at the NUL, so "
                 "the password it hands you is alice's, and a server that uses it lets in "
                 "someone who sent another password. auth.c post_session() refuses \\u0000 in "
                 "a credential (json_check()'s nul_escapes), as post_user() does", bodies[i]);
        cJSON_Delete(jt_expect_problem(p, r, 422, why));
        ht_free(r);
    }
    sqlite3 *db = db_oracle(at_db_path());
    const char *n = db_value(db, "SELECT count(*) FROM sessions");
    cr_expect(strcmp(n, "0") == 0, "after two refused logins with \\u0000 the sessions table has "
              "%s rows; expected 0", n);
    sqlite3_close(db);
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
}

Test(login, the_login_body_is_checked_before_any_hash)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    static const struct {
        const char *headers, *body;
        int status;
        const char *pointer;
        const char *why;
    } cases[] = {
        {"Content-Type: text/plain\r\n", "{\"username\":\"alice\",\"password\":\"correct-horse\"}",
         415, NULL, "the body is not Content-Type: application/json"},
        {AT_JSON, "{\"username\":\"alice\",\"password\":\"correct-", 400, NULL,
         "JSON cut short"},
        {AT_JSON, "{\"username\":\"alice\"}", 422, "/password", "no password member"},
        {AT_JSON, "{\"password\":\"correct-horse\"}", 422, "/username", "no username member"},
        {AT_JSON, "{\"username\":\"alice\",\"password\":null}", 422, "/password",
         "the password is null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "POST", "/sessions", cases[i].headers,
                                        cases[i].body, strlen(cases[i].body));
        char why[400];
        snprintf(why, sizeof why, "POST /sessions with %s: %d, a problem document -- the same "
                 "checks as POST /users (auth.c post_session()), without the rules for new "
                 "names and passwords", cases[i].why, cases[i].status);
        cJSON *j = jt_expect_problem(p, r, cases[i].status, why);
        if (cases[i].pointer)
            cr_expect(at_has_error_at(j, cases[i].pointer),
                      "%s\nthe errors point at %s; expected \"%s\" among them", why,
                      at_error_pointers(j), cases[i].pointer);
        cJSON_Delete(j);
        ht_free(r);
    }
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    sqlite3 *db = db_oracle(at_db_path());
    const char *n = db_value(db, "SELECT count(*) FROM sessions");
    cr_expect(strcmp(n, "1") == 0, "after %zu refused logins and one good one the sessions "
              "table has %s rows; expected 1", sizeof cases / sizeof cases[0], n);
    sqlite3_close(db);
}

Test(login, the_file_is_at_version_5_with_a_strict_sessions_table)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    sqlite3 *db = db_oracle(at_db_path());
    const char *version = db_value(db, "PRAGMA user_version");
    cr_expect(atoi(version) >= 5, "PRAGMA user_version of %s is %s; expected 5 (or more, "
              "after later stages): chapter 04's 3 steps, then authdb.c's -- users (4) and "
              "sessions (5), appended to authdb_steps[] in that order (a file out there is at "
              "some version: only ever append a step)", at_db_path(), version);
    const char *sql = db_value(db, "SELECT sql FROM sqlite_schema WHERE name = 'sessions'");
    cr_expect(strstr(sql, "STRICT") != NULL, "the sessions table is \"%s\"; expected a STRICT "
              "table (authdb.c, step 5)", sql);
    const char *fk = db_value(db, "SELECT \"table\" FROM pragma_foreign_key_list('sessions')");
    cr_expect(strcmp(fk, "users") == 0, "sessions.user_id REFERENCES \"%s\"; expected users "
              "(id) ON DELETE CASCADE: a session belongs to an account and goes with it", fk);
    sqlite3_close(db);
}

Test(login, an_account_made_before_a_restart_logs_in_after_it)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "correct-horse");
    at_stop(p);
    p = wb_start(NULL);
    fd = wb_connect(p);
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    ht_free(expect_401(p, fd, "alice", "wrong-password", "a wrong password after the restart"));
}
