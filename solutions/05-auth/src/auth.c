/* auth -- see auth.h. */
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
    const struct http_slice *v = NULL;
    size_t count = 0;
    for (size_t i = 0; i < req->nheaders; i++)
        if (http_slice_eq_nocase(req->headers[i].name, "Authorization")) {
            v = &req->headers[i].value;
            count++;
        }
    if (count != 1)
        return count ? BEARER_BAD : BEARER_NONE;
    size_t i = 0;
    while (i < v->n && v->p[i] != ' ')
        i++;
    struct http_slice scheme = {v->p, i};
    if (!http_slice_eq_nocase(scheme, "Bearer"))
        return BEARER_NONE;
    while (i < v->n && v->p[i] == ' ')
        i++;
    tok->p = v->p + i;
    tok->n = v->n - i;
    size_t k = 0;
    while (k < tok->n && token68_char(tok->p[k]))
        k++;
    while (k < tok->n && tok->p[k] == '=')
        k++;
    return tok->n > 0 && k == tok->n ? BEARER_OK : BEARER_BAD;
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
    size_t count = 0, want = strlen(COOKIE);
    for (size_t h = 0; h < req->nheaders; h++) {
        if (!http_slice_eq_nocase(req->headers[h].name, "Cookie"))
            continue;
        const char *p = req->headers[h].value.p, *end = p + req->headers[h].value.n;
        while (p < end) {
            while (p < end && (*p == ' ' || *p == ';'))
                p++;
            const char *pair = p;
            while (p < end && *p != ';')
                p++;
            if ((size_t)(p - pair) > want && memcmp(pair, COOKIE "=", want + 1) == 0) {
                tok->p = pair + want + 1;
                tok->n = (size_t)(p - tok->p);
                count++;
            }
        }
    }
    return count == 0 ? BEARER_NONE : count == 1 ? BEARER_OK : BEARER_BAD;
}

/* 1 when an unsafe request may act with the session cookie: the browser
 * says it comes from this site's own pages (Sec-Fetch-Site: same-origin),
 * or from the user (none: typed, bookmarked); without that header, an
 * Origin that is this server's (http:// or https:// and the Host); with
 * neither, a client that is no browser -- SameSite=Strict is the last
 * wall. OWASP CSRF Prevention Cheat Sheet: Fetch Metadata, then Origin. */
static int same_origin(const struct http_request *req)
{
    const struct http_slice *site = http_header_get(req, "Sec-Fetch-Site");
    if (site)
        return http_slice_eq_nocase(*site, "same-origin") || http_slice_eq_nocase(*site, "none");
    const struct http_slice *origin = http_header_get(req, "Origin");
    const struct http_slice *host = http_header_get(req, "Host");
    if (!origin)
        return 1;
    if (!host)
        return 0;
    for (int tls = 0; tls < 2; tls++) {
        const char *scheme = tls ? "https://" : "http://";
        size_t n = strlen(scheme);
        if (origin->n == n + host->n && strncasecmp(origin->p, scheme, n) == 0 &&
            strncasecmp(origin->p + n, host->p, host->n) == 0)
            return 1;
    }
    return 0;
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
    struct http_slice cookie;
    enum bearer b = bearer_token(c->req, tok), k = session_cookie(c->req, &cookie);
    if (b == BEARER_BAD || k == BEARER_BAD || (b == BEARER_OK && k == BEARER_OK))
        return challenge(c, 400, "invalid_request", "one credential: Authorization: Bearer "
                         "<token>, or the session cookie, once") < 0 ? -1 : 0;
    if (b == BEARER_NONE && k == BEARER_OK)
        *tok = cookie;
    else if (b == BEARER_NONE)
        return challenge(c, 401, NULL, "this needs a session: Authorization: Bearer <token>, "
                         "or the session cookie (POST /sessions gives one)") < 0 ? -1 : 0;
    /* A JWT (stage 8): its signature and claims, then its account -- which
     * may have taken its tokens back since. Else a session's token. */
    const char *why = "the token opens no session: log in again";
    enum auth_status st;
    char detail[160];
    if (b == BEARER_OK && is_jwt(*tok)) { /* a JWT comes in Authorization only */
        const struct jwt_config *cfg = c->auth->jwt;
        struct jwt_rules r = {cfg->iss, cfg->aud, sessions_now_ms() / 1000};
        struct jwt_claims claims;
        const char *bad = jwt_verify(tok->p, tok->n, cfg->key, cfg->keylen, &r, &claims);
        st = bad ? AUTH_DENIED : users_token_user(c->auth->users, claims.sub, claims.iat, who);
        snprintf(detail, sizeof detail, "the JWT is refused: %s",
                 bad ? bad : "its account took its tokens back, or is gone");
        why = detail;
    } else {
        st = sessions_find(c->auth->sessions, tok->p, tok->n, sessions_now_ms(), who);
    }
    if (st == AUTH_DENIED)
        return challenge(c, 401, "invalid_token", why) < 0 ? -1 : 0;
    return st == AUTH_OK ? 1 : failed(c, st) < 0 ? -1 : 0;
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
    cJSON *doc;
    struct field f[] = {{.name = "username", .check = users_check_name},
                        {.name = "password", .check = users_check_password}};
    int r = read_fields(c, &doc, f, 2);
    if (r <= 0)
        return r;
    struct user u = {0};
    enum auth_status st = users_create(c->auth->users, f[0].value, f[1].value, f[1].len, &u);
    cJSON_Delete(doc);
    if (st == AUTH_TAKEN)
        return problem(c, 409, "the username is taken");
    if (st != AUTH_OK)
        return failed(c, st);
    char where[64];
    snprintf(where, sizeof where, "/users/%" PRId64, u.id);
    if (user_respond(c, 201, &u) < 0)
        return -1;
    return response_header(c->resp, "Location", where);
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
    long long now = loop_now_ms(), wait = throttle_wait(c->auth->throttle, k->account, now),
              wait_all = throttle_wait(c->auth->throttle, k->client, now);
    return wait > wait_all ? wait : wait_all;
}

/* A wrong password for the account of k: one more on both counts. */
static void guess_failed(struct call *c, const struct guess_keys *k)
{
    throttle_fail(c->auth->throttle, k->account, &c->auth->per_account, loop_now_ms());
    throttle_fail(c->auth->throttle, k->client, &c->auth->per_client, loop_now_ms());
}

/* The right password: the account's count starts again -- the client's
 * stays, so that one account of its own does not let a client guess on
 * at the others. */
static void guess_right(struct call *c, const struct guess_keys *k)
{
    throttle_clear(c->auth->throttle, k->account);
}

/* POST /sessions (stage 2). */
static int post_session(struct call *c)
{
    cJSON *doc;
    /* no rules: a login checks the password, not its shape */
    struct field f[] = {{.name = "username"}, {.name = "password"},
                        {.name = "transport", .check = transport_check, .optional = 1}};
    int r = read_fields(c, &doc, f, 3);
    if (r <= 0)
        return r;
    int cookie = f[2].value && strcmp(f[2].value, "cookie") == 0;
    if (cookie && !same_origin(c->req)) { /* login CSRF: into the attacker's account */
        cJSON_Delete(doc);
        return problem(c, 403, "a request from another site may not log in with a cookie "
                       "(Sec-Fetch-Site, Origin)");
    }
    /* Guessing is slowed per account from this client, and per client
     * whatever the accounts (stage 7), keyed on the name as sent -- an
     * account or not, the same answers --, never locking out the
     * account's owner, who logs in from elsewhere. */
    struct guess_keys k;
    guess_keys(c, f[0].value, &k);
    long long wait = guess_wait(c, &k);
    if (wait > 0) {
        cJSON_Delete(doc);
        return too_many(c, wait);
    }
    struct user u = {0};
    enum auth_status st = users_login(c->auth->users, f[0].value, f[1].value, f[1].len, &u);
    cJSON_Delete(doc);
    if (st == AUTH_DENIED) { /* one answer for both: no name is confirmed */
        guess_failed(c, &k);
        return challenge(c, 401, NULL, "the username or the password is wrong");
    }
    if (st == AUTH_OK)
        guess_right(c, &k);
    /* A session the client came with ends: a login gets a new token, never
     * keeps one that someone else may have planted (session fixation).
     * First, so that a failure leaves no new session whose token no one
     * got. */
    struct http_slice old;
    if (st == AUTH_OK && bearer_token(c->req, &old) == BEARER_OK)
        st = sessions_end(c->auth->sessions, old.p, old.n);
    if (st == AUTH_OK && session_cookie(c->req, &old) == BEARER_OK)
        st = sessions_end(c->auth->sessions, old.p, old.n);
    char token[SESSION_TOKEN_LEN + 1];
    if (st == AUTH_OK)
        st = sessions_create(c->auth->sessions, u.id, sessions_now_ms(), token);
    if (st != AUTH_OK)
        return failed(c, st);
    /* The token in the body for a client that sends it back itself
     * (Bearer), or only in a cookie a page's scripts cannot read
     * (HttpOnly) -- never both: ASVS 5.0 3.3.4. */
    cJSON *j = cJSON_CreateObject();
    char set[128];
    int rc = -1;
    snprintf(set, sizeof set, COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict", token);
    if (j && (cookie || cJSON_AddStringToObject(j, "token", token)) &&
        cJSON_AddStringToObject(j, "token_type", cookie ? "cookie" : "Bearer") &&
        cJSON_AddNumberToObject(j, "expires_in", /* at most: idle, it ends sooner */
                                (double)((c->auth->sessions->max_ms + 999) / 1000)) &&
        json_respond(c->resp, 201, j) == 0 &&
        response_header(c->resp, "Cache-Control", "no-store") == 0) /* RFC 6749 5.1 */
        rc = cookie ? response_header(c->resp, "Set-Cookie", set) : 0;
    cJSON_Delete(j);
    sodium_memzero(token, sizeof token);
    sodium_memzero(set, sizeof set);
    return rc;
}

/* GET /me (stage 3). */
static int get_me(struct call *c)
{
    struct user u;
    struct http_slice tok;
    int r = authenticate(c, &u, &tok);
    return r <= 0 ? r : user_respond(c, 200, &u);
}

/* DELETE /sessions/current: log out (stage 4). */
static int delete_current(struct call *c)
{
    struct user u;
    struct http_slice tok;
    int r = authenticate(c, &u, &tok);
    if (r <= 0)
        return r;
    if (is_jwt(tok)) /* stage 8 */
        return challenge(c, 400, "invalid_request", "a JWT has no session to end: it ends "
                         "at its exp, and DELETE /sessions takes back every one");
    enum auth_status st = sessions_end(c->auth->sessions, tok.p, tok.n);
    if (st != AUTH_OK)
        return failed(c, st);
    return no_content(c) < 0 ? -1 : forget_cookie(c);
}

/* DELETE /sessions: log out everywhere (stage 4). */
static int delete_all(struct call *c)
{
    struct user u;
    struct http_slice tok;
    int r = authenticate(c, &u, &tok);
    if (r <= 0)
        return r;
    /* the JWTs first (stage 8): a failure after leaves nothing taken back
     * that the client believes was kept */
    enum auth_status st = users_revoke_tokens(c->auth->users, u.id, sessions_now_ms());
    if (st == AUTH_OK)
        st = sessions_end_all(c->auth->sessions, u.id, NULL, 0);
    if (st != AUTH_OK)
        return failed(c, st);
    return no_content(c) < 0 ? -1 : forget_cookie(c);
}

/* PUT /me/password {"current_password", "new_password"} (stage 4): the
 * session alone is not enough -- whoever holds a stolen token must not
 * lock the owner out. The other sessions end with the change, in its
 * transaction: a password is changed because someone else may know it. */
static int put_password(struct call *c)
{
    struct user u;
    struct http_slice tok;
    int r = authenticate(c, &u, &tok);
    if (r <= 0)
        return r;
    cJSON *doc;
    struct field f[] = {{.name = "current_password"},
                        {.name = "new_password", .check = users_check_password}};
    if ((r = read_fields(c, &doc, f, 2)) <= 0)
        return r;
    /* the current password is a guess like a login's, and counts as one
     * (stage 7): a stolen session must not test passwords at hash speed */
    struct guess_keys k;
    guess_keys(c, u.name, &k);
    long long wait = guess_wait(c, &k);
    if (wait > 0) {
        cJSON_Delete(doc);
        return too_many(c, wait);
    }
    /* the session asking stays open; asked with a JWT, no session does */
    unsigned char keep[crypto_hash_sha256_BYTES] = {0};
    enum auth_status st =
        !is_jwt(tok) && sessions_token_hash(tok.p, tok.n, keep) < 0
            ? AUTH_ERROR /* authenticate() decoded it */
            : users_change_password(c->auth->users, u.id, f[0].value, f[0].len, f[1].value,
                                    f[1].len, keep);
    cJSON_Delete(doc);
    if (st == AUTH_DENIED) {
        guess_failed(c, &k);
        return problem(c, 403, "the current password is wrong: nothing changed");
    }
    if (st == AUTH_OK)
        guess_right(c, &k);
    return st == AUTH_OK ? no_content(c) : failed(c, st);
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

/* /admin/...: an admin's alone. 1 when the session's account is an
 * admin; else 0, the answer made (401, or 403). The role comes from the
 * database with the session, at every request -- never from the token
 * or an earlier answer --, so an account demoted a moment ago is refused
 * at once, on the token it holds. Asked before the path is looked at: a
 * user gets the same 403 for every path under /admin/, the ones that do
 * not exist too -- what an admin has is not theirs to learn. */
static int admin_gate(struct call *c)
{
    struct user who;
    struct http_slice tok;
    int r = authenticate(c, &who, &tok);
    if (r <= 0)
        return r;
    if (strcmp(who.role, "admin") != 0) /* RFC 6750 section 3.1 */
        return challenge(c, 403, "insufficient_scope", "this needs the admin role") < 0 ? -1
                                                                                         : 0;
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
    struct user u = {0};
    int64_t id = account_id(c->id);
    return account_respond(c, id ? users_get(c->auth->users, id, &u) : AUTH_MISSING, &u);
}

/* PUT /admin/users/{id}/role {"role": "user" | "admin"} (stage 6). */
static int put_role(struct call *c)
{
    cJSON *doc;
    struct field f[] = {{.name = "role", .check = role_check}};
    int r = read_fields(c, &doc, f, 1);
    if (r <= 0)
        return r;
    struct user u = {0};
    int64_t id = account_id(c->id);
    enum auth_status st = id ? users_set_role(c->auth->users, id, f[0].value, &u) : AUTH_MISSING;
    cJSON_Delete(doc);
    return account_respond(c, st, &u);
}

/* The items API, a user's own: who asks is known before anything else is
 * said -- even whether the path exists --, then the API runs on a view of
 * the store that reaches only their items. Another's item is "no item has
 * the id", the very answer for an id no one has, for every method: the
 * store decides it in each statement's WHERE, so no handler can forget. */
static int items(struct call *c)
{
    struct user who;
    struct http_slice tok;
    int r = authenticate(c, &who, &tok);
    if (r <= 0)
        return r;
    struct api mine = *c->auth->api;
    if (!(mine.store = store_scope(c->auth->api->store, who.id)))
        return -1;
    r = api_serve(&mine, c->req, c->body, c->resp, c->job);
    store_unscope(mine.store);
    return r;
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
    struct user u;
    struct http_slice tok;
    int r = authenticate(c, &u, &tok);
    if (r <= 0)
        return r;
    if (is_jwt(tok))
        return challenge(c, 403, "insufficient_scope", "a JWT cannot make another: POST "
                         "/tokens needs a session's token");
    const struct jwt_config *k = c->auth->jwt;
    long long now = sessions_now_ms() / 1000, after = 0;
    enum auth_status st = users_tokens_after(c->auth->users, u.id, &after);
    if (st != AUTH_OK)
        return failed(c, st);
    long long iat = now > after ? now : after; /* never before the last taking back */
    unsigned char raw[16];
    char sub[24], jti[sodium_base64_ENCODED_LEN(sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    randombytes_buf(raw, sizeof raw); /* a name for this token: 128 random bits */
    sodium_bin2base64(jti, sizeof jti, raw, sizeof raw, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    snprintf(sub, sizeof sub, "%" PRId64, u.id);
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    cJSON *claims = cJSON_CreateObject(), *j = cJSON_CreateObject();
    char *payload = NULL, *jwt = NULL;
    int rc = -1;
    if (claims && j && cJSON_AddStringToObject(claims, "iss", k->iss) &&
        cJSON_AddStringToObject(claims, "aud", k->aud) &&
        cJSON_AddStringToObject(claims, "sub", sub) &&
        cJSON_AddNumberToObject(claims, "iat", (double)iat) &&
        cJSON_AddNumberToObject(claims, "nbf", (double)iat) &&
        cJSON_AddNumberToObject(claims, "exp", (double)(iat + k->ttl_s)) &&
        cJSON_AddStringToObject(claims, "jti", jti) &&
        (payload = cJSON_PrintUnformatted(claims)) &&
        (jwt = jwt_sign(k->key, k->keylen, header, strlen(header), payload, strlen(payload))) &&
        cJSON_AddStringToObject(j, "access_token", jwt) &&
        cJSON_AddStringToObject(j, "token_type", "Bearer") &&
        cJSON_AddNumberToObject(j, "expires_in", (double)k->ttl_s) &&
        json_respond(c->resp, 200, j) == 0)
        rc = response_header(c->resp, "Cache-Control", "no-store");
    if (jwt)
        sodium_memzero(jwt, strlen(jwt));
    free(jwt);
    cJSON_free(payload);
    cJSON_Delete(claims);
    cJSON_Delete(j);
    return rc;
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
    struct http_slice t;
    if (!(m & (M_GET | M_HEAD | M_OPTIONS)) && session_cookie(req, &t) != BEARER_NONE &&
        !same_origin(req))
        return problem(&c, 403, "a request from another site may not use the session "
                       "cookie (Sec-Fetch-Site, Origin)");
    /* /admin and below: the admin's role first, then the route (stage 6) */
    if (admin_area(req->path)) {
        int r = admin_gate(&c);
        if (r <= 0)
            return r;
        if (!methods)
            return problem(&c, 404, "the API has no resource at this path");
    }
    if (methods)
        return rt ? rt->fn(&c) : not_allowed(&c, methods);
    /* Deny by default (stage 6): every other request needs a session but
     * GET /health -- a path added to the API later is closed until it is
     * opened here. */
    if (public_request(req))
        return api_serve(c.auth->api, req, body, resp, job);
    return items(&c);
}

int auth_error(void *ctx, int status, struct response *resp)
{
    return api_error(((struct auth *)ctx)->api, status, resp);
}
