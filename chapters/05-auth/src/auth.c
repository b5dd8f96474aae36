/* auth -- see auth.h for what each route answers: it is the spec the
 * tests check. Given: the answers' helpers, reading a JSON body's fields,
 * the routing. Yours: post_user() (stage 1), post_session() (stage 2),
 * bearer_token(), authenticate() and get_me() (stage 3), logging out and
 * a new password (stage 4), cookies and their guards (stage 5), who may
 * do what: items(), admin_gate(), get_account(), put_role() and the end
 * of auth_serve() (stage 6), the counts of password guesses --
 * guess_wait(), guess_failed(), guess_right() -- in post_session() and
 * put_password() (stage 7), JWTs: post_token() and their part of
 * authenticate(), delete_current(), delete_all() and put_password()
 * (stage 8). */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <cJSON.h>

#include "json_check.h"
#include "media.h"
#include "problem.h"
#include "router.h"

#define REALM "Bearer realm=\"restd\""

/* One request, as the handlers see it. */
struct call {
    struct auth *auth;
    const struct http_request *req;
    const struct buf *body;
    struct response *resp;
    const struct loop_job *job;  /* the worker's job: loop_job_fd() */
    struct http_slice id;        /* the route's {id}, when it has one */
};

/* ---- answers ------------------------------------------------------------------ */

/* Every answer below is made once, on the response the HTTP layer
 * response_init()ed: nothing is added to it before an error is known. */
static int problem(struct call *c, int status, const char *detail)
{
    return problem_respond(c->resp, status, detail);
}

/* A 401 or 400 with its challenge: error is NULL (no credentials), or
 * RFC 6750's "invalid_token" or "invalid_request". */
static int challenge(struct call *c, int status, const char *error, const char *detail)
{
    char value[128];
    if (error)
        snprintf(value, sizeof value, REALM ", error=\"%s\"", error);
    else
        snprintf(value, sizeof value, REALM);
    return problem(c, status, detail) < 0 ? -1
                                          : response_header(c->resp, "WWW-Authenticate", value);
}

/* The answer to AUTH_BUSY or AUTH_ERROR. */
static int failed(struct call *c, enum auth_status st)
{
    if (st != AUTH_BUSY)
        return -1; /* the HTTP layer answers 500 */
    if (problem(c, 503, "the database is busy: nothing was done, try again in a second") < 0)
        return -1;
    return response_header(c->resp, "Retry-After", "1");
}

/* 200 or 201 with the account as JSON, never cached. */
static int user_respond(struct call *c, int status, const struct user *u)
{
    cJSON *j = cJSON_CreateObject();
    int rc = -1;
    if (j && cJSON_AddNumberToObject(j, "id", (double)u->id) &&
        cJSON_AddStringToObject(j, "username", u->name) &&
        cJSON_AddStringToObject(j, "role", u->role) && json_respond(c->resp, status, j) == 0)
        rc = response_header(c->resp, "Cache-Control", "no-store");
    cJSON_Delete(j);
    return rc;
}

/* ---- credentials in a body ------------------------------------------------------ */

/* Adds {"pointer": pointer, "detail": detail} to errors. 0, or -1. */
static int add_error(cJSON *errors, const char *pointer, const char *detail)
{
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "pointer", pointer) ||
        !cJSON_AddStringToObject(e, "detail", detail) || !cJSON_AddItemToArray(errors, e)) {
        cJSON_Delete(e);
        return -1;
    }
    return 0;
}

/* A string member of a JSON body: its name and its rule going in, its
 * value coming out. */
struct field {
    const char *name;                                 /* "username" */
    const char *(*check)(const char *s, size_t len);  /* NULL, or why s is refused */
    int optional;                                     /* 1: may be missing (value NULL) */
    const char *value;                                /* in the parsed body */
    size_t len;
};

/* The members f[0..n) of the request's JSON body, each a string that
 * passes its check: 1 with *doc the parsed body (cJSON_Delete() it) and
 * each f[i].value in it; 0 when the answer is made (415, 400, or 422 with
 * a pointer per member refused); -1 when memory ran out. Other members
 * are ignored -- "role" above all: a client does not choose its role. */
static int read_fields(struct call *c, cJSON **doc, struct field *f, size_t n)
{
    *doc = NULL;
    const struct http_slice *ct = http_header_get(c->req, "Content-Type");
    if (!ct || !media_is(*ct, "application/json"))
        return problem(c, 415, "the body must be Content-Type: application/json") < 0 ? -1 : 0;
    struct json_limits lim = {JSON_MAX_DEPTH, JSON_MAX_VALUES};
    struct json_result res;
    const char *text = c->body->data ? c->body->data : "";
    if (json_check(text, c->body->len, &lim, &res) < 0) {
        char detail[200];
        snprintf(detail, sizeof detail, "the body is not valid JSON: %s at byte %zu", res.reason,
                 res.offset);
        return problem(c, 400, detail) < 0 ? -1 : 0;
    }
    cJSON *errors = cJSON_CreateArray();
    if (!errors || !(*doc = cJSON_ParseWithLength(text, c->body->len))) {
        cJSON_Delete(errors);
        return -1; /* json_check() accepted it: only memory can fail */
    }
    int bad = 0;
    if (!cJSON_IsObject(*doc))
        bad |= add_error(errors, "", "the body is a JSON object");
    /* cJSON ends a string at \u0000: "secret\u0000x" would be "secret",
     * and a password is checked exactly as it was sent, or not at all */
    if (res.nul_escapes)
        bad |= add_error(errors, "", "a string holds \\u0000, which no credential may");
    for (size_t i = 0; i < n && cJSON_IsObject(*doc); i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(*doc, f[i].name);
        f[i].value = NULL;
        f[i].len = 0;
        if (!v && f[i].optional)
            continue;
        char pointer[64];
        snprintf(pointer, sizeof pointer, "/%s", f[i].name);
        const char *why = !cJSON_IsString(v) ? "a string is needed"
                          : f[i].check      ? f[i].check(v->valuestring, strlen(v->valuestring))
                                            : NULL;
        if (why)
            bad |= add_error(errors, pointer, why);
        else {
            f[i].value = v->valuestring;
            f[i].len = strlen(v->valuestring);
        }
    }
    if (bad) {
        cJSON_Delete(errors);
        cJSON_Delete(*doc);
        *doc = NULL;
        return -1;
    }
    if (cJSON_GetArraySize(errors) > 0) {
        cJSON_Delete(*doc);
        *doc = NULL;
        return problem_respond_errors(c->resp, 422, "the body is not valid", errors) < 0 ? -1
                                                                                       : 0;
    }
    cJSON_Delete(errors);
    return 1;
}

/* ---- who is asking (stage 3) ---------------------------------------------------- */

/* 1 for a character of RFC 9110's token68 (section 11.2), '=' aside. */
static int token68_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           strchr("-._~+/", ch) != NULL;
}

/* What the request's Authorization field holds. */
enum bearer {
    BEARER_NONE, /* no field, or another scheme than Bearer */
    BEARER_OK,   /* a Bearer token, in *tok */
    BEARER_BAD,  /* two fields, or Bearer without a well-formed token */
};

/* The request's bearer token (RFC 6750 section 2.1): credentials =
 * auth-scheme [ 1*SP token68 ], the scheme without case. */
static enum bearer bearer_token(const struct http_request *req, struct http_slice *tok)
{
    /* TODO(stage 3): RFC 6750 section 2.1 -- credentials = auth-scheme
     * [ 1*SP token68 ]:
     *  1. Count the Authorization fields (req->headers, names without
     *     case: http_slice_eq_nocase()). None: BEARER_NONE; two or more:
     *     BEARER_BAD (which one would you believe?).
     *  2. The scheme is the value up to the first space: not Bearer (any
     *     case) -> BEARER_NONE. Skip the spaces after it.
     *  3. The rest is the token, into *tok: empty, or with a byte that is
     *     not token68_char() (then only '=' up to the end) -> BEARER_BAD;
     *     else BEARER_OK. */
    (void)req;
    (void)tok;
    (void)token68_char;
    return BEARER_NONE;
}

/* The session cookie's name: __Host- makes a browser keep it only when it
 * was set with Secure and Path=/ and no Domain, by this very host
 * (RFC 6265bis section 4.1.3.2). */
#define COOKIE "__Host-sid"

/* The request's session cookie (RFC 6265 section 5.4: Cookie: name=value;
 * name=value): BEARER_OK with its value in *tok, BEARER_NONE without one,
 * BEARER_BAD when it comes twice. */
static enum bearer session_cookie(const struct http_request *req, struct http_slice *tok)
{
    /* TODO(stage 5): every field named Cookie (without case), each
     * "name=value; name=value" (RFC 6265 section 5.4): the pairs whose
     * name is COOKIE -- none: BEARER_NONE; one: BEARER_OK with its value
     * in *tok; more: BEARER_BAD (which one would you believe?). */
    (void)req;
    (void)tok;
    return BEARER_NONE;
}

/* 1 when an unsafe request may act with the session cookie: the browser
 * says it comes from this site's own pages (Sec-Fetch-Site: same-origin),
 * or from the user (none: typed, bookmarked); without that header, an
 * Origin that is this server's (http:// or https:// and the Host); with
 * neither, a client that is no browser -- SameSite=Strict is the last
 * wall. OWASP CSRF Prevention Cheat Sheet: Fetch Metadata, then Origin. */
static int same_origin(const struct http_request *req)
{
    /* TODO(stage 5): Sec-Fetch-Site, when the browser sent it: 1 for
     * same-origin or none, else 0 (cross-site, same-site). Without it,
     * Origin: none -> 1 (not a browser, or an old one: SameSite=Strict
     * guards those); else 1 only when it is "http://" or "https://" and
     * then exactly the Host field's value (compare without case), 0 for
     * any other, "null" too. */
    (void)req;
    return 1;
}

/* 1 when tok is a JWT: it has dots, which no session token has (43
 * characters of base64url, stage 3). */
static int is_jwt(struct http_slice tok)
{
    return memchr(tok.p, '.', tok.n) != NULL;
}

/* The user of the request's session into *who, and its token into *tok:
 * from Authorization: Bearer, or from the session cookie -- one of them,
 * never both. 1; 0 when the answer is made (401 or 400, or 503); -1 when
 * it could not be. */
static int authenticate(struct call *c, struct user *who, struct http_slice *tok)
{
    /* TODO(stage 3): auth.h's table, from bearer_token(c->req, tok):
     * BEARER_NONE -> challenge(c, 401, NULL, ...); BEARER_BAD ->
     * challenge(c, 400, "invalid_request", ...); BEARER_OK ->
     * sessions_find(c->auth->sessions, tok->p, tok->n, sessions_now_ms(),
     * who): AUTH_DENIED -> challenge(c, 401, "invalid_token", ...); AUTH_OK
     * -> 1; anything else failed(). Return 0 after an answer, -1 when
     * memory ran out. */
    /* TODO(stage 5): the session cookie stands for the bearer token:
     * session_cookie() too; either one BEARER_BAD, or both BEARER_OK -> 400
     * "invalid_request"; no bearer but a cookie -> the cookie's token. */
    /* TODO(stage 8): a token that is_jwt() is no session's: jwt_verify()
     * it with c->auth->jwt's key, iss, aud and now (sessions_now_ms() /
     * 1000); then users_token_user() of its sub and iat -- the account
     * may have taken its tokens back. A refusal is the same 401
     * "invalid_token", its detail saying why (jwt_verify()'s phrase). */
    (void)c;
    (void)who;
    (void)tok;
    return -1;
}

/* 204 No Content. */
static int no_content(struct call *c)
{
    c->resp->status = 204;
    return 0;
}

/* ---- the handlers --------------------------------------------------------------- */

/* read_fields()'s check of a login's "transport": "bearer" (the default)
 * or "cookie" (stage 5). */
static const char *transport_check(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "bearer") == 0 || strcmp(s, "cookie") == 0
               ? NULL
               : "the transport is \"bearer\" or \"cookie\"";
}

/* Makes the browser forget the session cookie (Max-Age=0: RFC 6265bis
 * section 5.6.2), when the request came with one. 0, or -1. */
static int forget_cookie(struct call *c)
{
    struct http_slice t;
    if (session_cookie(c->req, &t) == BEARER_NONE)
        return 0;
    return response_header(c->resp, "Set-Cookie",
                           COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0");
}

/* POST /users (stage 1). */
static int post_user(struct call *c)
{
    /* TODO(stage 1): read_fields() of "username" (users_check_name) and
     * "password" (users_check_password) -- struct field f[] = {{.name =
     * "username", .check = users_check_name}, ...}; r <= 0 is the answer
     * made (or -1). users_create(c->auth->users, f[0].value, f[1].value,
     * f[1].len, &u), then cJSON_Delete() the body. AUTH_TAKEN -> 409
     * problem; another failure -> failed(). AUTH_OK -> user_respond(c, 201,
     * &u) and a Location header of /users/<id>. The answer never holds the
     * password or its hash. */
    (void)c;
    (void)user_respond;
    (void)read_fields;
    (void)failed;
    return -1;
}

/* ---- failed logins (stage 7) ---------------------------------------------------- */

/* The client's address, as the socket says (getpeername()), into out:
 * "127.0.0.2"; an IPv6 client by its /64 -- one machine has a whole /64
 * to pick addresses from --, "2001:db8:1:2::/64". "unknown" when there is
 * no socket (every such request then shares one count). Never a header:
 * X-Forwarded-For is whatever the client wrote. */
static void client_address(const struct loop_job *job, char *out, size_t cap)
{
    struct sockaddr_storage sa;
    socklen_t len = sizeof sa;
    int fd = loop_job_fd(job);
    snprintf(out, cap, "unknown");
    if (fd < 0 || getpeername(fd, (struct sockaddr *)&sa, &len) != 0)
        return;
    char text[INET6_ADDRSTRLEN];
    if (sa.ss_family == AF_INET) {
        if (inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, text, sizeof text))
            snprintf(out, cap, "%s", text);
    } else if (sa.ss_family == AF_INET6) {
        struct in6_addr a = ((struct sockaddr_in6 *)&sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(&a)) { /* ::ffff:127.0.0.2 is 127.0.0.2 */
            if (inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof text))
                snprintf(out, cap, "%s", text);
            return;
        }
        memset(&a.s6_addr[8], 0, 8);
        if (inet_ntop(AF_INET6, &a, text, sizeof text))
            snprintf(out, cap, "%s/64", text);
    }
}

/* The two keys a password guess for the account name counts under: the
 * account from this client, and this client whatever the accounts. */
struct guess_keys {
    char account[THROTTLE_KEY_MAX + 1];
    char client[THROTTLE_KEY_MAX + 1];
};

static void guess_keys(struct call *c, const char *name, struct guess_keys *k)
{
    char addr[INET6_ADDRSTRLEN + 8];
    client_address(c->job, addr, sizeof addr);
    snprintf(k->account, sizeof k->account, "account %s %s", addr, name);
    snprintf(k->client, sizeof k->client, "client %s", addr);
}

/* A login refused for now: 429 with Retry-After, whole seconds rounded
 * up (RFC 6585 section 4, RFC 9110 section 10.2.3). */
static int too_many(struct call *c, long long wait_ms)
{
    char secs[24];
    snprintf(secs, sizeof secs, "%lld", (wait_ms + 999) / 1000);
    if (problem(c, 429, "too many failed logins: wait for Retry-After seconds, then try "
                "again") < 0)
        return -1;
    return response_header(c->resp, "Retry-After", secs);
}

/* How long a password guess for name must wait (stage 7): 0 when it may
 * be tried now, else the longer wait of its two keys. Asked before the
 * hash is paid for: a locked guess costs no Argon2id. */
static long long guess_wait(struct call *c, const struct guess_keys *k)
{
    /* TODO(stage 7): throttle_wait() of k->account and of k->client, at
     * loop_now_ms() (a clock that does not jump), on c->auth->throttle:
     * the longer of the two. */
    (void)c;
    (void)k;
    return 0;
}

/* A wrong password for the account of k: one more on both counts. */
static void guess_failed(struct call *c, const struct guess_keys *k)
{
    /* TODO(stage 7): throttle_fail() of k->account under
     * &c->auth->per_account, and of k->client under &c->auth->per_client,
     * at loop_now_ms(). */
    (void)c;
    (void)k;
}

/* The right password: the account's count starts again -- the client's
 * stays, so that one account of its own does not let a client guess on
 * at the others. */
static void guess_right(struct call *c, const struct guess_keys *k)
{
    /* TODO(stage 7): throttle_clear() of k->account alone. */
    (void)c;
    (void)k;
}

/* POST /sessions (stage 2). */
static int post_session(struct call *c)
{
    /* TODO(stage 2): read_fields() of "username" and "password", without
     * checks -- a login checks the password, not its shape. users_login();
     * AUTH_DENIED -> challenge(c, 401, NULL, ...) with one detail for every
     * failure, so that nothing tells a wrong password from a name with no
     * account. AUTH_OK -> sessions_create(..., sessions_now_ms(), token) ->
     * 201 with {"token": token, "token_type": "Bearer", "expires_in":
     * max_ms / 1000 seconds} (json_respond()) and Cache-Control: no-store
     * (RFC 6749 section 5.1: a token must not be cached); other failures
     * -> failed(). sodium_memzero() the token after. */
    /* TODO(stage 5): a third field, "transport" (check: transport_check,
     * optional). "cookie": the request must be same_origin() (else 403:
     * login CSRF, a victim logged in to the attacker's account), and the
     * answer carries the token only in Set-Cookie: COOKIE "=<token>;
     * Path=/; Secure; HttpOnly; SameSite=Strict" -- no "token" member,
     * "token_type": "cookie". A session cookie the request came with ends
     * too, as a bearer token does (stage 4). */
    (void)transport_check;
    /* TODO(stage 4): after a good users_login() and before
     * sessions_create(), a token the request came with (bearer_token() ==
     * BEARER_OK) ends: sessions_end() -- a login never keeps a token
     * someone else may have planted. Before, so that a failure leaves no
     * session whose token no one got. */
    /* TODO(stage 7): between read_fields() and users_login(): guess_keys()
     * of the username as sent -- an account or not --, and guess_wait():
     * above 0 -> too_many(c, it), before any hashing (free the parsed
     * body). AUTH_DENIED -> guess_failed(), then the 401; AUTH_OK ->
     * guess_right(). */
    (void)guess_keys;
    (void)guess_wait;
    (void)guess_failed;
    (void)guess_right;
    (void)too_many;
    (void)c;
    (void)challenge;
    return -1;
}

/* GET /me (stage 3). */
static int get_me(struct call *c)
{
    /* TODO(stage 3): authenticate(); 1 -> user_respond(c, 200, &u). */
    (void)c;
    (void)authenticate;
    (void)bearer_token;
    return -1;
}

/* DELETE /sessions/current: log out (stage 4). */
static int delete_current(struct call *c)
{
    /* TODO(stage 4): authenticate(), then sessions_end() of that very
     * token; AUTH_OK -> no_content(c), else failed(). */
    /* TODO(stage 5): after no_content(), forget_cookie(c): a browser
     * that logs out forgets its cookie (Max-Age=0). */
    /* TODO(stage 8): a JWT (is_jwt()) has no session to end -> 400
     * challenge "invalid_request": it ends at its exp. */
    (void)forget_cookie;
    (void)c;
    (void)no_content;
    return -1;
}

/* DELETE /sessions: log out everywhere (stage 4). */
static int delete_all(struct call *c)
{
    /* TODO(stage 4): authenticate(), then sessions_end_all(..., u.id,
     * NULL, 0): every session of the account, this one too. (Stage 5:
     * forget_cookie() after no_content(), as delete_current() does.) */
    /* TODO(stage 8): first users_revoke_tokens(..., u.id,
     * sessions_now_ms()): the account's JWTs go with its sessions. */
    (void)c;
    return -1;
}

/* PUT /me/password {"current_password", "new_password"} (stage 4): the
 * session alone is not enough -- whoever holds a stolen token must not
 * lock the owner out. The other sessions end: a password is changed
 * because someone else may know it. */
static int put_password(struct call *c)
{
    /* TODO(stage 4): authenticate() first (401 before anything else), then
     * read_fields() of "current_password" (no check) and "new_password"
     * (users_check_password); sessions_token_hash() of this session's
     * token, and users_change_password() with it as keep: every other
     * session ends in the same transaction. AUTH_DENIED -> 403 problem,
     * nothing changed; AUTH_OK -> no_content(); else failed(). */
    /* TODO(stage 7): the current password is a guess like a login's:
     * guess_keys() of u.name; guess_wait() above 0 -> too_many() before
     * users_change_password(); AUTH_DENIED -> guess_failed() then the
     * 403; AUTH_OK -> guess_right(). */
    /* TODO(stage 8): asked with a JWT (is_jwt()), keep is 32 zero bytes:
     * no session stays. (users_change_password() takes back the JWTs in
     * its own transaction.) */
    (void)c;
    return -1;
}

/* ---- who may do what (stage 6) ------------------------------------------------- */

/* store_scope() and store_unscope() come with chapter 04's store.c --
 * the reference's. Built on your own chapter 04 (make own, OWN=1) whose
 * store has no owners yet, these stand in: no view, so every items
 * request is a 500 until your store.c has the two (README, stage 6). */
__attribute__((weak)) struct store *store_scope(struct store *s, int64_t owner)
{
    (void)s;
    (void)owner;
    return NULL;
}

__attribute__((weak)) void store_unscope(struct store *view)
{
    (void)view;
}

/* 405 with the methods path has in Allow. */
static int not_allowed(struct call *c, unsigned methods)
{
    char allow[64];
    if (router_allow(methods, allow, sizeof allow) < 0 ||
        problem(c, 405, "the method is not allowed here: see Allow") < 0)
        return -1;
    return response_header(c->resp, "Allow", allow);
}

/* read_fields()'s check of a "role". */
static const char *role_check(const char *s, size_t len)
{
    (void)len;
    return strcmp(s, "user") == 0 || strcmp(s, "admin") == 0 ? NULL
                                                             : "the role is \"user\" or \"admin\"";
}

/* The account id of a route's {id}: 1 to 18 digits, no leading zero;
 * 0 for anything else (no account has it). */
static int64_t account_id(struct http_slice s)
{
    int64_t id = 0;
    if (s.n == 0 || s.n > 18 || s.p[0] == '0')
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        id = id * 10 + (s.p[i] - '0');
    }
    return id;
}

/* /admin/...: an admin's alone (stage 6). 1 when the session's account
 * is an admin; else 0, the answer made (401, or 403). The role comes
 * from the database with the session, at every request -- so an account
 * demoted a moment ago is refused at once, on the token it holds. Asked
 * before the path is looked at: a user gets the same 403 for every path
 * under /admin/, the ones that do not exist too. */
static int admin_gate(struct call *c)
{
    /* TODO(stage 6): authenticate() (not 1: return what it returned); a
     * role other than "admin" -> challenge(c, 403, "insufficient_scope",
     * ...) (RFC 6750 section 3.1), then 0 (-1 if that failed); an admin
     * -> 1. */
    (void)c;
    return 1;
}

/* The answer to an admin's request about an account: st, with *u. */
static int account_respond(struct call *c, enum auth_status st, const struct user *u)
{
    if (st == AUTH_MISSING)
        return problem(c, 404, "no account has that id");
    return st == AUTH_OK ? user_respond(c, 200, u) : failed(c, st);
}

/* GET /admin/users/{id} (stage 6). */
static int get_account(struct call *c)
{
    /* TODO(stage 6): account_id(c->id) -- 0 is AUTH_MISSING --, then
     * users_get(), and account_respond() of what it returned. */
    (void)account_id;
    (void)account_respond;
    return problem(c, 404, "the API has no resource at this path");
}

/* PUT /admin/users/{id}/role {"role": "user" | "admin"} (stage 6). */
static int put_role(struct call *c)
{
    /* TODO(stage 6): read_fields() of "role" (check: role_check); then
     * account_id(c->id) -- 0 is AUTH_MISSING --, users_set_role(),
     * cJSON_Delete() the body, and account_respond(). */
    (void)role_check;
    return problem(c, 404, "the API has no resource at this path");
}

/* The items API, a user's own (stage 6): who asks is known before
 * anything else is said -- even whether the path exists --, then the API
 * runs on a view of the store that reaches only their items. */
static int items(struct call *c)
{
    /* TODO(stage 6): authenticate() (not 1: return what it returned);
     * then a copy of *c->auth->api whose store is store_scope(the
     * store, who.id) -- NULL: return -1 --, api_serve() with that copy,
     * and store_unscope() of the view, whatever api_serve() returned.
     * The store puts "AND owner_id = ?" in every statement: another's
     * item is the very 404 of an id no item has. */
    return api_serve(c->auth->api, c->req, c->body, c->resp, c->job);
}

/* 1 for what anyone may ask for without a session: GET (and HEAD)
 * /health, a load balancer's probe. (POST /users and POST /sessions are
 * routes of their own, above.) */
static int public_request(const struct http_request *req)
{
    return req->path.n == 7 && memcmp(req->path.p, "/health", 7) == 0 &&
           (router_method(req->method) & (M_GET | M_HEAD));
}

/* 1 for /admin and every path under it. */
static int admin_area(struct http_slice path)
{
    return path.n >= 6 && memcmp(path.p, "/admin", 6) == 0 && (path.n == 6 || path.p[6] == '/');
}

/* POST /tokens (stage 8): a JWT for the account of this session, good
 * for ttl_s. Made from a session only -- a JWT that could make the next
 * one would never end. */
static int post_token(struct call *c)
{
    /* TODO(stage 8): authenticate(); a JWT (is_jwt()) -> challenge(c,
     * 403, "insufficient_scope", ...). users_tokens_after() of the
     * account; iat = the later of now (sessions_now_ms() / 1000) and it.
     * Header exactly {"alg":"HS256","typ":"JWT"}; claims (cJSON, printed
     * unformatted) iss, aud (c->auth->jwt), sub (the id as a string),
     * iat, nbf = iat, exp = iat + ttl_s, jti (16 randombytes_buf() bytes
     * in base64url); jwt_sign() with c->auth->jwt->key. 200
     * {"access_token", "token_type":"Bearer", "expires_in": ttl_s} with
     * Cache-Control: no-store; sodium_memzero() the token after. */
    (void)is_jwt;
    return challenge(c, 401, NULL, "POST /tokens is not written yet");
}

/* Every path under /admin/ reaches its route only through admin_gate()
 * (auth_serve()): the admin routes below check no role themselves. */
static const struct route {
    const char *path;            /* a router_match() template */
    unsigned method;
    int (*fn)(struct call *c);
} routes[] = {
    {"/users", M_POST, post_user},
    {"/sessions", M_POST, post_session},
    {"/sessions", M_DELETE, delete_all},
    {"/sessions/current", M_DELETE, delete_current},
    {"/me", M_GET | M_HEAD, get_me},
    {"/me/password", M_PUT, put_password},
    {"/tokens", M_POST, post_token},
    {"/admin/users/{id}", M_GET | M_HEAD, get_account},
    {"/admin/users/{id}/role", M_PUT, put_role},
};

/* The methods of path (0: not one of these routes), the route of method
 * m on it in *rt (NULL: none), and its {id} in *id. */
static unsigned route_of(struct http_slice path, unsigned m, const struct route **rt,
                         struct http_slice *id)
{
    unsigned methods = 0;
    *rt = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (router_match(routes[i].path, path, id, 1) >= 0) {
            methods |= routes[i].method;
            if (routes[i].method & m)
                *rt = &routes[i];
        }
    return methods;
}

int auth_may_block(void *ctx, const struct http_request *req)
{
    struct auth *a = ctx;
    /* hashing a password, or the database: a worker's -- every request
     * but GET /health asks for a session (stage 6) */
    return public_request(req) ? api_may_block(a->api, req) : 1;
}

int auth_serve(void *ctx, const struct http_request *req, const struct buf *body,
               struct response *resp, const struct loop_job *job)
{
    struct call c = {.auth = ctx, .req = req, .body = body, .resp = resp, .job = job};
    const struct route *rt;
    unsigned m = router_method(req->method), methods = route_of(req->path, m, &rt, &c.id);
    /* Cross-site request forgery: a browser sends the cookie with a
     * request another site's page makes. A change (anything but GET,
     * HEAD, OPTIONS) that comes with the cookie must come from this
     * site (stage 5). */
    /* TODO(stage 5): when m is none of M_GET, M_HEAD, M_OPTIONS, the
     * request has a session cookie (session_cookie() != BEARER_NONE) and
     * it is not same_origin() -> 403 problem, before anything else runs. */
    (void)same_origin;
    (void)session_cookie;
    /* TODO(stage 6): /admin and below (admin_area()) pass admin_gate()
     * first -- not 1: return what it returned --, and there a path that
     * is none of the routes is 404 (problem()): the admin routes of
     * routes[] check no role themselves. */
    (void)admin_area;
    (void)admin_gate;
    if (methods)
        return rt ? rt->fn(&c) : not_allowed(&c, methods);
    /* TODO(stage 6): deny by default -- public_request() (GET or HEAD
     * /health) goes to api_serve() as it is; every other request to
     * items(), which asks for a session first. A path the API gains later
     * is then closed until it is opened here. */
    (void)public_request;
    (void)items;
    return api_serve(c.auth->api, req, body, resp, job);
}

int auth_error(void *ctx, int status, struct response *resp)
{
    return api_error(((struct auth *)ctx)->api, status, resp);
}
