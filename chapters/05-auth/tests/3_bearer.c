/* Stage 3: bearer tokens, stored as hashes -- GET /me says who a token
 * is. No credentials is a 401 with the bare challenge, a token that opens
 * no session a 401 with error="invalid_token", a malformed Authorization
 * a 400 with error="invalid_request" (RFC 6750 section 3.1); only the
 * header counts, never the query. The database keeps the SHA-256 of the
 * token's bytes and nothing the token could be read from; sessions
 * survive a restart; and the items API still needs no token. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <sqlite3.h>

#include "authtest.h"

WB_SUITE(bearer);

/* GET target with headers must be a status problem whose challenge is
 * exactly `Bearer realm="restd"` (error NULL) or carries error="<error>". */
static void expect_challenge(struct wb_proc *p, int fd, const char *target, const char *headers,
                             int status, const char *error, const char *why)
{
    struct ht_response *r = rc_send(p, fd, "GET", target, headers, NULL, 0);
    char msg[1024];
    snprintf(msg, sizeof msg, "GET %s with %s -- %s: %d, a problem document with "
             "WWW-Authenticate: %s%s%s%s. auth.c authenticate()", target,
             headers ? wb_esc(headers, strlen(headers), 200) : "no Authorization field", why,
             status, AT_REALM, error ? ", error=\"" : "", error ? error : "", error ? "\"" : "");
    cJSON_Delete(jt_expect_problem(p, r, status, msg));
    at_expect_challenge(p, r, error, msg);
    ht_free(r);
}

/* GET /me with headers must be 200 with the account {id, name, "user"}. */
static void expect_me(struct wb_proc *p, int fd, const char *headers, long long id,
                      const char *name, const char *why)
{
    struct ht_response *r = at_me(p, fd, headers);
    char msg[768], want[128];
    snprintf(msg, sizeof msg, "GET /me with %s -- %s: 200 and the account the token's session "
             "belongs to. auth.c authenticate() -> sessions.c sessions_find()",
             wb_esc(headers, strlen(headers), 200), why);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_expect_header(p, r, "Cache-Control", "no-store", "GET /me answers an account: never "
                     "cached (user_respond() adds Cache-Control: no-store)");
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"%s\",\"role\":\"user\"}", id, name);
    jt_expect_json(p, r, want, msg);
    ht_free(r);
}

Test(bearer, me_without_credentials_is_401_with_the_bare_challenge)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    expect_challenge(p, fd, "/me", NULL, 401, NULL, "no credentials: the challenge says how to "
                     "authenticate, without an error code (RFC 6750 section 3.1: none when "
                     "the request had no authentication information)");
    expect_challenge(p, fd, "/me", "Authorization: Basic dXNlcjpwYXNz\r\n", 401, NULL,
                     "another scheme (Basic): to this server that is no credentials at all");
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's token");
}

Test(bearer, me_with_a_token_answers_its_account_whatever_the_scheme_case)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's token");
    static const char *const schemes[] = {"bearer", "BEARER", "bEaReR"};
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        char h[160];
        snprintf(h, sizeof h, "Authorization: %s %s\r\n", schemes[i], token);
        expect_me(p, fd, h, id, "alice", "the scheme's name has no case (RFC 9110 section 11.1):"
                  " compare it with http_slice_eq_nocase()");
    }
}

Test(bearer, each_token_is_its_own_account)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char ta[AT_TOKEN_LEN + 1], tb[AT_TOKEN_LEN + 1], ta2[AT_TOKEN_LEN + 1];
    at_login(p, fd, "bob", "battery-staple", tb);
    at_login(p, fd, "alice", "correct-horse", ta);
    at_login(p, fd, "alice", "correct-horse", ta2);
    expect_me(p, fd, at_bearer(tb, NULL), bob, "bob", "bob's token: bob, whoever logged in last");
    expect_me(p, fd, at_bearer(ta, NULL), alice, "alice", "alice's first token");
    expect_me(p, fd, at_bearer(ta2, NULL), alice, "alice", "alice's second token: both of her sessions "
              "stay open");
}

Test(bearer, a_token_that_opens_no_session_is_401_invalid_token)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);

    unsigned char raw[32];
    char unknown[AT_TOKEN_LEN + 1], changed[AT_TOKEN_LEN + 1];
    wb_random_bytes(raw, sizeof raw);
    sodium_bin2base64(unknown, sizeof unknown, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    memcpy(changed, token, sizeof changed);
    changed[10] = changed[10] == 'A' ? 'B' : 'A';
    char why[256];
    snprintf(why, sizeof why, "a well-formed token no login gave (seed %llu): "
             "sessions_find() finds no row with its hash, AUTH_DENIED",
             (unsigned long long)wb_seed());
    expect_challenge(p, fd, "/me", at_bearer("garbage-token", NULL), 401, "invalid_token",
                     "a token that is not 43 characters of base64url: it opens nothing "
                     "(sessions_find() returns AUTH_DENIED)");
    expect_challenge(p, fd, "/me", at_bearer(unknown, NULL), 401, "invalid_token", why);
    snprintf(why, sizeof why, "alice's token with its 11th character changed (%s): another "
             "token, no session", changed);
    expect_challenge(p, fd, "/me", at_bearer(changed, NULL), 401, "invalid_token", why);

    /* RFC 6750's token68 allows trailing '=': a server may call these
     * malformed (400) or unknown (401); never alice. */
    char padded[AT_TOKEN_LEN + 2], longer[AT_TOKEN_LEN + 2];
    snprintf(padded, sizeof padded, "%s=", token);
    snprintf(longer, sizeof longer, "%sA", token);
    const char *const near[] = {padded, longer};
    for (size_t i = 0; i < 2; i++) {
        struct ht_response *r = at_me(p, fd, at_bearer(near[i], NULL));
        char msg[512];
        snprintf(msg, sizeof msg, "GET /me with alice's token %s (\"%s\", %zu characters): a "
                 "token is exactly the 43 characters login gave, so this one opens nothing -- "
                 "401 (or 400), a problem document. sessions.c sessions_find() decodes exactly "
                 "43 characters of base64url without padding to 32 bytes, else AUTH_DENIED",
                 i ? "with a character added" : "with \"=\" padding added", near[i],
                 strlen(near[i]));
        int refused = r->status == 401 || r->status == 400;
        cr_expect(refused, "%s\nreceived: %s", msg, ht_describe_response(r));
        if (refused)
            cJSON_Delete(jt_expect_problem(p, r, r->status, msg));
        ht_free(r);
    }
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's own token, after the refused ones");
}

Test(bearer, a_malformed_authorization_is_400_invalid_request)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    expect_challenge(p, fd, "/me", "Authorization: Bearer \r\n", 400, "invalid_request",
                     "the Bearer scheme without a token: a malformed request, not a wrong "
                     "token");
    char two[256];
    snprintf(two, sizeof two, "Authorization: Bearer %s\r\nAuthorization: Bearer %s\r\n", token,
             token);
    expect_challenge(p, fd, "/me", two, 400, "invalid_request",
                     "two Authorization fields, even with a good token in each: which one "
                     "counts is ambiguous, so none does -- count the fields before reading "
                     "one");
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's token in one field");
}

Test(bearer, a_token_in_the_query_is_never_read)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1], target[96];
    at_login(p, fd, "alice", "correct-horse", token);
    snprintf(target, sizeof target, "/me?access_token=%s", token);
    expect_challenge(p, fd, target, NULL, 401, NULL,
                     "a valid token in the query and no Authorization field: a token in a URL "
                     "ends up in logs, histories and Referer fields (RFC 6750 section 5.3), so "
                     "only the header is read");
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "the same token in the header");
}

Test(bearer, the_database_keeps_only_the_sha256_of_the_token)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);

    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
    size_t n = 0;
    cr_assert(sodium_base642bin(raw, sizeof raw, token, AT_TOKEN_LEN, NULL, &n, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32,
              "the token %s does not decode to 32 bytes of base64url", token);
    crypto_hash_sha256(digest, raw, sizeof raw);
    char want[2 * sizeof digest + 1];
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(want + 2 * i, 3, "%02X", digest[i]);

    sqlite3 *db = db_oracle(at_db_path());
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT typeof(token_hash) || ' ' || hex(token_hash) FROM sessions "
             "WHERE user_id = %lld", id);
    char got[160], expect[160];
    snprintf(got, sizeof got, "%s", db_value(db, sql));
    snprintf(expect, sizeof expect, "blob %s", want);
    cr_expect(strcmp(got, expect) == 0,
              "alice's session row has token_hash (type, hex) \"%s\"\nexpected \"%s\": a BLOB "
              "of 32 bytes, the SHA-256 (crypto_hash_sha256()) of the token's 32 decoded bytes "
              "-- sessions.c sessions_create() stores it, sessions_find() hashes the token a "
              "client sends and looks that up. Whoever reads a copy of the file then holds no "
              "token that works", got, expect);

    /* The session is the row: without it, the token opens nothing. */
    snprintf(sql, sizeof sql, "DELETE FROM sessions WHERE user_id = %lld", id);
    db_exec(db, sql);
    sqlite3_close(db);
    expect_challenge(p, fd, "/me", at_bearer(token, NULL), 401, "invalid_token",
                     "alice's token after the test deleted her session's row: sessions_find() "
                     "looks the session up in the database at every request, never in a copy "
                     "in memory");
}

Test(bearer, the_token_is_in_no_byte_of_the_database_files)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's token");
    unsigned char raw[32];
    size_t n = 0;
    cr_assert(sodium_base642bin(raw, sizeof raw, token, AT_TOKEN_LEN, NULL, &n, NULL,
                                sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32,
              "the token %s does not decode to 32 bytes of base64url", token);
    const char *path = at_db_path();
    for (int stopped = 0; stopped < 2; stopped++) {
        const char *text = at_file_holding(path, token, AT_TOKEN_LEN);
        cr_expect(text == NULL, "%s, the test found alice's token \"%s\" in %s: the database "
                  "keeps the SHA-256 of the token's bytes, never the token (sessions.c "
                  "sessions_create())", stopped ? "after restd stopped" : "while restd ran",
                  token, text);
        const char *bytes = at_file_holding(path, raw, sizeof raw);
        cr_expect(bytes == NULL, "%s, the test found the 32 bytes of alice's token in %s: "
                  "stored raw, they are the token. Store crypto_hash_sha256() of them "
                  "(sessions.c sessions_create())", stopped ? "after restd stopped"
                  : "while restd ran", bytes);
        if (!stopped)
            at_stop(p);
    }
}

Test(bearer, tokens_survive_a_restart)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    at_stop(p);
    p = wb_start(NULL);
    fd = wb_connect(p);
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "a token from before a restart on the same "
              "file: sessions live in the database, so a restart (or a second server on the "
              "same file) logs no one out");
}

Test(bearer, health_needs_no_token)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    struct ht_response *r = rc_send(p, fd, "GET", "/health", NULL, NULL, 0);
    ht_expect_status(p, r, 200, NULL, 0, "GET /health without any Authorization: a load "
                     "balancer asks it without an account -- auth.c auth_serve() hands it to "
                     "api_serve() as it is");
    ht_free(r);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char token[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", token);
    expect_me(p, fd, at_bearer(token, NULL), id, "alice", "alice's token, beside the items");
    rc_expect_alive(p, fd, "GET /me");
}
