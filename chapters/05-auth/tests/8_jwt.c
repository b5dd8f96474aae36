/* Stage 8: JWTs, done safely -- the contrast to the sessions. POST
 * /tokens turns a session into a JWT: HS256 under the bytes of
 * --jwt-secret-file, the header exactly {"alg":"HS256","typ":"JWT"}, the
 * claims iss, aud, sub, iat, nbf, exp and jti. The test holds the key
 * too: it checks the server's MAC with libsodium, and it signs its own
 * tokens -- a good one, which must open the account, and forgeries that
 * break one rule each (the MAC, the algorithm, a member named twice, a
 * claim, the spelling), which must be 401 invalid_token while the server
 * goes on. A JWT is no session: it cannot make another (403) or log out
 * (400), and logging out everywhere or a new password takes back every
 * JWT made before. jwt_sign() reproduces RFC 7515 appendix A.1, and
 * jwt_verify()'s edges are tested without a clock. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "authtest.h"
#include "jwt.h"

WB_SUITE(jwt);

#define HS256 "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"
#define B64URL sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* Where a JWT goes through the server, for the messages. */
#define VERIFY_PATH "auth.c authenticate(): a token with dots (is_jwt()) is a JWT -- jwt.c " \
    "jwt_verify() with c->auth->jwt's key, iss, aud and now (sessions_now_ms() / 1000), then " \
    "users.c users_token_user() of its sub and iat (a 500 there: it reads users.tokens_after, " \
    "the column authdb.c step 7 adds)"
#define TOKENS_PATH "auth.c post_token(): authenticate(), users.c users_tokens_after() (a 500 " \
    "there: the column users.tokens_after, authdb.c step 7), the claims, jwt.c jwt_sign() with " \
    "c->auth->jwt's key"

/* ---- helpers: the test's own JWTs ---------------------------------------- */

/* printf into a malloc'd text. */
static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
    va_list ap;
    va_start(ap, f);
    int n = vsnprintf(NULL, 0, f, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    cr_assert(s != NULL, "test setup: out of memory");
    va_start(ap, f);
    vsnprintf(s, (size_t)n + 1, f, ap);
    va_end(ap);
    return s;
}

static void need_sodium(void)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
}

/* p[0..n) in base64url without padding: malloc'd. */
static char *b64u(const void *p, size_t n)
{
    need_sodium();
    size_t cap = sodium_base64_ENCODED_LEN(n, B64URL);
    char *s = malloc(cap);
    cr_assert(s != NULL, "test setup: out of memory");
    sodium_bin2base64(s, cap, p, n, B64URL);
    return s;
}

/* The strict base64url text p[0..n) into out[0..cap): 0 and *len, or -1
 * when it is not one (padding, '+', '/', leftover bits). */
static int unb64u(const char *p, size_t n, unsigned char *out, size_t cap, size_t *len)
{
    need_sodium();
    const char *end = NULL;
    if (n == 0 || sodium_base642bin(out, cap, p, n, NULL, len, &end, B64URL) != 0 ||
        end != p + n)
        return -1;
    return 0;
}

/* BASE64URL(header) "." BASE64URL(claims): the text a JWT signs. */
static char *signing_input(const char *header, const char *claims)
{
    char *h = b64u(header, strlen(header)), *c = b64u(claims, strlen(claims));
    char *s = fmt("%s.%s", h, c);
    free(h);
    free(c);
    return s;
}

/* HMAC-SHA-256 of text under key[0..keylen): libsodium's, never the
 * chapter's code. */
static void hmac256(const char *text, size_t n, const unsigned char *key, size_t keylen,
                    unsigned char mac[crypto_auth_hmacsha256_BYTES])
{
    need_sodium();
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)text, n);
    crypto_auth_hmacsha256_final(&st, mac);
}

/* text "." BASE64URL(HMAC-SHA-256 of text under key): malloc'd. */
static char *seal(const char *text, const unsigned char *key, size_t keylen)
{
    unsigned char mac[crypto_auth_hmacsha256_BYTES];
    hmac256(text, strlen(text), key, keylen, mac);
    char *sig = b64u(mac, sizeof mac), *s = fmt("%s.%s", text, sig);
    free(sig);
    return s;
}

/* An HS256 JWT of exactly these header and claims bytes, signed by the
 * test: malloc'd. */
static char *sign(const unsigned char *key, size_t keylen, const char *header, const char *claims)
{
    char *in = signing_input(header, claims), *s = seal(in, key, keylen);
    free(in);
    return s;
}

/* 22 characters of base64url: 16 random bytes (the test's seed), a jti. */
static void new_jti(char out[32])
{
    unsigned char raw[16];
    wb_random_bytes(raw, sizeof raw);
    char *s = b64u(raw, sizeof raw);
    snprintf(out, 32, "%s", s);
    free(s);
}

/* Claims restd takes with its defaults: iss and aud "restd", sub the
 * account id, iat and nbf now, exp now + 300, a fresh jti. malloc'd. */
static char *good_claims(long long id, long long now)
{
    char jti[32];
    new_jti(jti);
    return fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,\"nbf\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now, now, now + 300, jti);
}

/* ---- helpers: restd with a key of the test's ---------------------------- */

struct key {
    unsigned char k[JWT_SECRET_MAX + 16];
    size_t n;
    char path[512];
};

/* n random bytes (the test's seed) into k and into the file name of the
 * test's folder. */
static void make_key(struct key *k, const char *name, size_t n)
{
    cr_assert(n <= sizeof k->k, "test setup: a key of %zu bytes is too long", n);
    k->n = n;
    wb_random_bytes(k->k, n);
    snprintf(k->path, sizeof k->path, "%s", db_tmp_path(name));
    FILE *f = fopen(k->path, "wb");
    cr_assert(f != NULL, "the test cannot write %s", k->path);
    int ok = fwrite(k->k, 1, n, f) == n;
    ok &= fclose(f) == 0;
    cr_assert(ok, "the test cannot write %s", k->path);
}

/* restd --jwt-secret-file <a new 32-byte key of the test's> and the
 * chapter's --db and --pwhash. */
static struct wb_proc *start_keyed(struct key *k)
{
    make_key(k, "jwt.key", 32);
    return wb_start("--jwt-secret-file", k->path, NULL);
}

/* The seconds since 1970 now, as the server reads them. */
static long long now_s(void)
{
    return (long long)time(NULL);
}

/* POST /tokens (an empty body) with the header lines creds. */
static struct ht_response *post_tokens(struct wb_proc *p, int fd, const char *creds)
{
    return rc_send(p, fd, "POST", "/tokens", creds, "", 0);
}

/* POST /tokens with the session credentials creds (whose, for the
 * message), which must be 200 with an "access_token" of three parts:
 * malloc'd. */
static char *get_jwt(struct wb_proc *p, int fd, const char *creds, const char *whose)
{
    struct ht_response *r = post_tokens(p, fd, creds);
    char msg[1024];
    snprintf(msg, sizeof msg, "POST /tokens with %s: a session asks for a JWT, so 200 with "
             "{\"access_token\": <JWT>, \"token_type\": \"Bearer\", \"expires_in\": "
             "<--jwt-ttl-s>}. " TOKENS_PATH, whose);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    const char *s = cJSON_IsString(t) ? t->valuestring : "";
    const char *dot = strchr(s, '.');
    int ok = dot && strchr(dot + 1, '.') && strlen(s) < 8192;
    char *out = ok ? fmt("%s", s) : NULL;
    cJSON_Delete(j);
    if (!ok)
        cr_fatal("%s\nexpected \"access_token\", a string of three base64url parts joined by "
                 "dots (jwt_sign())\nreceived: %s", msg, ht_describe_response(r));
    ht_free(r);
    return out;
}

/* GET /me with the JWT token must be 200 with the account {id, name}. */
static void expect_me(struct wb_proc *p, int fd, const char *token, long long id,
                      const char *name, const char *why)
{
    struct ht_response *r = at_me(p, fd, at_bearer(token, NULL));
    char msg[2048], want[128];
    snprintf(msg, sizeof msg, "GET /me with Authorization: Bearer <%s> -- %s: the JWT stands "
             "for %s's account, so 200 and the account. " VERIFY_PATH "\ntoken sent: %s",
             name, why, name, wb_esc(token, strlen(token), 400));
    ht_expect_status(p, r, 200, NULL, 0, msg);
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"%s\",\"role\":\"user\"}", id, name);
    jt_expect_json(p, r, want, msg);
    ht_free(r);
}

/* GET /me with token must be 401 with error="invalid_token": what the
 * token is, and the rule it breaks, for the message. */
static void expect_refused(struct wb_proc *p, int fd, const char *token, const char *what,
                           const char *rule)
{
    struct ht_response *r = at_me(p, fd, at_bearer(token, NULL));
    char msg[2048];
    snprintf(msg, sizeof msg, "GET /me with a JWT %s -- %s: 401 with WWW-Authenticate: %s, "
             "error=\"invalid_token\" (auth.c authenticate() answers so for every refusal of "
             "jwt.c jwt_verify(), whose phrase goes into the detail)\ntoken sent: %s", what,
             rule, AT_REALM, wb_esc(token, strlen(token), 400));
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    at_expect_challenge(p, r, "invalid_token", msg);
    ht_free(r);
}

/* A forgery for the table-driven tests: the token, what it is, and the
 * rule it breaks. */
struct forgery {
    char *token;
    char what[512];
    const char *rule;
};

/* Sends every forgery in f[0..n) to GET /me (each must be 401
 * invalid_token), then good (the test's good token for name) once more:
 * the server took every one and goes on. Frees the tokens. */
static void expect_all_refused(struct wb_proc *p, int fd, struct forgery *f, size_t n,
                               const char *good, long long id, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        expect_refused(p, fd, f[i].token, f[i].what, f[i].rule);
        free(f[i].token);
    }
    expect_me(p, fd, good, id, name, "the test's good token once more, after the refused "
              "ones: the server goes on, on the same connection");
    rc_expect_alive(p, fd, "the forged JWTs");
}

/* ---- jwt_sign() and jwt_verify(), without a server ------------------------- */

WB_UNIT_TEST(jwt, jwt_sign_reproduces_the_token_of_rfc_7515_appendix_a1)
{
    static const char k64[] = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0i"
                              "PS4hcgUuTwjAzZr1Z9CAow";
    static const char header[] = "{\"typ\":\"JWT\",\r\n \"alg\":\"HS256\"}";
    static const char payload[] = "{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n "
                                  "\"http://example.com/is_root\":true}";
    static const char want[] =
        "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9"
        ".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0"
        "cnVlfQ"
        ".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    unsigned char key[64];
    size_t keylen = 0;
    cr_assert(unb64u(k64, strlen(k64), key, sizeof key, &keylen) == 0 && keylen == 64,
              "test setup: RFC 7515 A.1's key does not decode to 64 bytes");
    /* exactly hlen and plen bytes, no NUL after them: AddressSanitizer
     * catches a strlen() */
    char *h = ht_dup(header, strlen(header)), *pl = ht_dup(payload, strlen(payload));
    char *got = jwt_sign(key, keylen, h, strlen(header), pl, strlen(payload));
    char call[512];
    snprintf(call, sizeof call, "jwt_sign(RFC 7515 A.1's key -- the JWK \"k\" %s decoded, 64 "
             "bytes --, the header %s (%zu bytes), the payload %s (%zu bytes))", k64,
             wb_esc(header, strlen(header), 100), strlen(header),
             wb_esc(payload, strlen(payload), 120), strlen(payload));
    cr_assert(got != NULL, "%s returned NULL; expected RFC 7515 appendix A.1's token.\njwt.c "
              "jwt_sign(): BASE64URL(header) '.' BASE64URL(payload) -- sodium_bin2base64(..., "
              "sodium_base64_VARIANT_URLSAFE_NO_PADDING), room from "
              "sodium_base64_ENCODED_LEN() --, then mac() of those two parts with the dot, "
              "'.', and the base64url of the 32-byte MAC", call);
    cr_expect(strcmp(got, want) == 0,
              "%s gave another token than RFC 7515 appendix A.1 (the example JWS with "
              "HMAC SHA-256):\n%s\njwt.c jwt_sign(): encode the header and payload bytes as "
              "they are (hlen and plen bytes: the CR LF inside them too), base64url WITHOUT "
              "padding, and MAC the text of the first two parts WITH the dot, as it stands in "
              "the token -- not the raw bytes, not the JSON re-printed",
              call, wb_diff(want, strlen(want), got, strlen(got), 200));
    free(got);
    free(h);
    free(pl);
}

WB_UNIT_TEST(jwt, jwt_verify_accepts_a_token_of_jwt_sign_and_hands_back_its_claims)
{
    unsigned char key[40];
    wb_random_bytes(key, sizeof key);
    const long long now = 1733000000; /* a wall clock of 2024 */
    struct jwt_rules rules = {"restd", "restd", now};
    static const char *const auds[] = {"\"restd\"", "[\"billing\",\"restd\"]"};
    for (size_t i = 0; i < 2; i++) {
        char *claims = fmt("{\"iss\":\"restd\",\"aud\":%s,\"sub\":\"123456789012345678\","
                           "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,"
                           "\"jti\":\"q3VWVl8Zr2YqJb2tTn7J1w\"}",
                           auds[i], now - 10, now - 10, now + 290);
        char *tok = jwt_sign(key, sizeof key, HS256, strlen(HS256), claims, strlen(claims));
        cr_assert(tok != NULL, "jwt_sign(a key of 40 bytes, %s, %s) returned NULL: jwt.c "
                  "jwt_sign() makes the token this test gives jwt_verify() -- see the RFC 7515 "
                  "A.1 test first", HS256, claims);
        char *mine = sign(key, sizeof key, HS256, claims);
        cr_expect(strcmp(tok, mine) == 0, "jwt_sign(a key of 40 bytes, %s, %s) gave a token "
                  "that is not HMAC-SHA-256 of its first two parts under the key (the test "
                  "computes it with libsodium):\n%s\njwt.c jwt_sign()", HS256, claims,
                  wb_diff(mine, strlen(mine), tok, strlen(tok), 200));
        size_t n = strlen(tok);
        char *exact = ht_dup(tok, n); /* no NUL after it: read len bytes, no more */
        struct jwt_claims out;
        memset(&out, 0, sizeof out);
        const char *why = jwt_verify(exact, n, key, sizeof key, &rules, &out);
        cr_assert(why == NULL, "jwt_verify(the token jwt_sign() made of %s %s, the same key, "
                  "rules {iss \"restd\", aud \"restd\", now_s %lld}) refused it: \"%s\"; "
                  "expected NULL -- the MAC is right, alg HS256, and every claim holds at "
                  "now_s (iat and nbf 10 s before, exp 290 s after; aud %s holds \"restd\"). "
                  "jwt.c jwt_verify()", HS256, claims, now, why, auds[i]);
        long long sub = (long long)out.sub;
        cr_expect(sub == 123456789012345678LL && out.iat == now - 10 && out.exp == now + 290,
                  "jwt_verify() accepted %s but filled the claims with sub %lld, iat %lld, exp "
                  "%lld; expected sub 123456789012345678 (the digits of the string \"sub\", "
                  "read with strtoll() -- a double cannot hold 18 digits), iat %lld and exp "
                  "%lld. jwt.c jwt_verify()", claims, sub, out.iat, out.exp, now - 10,
                  now + 290);
        free(exact);
        free(mine);
        free(tok);
        free(claims);
    }
}

WB_UNIT_TEST(jwt, jwt_verify_ends_a_token_exactly_at_exp_plus_the_leeway)
{
    unsigned char key[32];
    wb_random_bytes(key, sizeof key);
    const long long T = 1733000000, L = JWT_LEEWAY_S;
    static const struct {
        long long iat, nbf, exp, now; /* nbf -1: none */
        int want;
        const char *why;
    } rows[] = {
        {0, -1, 300, 300 + JWT_LEEWAY_S - 1, 1, "one second before exp + leeway: still good"},
        {0, -1, 300, 300 + JWT_LEEWAY_S, 0, "exactly exp + leeway: it has ended (exp + "
         "JWT_LEEWAY_S <= now_s)"},
        {0, -1, 300, 300, 1, "now_s == exp: within the leeway"},
        {0, -1, 300, 0, 1, "now_s == iat: made this very second"},
        {0, 100, 300, 100 - JWT_LEEWAY_S, 1, "nbf is exactly now + leeway: good already"},
        {0, 100, 300, 100 - JWT_LEEWAY_S - 1, 0, "nbf is one second past now + leeway: "
         "not valid yet"},
        {0, -1, 300, -JWT_LEEWAY_S, 1, "iat is exactly now + leeway: a clock a little ahead"},
        {0, -1, 300, -JWT_LEEWAY_S - 1, 0, "iat is one second past now + leeway: made in the "
         "future"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        char nbf[48] = "";
        if (rows[i].nbf >= 0)
            snprintf(nbf, sizeof nbf, "\"nbf\":%lld,", T + rows[i].nbf);
        char *claims = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"7\",\"iat\":%lld,%s"
                           "\"exp\":%lld,\"jti\":\"Bv7x2cQeVn1mQ8yZ5pLk3A\"}",
                           T + rows[i].iat, nbf, T + rows[i].exp);
        char *tok = sign(key, sizeof key, HS256, claims);
        struct jwt_rules rules = {"restd", "restd", T + rows[i].now};
        struct jwt_claims out;
        memset(&out, 0, sizeof out);
        const char *why = jwt_verify(tok, strlen(tok), key, sizeof key, &rules, &out);
        int good = why == NULL;
        cr_expect(good == rows[i].want,
                  "row %zu: jwt_verify() of a correctly signed token with the claims %s at "
                  "now_s %lld (T + %lld, T = %lld) %s%s%s; expected %s -- %s.\njwt.c "
                  "jwt_verify(), with JWT_LEEWAY_S = %lld for clocks that differ: refused when "
                  "exp + JWT_LEEWAY_S <= now_s, when nbf > now_s + JWT_LEEWAY_S, when iat > "
                  "now_s + JWT_LEEWAY_S", i, claims, T + rows[i].now, rows[i].now, T,
                  good ? "accepted it" : "refused it (\"", good ? "" : why, good ? "" : "\")",
                  rows[i].want ? "NULL (good)" : "a refusal", rows[i].why, L);
        free(tok);
        free(claims);
    }
}

WB_UNIT_TEST(jwt, jwt_verify_checks_the_mac_before_it_reads_any_json)
{
    unsigned char key[32];
    wb_random_bytes(key, sizeof key);
    const long long T = 1733000000;
    struct jwt_rules rules = {"restd", "restd", T};
    char *claims = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"7\",\"iat\":%lld,"
                       "\"exp\":%lld,\"jti\":\"Bv7x2cQeVn1mQ8yZ5pLk3A\"}", T, T + 300);
    static const char broken[] = "{\"sub\":\"7\",\"exp\":"; /* not JSON */
    char *good = sign(key, sizeof key, HS256, claims);
    char *bad_json = sign(key, sizeof key, HS256, broken);
    /* the same two, their signature's 21st character changed (bits the
     * MAC uses: not the last character's unused low ones) */
    char *good_forged = fmt("%s", good), *bad_forged = fmt("%s", bad_json);
    char *s1 = strrchr(good_forged, '.') + 21, *s2 = strrchr(bad_forged, '.') + 21;
    *s1 = *s1 == 'A' ? 'B' : 'A';
    *s2 = *s2 == 'A' ? 'B' : 'A';

    struct jwt_claims out;
    const char *ok = jwt_verify(good, strlen(good), key, sizeof key, &rules, &out);
    cr_assert(ok == NULL, "jwt_verify() of a correctly signed token with the claims %s at "
              "now_s %lld refused it: \"%s\" -- expected NULL (the other jwt_verify() tests "
              "say more). jwt.c jwt_verify()", claims, T, ok);
    const char *a = jwt_verify(good_forged, strlen(good_forged), key, sizeof key, &rules, &out);
    const char *b = jwt_verify(bad_forged, strlen(bad_forged), key, sizeof key, &rules, &out);
    const char *c = jwt_verify(bad_json, strlen(bad_json), key, sizeof key, &rules, &out);
    cr_assert(a != NULL && b != NULL && c != NULL,
              "jwt_verify() accepted a token it must refuse: good claims with a wrong MAC "
              "(%s), claims that are not JSON (%s) with a wrong MAC (%s), the same correctly "
              "signed (%s). jwt.c jwt_verify()", a ? "refused" : "ACCEPTED", broken,
              b ? "refused" : "ACCEPTED", c ? "refused" : "ACCEPTED");
    int mac_first = strcmp(a, b) == 0 && strcmp(b, c) != 0;
    cr_expect(mac_first,
              "jwt_verify()'s phrases:\n  good claims, wrong MAC:        \"%s\"\n  claims %s "
              "(not JSON), wrong MAC: \"%s\"\n  the same claims, right MAC:    \"%s\"\nexpected "
              "the second to be the first's (the MAC is wrong: that is all a forger may hear) "
              "and not the third's (the JSON is wrong): jwt.c jwt_verify() compares the MAC -- "
              "mac() of the text before the second dot, sodium_memcmp() -- before it decodes "
              "or parses a byte of the header or the claims. Nothing unsigned reaches the JSON "
              "parser, and no header is believed before its MAC (RFC 8725 section 3.1)",
              a, broken, b, c);
    free(good);
    free(bad_json);
    free(good_forged);
    free(bad_forged);
    free(claims);
}

/* ---- POST /tokens ------------------------------------------------------------ */

Test(jwt, post_tokens_gives_an_hs256_jwt_signed_with_the_secret_file)
{
    struct key k;
    make_key(&k, "jwt.key", 48);
    struct wb_proc *p = wb_start("--jwt-secret-file", k.path, "--jwt-issuer",
                                 "https://issuer.test", "--jwt-audience", "items-api",
                                 "--jwt-ttl-s", "120", NULL);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char s[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", s);
    long long t0 = now_s();
    struct ht_response *r = post_tokens(p, fd, at_bearer(s, NULL));
    long long t1 = now_s();
    char msg[1024];
    snprintf(msg, sizeof msg, "restd --jwt-secret-file <48 bytes> --jwt-issuer "
             "https://issuer.test --jwt-audience items-api --jwt-ttl-s 120; POST /tokens with "
             "alice's session token: 200 with {\"access_token\": <JWT>, \"token_type\": "
             "\"Bearer\", \"expires_in\": 120}. " TOKENS_PATH);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_expect_header(p, r, "Cache-Control", "no-store", "POST /tokens answers a credential: "
                     "never cached (RFC 6749 section 5.1) -- auth.c post_token() adds "
                     "Cache-Control: no-store (response_header()), as post_session() does");
    cJSON *j = jt_body(p, r, msg);
    const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
    const cJSON *tt = cJSON_GetObjectItemCaseSensitive(j, "token_type");
    const cJSON *ei = cJSON_GetObjectItemCaseSensitive(j, "expires_in");
    int shape = cJSON_IsString(at) && cJSON_IsString(tt) && strcmp(tt->valuestring, "Bearer") == 0
                && cJSON_IsNumber(ei) && ei->valuedouble == 120;
    cr_assert(shape, "%s\nexpected \"access_token\" a string, \"token_type\" \"Bearer\" and "
              "\"expires_in\" 120 (the seconds of --jwt-ttl-s)\nreceived: %s", msg,
              ht_describe_response(r));
    char *jwt = fmt("%s", at->valuestring);
    cJSON_Delete(j);
    ht_free(r);

    /* three strict base64url parts */
    char *dot1 = strchr(jwt, '.'), *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    cr_assert(dot2 != NULL && strchr(dot2 + 1, '.') == NULL, "the access_token %s is not three "
              "parts joined by two dots: header.claims.signature (jwt.c jwt_sign())", jwt);
    unsigned char hb[512], cb[2048], sig[64];
    size_t hn = 0, cn = 0, sn = 0;
    int strict = unb64u(jwt, (size_t)(dot1 - jwt), hb, sizeof hb - 1, &hn) == 0 &&
                 unb64u(dot1 + 1, (size_t)(dot2 - dot1 - 1), cb, sizeof cb - 1, &cn) == 0 &&
                 unb64u(dot2 + 1, strlen(dot2 + 1), sig, sizeof sig, &sn) == 0;
    cr_assert(strict, "the access_token %s has a part that is not base64url without padding "
              "(sodium_base64_VARIANT_URLSAFE_NO_PADDING: no '=', no '+' or '/'). jwt.c "
              "jwt_sign()", jwt);
    hb[hn] = '\0';
    cb[cn] = '\0';
    cr_expect(strcmp((char *)hb, HS256) == 0, "the access_token's header decodes to %s; "
              "expected exactly %s -- the algorithm is the server's, HS256 (RFC 7518 section "
              "3.2), and the header says no more. auth.c post_token()'s header",
              wb_esc(hb, hn, 200), HS256);

    /* the MAC: HMAC-SHA-256 of the first two parts, with the dot, under
     * the file's bytes */
    unsigned char want[crypto_auth_hmacsha256_BYTES];
    hmac256(jwt, (size_t)(dot2 - jwt), k.k, k.n, want);
    int same = sn == sizeof want && sodium_memcmp(sig, want, sizeof want) == 0;
    char *want64 = b64u(want, sizeof want);
    cr_expect(same, "the access_token's signature is %s (%zu bytes); expected %s, HMAC-SHA-256 "
              "of its first two parts with the dot (%zu characters) under the 48 bytes of "
              "--jwt-secret-file (the test computes it with libsodium's "
              "crypto_auth_hmacsha256_init/update/final). jwt.c jwt_sign(); the key is "
              "c->auth->jwt->key, keylen bytes -- all of the file", dot2 + 1, sn, want64,
              (size_t)(dot2 - jwt));
    free(want64);

    /* the claims */
    cJSON *c = cJSON_ParseWithLength((const char *)cb, cn);
    cr_assert(cJSON_IsObject(c), "the access_token's claims decode to %s: not a JSON object. "
              "auth.c post_token() prints them with cJSON_PrintUnformatted()", wb_esc(cb, cn, 300));
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "iss");
    const cJSON *aud = cJSON_GetObjectItemCaseSensitive(c, "aud");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(c, "iat");
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(c, "nbf");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(c, "exp");
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(c, "jti");
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    int names = cJSON_IsString(iss) && strcmp(iss->valuestring, "https://issuer.test") == 0 &&
                cJSON_IsString(aud) && strcmp(aud->valuestring, "items-api") == 0 &&
                cJSON_IsString(sub) && strcmp(sub->valuestring, idtext) == 0;
    cr_expect(names, "the access_token's claims are %s\nexpected \"iss\": \"https://issuer.test"
              "\" (--jwt-issuer), \"aud\": \"items-api\" (--jwt-audience) and \"sub\": \"%s\", "
              "alice's id as a string (RFC 7519 section 4.1.2: a StringOrURI). auth.c "
              "post_token(), from c->auth->jwt and the session's account", wb_esc(cb, cn, 400),
              idtext);
    int times = cJSON_IsNumber(iat) && cJSON_IsNumber(nbf) && cJSON_IsNumber(exp);
    long long vi = times ? (long long)iat->valuedouble : 0,
              vn = times ? (long long)nbf->valuedouble : 0,
              ve = times ? (long long)exp->valuedouble : 0;
    int when = times && vi >= t0 && vi <= t1 + 1 && vn <= vi && vn >= vi - JWT_LEEWAY_S &&
               ve == vi + 120;
    cr_expect(when, "the access_token's claims are %s, made between %lld and %lld (seconds "
              "since 1970)\nexpected numbers (NumericDate, RFC 7519 section 2): \"iat\" now, "
              "\"nbf\" iat (not later, and within the leeway before it), and \"exp\" iat + "
              "120 (--jwt-ttl-s). auth.c post_token(): iat is sessions_now_ms() / 1000 (or "
              "the account's tokens_after, when later), nbf = iat, exp = iat + ttl_s",
              wb_esc(cb, cn, 400), t0, t1);
    int named = cJSON_IsString(jti) && strlen(jti->valuestring) >= 22;
    cr_expect(named, "the access_token's claims are %s\nexpected \"jti\", a string of at least "
              "22 characters: a name no other token has (16 random bytes, randombytes_buf(), "
              "in base64url). auth.c post_token()", wb_esc(cb, cn, 400));
    cJSON_Delete(c);

    /* it opens the account, under the same --jwt-issuer and --jwt-audience */
    expect_me(p, fd, jwt, id, "alice", "the token POST /tokens just gave, under restd's own "
              "--jwt-issuer and --jwt-audience");
    char *again = get_jwt(p, fd, at_bearer(s, NULL), "alice's session token, a second time");
    cr_expect(strcmp(again, jwt) != 0, "POST /tokens gave the same token "
              "twice (%s): each token has its own \"jti\" (randombytes_buf()). auth.c "
              "post_token()", jwt);
    free(again);
    free(jwt);
}

Test(jwt, a_jwt_is_no_session_it_cannot_make_another_or_log_out)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long id = at_register(p, fd, "alice", "correct-horse");
    char s[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", s);
    char *jwt = get_jwt(p, fd, at_bearer(s, NULL), "alice's session token (Bearer)");

    struct ht_response *r = post_tokens(p, fd, NULL);
    const char *msg = "POST /tokens without any credentials: 401 with the bare challenge "
                      "WWW-Authenticate: " AT_REALM " (auth.c post_token() calls "
                      "authenticate() first)";
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_expect_header(p, r, "WWW-Authenticate", AT_REALM, msg);
    ht_free(r);

    r = post_tokens(p, fd, at_bearer(jwt, NULL));
    char m[1024];
    snprintf(m, sizeof m, "POST /tokens with alice's JWT as the credential: 403 with "
             "WWW-Authenticate: %s, error=\"insufficient_scope\" -- a JWT that could make the "
             "next one would never end. auth.c post_token(): after authenticate(), is_jwt(tok) "
             "-> challenge(c, 403, \"insufficient_scope\", ...)", AT_REALM);
    cJSON_Delete(jt_expect_problem(p, r, 403, m));
    at_expect_challenge(p, r, "insufficient_scope", m);
    ht_free(r);

    r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(jwt, NULL), NULL, 0);
    snprintf(m, sizeof m, "DELETE /sessions/current with alice's JWT: 400 with "
             "WWW-Authenticate: %s, error=\"invalid_request\" -- a JWT has no session to end "
             "(it ends at its exp; DELETE /sessions takes back every one). auth.c "
             "delete_current(): after authenticate(), is_jwt(tok) -> challenge(c, 400, "
             "\"invalid_request\", ...), before sessions_end()", AT_REALM);
    cJSON_Delete(jt_expect_problem(p, r, 400, m));
    at_expect_challenge(p, r, "invalid_request", m);
    ht_free(r);

    expect_me(p, fd, jwt, id, "alice", "the JWT after it was refused at POST /tokens and "
              "DELETE /sessions/current: refusing it ended nothing");
    struct ht_response *me = at_me(p, fd, at_bearer(s, NULL));
    ht_expect_status(p, me, 200, NULL, 0, "GET /me with alice's session token, after DELETE "
                     "/sessions/current with her JWT: 200 -- that request ended no session");
    ht_free(me);

    /* a browser's session, the cookie, makes a JWT too */
    char cookie[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, cookie);
    char *from_cookie = get_jwt(p, fd, at_cookie(cookie, NULL), "alice's session cookie "
                                AT_COOKIE " (no Authorization field)");
    expect_me(p, fd, from_cookie, id, "alice", "the JWT POST /tokens gave for her session "
              "cookie: authenticate() reads either credential");

    /* and a JWT is no cookie's value: it comes in Authorization alone */
    struct ht_response *in_cookie = at_me(p, fd, at_cookie(from_cookie, NULL));
    char why[1024];
    snprintf(why, sizeof why, "GET /me with a good JWT of alice's as the value of the session "
             "cookie " AT_COOKIE ": 401 invalid_token -- the cookie holds a session's token "
             "and nothing else; auth.c authenticate() sends only a Bearer token that is_jwt() "
             "to jwt_verify()\ncookie sent: %s", wb_esc(from_cookie, strlen(from_cookie), 300));
    cJSON_Delete(jt_expect_problem(p, in_cookie, 401, why));
    at_expect_challenge(p, in_cookie, "invalid_token", why);
    ht_free(in_cookie);
    free(from_cookie);
    free(jwt);
}

/* ---- a JWT at work ------------------------------------------------------------ */

Test(jwt, a_jwt_stands_for_its_account_on_me_and_on_its_own_items)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char s[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", s);
    char *jwt = get_jwt(p, fd, at_bearer(s, NULL), "alice's session token");
    expect_me(p, fd, jwt, alice, "alice", "the JWT POST /tokens gave her");

    /* bob's JWT, made by the test with the server's key: a server that
     * checks MAC and claims cannot tell it from its own */
    char *bc = good_claims(bob, now_s());
    char *bjwt = sign(k.k, k.n, HS256, bc);
    expect_me(p, fd, bjwt, bob, "bob", "a JWT for bob the test signed itself with the key of "
              "--jwt-secret-file, every claim right (the token below)");

    long long mine = at_create(p, fd, at_bearer(jwt, NULL), "{\"name\":\"made-with-a-jwt\"}",
                               "with alice's JWT: it stands for her on the items as her "
                               "session does (auth.c items() calls authenticate())");
    long long his = at_create(p, fd, at_bearer(bjwt, NULL), "{\"name\":\"bobs-own\"}",
                              "with bob's JWT (signed by the test)");

    struct ht_response *r = rc_send(p, fd, "GET", "/items", at_bearer(jwt, NULL), NULL, 0);
    char msg[768];
    snprintf(msg, sizeof msg, "GET /items with alice's JWT: 200, a page of her own items -- her "
             "item %lld, never bob's %lld (the view store_scope() makes for the JWT's account, "
             "as for a session's)", mine, his);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    int saw_mine = 0, saw_his = 0;
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "items"))
    {
        const cJSON *iid = cJSON_GetObjectItemCaseSensitive(it, "id");
        long long v = cJSON_IsNumber(iid) ? (long long)iid->valuedouble : 0;
        saw_mine |= v == mine;
        saw_his |= v == his;
    }
    cJSON_Delete(j);
    cr_expect(saw_mine == 1 && saw_his == 0, "%s\nthe page %s\nreceived: %s", msg,
              saw_his ? "holds bob's item" : "does not hold her item", ht_describe_response(r));
    ht_free(r);

    char target[64];
    snprintf(target, sizeof target, "/items/%lld", his);
    r = rc_send(p, fd, "GET", target, at_bearer(jwt, NULL), NULL, 0);
    snprintf(msg, sizeof msg, "GET %s, bob's item, with alice's JWT: 404, as with her session "
             "-- a JWT reaches only its own account's items", target);
    cJSON_Delete(jt_expect_problem(p, r, 404, msg));
    ht_free(r);
    free(bjwt);
    free(bc);
    free(jwt);
}

/* ---- forgeries: each breaks one rule, and is 401 ------------------------------ */

Test(jwt, a_jwt_changed_after_signing_is_401_invalid_token)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    long long now = now_s();
    char *claims = good_claims(alice, now);
    char *good = sign(k.k, k.n, HS256, claims);
    expect_me(p, fd, good, alice, "alice", "a JWT the test signed with the key of "
              "--jwt-secret-file, every claim right: first, that the server takes what the "
              "test signs");

    struct forgery f[3];
    /* bob's sub, alice's signature */
    char *bobs = fmt("%s", claims);
    char *at = strstr(bobs, "\"sub\":\"");
    cr_assert(at != NULL, "test setup: no sub in %s", bobs);
    char *bclaims = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\"%s", bob,
                        strchr(at + 7, '"') + 1);
    char *bpart = b64u(bclaims, strlen(bclaims));
    char *dot1 = strchr(good, '.'), *dot2 = strrchr(good, '.');
    f[0].token = fmt("%.*s.%s%s", (int)(dot1 - good), good, bpart, dot2);
    snprintf(f[0].what, sizeof f[0].what, "whose claims were changed to bob's sub, %s, the "
             "signature kept", bclaims);
    f[0].rule = "the MAC is over the header and the claims as sent: any change to them breaks "
                "it (jwt_verify(): mac() of the text before the second dot, sodium_memcmp())";
    /* one character in the middle of the signature */
    f[1].token = fmt("%s", good);
    char *c = strrchr(f[1].token, '.') + 21;
    *c = *c == 'A' ? 'B' : 'A';
    snprintf(f[1].what, sizeof f[1].what, "whose signature's 21st character was changed (alice's "
             "good token otherwise)");
    f[1].rule = "a MAC that differs in one bit is a wrong MAC";
    /* another key */
    unsigned char other[32];
    wb_random_bytes(other, sizeof other);
    f[2].token = sign(other, sizeof other, HS256, claims);
    snprintf(f[2].what, sizeof f[2].what, "signed with 32 random bytes that are not "
             "--jwt-secret-file's (alice's claims)");
    f[2].rule = "only the server's key makes a token (c->auth->jwt->key)";
    expect_all_refused(p, fd, f, 3, good, alice, "alice");
    free(bpart);
    free(bclaims);
    free(bobs);
    free(good);
    free(claims);
}

Test(jwt, the_server_decides_the_algorithm_none_hs512_rs256_and_crit_are_refused)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char *claims = good_claims(alice, now_s());
    char *good = sign(k.k, k.n, HS256, claims);
    expect_me(p, fd, good, alice, "alice", "a JWT the test signed with the key of "
              "--jwt-secret-file, every claim right: first, that the server takes what the "
              "test signs");

    struct forgery f[6];
    static const char none[] = "{\"alg\":\"none\",\"typ\":\"JWT\"}";
    char *in = signing_input(none, claims);
    f[0].token = fmt("%s.", in);
    free(in);
    snprintf(f[0].what, sizeof f[0].what, "with the header %s and an empty signature (alice's "
             "claims)", none);
    f[0].rule = "\"none\" is the attacker's algorithm: the server's is HS256, whatever the "
                "header says (RFC 8725 section 3.1) -- an empty signature is not 32 bytes";

    static const struct {
        const char *header, *rule;
    } hs[] = {
        {"{\"alg\":\"nOnE\",\"typ\":\"JWT\"}", "\"alg\" must be exactly \"HS256\": not a "
         "blacklist of \"none\" that another spelling slips past (the MAC is right here)"},
        {"{\"alg\":\"RS256\",\"typ\":\"JWT\"}", "\"alg\" must be exactly \"HS256\": a server "
         "that picks its check from the header can be made to verify an RSA token with the "
         "HMAC key (the MAC is right here)"},
        {"{\"alg\":\"hs256\",\"typ\":\"JWT\"}", "\"alg\" is compared exactly, with its case "
         "(the MAC is right here)"},
        {"{\"alg\":\"HS256\",\"typ\":\"JWT\",\"crit\":[\"exp\"]}", "a header with \"crit\" "
         "names extensions the server must understand, and this one understands none: refused "
         "(RFC 7515 section 4.1.11; the MAC is right here)"},
    };
    for (size_t i = 0; i < 4; i++) {
        f[1 + i].token = sign(k.k, k.n, hs[i].header, claims);
        snprintf(f[1 + i].what, sizeof f[1 + i].what, "with the header %s, correctly "
                 "HMAC-SHA-256-signed (alice's claims)", hs[i].header);
        f[1 + i].rule = hs[i].rule;
    }

    /* HS512, signed right -- with the same key */
    static const char h512[] = "{\"alg\":\"HS512\",\"typ\":\"JWT\"}";
    in = signing_input(h512, claims);
    unsigned char mac[crypto_auth_hmacsha512_BYTES];
    crypto_auth_hmacsha512_state st;
    crypto_auth_hmacsha512_init(&st, k.k, k.n);
    crypto_auth_hmacsha512_update(&st, (const unsigned char *)in, strlen(in));
    crypto_auth_hmacsha512_final(&st, mac);
    char *sig = b64u(mac, sizeof mac);
    f[5].token = fmt("%s.%s", in, sig);
    free(sig);
    free(in);
    snprintf(f[5].what, sizeof f[5].what, "with the header %s and a right HMAC-SHA-512 under "
             "the server's key (alice's claims)", h512);
    f[5].rule = "the server accepts one algorithm, HS256, never the one the token asks for";
    expect_all_refused(p, fd, f, 6, good, alice, "alice");
    free(good);
    free(claims);
}

Test(jwt, a_member_named_twice_is_refused_even_correctly_signed)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    long long now = now_s();
    char *claims = good_claims(alice, now);
    char *good = sign(k.k, k.n, HS256, claims);
    expect_me(p, fd, good, alice, "alice", "a JWT the test signed with the key of "
              "--jwt-secret-file, every claim right: first, that the server takes what the "
              "test signs");

    struct forgery f[3];
    char jti[32];
    new_jti(jti);
    char *dup_sub = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"sub\":\"%lld\","
                        "\"iat\":%lld,\"nbf\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
                        bob, alice, now, now, now + 300, jti);
    f[0].token = sign(k.k, k.n, HS256, dup_sub);
    snprintf(f[0].what, sizeof f[0].what, "with the claims %s (\"sub\" twice: bob's, then "
             "alice's), correctly signed", dup_sub);
    f[0].rule = "cJSON answers the first \"sub\", another reader the last: two readers see two "
                "accounts. jwt.c object() refuses a member named twice";
    char *dup_exp = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
                        "\"exp\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
                        alice, now - 600, now + 300, now - 300, jti);
    f[1].token = sign(k.k, k.n, HS256, dup_exp);
    snprintf(f[1].what, sizeof f[1].what, "with the claims %s (\"exp\" twice: still good, then "
             "long past), correctly signed", dup_exp);
    f[1].rule = "a member named twice, whichever of them holds: refused (jwt.c object())";
    static const char dup_alg[] = "{\"alg\":\"HS256\",\"alg\":\"none\",\"typ\":\"JWT\"}";
    f[2].token = sign(k.k, k.n, dup_alg, claims);
    snprintf(f[2].what, sizeof f[2].what, "with the header %s (\"alg\" twice), correctly "
             "HS256-signed (alice's claims)", dup_alg);
    f[2].rule = "the header too is one JSON object with each member once (jwt.c object() for "
                "both parts)";
    expect_all_refused(p, fd, f, 3, good, alice, "alice");
    free(dup_exp);
    free(dup_sub);
    free(good);
    free(claims);
}

Test(jwt, every_claim_is_checked_time_issuer_audience_and_the_ones_needed)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long now = now_s();
    char *claims = good_claims(alice, now);
    char *good = sign(k.k, k.n, HS256, claims);
    expect_me(p, fd, good, alice, "alice", "a JWT the test signed with the key of "
              "--jwt-secret-file, every claim right: first, that the server takes what the "
              "test signs");
    char jti[32];
    new_jti(jti);
    char *aud_list = fmt("{\"iss\":\"restd\",\"aud\":[\"billing\",\"restd\"],\"sub\":\"%lld\","
                         "\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}", alice, now, now + 300, jti);
    char *tok = sign(k.k, k.n, HS256, aud_list);
    char why[512];
    snprintf(why, sizeof why, "a JWT the test signed whose \"aud\" is an array that holds "
             "\"restd\" (and no nbf): %s -- RFC 7519 section 4.1.3 allows both forms (jwt.c "
             "for_us())", aud_list);
    expect_me(p, fd, tok, alice, "alice", why);
    free(tok);
    free(aud_list);

#define ROWS 10
    struct forgery f[ROWS];
    const long long id = alice;
    char *c[ROWS];
    c[0] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,\"nbf\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now - 420, now - 420, now - 120, jti);
    f[0].rule = "exp is 120 s ago, more than the leeway of 60 s: it has expired";
    c[1] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,\"nbf\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now, now + 120, now + 420, jti);
    f[1].rule = "nbf is 120 s ahead, more than the leeway: not valid yet";
    c[2] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now + 120, now + 420, jti);
    f[2].rule = "iat is 120 s ahead, more than the leeway: made in the future";
    c[3] = fmt("{\"iss\":\"https://evil.example\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now, now + 300, jti);
    f[3].rule = "iss is not --jwt-issuer's \"restd\": another issuer made it";
    c[4] = fmt("{\"iss\":\"restd\",\"aud\":\"other-api\",\"sub\":\"%lld\",\"iat\":%lld,"
               "\"exp\":%lld,\"jti\":\"%s\"}", id, now, now + 300, jti);
    f[4].rule = "aud is not --jwt-audience's \"restd\": a token for another service";
    c[5] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
               "\"jti\":\"%s\"}", id, now, jti);
    f[5].rule = "no exp: a token that never ends is refused";
    c[6] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
               "\"exp\":%lld}", id, now, now + 300);
    f[6].rule = "no jti: every token of this server has a name";
    c[7] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"exp\":%lld,"
               "\"jti\":\"%s\"}", id, now + 300, jti);
    f[7].rule = "no iat: the server needs it to tell whether the token was taken back";
    c[8] = fmt("{\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,\"exp\":%lld,\"jti\":\"%s\"}",
               id, now, now + 300, jti);
    f[8].rule = "no iss at all: not the issuer's";
    c[9] = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":%lld,\"iat\":%lld,\"exp\":%lld,"
               "\"jti\":\"%s\"}", id, now, now + 300, jti);
    f[9].rule = "sub is a number, not the digits of an id in a string (RFC 7519 section 4.1.2)";
    for (int i = 0; i < ROWS; i++) {
        f[i].token = sign(k.k, k.n, HS256, c[i]);
        snprintf(f[i].what, sizeof f[i].what, "correctly signed, with the claims %s", c[i]);
    }
    expect_all_refused(p, fd, f, ROWS, good, alice, "alice");
    for (int i = 0; i < ROWS; i++)
        free(c[i]);
#undef ROWS
    free(good);
    free(claims);
}

Test(jwt, a_jwt_has_one_spelling_and_a_huge_one_is_refused)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long now = now_s();
    char *claims = good_claims(alice, now);
    char *good = sign(k.k, k.n, HS256, claims);
    expect_me(p, fd, good, alice, "alice", "a JWT the test signed with the key of "
              "--jwt-secret-file, every claim right: first, that the server takes what the "
              "test signs");

    struct forgery f[4];
    f[0].token = fmt("%s.e30", good);
    snprintf(f[0].what, sizeof f[0].what, "with a fourth part \".e30\" after alice's good token");
    f[0].rule = "a JWS has exactly three parts: two dots";
    f[1].token = fmt("%s=", good);
    snprintf(f[1].what, sizeof f[1].what, "with a padding '=' after its signature (alice's "
             "good token otherwise)");
    f[1].rule = "base64url in a JWT has no padding (RFC 7515 section 2): one spelling of each "
                "part, sodium_base64_VARIANT_URLSAFE_NO_PADDING and every character used";

    /* '_' in the claims, respelled '/' (base64, not base64url) and
     * signed so: only the spelling is wrong. "???" puts a '?' (0x3f, the
     * 6 bits 111111) last in a group of three bytes: a '_' */
    char jti[32];
    new_jti(jti);
    char *odd = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
                    "\"nbf\":%lld,\"exp\":%lld,\"jti\":\"%s\",\"note\":\"???\"}", alice, now,
                    now, now + 300, jti);
    char *in = signing_input(HS256, odd);
    char *pos = strchr(strchr(in, '.') + 1, '_');
    cr_assert(pos != NULL, "test setup: no '_' in the base64url of %s: %s", odd, in);
    char *good_odd = seal(in, k.k, k.n);
    expect_me(p, fd, good_odd, alice, "alice", "a JWT the test signed whose claims hold an "
              "extra \"note\":\"???\" (a claim the server does not use is no reason to "
              "refuse), spelled in base64url: the control for the next one");
    free(good_odd);
    *pos = '/';
    f[2].token = seal(in, k.k, k.n);
    snprintf(f[2].what, sizeof f[2].what, "whose claims part (%s) has '/' where base64url has "
             "'_' (the same bytes in base64), with a right MAC over the text as sent", odd);
    f[2].rule = "base64url only: '+' and '/' are another spelling of '-' and '_', and a token "
                "has one spelling (strict decode())";
    free(odd);
    free(in);

    /* the last character of the signature holds 4 bits and 2 unused low
     * ones, which must be zero: with one of them set, a lax decoder sees
     * the same 32 bytes */
    f[3].token = fmt("%s", good);
    char *last = f[3].token + strlen(f[3].token) - 1;
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    *last = alphabet[(strchr(alphabet, *last) - alphabet) | 1];
    snprintf(f[3].what, sizeof f[3].what, "whose signature's last character has one of its 2 "
             "unused low bits set (the same 32 bytes to a lax decoder)");
    f[3].rule = "leftover bits must be zero: another spelling of the same MAC is not the token";

    for (size_t i = 0; i < 4; i++) {
        expect_refused(p, fd, f[i].token, f[i].what, f[i].rule);
        free(f[i].token);
    }

    /* 8 KB, correctly signed: past JWT_MAX, on a connection of its own */
    size_t big = 5800;
    char *pad = malloc(big + 1);
    cr_assert(pad != NULL, "test setup: out of memory");
    memset(pad, 'x', big);
    pad[big] = '\0';
    char *huge_claims = fmt("{\"iss\":\"restd\",\"aud\":\"restd\",\"sub\":\"%lld\",\"iat\":%lld,"
                            "\"exp\":%lld,\"jti\":\"%s\",\"pad\":\"%s\"}", alice, now,
                            now + 300, jti, pad);
    char *huge = sign(k.k, k.n, HS256, huge_claims);
    int fd2 = wb_connect(p);
    struct ht_response *r = at_me(p, fd2, at_bearer(huge, NULL));
    char msg[1024];
    snprintf(msg, sizeof msg, "GET /me with a correctly signed JWT of %zu bytes (alice's claims "
             "and a \"pad\" of %zu x's): more than JWT_MAX (%d), so 401 invalid_token (jwt.c "
             "jwt_verify() refuses it before any work); a 431 or 400 from the HTTP layer for "
             "the long header is fine too", strlen(huge), big, JWT_MAX);
    int refused = r->status == 401 || r->status == 431 || r->status == 400;
    cr_expect(refused, "%s\nreceived: %s", msg, ht_describe_response(r));
    if (r->status == 401)
        at_expect_challenge(p, r, "invalid_token", msg);
    ht_free(r);
    close(fd2);
    free(huge);
    free(huge_claims);
    free(pad);
    expect_me(p, fd, good, alice, "alice", "the test's good token after the refused ones: "
              "the server goes on");
    rc_expect_alive(p, fd, "the misspelled and the 8 KB JWTs");
    free(good);
    free(claims);
}

/* ---- taking JWTs back --------------------------------------------------------- */

Test(jwt, logout_everywhere_takes_back_every_jwt_made_before_it)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char sa[AT_TOKEN_LEN + 1], sb[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", sa);
    at_login(p, fd, "bob", "battery-staple", sb);
    char *ja = get_jwt(p, fd, at_bearer(sa, NULL), "alice's session token");
    char *jb = get_jwt(p, fd, at_bearer(sb, NULL), "bob's session token");
    expect_me(p, fd, ja, alice, "alice", "her JWT, before any logout");

    /* alice logs out everywhere with her session token */
    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions", at_bearer(sa, NULL), NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE /sessions with alice's session token: log out "
                     "everywhere, 204 (auth.c delete_all())");
    ht_free(r);
    expect_refused(p, fd, ja, "alice got before she logged out everywhere (DELETE /sessions with "
                   "her session token)", "a JWT is checked without a lookup, so taking it back "
                   "needs a row again: auth.c delete_all() calls users.c users_revoke_tokens() "
                   "(tokens_after = the next whole second), and users_token_user() refuses an "
                   "iat before it");
    expect_me(p, fd, jb, bob, "bob", "bob's JWT, after alice logged out everywhere: only her "
              "tokens are taken back (UPDATE users ... WHERE id = ?1)");

    /* bob logs out everywhere with his JWT */
    r = rc_send(p, fd, "DELETE", "/sessions", at_bearer(jb, NULL), NULL, 0);
    ht_expect_status(p, r, 204, NULL, 0, "DELETE /sessions with bob's JWT: a JWT stands for the "
                     "account, so it may log it out everywhere -- 204 (auth.c delete_all())");
    ht_free(r);
    expect_refused(p, fd, jb, "bob logged out everywhere WITH", "DELETE /sessions takes back "
                   "every JWT of the account, the one it came with too (auth.c delete_all() -> "
                   "users_revoke_tokens())");
    r = at_me(p, fd, at_bearer(sb, NULL));
    cJSON_Delete(jt_expect_problem(p, r, 401, "GET /me with bob's session token after he "
                                   "logged out everywhere with his JWT: his sessions ended too "
                                   "(auth.c delete_all() -> sessions_end_all())"));
    ht_free(r);

    /* alice's next JWT works at once, likely in the same second */
    char s2[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", s2);
    char *j2 = get_jwt(p, fd, at_bearer(s2, NULL), "alice's new session token, right after "
                       "she logged out everywhere");
    expect_me(p, fd, j2, alice, "alice", "a JWT made right after her logout everywhere, likely "
              "in the same second: auth.c post_token() gives it an iat of at least the "
              "account's tokens_after (users_tokens_after()), so it counts at once");

    /* and a second logout everywhere, likely in that same second, takes
     * back that new JWT too */
    struct ht_response *r2 = rc_send(p, fd, "DELETE", "/sessions", at_bearer(j2, NULL), NULL, 0);
    ht_expect_status(p, r2, 204, NULL, 0, "DELETE /sessions with alice's new JWT: log out "
                     "everywhere a second time, 204");
    ht_free(r2);
    expect_refused(p, fd, j2, "alice made right after her first logout everywhere, then logged "
                   "out everywhere WITH, likely within one second", "its iat is the account's "
                   "tokens_after (post_token() gives no earlier one), so taking back again must "
                   "move tokens_after past it: users.c users_revoke_tokens() sets it to "
                   "max(tokens_after + 1, now_ms / 1000 + 1), not to the next second alone");
    free(j2);
    free(jb);
    free(ja);
}

Test(jwt, a_new_password_takes_back_the_jwts_made_before_it)
{
    struct key k;
    struct wb_proc *p = start_keyed(&k);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char s[AT_TOKEN_LEN + 1];
    at_login(p, fd, "alice", "correct-horse", s);
    char *j1 = get_jwt(p, fd, at_bearer(s, NULL), "alice's session token");
    expect_me(p, fd, j1, alice, "alice", "her JWT, before the new password");

    static const char body[] = "{\"current_password\":\"correct-horse\","
                               "\"new_password\":\"brand-new-secret\"}";
    char headers[256];
    snprintf(headers, sizeof headers, "%s%s", at_bearer(s, NULL), AT_JSON);
    struct ht_response *r = rc_send(p, fd, "PUT", "/me/password", headers, body,
                                    strlen(body));
    ht_expect_status(p, r, 204, NULL, 0, "PUT /me/password with alice's session token and "
                     "the right current password: 204 (auth.c put_password())");
    ht_free(r);
    expect_refused(p, fd, j1, "alice got before she changed her password", "a password is "
                   "changed because someone else may know it -- and may hold her JWTs: users.c "
                   "users_change_password()'s UPDATE sets tokens_after = max(tokens_after + 1, "
                   "now_ms / 1000 + 1) too, in the password's own transaction");

    char *j2 = get_jwt(p, fd, at_bearer(s, NULL), "the session token that changed the password "
                       "(it stays open)");
    expect_me(p, fd, j2, alice, "alice", "a JWT made after the new password, from the session "
              "that changed it: its iat is at least tokens_after, so it counts at once");
    free(j2);
    free(j1);
}

/* ---- the key ------------------------------------------------------------------ */

Test(jwt, restd_needs_a_secret_file_of_32_to_1024_bytes)
{
    /* too short (the message names the file and its size) and too long
     * (the message names the file) -- file names without digits, so that
     * the size is found in the message itself */
    static const struct {
        size_t n;
        const char *name, *count;
    } bad[] = {{16, "short.key", "16"}, {1025, "long.key", NULL}};
    for (size_t i = 0; i < 2; i++) {
        struct key k;
        make_key(&k, bad[i].name, bad[i].n);
        char why[512];
        const char *args[] = {"--jwt-secret-file", k.path, NULL};
        struct wb_proc *p = wb_try_start(why, sizeof why, args);
        struct wb_proc *last = wb_last();
        cr_assert(p == NULL, "restd --jwt-secret-file %s (a file of %zu bytes) started "
                  "listening; expected it to refuse a key of fewer than 32 or more than 1024 "
                  "bytes and exit with a message (main.c jwt_key())", k.path, bad[i].n);
        int status = 0;
        cr_assert(wb_wait_exit(last, 2000, &status), "restd --jwt-secret-file %s (%zu bytes) "
                  "did not exit within 2 s\n%s", k.path, bad[i].n, wb_describe(last));
        const char *err = wb_stderr_tail(last, 2048);
        int failed = WIFEXITED(status) && WEXITSTATUS(status) != 0;
        int refused = failed && strstr(err, k.path) && (!bad[i].count || strstr(err, bad[i].count));
        cr_expect(refused, "restd --jwt-secret-file %s, a file of %zu bytes: expected an exit "
                  "status other than 0 and, on stderr, a message naming the file%s -- HS256 "
                  "needs a key of at least 32 random bytes (RFC 7518 section 3.2: a shorter "
                  "one can be guessed, and whoever guesses it signs any token), at most 1024 "
                  "(main.c jwt_key())\n%s", k.path, bad[i].n,
                  bad[i].count ? " and its size in bytes" : "", wb_describe(last));
    }

    /* 32 bytes and 1024 bytes start, and the file's bytes are the key */
    struct key k32, k1024;
    make_key(&k32, "k32.key", 32);
    struct wb_proc *p = wb_start("--jwt-secret-file", k32.path, NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char *claims = good_claims(alice, now_s());
    char *t32 = sign(k32.k, k32.n, HS256, claims);
    expect_me(p, fd, t32, alice, "alice", "restd --jwt-secret-file <32 bytes>; a JWT the test "
              "signed with those 32 bytes, every claim right");
    at_stop(p);

    make_key(&k1024, "k1024.key", 1024);
    p = wb_start("--jwt-secret-file", k1024.path, NULL);
    fd = wb_connect(p);
    char *t1024 = sign(k1024.k, k1024.n, HS256, claims);
    expect_me(p, fd, t1024, alice, "alice", "restd --jwt-secret-file <1024 bytes> on the same "
              "database; a JWT the test signed with all 1024 bytes (HMAC hashes a key longer "
              "than its block, RFC 2104: crypto_auth_hmacsha256_init() with keylen does)");
    expect_refused(p, fd, t32, "signed with the 32-byte key of the previous run", "restd now "
                   "runs with another --jwt-secret-file: a token is good under the key it was "
                   "made with only");
    free(t1024);
    free(t32);
    free(claims);
}
