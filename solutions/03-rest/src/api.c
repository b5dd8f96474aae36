/* api -- see api.h. */
#define _POSIX_C_SOURCE 200809L
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "etag.h"
#include "idem.h"
#include "item.h"
#include "json_check.h"
#include "media.h"
#include "problem.h"
#include "query.h"
#include "router.h"

/* One request being answered. */
struct call {
    struct api *api;
    const struct http_request *req;
    const struct buf *body;
    struct response *resp;
    struct http_slice id;   /* the {id} of /items/{id} */
};

typedef int (*handler_fn)(struct call *);

static int get_health(struct call *c);
static int post_item(struct call *c);
static int get_item(struct call *c);
static int put_item(struct call *c);
static int patch_item(struct call *c);
static int delete_item(struct call *c);
static int list_items(struct call *c);

/* The API's resources: a path template, the methods it allows (HEAD
 * wherever GET is, OPTIONS everywhere), and a handler per method. */
static const struct route {
    const char *template;
    unsigned methods;
    handler_fn get, post, put, patch, del;
} routes[] = {
    {"/health", M_GET | M_HEAD | M_OPTIONS, get_health, NULL, NULL, NULL, NULL},
    {"/items", M_GET | M_HEAD | M_POST | M_OPTIONS, list_items, post_item, NULL, NULL, NULL},
    {"/items/{id}", M_GET | M_HEAD | M_PUT | M_PATCH | M_DELETE | M_OPTIONS, get_item, NULL,
     put_item, patch_item, delete_item},
};

/* ---- small helpers ------------------------------------------------------- */

/* Throws away what resp holds, keeping what the HTTP layer set (HEAD,
 * close): an answer is replaced as a whole, never patched. */
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

/* 503 with Retry-After (RFC 9110 sections 15.6.4, 10.2.3): chapter 04's
 * database stayed locked past the server's budget (STORE_BUSY). Nothing
 * was done; the same request a second later may pass. */
static int busy(struct call *c)
{
    if (problem(c, 503, "the database is busy: nothing was done, try again in a second") < 0)
        return -1;
    return response_header(c->resp, "Retry-After", "1");
}

/* A problem whose detail quotes part of the request: cJSON escapes it in
 * the body, so any bytes are safe there; it is cut at 100. */
static int problem_quoting(struct call *c, int status, const char *fmt, struct http_slice s)
{
    char detail[256];
    snprintf(detail, sizeof detail, fmt, (int)(s.n > 100 ? 100 : s.n), s.p);
    return problem(c, status, detail);
}

/* The id of /items/{id}: 1 to 15 decimal digits, nothing else -- no sign,
 * no spaces, no hex, no leading zero; what is not an id names no item.
 * Returns it, or 0. 15 digits stay far below 2^53, where JSON numbers end
 * being exact. */
static int64_t parse_id(struct http_slice s)
{
    int64_t v = 0;
    if (s.n == 0 || s.n > 15 || s.p[0] == '0')
        return 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return 0;
        v = v * 10 + (s.p[i] - '0');
    }
    return v;
}

/* The values of every header field called name (several fields of a list
 * form one list, RFC 9110 section 5.3). */
static size_t header_values(const struct http_request *req, const char *name,
                            struct http_slice *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < req->nheaders && n < max; i++)
        if (http_slice_eq_nocase(req->headers[i].name, name))
            out[n++] = req->headers[i].value;
    return n;
}

/* An answer with an item: its JSON and its ETag (stage 7). */
static int item_respond(struct call *c, int status, const struct item *it)
{
    char etag[32];
    cJSON *j = item_to_json(it);
    int rc = j ? json_respond(c->resp, status, j) : -1;
    cJSON_Delete(j);
    if (rc == 0 && etag_format(it->version, etag, sizeof etag) > 0)
        rc = response_header(c->resp, "ETag", etag);
    return rc;
}

/* ---- conditions (stage 7) -------------------------------------------------- */

/* Every field called name (If-Match, If-None-Match) against version:
 * 1 when one matches, 0 when none does (or there is none), -1 when one is
 * malformed. */
static int condition(struct call *c, const char *name, int64_t version, int weak)
{
    struct http_slice v[8];
    size_t n = header_values(c->req, name, v, 8);
    int matched = 0;
    for (size_t i = 0; i < n; i++) {
        int m = etag_match(v[i], version, weak);
        if (m < 0)
            return -1;
        matched |= m;
    }
    return matched;
}

/* The answer to a malformed condition field: 400. */
static int bad_condition(struct call *c, const char *name)
{
    char detail[128];
    snprintf(detail, sizeof detail, "%s must be * or a list of entity tags such as \"3\"", name);
    return problem(c, 400, detail);
}

/* If-Match against the item's current version: 1 to go on, with
 * *version the version the change must find (0 without If-Match: any);
 * 0 when the answer is made (412, 400); -1 when memory ran out. */
static int check_if_match(struct call *c, int64_t current, int64_t *version)
{
    *version = 0;
    if (!http_header_get(c->req, "If-Match"))
        return 1;
    int m = condition(c, "If-Match", current, 0);
    if (m == 0) {
        char detail[160];
        snprintf(detail, sizeof detail, "the item has changed: it is at version %lld now -- "
                 "GET it again, and make the change on what is there", (long long)current);
        return problem(c, 412, detail) < 0 ? -1 : 0;
    }
    if (m < 0)
        return bad_condition(c, "If-Match") < 0 ? -1 : 0;
    *version = current;
    return 1;
}

/* The same for PUT and DELETE, which have not read the item: reads it
 * when there is an If-Match. A missing item is 404 -- the answer without
 * the condition (RFC 9110 section 13.2.1). */
static int if_match(struct call *c, int64_t id, int64_t *version)
{
    struct item it = {0};
    *version = 0;
    if (!http_header_get(c->req, "If-Match"))
        return 1;
    enum store_status st = store_get(c->api->store, id, &it);
    int64_t current = it.version;
    item_free(&it);
    if (st == STORE_NOT_FOUND)
        return problem_quoting(c, 404, "no item has the id %.*s", c->id) < 0 ? -1 : 0;
    if (st == STORE_BUSY)
        return busy(c) < 0 ? -1 : 0;
    return st == STORE_OK ? check_if_match(c, current, version) : -1;
}

/* ---- reading a JSON body (stage 3) ---------------------------------------- */

/* Reads the request body as JSON of the media type type into *out: 415
 * unless Content-Type says type, 400 unless json_check() accepts it
 * (detail: where and why), 422 if a string holds U+0000. Returns 1 with
 * *out set, 0 when the answer is made (an error), -1 when memory ran out. */
static int read_json_as(struct call *c, const char *type, cJSON **out)
{
    const struct http_slice *ct = http_header_get(c->req, "Content-Type");
    if (!ct || !media_is(*ct, type)) {
        char detail[128];
        snprintf(detail, sizeof detail, "the body must be Content-Type: %s", type);
        return problem(c, 415, detail) < 0 ? -1 : 0;
    }
    struct json_limits lim = {JSON_MAX_DEPTH, JSON_MAX_VALUES};
    struct json_result res;
    if (json_check(c->body->data ? c->body->data : "", c->body->len, &lim, &res) < 0) {
        char detail[200];
        snprintf(detail, sizeof detail, "the body is not valid JSON: %s at byte %zu", res.reason,
                 res.offset);
        return problem(c, 400, detail) < 0 ? -1 : 0;
    }
    if (res.nul_escapes) {
        cJSON *errors = cJSON_CreateArray(), *e = cJSON_CreateObject();
        if (!errors || !e || !cJSON_AddStringToObject(e, "pointer", "") ||
            !cJSON_AddStringToObject(e, "detail", "a string holds \\u0000, which no member may") ||
            !cJSON_AddItemToArray(errors, e)) {
            cJSON_Delete(errors);
            cJSON_Delete(e);
            return -1;
        }
        reset(c->resp);
        return problem_respond_errors(c->resp, 422, "the item is not valid", errors) < 0 ? -1 : 0;
    }
    /* cJSON reads up to a NUL or len, and a body has no NUL after it: a
     * copy with one, so that no version of cJSON reads past the end. */
    char *text = malloc(c->body->len + 1);
    if (!text)
        return -1;
    if (c->body->len)
        memcpy(text, c->body->data, c->body->len);
    text[c->body->len] = '\0';
    *out = cJSON_ParseWithLength(text, c->body->len);
    free(text);
    return *out ? 1 : -1; /* json_check() accepted it: only memory can fail */
}

static int read_json(struct call *c, cJSON **out)
{
    return read_json_as(c, "application/json", out);
}

/* ---- the handlers ----------------------------------------------------------- */

static int get_health(struct call *c)
{
    cJSON *j = cJSON_CreateObject();
    int rc = j && cJSON_AddStringToObject(j, "status", "ok") ? json_respond(c->resp, 200, j) : -1;
    cJSON_Delete(j);
    return rc;
}

/* The 409 of chapter 04's unique sku. */
#define SKU_TAKEN "another item has this sku: a sku names one item"

/* POST /items: a new item, 201 with it and its Location. With an
 * Idempotency-Key (stage 8), once per key: a retry gets the first answer
 * again and creates nothing; the key with another item is 422. */
static int post_item(struct call *c)
{
    char key[STORE_KEY_MAX + 1];
    struct http_slice fields[2];
    size_t nkeys = header_values(c->req, "Idempotency-Key", fields, 2);
    if (nkeys > 1 || (nkeys == 1 && idem_key(fields[0], key, sizeof key) < 0))
        return problem(c, 400, "Idempotency-Key must be one quoted string of 1 to 255 printable "
                               "ASCII characters, such as \"8e03978e-40d5-43e8\"");
    cJSON *body = NULL;
    int r = read_json(c, &body);
    if (r <= 0)
        return r;
    cJSON *errors = cJSON_CreateArray();
    struct item in = {0}, out = {0};
    int rc = -1;
    if (!errors) {
        cJSON_Delete(body);
        return -1;
    }
    if (item_from_json(body, &in, errors) < 0) {
        /* no error listed: memory ran out on the way */
        if (cJSON_GetArraySize(errors) > 0) {
            reset(c->resp);
            rc = problem_respond_errors(c->resp, 422, "the item is not valid", errors);
            errors = NULL;
        }
    } else {
        enum store_status st = nkeys ? store_create_once(c->api->store, key, &in, &out)
                                     : store_create(c->api->store, &in, &out);
        char location[64];
        snprintf(location, sizeof location, "/items/%lld", (long long)out.id);
        if (st == STORE_KEY_REUSED)
            rc = problem(c, 422, "this Idempotency-Key was used for another item: make a new key "
                                 "for each new operation");
        else if (st == STORE_CONFLICT)
            rc = problem(c, 409, SKU_TAKEN);
        else if (st == STORE_BUSY)
            rc = busy(c);
        else if ((st == STORE_OK || st == STORE_REPLAYED) && item_respond(c, 201, &out) == 0)
            rc = response_header(c->resp, "Location", location);
    }
    cJSON_Delete(errors);
    cJSON_Delete(body);
    item_free(&in);
    item_free(&out);
    return rc;
}

static int get_item(struct call *c)
{
    int64_t id = parse_id(c->id);
    struct item it = {0};
    if (!id)
        return problem_quoting(c, 404, "no item has the id \"%.*s\"", c->id);
    enum store_status st = store_get(c->api->store, id, &it);
    int rc = st == STORE_NOT_FOUND ? problem_quoting(c, 404, "no item has the id %.*s", c->id)
             : st == STORE_BUSY    ? busy(c)
                                   : -1;
    if (st == STORE_OK) {
        /* If-None-Match: the client's copy is current -- 304 with the
         * ETag and no body (RFC 9110 sections 13.1.2, 15.4.5) */
        char etag[32];
        int m = condition(c, "If-None-Match", it.version, 1);
        if (m < 0) {
            rc = bad_condition(c, "If-None-Match");
        } else if (m == 0) {
            rc = item_respond(c, 200, &it);
        } else {
            c->resp->status = 304;
            rc = etag_format(it.version, etag, sizeof etag) < 0
                     ? -1
                     : response_header(c->resp, "ETag", etag);
        }
    }
    item_free(&it);
    return rc;
}

/* Answers the result of a change of item id: 200 with out, 404, 412
 * (the version changed between the check and the change), 409 (chapter
 * 04: another item has the sku), 503 (chapter 04: the database stayed
 * busy), or -1. */
static int changed(struct call *c, enum store_status st, const struct item *out)
{
    return st == STORE_OK          ? item_respond(c, 200, out)
           : st == STORE_NOT_FOUND ? problem_quoting(c, 404, "no item has the id %.*s", c->id)
           : st == STORE_STALE     ? problem(c, 412, "the item has changed meanwhile: GET it again")
           : st == STORE_CONFLICT  ? problem(c, 409, SKU_TAKEN)
           : st == STORE_BUSY      ? busy(c)
                                   : -1;
}

/* Reads body (a parsed item) and stores it as item id, if it is still at
 * version (0: any): 422 with the errors, or the store's answer. Frees
 * body. */
static int replace_with(struct call *c, int64_t id, int64_t version, cJSON *body)
{
    cJSON *errors = cJSON_CreateArray();
    struct item in = {0}, out = {0};
    int rc = -1;
    if (errors && item_from_json(body, &in, errors) < 0) {
        if (cJSON_GetArraySize(errors) > 0) {
            reset(c->resp);
            rc = problem_respond_errors(c->resp, 422, "the item is not valid", errors);
            errors = NULL;
        }
    } else if (errors) {
        rc = changed(c, store_replace(c->api->store, id, version, &in, &out), &out);
    }
    cJSON_Delete(errors);
    cJSON_Delete(body);
    item_free(&in);
    item_free(&out);
    return rc;
}

/* PUT: the body is the whole new item; members left out get their
 * defaults. The same PUT twice leaves the same item (idempotent, RFC 9110
 * section 9.2.2). */
static int put_item(struct call *c)
{
    int64_t id = parse_id(c->id), version;
    if (!id)
        return problem_quoting(c, 404, "no item has the id \"%.*s\"", c->id);
    int r = if_match(c, id, &version);
    if (r <= 0)
        return r;
    cJSON *body = NULL;
    if ((r = read_json(c, &body)) <= 0)
        return r;
    return replace_with(c, id, version, body);
}

/* What a PATCH hands to store_update(). */
struct patching {
    struct call *c;
    cJSON *patch; /* the request body, parsed */
};

/* store_update()'s change for a PATCH, with the item as stored: If-Match
 * against it, the body, the merge, the result checked as a whole like a
 * PUT body, into next. 0 to store next; 1 when the answer is made (412,
 * 400, 422); -1 when memory ran out. */
static int apply_patch(void *ctx, const struct item *current, struct item *next)
{
    struct patching *pt = ctx;
    struct call *c = pt->c;
    int64_t version;
    int rc = check_if_match(c, current->version, &version);
    if (rc <= 0)
        return rc < 0 ? -1 : 1;
    if (!pt->patch && (rc = read_json_as(c, "application/merge-patch+json", &pt->patch)) <= 0)
        return rc < 0 ? -1 : 1;
    static const char *const owned[] = {"id", "version", "created_at", "updated_at"};
    cJSON *errors = cJSON_CreateArray(), *target = item_to_json(current);
    const char *what = "the patch is not valid";
    rc = -1;
    if (!errors || !target)
        goto out;
    for (size_t i = 0; i < sizeof owned / sizeof owned[0]; i++)
        cJSON_DeleteItemFromObjectCaseSensitive(target, owned[i]);
    if (item_merge_patch(&target, pt->patch, errors) == 0) {
        what = "the item is not valid";
        if (item_from_json(target, next, errors) == 0)
            rc = 0;
    }
    if (rc < 0 && cJSON_GetArraySize(errors) > 0) { /* none: memory ran out */
        reset(c->resp);
        rc = problem_respond_errors(c->resp, 422, what, errors) < 0 ? -1 : 1;
        errors = NULL;
    }
out:
    cJSON_Delete(errors);
    cJSON_Delete(target);
    return rc;
}

/* PATCH with a merge patch (RFC 7396): the stored item as JSON, without
 * what the server owns, merged with the patch, then checked as a whole
 * like a PUT body. Read, merge and write are one store_update(): no other
 * change can come in between and be undone by this one (a lost update). */
static int patch_item(struct call *c)
{
    int64_t id = parse_id(c->id);
    if (!id)
        return problem_quoting(c, 404, "no item has the id \"%.*s\"", c->id);
    const struct http_slice *ct = http_header_get(c->req, "Content-Type");
    if (!ct || !media_is(*ct, "application/merge-patch+json")) {
        /* RFC 5789 section 3.1: say which patch formats are understood */
        if (problem(c, 415, "a PATCH body must be a JSON merge patch: Content-Type: "
                            "application/merge-patch+json") < 0)
            return -1;
        return response_header(c->resp, "Accept-Patch", "application/merge-patch+json");
    }
    struct patching pt = {.c = c};
    struct item out = {0};
    enum store_status st = store_update(c->api->store, id, apply_patch, &pt, &out);
    int rc = st == STORE_DECLINED ? 0 : changed(c, st, &out);
    cJSON_Delete(pt.patch);
    item_free(&out);
    return rc;
}

/* DELETE: 204 and no body (RFC 9110 section 9.3.5); the id is never given
 * out again. */
static int delete_item(struct call *c)
{
    int64_t id = parse_id(c->id), version;
    if (!id)
        return problem_quoting(c, 404, "no item has the id \"%.*s\"", c->id);
    int r = if_match(c, id, &version);
    if (r <= 0)
        return r;
    enum store_status st = store_delete(c->api->store, id, version);
    if (st == STORE_OK) {
        c->resp->status = 204;
        return 0;
    }
    return changed(c, st, NULL);
}

/* GET /items: a page of the collection, in the order the query asks,
 * {"items": [...], "next": "/items?...cursor=..."} with the same link in
 * a Link field (RFC 8288), or "next": null and no Link on the last page. A
 * bad query is 400 with every bad parameter listed. */
static int list_items(struct call *c)
{
    struct list_query lq;
    cJSON *errors = cJSON_CreateArray();
    if (!errors)
        return -1;
    if (query_parse(c->req->query, &lq, errors) < 0) {
        if (cJSON_GetArraySize(errors) == 0) {
            cJSON_Delete(errors);
            return -1;
        }
        reset(c->resp);
        return problem_respond_errors(c->resp, 400, "the query is not valid", errors);
    }
    cJSON_Delete(errors);

    struct item *items = NULL;
    size_t n = 0;
    int more = 0, rc = -1;
    char next[4096], link[4096 + 16];
    cJSON *page = NULL, *array;
    enum store_status st = store_list(c->api->store, &lq.store, &items, &n, &more);
    if (st == STORE_BUSY)
        rc = busy(c);
    if (st != STORE_OK)
        goto out;
    if (!(page = cJSON_CreateObject()) || !(array = cJSON_AddArrayToObject(page, "items")))
        goto out;
    for (size_t i = 0; i < n; i++) {
        cJSON *j = item_to_json(&items[i]);
        if (!j || !cJSON_AddItemToArray(array, j)) {
            cJSON_Delete(j);
            goto out;
        }
    }
    if (more && query_next(&lq, &items[n - 1], next, sizeof next) < 0)
        goto out;
    if (!(more ? cJSON_AddStringToObject(page, "next", next) : cJSON_AddNullToObject(page, "next")))
        goto out;
    if (json_respond(c->resp, 200, page) < 0)
        goto out;
    snprintf(link, sizeof link, "<%s>; rel=\"next\"", next);
    rc = more ? response_header(c->resp, "Link", link) : 0;
out:
    for (size_t i = 0; i < n; i++)
        item_free(&items[i]);
    free(items);
    cJSON_Delete(page);
    return rc;
}

/* ---- dispatch ---------------------------------------------------------------- */

int api_may_block(void *api, const struct http_request *req)
{
    /* Only /items touches the store: /health and every other path are
     * answered on the loop thread at once, even while the workers wait
     * for a database (chapter 04). */
    return store_may_block(((struct api *)api)->store) && req->path.n >= 6 &&
           memcmp(req->path.p, "/items", 6) == 0;
}

int api_serve(void *ctx, const struct http_request *req, const struct buf *body,
              struct response *resp, const struct loop_job *job)
{
    struct call c = {.api = ctx, .req = req, .body = body, .resp = resp};
    (void)job;
    const struct route *rt = NULL;
    struct http_slice params[1];
    for (size_t i = 0; i < sizeof routes / sizeof routes[0] && !rt; i++)
        if (router_match(routes[i].template, req->path, params, 1) >= 0)
            rt = &routes[i];
    unsigned m = router_method(req->method);
    if (!m)
        return problem_quoting(&c, 501, "the API does not know the method %.*s", req->method);
    if (!rt)
        return problem_quoting(&c, 404, "the API has no resource at %.*s", req->path);
    if (rt->template[strlen(rt->template) - 1] == '}')
        c.id = params[0];

    /* Allow only where it is sent: every other request skips the work. */
    char allow[128];
    if (!(rt->methods & m)) {
        if (router_allow(rt->methods, allow, sizeof allow) < 0 ||
            problem_quoting(&c, 405, "%.*s is not allowed here: see Allow", req->method) < 0)
            return -1;
        return response_header(resp, "Allow", allow);
    }
    if (m == M_OPTIONS) {
        if (router_allow(rt->methods, allow, sizeof allow) < 0)
            return -1;
        resp->status = 204;
        return response_header(resp, "Allow", allow);
    }
    /* Every answer is JSON: a client that takes none gets 406 (stage 3). */
    struct http_slice accept[8];
    size_t naccept = header_values(req, "Accept", accept, 8);
    if (!media_accepts_json(accept, naccept))
        return problem(&c, 406, "the API answers in JSON only: accept application/json");

    handler_fn fn = m == M_GET || m == M_HEAD ? rt->get
                    : m == M_POST             ? rt->post
                    : m == M_PUT              ? rt->put
                    : m == M_PATCH            ? rt->patch
                                              : rt->del;
    return fn(&c);
}

int api_error(void *api, int status, struct response *resp)
{
    (void)api;
    const char *detail = status == 400   ? "the request is not valid HTTP/1.1"
                         : status == 408 ? "the request did not arrive in time"
                         : status == 413 ? "the body is larger than the server takes (--max-body)"
                         : status == 414 ? "the request line is too long"
                         : status == 431 ? "the header fields are too large"
                         : status == 503 ? "the server is stopping"
                                         : NULL;
    return problem_respond(resp, status, detail);
}
