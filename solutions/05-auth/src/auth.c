/* auth -- see auth.h. */
#define _POSIX_C_SOURCE 200809L
#include "auth.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void reset(struct response *resp)
{
    int head_only = resp->head_only, close = resp->close;
    response_free(resp);
    response_init(resp);
    resp->head_only = head_only;
    resp->close = close;
}

static int problem(struct call *c, int status, const char *detail)
{
    reset(c->resp);
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

/* The body's "username" and "password" members, both strings: 1 with *doc
 * the parsed body (cJSON_Delete() it) and name, pw and *pwlen in it; 0
 * when the answer is made (415, 400, 422); -1 when memory ran out. With
 * rules (registration), the name and the password must also pass
 * users_check_name() and users_check_password(). Other members are
 * ignored -- "role" above all: a client does not choose its role. */
static int read_credentials(struct call *c, int rules, cJSON **doc, const char **name,
                            const char **pw, size_t *pwlen)
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
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(*doc, "username");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(*doc, "password");
    const char *why;
    int bad = 0;
    if (!cJSON_IsObject(*doc))
        bad |= add_error(errors, "", "the body is an object with a username and a password");
    else if (!cJSON_IsString(n))
        bad |= add_error(errors, "/username", "a string is needed");
    if (cJSON_IsObject(*doc) && !cJSON_IsString(p))
        bad |= add_error(errors, "/password", "a string is needed");
    /* cJSON ends a string at \u0000: "secret\u0000x" would be "secret",
     * and a password is checked exactly as it was sent, or not at all */
    if (res.nul_escapes)
        bad |= add_error(errors, "", "a string holds \\u0000, which no credential may");
    if (rules && cJSON_IsString(n) && (why = users_check_name(n->valuestring,
                                                             strlen(n->valuestring))))
        bad |= add_error(errors, "/username", why);
    if (rules && cJSON_IsString(p) && (why = users_check_password(p->valuestring,
                                                                 strlen(p->valuestring))))
        bad |= add_error(errors, "/password", why);
    if (bad) {
        cJSON_Delete(errors);
        cJSON_Delete(*doc);
        *doc = NULL;
        return -1;
    }
    if (cJSON_GetArraySize(errors) > 0) {
        cJSON_Delete(*doc);
        *doc = NULL;
        reset(c->resp);
        return problem_respond_errors(c->resp, 422, "the credentials are not valid", errors) < 0
                   ? -1
                   : 0;
    }
    cJSON_Delete(errors);
    *name = n->valuestring;
    *pw = p->valuestring;
    *pwlen = strlen(p->valuestring);
    return 1;
}

/* ---- who is asking (stage 3) ---------------------------------------------------- */

/* 1 for a character of RFC 9110's token68 (section 11.2), '=' aside. */
static int token68_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           strchr("-._~+/", ch) != NULL;
}

/* The user of the request's bearer token into *who: 1; 0 when the answer
 * is made (401 or 400, or 503); -1 when it could not be. */
static int authenticate(struct call *c, struct user *who)
{
    const struct http_slice *v = NULL;
    size_t count = 0;
    for (size_t i = 0; i < c->req->nheaders; i++)
        if (http_slice_eq_nocase(c->req->headers[i].name, "Authorization")) {
            v = &c->req->headers[i].value;
            count++;
        }
    if (count == 0)
        return challenge(c, 401, NULL, "this needs a session: Authorization: Bearer <token> "
                         "(POST /sessions gives one)") < 0 ? -1 : 0;
    if (count > 1)
        return challenge(c, 400, "invalid_request",
                         "one Authorization field, not several") < 0 ? -1 : 0;
    /* credentials = auth-scheme [ 1*SP token68 ]; the scheme has no case */
    size_t i = 0;
    while (i < v->n && v->p[i] != ' ')
        i++;
    struct http_slice scheme = {v->p, i};
    if (!http_slice_eq_nocase(scheme, "Bearer"))
        return challenge(c, 401, NULL, "only the Bearer scheme is known here") < 0 ? -1 : 0;
    while (i < v->n && v->p[i] == ' ')
        i++;
    const char *tok = v->p + i;
    size_t n = v->n - i, k = 0;
    while (k < n && token68_char(tok[k]))
        k++;
    while (k < n && tok[k] == '=')
        k++;
    if (n == 0 || k != n)
        return challenge(c, 400, "invalid_request",
                         "Bearer needs a token: Authorization: Bearer <token>") < 0 ? -1 : 0;
    enum auth_status st = sessions_find(c->auth->sessions, tok, n, sessions_now_ms(), who);
    if (st == AUTH_DENIED)
        return challenge(c, 401, "invalid_token",
                         "the token opens no session: log in again") < 0 ? -1 : 0;
    return st == AUTH_OK ? 1 : failed(c, st) < 0 ? -1 : 0;
}

/* ---- the handlers --------------------------------------------------------------- */

/* POST /users (stage 1). */
static int post_user(struct call *c)
{
    cJSON *doc;
    const char *name, *pw;
    size_t pwlen;
    int r = read_credentials(c, 1, &doc, &name, &pw, &pwlen);
    if (r <= 0)
        return r;
    struct user u = {0};
    enum auth_status st = users_create(c->auth->users, name, pw, pwlen, &u);
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
    const char *name, *pw;
    size_t pwlen;
    int r = read_credentials(c, 0, &doc, &name, &pw, &pwlen);
    if (r <= 0)
        return r;
    struct user u = {0};
    enum auth_status st = users_login(c->auth->users, name, pw, pwlen, &u);
    cJSON_Delete(doc);
    if (st == AUTH_DENIED) /* one answer for both: no name is confirmed */
        return challenge(c, 401, NULL, "the username or the password is wrong");
    char token[SESSION_TOKEN_LEN + 1];
    if (st == AUTH_OK)
        st = sessions_create(c->auth->sessions, u.id, sessions_now_ms(), token);
    if (st != AUTH_OK)
        return failed(c, st);
    cJSON *j = cJSON_CreateObject();
    int rc = -1;
    if (j && cJSON_AddStringToObject(j, "token", token) &&
        cJSON_AddStringToObject(j, "token_type", "Bearer") &&
        cJSON_AddNumberToObject(j, "expires_in",
                                (double)(c->auth->sessions->max_ms / 1000)) &&
        json_respond(c->resp, 201, j) == 0)
        rc = response_header(c->resp, "Cache-Control", "no-store"); /* RFC 6749 5.1 */
    cJSON_Delete(j);
    sodium_memzero(token, sizeof token);
    return rc;
}

/* GET /me (stage 3). */
static int get_me(struct call *c)
{
    struct user u;
    int r = authenticate(c, &u);
    return r <= 0 ? r : user_respond(c, 200, &u);
}

static const struct route {
    const char *path;
    unsigned methods;
    int (*fn)(struct call *c);
} routes[] = {
    {"/users", M_POST, post_user},
    {"/sessions", M_POST, post_session},
    {"/me", M_GET | M_HEAD, get_me},
};

/* The route of path, or NULL: the items API's. */
static const struct route *route_of(struct http_slice path)
{
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (path.n == strlen(routes[i].path) && memcmp(path.p, routes[i].path, path.n) == 0)
            return &routes[i];
    return NULL;
}

int auth_may_block(void *ctx, const struct http_request *req)
{
    struct auth *a = ctx;
    /* hashing a password, or the database: a worker's */
    return route_of(req->path) ? 1 : api_may_block(a->api, req);
}

int auth_serve(void *ctx, const struct http_request *req, const struct buf *body,
               struct response *resp, const struct loop_job *job)
{
    struct call c = {.auth = ctx, .req = req, .body = body, .resp = resp};
    const struct route *rt = route_of(req->path);
    if (!rt)
        return api_serve(c.auth->api, req, body, resp, job);
    unsigned m = router_method(req->method);
    if (!(rt->methods & m)) {
        char allow[64];
        if (router_allow(rt->methods, allow, sizeof allow) < 0 ||
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
