/* auth -- see auth.h. */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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
    enum auth_status st = sessions_find(c->auth->sessions, tok->p, tok->n, sessions_now_ms(), who);
    if (st == AUTH_DENIED)
        return challenge(c, 401, "invalid_token",
                         "the token opens no session: log in again") < 0 ? -1 : 0;
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
    struct user u = {0};
    enum auth_status st = users_login(c->auth->users, f[0].value, f[1].value, f[1].len, &u);
    cJSON_Delete(doc);
    if (st == AUTH_DENIED) /* one answer for both: no name is confirmed */
        return challenge(c, 401, NULL, "the username or the password is wrong");
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
    enum auth_status st = sessions_end_all(c->auth->sessions, u.id, NULL, 0);
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
    unsigned char keep[crypto_hash_sha256_BYTES];
    enum auth_status st =
        sessions_token_hash(tok.p, tok.n, keep) < 0 ? AUTH_ERROR /* authenticate() decoded it */
        : users_change_password(c->auth->users, u.id, f[0].value, f[0].len, f[1].value,
                                f[1].len, keep);
    cJSON_Delete(doc);
    if (st == AUTH_DENIED)
        return problem(c, 403, "the current password is wrong: nothing changed");
    return st == AUTH_OK ? no_content(c) : failed(c, st);
}

static const struct route {
    const char *path;
    unsigned method;
    int (*fn)(struct call *c);
} routes[] = {
    {"/users", M_POST, post_user},
    {"/sessions", M_POST, post_session},
    {"/sessions", M_DELETE, delete_all},
    {"/sessions/current", M_DELETE, delete_current},
    {"/me", M_GET | M_HEAD, get_me},
    {"/me/password", M_PUT, put_password},
};

/* The methods of path (0: not one of these routes, the items API's), and
 * the route of method m on it in *rt (NULL: none). */
static unsigned route_of(struct http_slice path, unsigned m, const struct route **rt)
{
    unsigned methods = 0;
    *rt = NULL;
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (path.n == strlen(routes[i].path) && memcmp(path.p, routes[i].path, path.n) == 0) {
            methods |= routes[i].method;
            if (routes[i].method & m)
                *rt = &routes[i];
        }
    return methods;
}

int auth_may_block(void *ctx, const struct http_request *req)
{
    struct auth *a = ctx;
    const struct route *rt;
    /* hashing a password, or the database: a worker's */
    return route_of(req->path, 0, &rt) ? 1 : api_may_block(a->api, req);
}

int auth_serve(void *ctx, const struct http_request *req, const struct buf *body,
               struct response *resp, const struct loop_job *job)
{
    struct call c = {.auth = ctx, .req = req, .body = body, .resp = resp};
    const struct route *rt;
    unsigned m = router_method(req->method), methods = route_of(req->path, m, &rt);
    /* Cross-site request forgery: a browser sends the cookie with a
     * request another site's page makes. A change (anything but GET,
     * HEAD, OPTIONS) that comes with the cookie must come from this
     * site (stage 5). */
    struct http_slice t;
    if (!(m & (M_GET | M_HEAD | M_OPTIONS)) && session_cookie(req, &t) != BEARER_NONE &&
        !same_origin(req))
        return problem(&c, 403, "a request from another site may not use the session "
                       "cookie (Sec-Fetch-Site, Origin)");
    if (!methods)
        return api_serve(c.auth->api, req, body, resp, job);
    if (!rt) {
        char allow[64];
        if (router_allow(methods, allow, sizeof allow) < 0 ||
            problem(&c, 405, "the method is not allowed here: see Allow") < 0)
            return -1;
        return response_header(resp, "Allow", allow);
    }
    return rt->fn(&c);
}

int auth_error(void *ctx, int status, struct response *resp)
{
    return api_error(((struct auth *)ctx)->api, status, resp);
}
