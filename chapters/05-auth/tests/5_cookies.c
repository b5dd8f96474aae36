/* Stage 5: cookies for browsers, and cross-site request forgery. A login
 * with "transport":"cookie" puts the token in a cookie a page's scripts
 * cannot read -- __Host-sid, Secure, HttpOnly, SameSite, Path=/, no Domain,
 * no lifetime -- and never in the body; the cookie then stands for
 * Authorization: Bearer (both at once, or the cookie twice: 400). Because a
 * browser attaches the cookie by itself, even to a request another site's
 * page makes, a change (POST, PUT, PATCH, DELETE) that comes with it must
 * come from this site: Sec-Fetch-Site same-origin or none, else an Origin
 * that is this server's, else 403 -- the items too, a cookie login too;
 * reads and bearer tokens are never refused. Forms never reach a JSON
 * endpoint (415), and a logout expires the cookie (Max-Age=0).
 *
 * Every request here is sent with "Host: localhost" (restc.c
 * rc_request()): this server's own origin is http://localhost. */
#define _GNU_SOURCE /* memmem */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>
#include <sqlite3.h>

#include "authtest.h"

WB_SUITE(cookies);

/* The Origin of this server, as the tests address it (rc_send()'s Host). */
#define SELF "http://localhost"
#define CROSS "Sec-Fetch-Site: cross-site\r\n"
#define SAME "Sec-Fetch-Site: same-origin\r\n"

/* ---- helpers -------------------------------------------------------------- */

/* headers (NULL: none) then Content-Type: application/json, in a slot. */
static const char *json(const char *headers)
{
    size_t cap = (headers ? strlen(headers) : 0) + sizeof AT_JSON;
    char *h = wb_msgbuf(cap);
    snprintf(h, cap, "%s%s", headers ? headers : "", AT_JSON);
    return h;
}

/* headers for a message: escaped, or "no credentials". */
static const char *shown(const char *headers)
{
    return headers && *headers ? wb_esc(headers, strlen(headers), 400) : "no header lines";
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

/* How many items there are. */
static long long items(void)
{
    return oracle_count("SELECT count(*) FROM items");
}

/* The SHA-256 of the 32 bytes token decodes to, as 64 hex digits into
 * hex[0..65). */
static void token_sha256(const char *token, char hex[65])
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    unsigned char raw[32], digest[crypto_hash_sha256_BYTES];
    size_t n = 0;
    int ok = sodium_base642bin(raw, sizeof raw, token, strlen(token), NULL, &n, NULL,
                               sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 && n == 32;
    cr_assert(ok, "the cookie's value %s does not decode to 32 bytes of base64url (without "
              "padding): it is the session's token, made by sessions.c sessions_create() -- "
              "post_session() puts it in the cookie as it is", token);
    crypto_hash_sha256(digest, raw, sizeof raw);
    for (size_t i = 0; i < sizeof digest; i++)
        snprintf(hex + 2 * i, 3, "%02X", digest[i]);
}

/* GET /me with headers must be 200 with the account {id, name, "user"}. */
static void expect_me(struct wb_proc *p, int fd, const char *headers, long long id,
                      const char *name, const char *why)
{
    struct ht_response *r = at_me(p, fd, headers);
    char msg[1024], want[128];
    snprintf(msg, sizeof msg, "GET /me with %s -- %s: 200 and %s's account. auth.c "
             "authenticate(): without an Authorization field, the value of the cookie "
             AT_COOKIE " (session_cookie()) is the token, looked up as a bearer token is",
             shown(headers), why, name);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"%s\",\"role\":\"user\"}", id, name);
    jt_expect_json(p, r, want, msg);
    ht_free(r);
}

/* GET /me with headers must be a status problem whose challenge is
 * exactly `Bearer realm="restd"` (error NULL) or carries error="<error>". */
static void expect_challenge(struct wb_proc *p, int fd, const char *headers, int status,
                             const char *error, const char *why)
{
    struct ht_response *r = at_me(p, fd, headers);
    char msg[1024];
    snprintf(msg, sizeof msg, "GET /me with %s -- %s: %d, a problem document with "
             "WWW-Authenticate: %s%s%s%s. auth.c authenticate()", shown(headers), why, status,
             AT_REALM, error ? ", error=\"" : "", error ? error : "", error ? "\"" : "");
    cJSON_Delete(jt_expect_problem(p, r, status, msg));
    at_expect_challenge(p, r, error, msg);
    ht_free(r);
}

/* method target with headers and body (NULL: none) must be 403, a problem
 * document: the request came from another site with the cookie. */
static void expect_forged(struct wb_proc *p, int fd, const char *method, const char *target,
                          const char *headers, const char *body, const char *why)
{
    struct ht_response *r = rc_send(p, fd, method, target, headers, body,
                                    body ? strlen(body) : 0);
    char msg[1280];
    snprintf(msg, sizeof msg, "%s %s%s%s with %s -- %s: a browser attaches the session cookie "
             "to a request another site's page makes, so a change that comes with it from "
             "anywhere but this site is refused -- 403 Forbidden, a problem document, before "
             "any route runs. auth.c auth_serve(): a method other than GET, HEAD, OPTIONS, with "
             "session_cookie() != BEARER_NONE and not same_origin() -> 403", method, target,
             body ? " " : "", body ? body : "", shown(headers), why);
    cJSON_Delete(jt_expect_problem(p, r, 403, msg));
    ht_free(r);
}

/* r must be 204 No Content with no body at all. */
static void expect_204(struct wb_proc *p, const struct ht_response *r, const char *msg)
{
    ht_expect_status(p, r, 204, NULL, 0, msg);
    int empty = r->body_len == 0 && ht_header(r, "Content-Length") == NULL;
    cr_expect(empty, "%s\n204 No Content has no body and no Content-Length (RFC 9110 sections "
              "8.6 and 15.3.5): auth.c no_content()\nreceived: %s", msg,
              ht_describe_response(r));
}

/* r, the answer to a logout with the cookie, must hold one Set-Cookie that
 * makes the browser forget __Host-sid. */
static void expect_forgotten(const struct ht_response *r, const char *msg)
{
    size_t n = ht_header_count(r, "Set-Cookie");
    const char *set = ht_header(r, "Set-Cookie");
    cr_assert(n == 1 && set, "%s\nexpected one Set-Cookie field that expires the cookie, "
              "received %zu: a browser that logs out must forget its cookie, or it goes on "
              "sending a dead token (and a page's history shows it logged in). auth.c "
              "forget_cookie(), after no_content(), answers Set-Cookie: " AT_COOKIE "=; Path=/; "
              "Secure; HttpOnly; SameSite=Strict; Max-Age=0\nreceived: %s", msg, n,
              ht_describe_response(r));
    char name[128], value[256], v[128];
    at_cookie_pair(set, name, sizeof name, value, sizeof value);
    int named = strcmp(name, AT_COOKIE) == 0 && value[0] == '\0';
    cr_expect(named, "%s\nthe Set-Cookie sets \"%s\" to \"%s\"; expected " AT_COOKIE " with an "
              "empty value: a cookie is replaced by one of the same name (and path and host), "
              "and the old token must not be in it\nSet-Cookie: %s", msg, name, value,
              wb_esc(set, strlen(set), 300));
    int zero = at_cookie_attr(set, "Max-Age", v, sizeof v) && strcmp(v, "0") == 0;
    cr_expect(zero, "%s\nthe Set-Cookie has no Max-Age=0: expected Max-Age=0, which makes the "
              "browser drop the cookie now (RFC 6265bis section 5.6.2); without it the empty "
              "cookie lives on until the browser closes\nSet-Cookie: %s", msg,
              wb_esc(set, strlen(set), 300));
    int path = at_cookie_attr(set, "Path", v, sizeof v) && strcmp(v, "/") == 0;
    int secure = at_cookie_attr(set, "Secure", NULL, 0);
    int domain = at_cookie_attr(set, "Domain", NULL, 0);
    cr_expect(path && secure && domain == 0, "%s\nthe Set-Cookie that expires the cookie has "
              "Path=/ %s, Secure %s, Domain %s; expected Path=/ and Secure and no Domain: a "
              "browser takes a Set-Cookie of a __Host- cookie only with those (RFC 6265bis "
              "section 4.1.3.2), and ignores any other -- the old cookie would stay\n"
              "Set-Cookie: %s", msg, path ? "present" : "MISSING", secure ? "present" : "MISSING",
              domain ? "PRESENT" : "absent", wb_esc(set, strlen(set), 300));
}

/* ---- the cookie a login sets ------------------------------------------------- */

Test(cookies, a_cookie_login_sets_a_host_only_secure_httponly_cookie_and_no_token_in_the_body)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char *body = at_creds_transport("alice", "correct-horse", "cookie");
    struct ht_response *r = at_post(p, fd, "/sessions", body);
    char msg[768];
    snprintf(msg, sizeof msg, "POST /sessions %s: a browser's login -- 201, and the token in a "
             "cookie only. auth.c post_session() reads the optional \"transport\" and, for "
             "\"cookie\", answers Set-Cookie: " AT_COOKIE "=<token>; Path=/; Secure; HttpOnly; "
             "SameSite=Strict", body);
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    ht_expect_header(p, r, "Cache-Control", "no-store", "the 201 to a cookie login sets a token: "
                     "never stored by a cache (post_session() adds Cache-Control: no-store)");
    size_t n = ht_header_count(r, "Set-Cookie");
    const char *set = ht_header(r, "Set-Cookie");
    cr_assert(n == 1 && set, "%s\nexpected exactly one Set-Cookie field, received %zu\nreceived: "
              "%s", msg, n, ht_describe_response(r));
    const char *sc = wb_esc(set, strlen(set), 300);
    char name[128], value[256], v[128];
    at_cookie_pair(set, name, sizeof name, value, sizeof value);
    cr_expect(strcmp(name, AT_COOKIE) == 0, "%s\nthe cookie is called \"%s\"; expected \""
              AT_COOKIE "\" exactly (the case counts): with the __Host- prefix a browser keeps "
              "it only when it was set with Secure and Path=/ and without Domain, by this very "
              "host (RFC 6265bis section 4.1.3.2) -- no other host of the site can plant or "
              "overwrite it\nSet-Cookie: %s", msg, name, sc);
    unsigned char raw[32];
    size_t len = strlen(value), got = 0;
    const char *end = NULL;
    int token = len == AT_TOKEN_LEN && strspn(value, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "abcdefghijklmnopqrstuvwxyz0123456789-_") == len &&
                sodium_base642bin(raw, sizeof raw, value, len, NULL, &got, &end,
                                  sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0 &&
                got == 32 && end == value + len;
    cr_expect(token, "%s\nthe cookie's value is \"%s\" (%zu characters); expected the token "
              "itself, 43 characters of base64url that decode to 32 bytes (sessions.c "
              "sessions_create())\nSet-Cookie: %s", msg, value, len, sc);
    cr_expect(at_cookie_attr(set, "Secure", NULL, 0), "%s\nthe cookie has no Secure "
              "attribute: expected Secure -- a browser then sends it over HTTPS only, never in "
              "clear text, and keeps a __Host- cookie only with it\nSet-Cookie: %s", msg, sc);
    cr_expect(at_cookie_attr(set, "HttpOnly", NULL, 0), "%s\nthe cookie has no HttpOnly "
              "attribute: expected HttpOnly -- document.cookie then never shows it, so a "
              "script injected into a page (XSS) cannot read the token and send it away\n"
              "Set-Cookie: %s", msg, sc);
    int same = at_cookie_attr(set, "SameSite", v, sizeof v) &&
               (strcasecmp(v, "Strict") == 0 || strcasecmp(v, "Lax") == 0);
    cr_expect(same, "%s\nthe cookie has no SameSite=Strict (nor Lax): expected SameSite=Strict "
              "-- a browser then leaves it off the requests other sites' pages make, the "
              "first wall against cross-site request forgery\nSet-Cookie: %s", msg, sc);
    int path = at_cookie_attr(set, "Path", v, sizeof v) && strcmp(v, "/") == 0;
    cr_expect(path, "%s\nthe cookie has no Path=/: expected Path=/ -- the session is the whole "
              "site's, and a __Host- cookie is kept only with Path=/\nSet-Cookie: %s", msg, sc);
    cr_expect(at_cookie_attr(set, "Domain", NULL, 0) == 0, "%s\nthe cookie has a Domain "
              "attribute: expected none -- without Domain it goes back to this host only, and "
              "a __Host- cookie with one is thrown away\nSet-Cookie: %s", msg, sc);
    int lifetime = at_cookie_attr(set, "Max-Age", NULL, 0) || at_cookie_attr(set, "Expires",
                                                                               NULL, 0);
    cr_expect(lifetime == 0, "%s\nthe cookie has a Max-Age or Expires attribute: expected "
              "neither -- a session cookie, gone when the browser closes; how long the session "
              "lasts is the server's to decide (sessions.c session_valid())\nSet-Cookie: %s",
              msg, sc);

    cJSON *j = jt_body(p, r, msg);
    cr_expect(cJSON_GetObjectItemCaseSensitive(j, "token") == NULL, "%s\nthe body has a "
              "\"token\" member: %s\nexpected none -- the token is in the HttpOnly cookie or in "
              "the body, never both (ASVS 5.0 3.3.4): in the body, the page's scripts read it",
              msg, wb_esc(r->body, r->body_len, 300));
    cJSON_Delete(j);
    int leaked = len > 0 && memmem(r->body, r->body_len, value, len) != NULL;
    cr_expect(leaked == 0, "%s\nthe cookie's value %s is in the body: %s\nexpected it nowhere "
              "but in Set-Cookie", msg, value, wb_esc(r->body, r->body_len, 300));
    char cookie[AT_TOKEN_LEN + 1];
    snprintf(cookie, sizeof cookie, "%s", value);
    ht_free(r);
    expect_me(p, fd, at_cookie(cookie, NULL), alice, "alice", "the cookie that login set, sent "
              "back as a browser does");
}

Test(cookies, the_transport_is_bearer_by_default_and_nothing_but_bearer_or_cookie)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char *plain = at_creds("alice", "correct-horse");
    char *as_bearer = at_creds_transport("alice", "correct-horse", "bearer");
    const char *const good[] = {plain, as_bearer};
    for (size_t i = 0; i < 2; i++) {
        struct ht_response *r = at_post(p, fd, "/sessions", good[i]);
        char msg[512];
        snprintf(msg, sizeof msg, "POST /sessions %s: %s -- the stage 2 answer, 201 with the "
                 "token in the body and no cookie. auth.c post_session()", good[i],
                 i ? "\"transport\":\"bearer\"" : "no \"transport\" member, so \"bearer\"");
        ht_expect_status(p, r, 201, NULL, 0, msg);
        cJSON *j = jt_body(p, r, msg);
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
        int ok = cJSON_IsString(t) && strlen(t->valuestring) == AT_TOKEN_LEN;
        cJSON_Delete(j);
        cr_expect(ok, "%s\nexpected {\"token\": \"<43 characters>\", ...}\nreceived: %s", msg,
                  ht_describe_response(r));
        cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie: a client "
                  "that sends the token back itself gets it in the body only, never also in a "
                  "cookie a browser would attach to other sites' requests\nreceived: %s", msg,
                  ht_describe_response(r));
        ht_free(r);
    }
    free(plain);
    free(as_bearer);

    char *pigeon = at_creds_transport("alice", "correct-horse", "carrier pigeon");
    const char *const bad[] = {pigeon,
                               "{\"username\":\"alice\",\"password\":\"correct-horse\","
                               "\"transport\":1}"};
    for (size_t i = 0; i < 2; i++) {
        struct ht_response *r = at_post(p, fd, "/sessions", bad[i]);
        char msg[512];
        snprintf(msg, sizeof msg, "POST /sessions %s: a transport that is neither \"bearer\" "
                 "nor \"cookie\" -- 422 with an error at \"/transport\", no session. auth.c "
                 "post_session(): read_fields() with the optional field \"transport\" and its "
                 "check transport_check()", bad[i]);
        cJSON *j = jt_expect_problem(p, r, 422, msg);
        cr_expect(at_has_error_at(j, "/transport"), "%s\nthe errors point at %s; expected "
                  "\"/transport\" among them", msg, at_error_pointers(j));
        cJSON_Delete(j);
        ht_free(r);
    }
    free(pigeon);
    long long n = sessions_of(alice);
    cr_expect(n == 2, "alice logged in twice with a bearer transport and was refused twice for "
              "a transport that is not one: the sessions table has %lld rows for her; expected "
              "2 -- a refused body opens no session", n);

    char cookie[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, cookie);
    expect_me(p, fd, at_cookie(cookie, NULL), alice, "alice", "the cookie of a login with "
              "\"transport\":\"cookie\"");
}

/* ---- the cookie stands for the bearer token ------------------------------------- */

Test(cookies, the_cookie_opens_its_session_among_other_cookies_and_is_stored_as_a_hash)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    long long bob = at_register(p, fd, "bob", "battery-staple");
    char ca[AT_TOKEN_LEN + 1], cb[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, ca);
    at_cookie_login(p, fd, "bob", "battery-staple", NULL, cb);
    expect_me(p, fd, at_cookie(ca, NULL), alice, "alice", "alice's cookie alone");
    expect_me(p, fd, at_cookie(cb, NULL), bob, "bob", "bob's cookie alone");
    char h[256];
    snprintf(h, sizeof h, "Cookie: a=1; " AT_COOKIE "=%s; b=2\r\n", ca);
    expect_me(p, fd, h, alice, "alice", "alice's cookie between two others, as a browser sends "
              "every cookie of the site in one field (RFC 6265 section 5.4): split the value at "
              "\"; \" and take the pair whose name is " AT_COOKIE);
    snprintf(h, sizeof h, "Cookie: theme=dark; " AT_COOKIE "=%s\r\n", cb);
    expect_me(p, fd, h, bob, "bob", "bob's cookie, last after another");

    /* the database keeps what it keeps for a bearer token: the SHA-256 */
    char hex[65], sql[200];
    token_sha256(ca, hex);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM sessions WHERE user_id = %lld AND "
             "token_hash = x'%s'", alice, hex);
    long long rows = oracle_count(sql);
    cr_expect(rows == 1, "alice's cookie is %s; the sessions table has %lld row(s) of hers "
              "whose token_hash is the SHA-256 of the 32 bytes it decodes to (%s); expected 1 "
              "-- the cookie holds the session's token, and the database only its hash, as for "
              "a bearer token (sessions.c sessions_create())", ca, rows, hex);
}

Test(cookies, only_a_cookie_named_exactly___Host_sid_is_read)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    static const char *const names[] = {"sid", "__host-sid", "__HOST-SID", "__Host-sid2",
                                        "x__Host-sid"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char h[160], why[400];
        snprintf(h, sizeof h, "Cookie: %s=%s\r\n", names[i], c);
        snprintf(why, sizeof why, "alice's open token in a cookie called \"%s\", not \""
                 AT_COOKIE "\": cookie names are compared exactly, case and all (RFC 6265), "
                 "and only a __Host- cookie is one no other host of the site could have set -- "
                 "so no credentials at all (session_cookie() matches the pair's name with "
                 "memcmp(), up to its '=')", names[i]);
        expect_challenge(p, fd, h, 401, NULL, why);
    }
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "the same token in the cookie "
              AT_COOKIE);
}

Test(cookies, two_credentials_are_400_invalid_request_and_a_dead_cookie_401_invalid_token)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1], t[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    at_login(p, fd, "alice", "correct-horse", t);
    char h[400];
    snprintf(h, sizeof h, "Cookie: " AT_COOKIE "=%s; " AT_COOKIE "=%s\r\n", c, c);
    expect_challenge(p, fd, h, 400, "invalid_request", "the cookie twice in one field, with "
                     "alice's good token both times: which one counts is ambiguous (a "
                     "cookie another host set beside this one's?), so none does -- "
                     "session_cookie() counts the pairs: more than one is BEARER_BAD");
    snprintf(h, sizeof h, "Cookie: " AT_COOKIE "=%s\r\nCookie: " AT_COOKIE "=%s\r\n", c, c);
    expect_challenge(p, fd, h, 400, "invalid_request", "the cookie once in each of two Cookie "
                     "fields: session_cookie() reads every field named Cookie");
    expect_challenge(p, fd, at_bearer(t, at_cookie(c, NULL)), 400, "invalid_request",
                     "alice's bearer token AND her session cookie, both good: one credential "
                     "per request -- authenticate() refuses both at once rather than pick one "
                     "(a page may not ride on a cookie while the client thinks it sent a "
                     "token)");
    expect_challenge(p, fd, at_cookie("garbage-token", NULL), 401, "invalid_token",
                     "a cookie whose value is no token: a credential that opens no session "
                     "(sessions_find() answers AUTH_DENIED, as for Bearer garbage-token)");
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "her cookie alone, after the refused "
              "requests");
    expect_me(p, fd, at_bearer(t, NULL), alice, "alice", "her bearer token alone");
}

/* ---- cross-site request forgery ------------------------------------------------ */

Test(cookies, a_change_with_the_cookie_from_another_site_is_403_and_does_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1], target[160];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    long long pear = at_create(p, fd, at_cookie(c, NULL), "{\"name\":\"pear\"}",
                               "with alice's cookie and neither Sec-Fetch-Site nor Origin (no "
                               "browser): an item for the test");
    static const struct {
        const char *headers, *why;
    } sites[] = {
        {CROSS, "Sec-Fetch-Site: cross-site, the browser's word that another site's page made "
         "it (same_origin() allows only same-origin and none)"},
        {"Sec-Fetch-Site: same-site\r\n", "Sec-Fetch-Site: same-site -- another host of the "
         "site (a sibling subdomain) is not this origin"},
        {"Origin: http://evil.example\r\n", "no Sec-Fetch-Site (an older browser) and the "
         "Origin of another site"},
        {"Origin: null\r\n", "no Sec-Fetch-Site and Origin: null, what a sandboxed frame or a "
         "redirect sends: no origin is not this one"},
        {"Origin: " SELF ".evil.example\r\n", "Origin: " SELF ".evil.example, which begins like "
         "this server's origin: compare the whole Origin, not a prefix"},
        {"Origin: " SELF ":8080\r\n", "Origin: " SELF ":8080 -- another port is another origin "
         "(this Host is localhost, without a port)"},
    };
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        const char *h = at_cookie(c, json(sites[i].headers));
        expect_forged(p, fd, "POST", "/items", h, "{\"name\":\"forged\"}", sites[i].why);
    }
    long long n = items();
    cr_expect(n == 1, "after %zu POST /items with alice's cookie from other sites, all refused, "
              "the items table has %lld rows; expected the 1 made before (pear): a refused "
              "request does nothing -- auth_serve() answers 403 before api_serve() runs",
              sizeof sites / sizeof sites[0], n);

    snprintf(target, sizeof target, "/items/%lld", pear);
    expect_forged(p, fd, "DELETE", target, at_cookie(c, CROSS), NULL, "a DELETE of an item "
                  "from another site: every unsafe method, on every path, the items too");
    expect_forged(p, fd, "PATCH", target, at_cookie(c, "Origin: http://evil.example\r\n"
                  "Content-Type: application/merge-patch+json\r\n"), "{\"name\":\"forged\"}",
                  "a PATCH of an item with the Origin of another site");
    struct ht_response *r = rc_send(p, fd, "GET", target, at_cookie(c, NULL), NULL, 0);
    char msg[512];
    snprintf(msg, sizeof msg, "GET %s with alice's cookie, after a DELETE and a PATCH of it that "
             "came with the cookie from another site: both were refused, so the item is still there, named "
             "pear", target);
    ht_expect_status(p, r, 200, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    cr_expect(cJSON_IsString(name) && strcmp(name->valuestring, "pear") == 0, "%s\nreceived: "
              "%s", msg, ht_describe_response(r));
    cJSON_Delete(j);
    ht_free(r);
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "her cookie after the forged "
              "requests: a refusal ends no session");
}

Test(cookies, a_change_with_the_cookie_from_this_site_or_no_browser_goes_through)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    static const struct {
        const char *headers, *why;
    } sites[] = {
        {"Origin: " SELF "\r\n", "no Sec-Fetch-Site, and Origin: " SELF ", this server's own "
         "origin: \"http://\" then exactly the Host field's value (localhost)"},
        {"Origin: https://localhost\r\n", "no Sec-Fetch-Site, and Origin: https://localhost "
         "(\"https://\" then the Host: this server behind a proxy that ends TLS)"},
        {SAME, "Sec-Fetch-Site: same-origin: this site's own page"},
        {"Sec-Fetch-Site: none\r\n", "Sec-Fetch-Site: none: the user did it (typed, "
         "bookmarked), no page did"},
        {"", "neither Sec-Fetch-Site nor Origin: not a browser (curl, a script), which attaches "
         "no cookie by itself -- SameSite=Strict guards the browsers too old for both"},
    };
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        const char *h = at_cookie(c, json(sites[i].headers));
        struct ht_response *r = rc_send(p, fd, "POST", "/items", h, "{\"name\":\"x\"}", 12);
        char msg[1024];
        snprintf(msg, sizeof msg, "POST /items {\"name\":\"x\"} with %s -- %s: from this site, "
                 "so it goes on to the items API, 201. auth.c same_origin(): Sec-Fetch-Site "
                 "same-origin or none when the browser sent it; else an Origin that is "
                 "\"http://\" or \"https://\" and the Host; with neither header, 1",
                 shown(h), sites[i].why);
        ht_expect_status(p, r, 201, NULL, 0, msg);
        ht_free(r);
    }
    long long n = items();
    cr_expect(n == 5, "after 5 POST /items with alice's cookie from this site, all answered "
              "201, the items table has %lld rows; expected 5", n);
    expect_me(p, fd, at_cookie(c, "Origin: " SELF "\r\n"), alice, "alice", "her cookie, after "
              "the changes");
}

Test(cookies, the_session_itself_cannot_be_changed_from_another_site)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1], t[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    at_login(p, fd, "alice", "correct-horse", t);
    sqlite3 *db = db_oracle(at_db_path());
    char before[256], after[256];
    snprintf(before, sizeof before, "%s", at_user_value(db, "password_hash", "alice"));
    sqlite3_close(db);

    const char *change = "{\"current_password\":\"correct-horse\",\"new_password\":\"forged-pw-1\"}";
    expect_forged(p, fd, "DELETE", "/sessions/current", at_cookie(c, CROSS), NULL,
                  "a logout from another site (a victim logged out at will)");
    expect_forged(p, fd, "PUT", "/me/password", at_cookie(c, json(CROSS)), change,
                  "a new password from another site -- even with the right current password, "
                  "which a page may have guessed or phished");
    expect_forged(p, fd, "DELETE", "/sessions", at_cookie(c, CROSS), NULL,
                  "a logout everywhere from another site");
    expect_forged(p, fd, "DELETE", "/sessions", at_cookie(c, "Origin: http://evil.example\r\n"),
                  NULL, "a logout everywhere with the Origin of another site, from an older "
                  "browser that sends no Sec-Fetch-Site");

    db = db_oracle(at_db_path());
    snprintf(after, sizeof after, "%s", at_user_value(db, "password_hash", "alice"));
    sqlite3_close(db);
    cr_expect(strcmp(before, after) == 0, "after a PUT /me/password with alice's cookie from "
              "another site, refused, her password_hash changed:\n  before: %s\n  after:  %s\n"
              "expected it unchanged: auth_serve() refuses before put_password() runs",
              before, after);
    long long n = sessions_of(alice);
    cr_expect(n == 2, "after four refused cross-site changes alice has %lld session rows; "
              "expected her 2 (the cookie's and the bearer token's): a refused request ends "
              "nothing", n);
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "her cookie after the forged logouts");

    /* from this site, the cookie changes the password and keeps its session */
    struct ht_response *r = rc_send(p, fd, "PUT", "/me/password", at_cookie(c, json(SAME)),
                                    change, strlen(change));
    char msg[768];
    snprintf(msg, sizeof msg, "PUT /me/password %s with alice's cookie and Sec-Fetch-Site: "
             "same-origin: her own page, so 204. auth.c put_password() keeps the session of the "
             "token authenticate() found -- here the cookie's", change);
    expect_204(p, r, msg);
    ht_free(r);
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "the cookie that changed the password: "
              "authenticate() gives the cookie's value as the token (*tok), and put_password() "
              "keeps that session");
    expect_challenge(p, fd, at_bearer(t, NULL), 401, "invalid_token", "alice's bearer token, after "
                     "she changed her password with her cookie: every other session ends");
}

Test(cookies, reads_and_bearer_tokens_are_never_refused_as_cross_site)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1], t[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    at_login(p, fd, "alice", "correct-horse", t);
    expect_me(p, fd, at_cookie(c, CROSS), alice, "alice", "her cookie and Sec-Fetch-Site: "
              "cross-site on a GET: a read changes nothing, and a page of another site cannot "
              "read the answer (the same-origin policy), so only unsafe methods are checked");
    expect_me(p, fd, at_cookie(c, "Origin: http://evil.example\r\n"), alice, "alice",
              "her cookie and the Origin of another site on a GET");
    struct ht_response *r = rc_send(p, fd, "HEAD", "/me", at_cookie(c, CROSS), NULL, 0);
    char msg[768];
    snprintf(msg, sizeof msg, "HEAD /me with alice's cookie and Sec-Fetch-Site: cross-site: "
             "HEAD is safe as GET is, 200 -- auth_serve() checks only methods other than GET, "
             "HEAD and OPTIONS");
    ht_expect_status(p, r, 200, NULL, 0, msg);
    ht_free(r);

    static const char *const sites[] = {CROSS, "Origin: http://evil.example\r\n"};
    for (size_t i = 0; i < 2; i++) {
        r = rc_send(p, fd, "POST", "/items", at_bearer(t, json(sites[i])), "{\"name\":\"x\"}", 12);
        snprintf(msg, sizeof msg, "POST /items {\"name\":\"x\"} with %s -- alice's BEARER token "
                 "and no cookie: a browser never attaches an Authorization field by itself, so "
                 "a page of another site cannot forge this -- no CSRF, 201. auth_serve() checks "
                 "only requests that carry the session cookie",
                 shown(at_bearer(t, json(sites[i]))));
        ht_expect_status(p, r, 201, NULL, 0, msg);
        ht_free(r);
    }
    char *bob = at_creds("bob", "battery-staple");
    r = rc_send(p, fd, "POST", "/users", json(CROSS), bob, strlen(bob));
    ht_expect_status(p, r, 201, NULL, 0, "POST /users for bob with Sec-Fetch-Site: cross-site "
                     "and no credentials at all: nothing to forge, 201 -- the check is about "
                     "the cookie");
    free(bob);
    ht_free(r);
    r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(t, CROSS), NULL, 0);
    snprintf(msg, sizeof msg, "DELETE /sessions/current with alice's bearer token %s and "
             "Sec-Fetch-Site: cross-site: no cookie, so no CSRF -- 204 (auth.c "
             "delete_current())", t);
    expect_204(p, r, msg);
    cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie: the logout "
              "came with no cookie, so there is none to expire (forget_cookie() only when "
              "session_cookie() found one)\nreceived: %s", msg, ht_describe_response(r));
    ht_free(r);
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "her cookie, after the bearer token's "
              "logout: another session");
}

Test(cookies, a_cookie_login_from_another_site_is_403_and_opens_no_session)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char *body = at_creds_transport("alice", "correct-horse", "cookie");
    static const char *const sites[] = {CROSS, "Sec-Fetch-Site: same-site\r\n",
                                        "Origin: http://evil.example\r\n"};
    for (size_t i = 0; i < sizeof sites / sizeof sites[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "POST", "/sessions", json(sites[i]), body,
                                        strlen(body));
        char msg[1024];
        snprintf(msg, sizeof msg, "POST /sessions %s with %s and no cookie -- a cookie login "
                 "that a page of another origin made: 403, a problem document, and no session. "
                 "Login CSRF: the attacker's own credentials would log the victim's browser "
                 "into the attacker's account, and whatever the victim then saves, the "
                 "attacker reads. auth.c post_session(): \"transport\":\"cookie\" and not "
                 "same_origin() -> 403", body, shown(sites[i]));
        cJSON_Delete(jt_expect_problem(p, r, 403, msg));
        cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie\n"
                  "received: %s", msg, ht_describe_response(r));
        ht_free(r);
    }
    long long n = sessions_of(alice);
    cr_expect(n == 0, "after %zu cookie logins from other sites, all refused, the sessions "
              "table has %lld rows for alice; expected 0: post_session() refuses before "
              "sessions_create()", sizeof sites / sizeof sites[0], n);
    free(body);

    body = at_creds_transport("alice", "correct-horse", "bearer");
    struct ht_response *r = rc_send(p, fd, "POST", "/sessions", json(CROSS), body, strlen(body));
    char msg[768];
    snprintf(msg, sizeof msg, "POST /sessions %s with Sec-Fetch-Site: cross-site: a BEARER "
             "login sets no cookie, and a page of another site never reads the token in the "
             "answer (the same-origin policy), so it is no forgery -- 201 with the token", body);
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie\nreceived: %s",
              msg, ht_describe_response(r));
    ht_free(r);

    char c[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", SAME, c);
    expect_me(p, fd, at_cookie(c, NULL), alice, "alice", "the cookie of a login from this "
              "site's page (Sec-Fetch-Site: same-origin)");
    n = sessions_of(alice);
    cr_expect(n == 2, "alice logged in with a bearer token from another site and with a cookie "
              "from this one: the sessions table has %lld rows for her; expected 2", n);
}

Test(cookies, a_form_never_reaches_a_json_endpoint)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c);
    /* the classic forgery: an HTML form on another site, posted with the cookie */
    expect_forged(p, fd, "POST", "/items", at_cookie(c, CROSS "Content-Type: "
                  "application/x-www-form-urlencoded\r\n"), "name=forged",
                  "an HTML form of another site, posted by the victim's browser");

    /* a form's types, even from this site: only JSON is read */
    static const struct {
        const char *type, *body;
    } forms[] = {
        {"text/plain", "{\"name\":\"x\"}"},
        {"application/x-www-form-urlencoded", "name=x"},
        {"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; "
         "name=\"name\"\r\n\r\nx\r\n--x--\r\n"},
    };
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        char h[160], msg[1024];
        snprintf(h, sizeof h, SAME "Content-Type: %s\r\n", forms[i].type);
        struct ht_response *r = rc_send(p, fd, "POST", "/items", at_cookie(c, h), forms[i].body,
                                        strlen(forms[i].body));
        snprintf(msg, sizeof msg, "POST /items %s as Content-Type: %s, with alice's cookie and "
                 "Sec-Fetch-Site: same-origin: an HTML form can send this type to any site "
                 "without asking first (no CORS preflight), so a JSON endpoint refuses it -- "
                 "415, nothing made", wb_esc(forms[i].body, strlen(forms[i].body), 120),
                 forms[i].type);
        cJSON_Delete(jt_expect_problem(p, r, 415, msg));
        ht_free(r);
    }
    long long n = items();
    cr_expect(n == 0, "after a forged form and %zu forms from this site, all refused, the items "
              "table has %lld rows; expected 0", sizeof forms / sizeof forms[0], n);

    static const struct {
        const char *type, *body;
    } logins[] = {
        {"application/x-www-form-urlencoded",
         "username=alice&password=correct-horse&transport=cookie"},
        {"text/plain", "{\"username\":\"alice\",\"password\":\"correct-horse\","
         "\"transport\":\"cookie\",\"x\":\"=\"}"},
    };
    for (size_t i = 0; i < sizeof logins / sizeof logins[0]; i++) {
        char h[160], msg[1024];
        snprintf(h, sizeof h, SAME "Content-Type: %s\r\n", logins[i].type);
        struct ht_response *r = rc_send(p, fd, "POST", "/sessions", h, logins[i].body,
                                        strlen(logins[i].body));
        snprintf(msg, sizeof msg, "POST /sessions %s as Content-Type: %s (what a form with "
                 "enctype=\"%s\" sends%s): a login reads JSON only -- 415, no session, no "
                 "cookie. auth.c post_session() -> read_fields()", logins[i].body,
                 logins[i].type, logins[i].type, i ? ", a JSON text made of a field's name, "
                 "'=' and its value" : "");
        cJSON_Delete(jt_expect_problem(p, r, 415, msg));
        cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie\n"
                  "received: %s", msg, ht_describe_response(r));
        ht_free(r);
    }
    n = sessions_of(alice);
    cr_expect(n == 1, "after two logins as forms, both refused, alice has %lld session rows; "
              "expected 1 (the test's own login)", n);
    struct ht_response *r = rc_send(p, fd, "POST", "/items", at_cookie(c, json(SAME)),
                                    "{\"name\":\"x\"}", 12);
    ht_expect_status(p, r, 201, NULL, 0, "POST /items {\"name\":\"x\"} as application/json with "
                     "alice's cookie and Sec-Fetch-Site: same-origin, after the refused forms: "
                     "201");
    ht_free(r);
}

/* ---- the end of a cookie's session ------------------------------------------------ */

Test(cookies, a_logout_with_the_cookie_expires_it)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char c1[AT_TOKEN_LEN + 1], c2[AT_TOKEN_LEN + 1], t1[AT_TOKEN_LEN + 1],
        t2[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c1);
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, c2);
    at_login(p, fd, "alice", "correct-horse", t1);
    at_login(p, fd, "alice", "correct-horse", t2);

    struct ht_response *r = rc_send(p, fd, "DELETE", "/sessions/current", at_cookie(c1, SAME),
                                    NULL, 0);
    char msg[768];
    snprintf(msg, sizeof msg, "DELETE /sessions/current with alice's first cookie (%s) and "
             "Sec-Fetch-Site: same-origin: log out, 204 -- auth.c delete_current(): "
             "authenticate() (the cookie's token), sessions_end(), no_content(), then "
             "forget_cookie()", c1);
    expect_204(p, r, msg);
    expect_forgotten(r, msg);
    ht_free(r);
    expect_challenge(p, fd, at_cookie(c1, NULL), 401, "invalid_token", "the first cookie, "
                     "logged out: its session's row is gone, whatever the browser still holds");
    expect_me(p, fd, at_cookie(c2, NULL), alice, "alice", "her second cookie, another session");

    r = rc_send(p, fd, "DELETE", "/sessions/current", at_bearer(t2, NULL), NULL, 0);
    snprintf(msg, sizeof msg, "DELETE /sessions/current with alice's bearer token %s: 204", t2);
    expect_204(p, r, msg);
    cr_expect(ht_header_count(r, "Set-Cookie") == 0, "%s\nexpected no Set-Cookie: the request "
              "came without the cookie, and a client of bearer tokens has none to forget -- "
              "forget_cookie() answers one only when session_cookie() found the cookie\n"
              "received: %s", msg, ht_describe_response(r));
    ht_free(r);

    r = rc_send(p, fd, "DELETE", "/sessions", at_cookie(c2, SAME), NULL, 0);
    snprintf(msg, sizeof msg, "DELETE /sessions with alice's second cookie (%s) and "
             "Sec-Fetch-Site: same-origin: log out everywhere, 204 -- auth.c delete_all(): "
             "sessions_end_all(), no_content(), then forget_cookie()", c2);
    expect_204(p, r, msg);
    expect_forgotten(r, msg);
    ht_free(r);
    expect_challenge(p, fd, at_cookie(c2, NULL), 401, "invalid_token", "the second cookie, "
                     "after a logout everywhere with it");
    expect_challenge(p, fd, at_bearer(t1, NULL), 401, "invalid_token", "alice's bearer token, "
                     "after a logout everywhere with her cookie: every session of the account");
    long long n = sessions_of(alice);
    cr_expect(n == 0, "after alice logged out everywhere, the sessions table has %lld rows for "
              "her; expected 0", n);
}

Test(cookies, a_cookie_login_ends_the_cookie_session_it_came_with)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    long long alice = at_register(p, fd, "alice", "correct-horse");
    char a[AT_TOKEN_LEN + 1], b[AT_TOKEN_LEN + 1], other[AT_TOKEN_LEN + 1];
    at_cookie_login(p, fd, "alice", "correct-horse", NULL, a);
    at_login(p, fd, "alice", "correct-horse", other);

    /* a failed login ends nothing */
    char *body = at_creds_transport("alice", "wrong-password", "cookie");
    struct ht_response *r = rc_send(p, fd, "POST", "/sessions", at_cookie(a, json(SAME)), body,
                                    strlen(body));
    char msg[768];
    snprintf(msg, sizeof msg, "POST /sessions %s with alice's open cookie A: a wrong password, "
             "401", body);
    free(body);
    cJSON_Delete(jt_expect_problem(p, r, 401, msg));
    ht_free(r);
    expect_me(p, fd, at_cookie(a, NULL), alice, "alice", "cookie A, after a FAILED login that "
              "came with it: post_session() ends the presented session only once the login "
              "succeeded -- else anyone could log a victim out");

    at_cookie_login(p, fd, "alice", "correct-horse", at_cookie(a, SAME), b);
    cr_expect(strcmp(a, b) != 0, "a cookie login that came with alice's cookie A (%s) set the "
              "very same value again: a login always opens a new session (sessions_create()) "
              "-- a cookie planted in the victim's browser must not become the victim's "
              "session (session fixation)", a);
    expect_challenge(p, fd, at_cookie(a, NULL), 401, "invalid_token", "cookie A, after a cookie "
                     "login that came with it: auth.c post_session() ends the session of the "
                     "cookie the request came with (session_cookie(), sessions_end()), as it "
                     "ends a bearer token's (stage 4) -- OWASP: renew the session at login");
    expect_me(p, fd, at_cookie(b, NULL), alice, "alice", "cookie B, the one that login set");
    expect_me(p, fd, at_bearer(other, NULL), alice, "alice", "her bearer token, which the login "
              "did not come with");
    long long n = sessions_of(alice);
    cr_expect(n == 2, "alice logged in with a cookie, a bearer token, then a cookie that came "
              "with the first cookie A, which ended: the sessions table has %lld rows for her; "
              "expected 2", n);
}
