/* api -- see api.h.
 *
 * Given: the route table, struct call, the small helpers. Yours: the
 * routing and api_error() (stage 1), the handlers (stages 2, 5, 6), the
 * body checks (stage 3). */
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
static int not_yet(struct call *c);

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
    /* TODO(stage 2): 1 to 15 digits '0'-'9' and nothing else -- no sign,
     * no leading zero, no spaces: "abc", "0x10", "-1", "01" and 20 digits
     * name no item (return 0). Build the number digit by digit; 15 digits
     * cannot overflow an int64_t. */
    (void)s;
    return 0;
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

static int item_respond(struct call *c, int status, const struct item *it)
{
    cJSON *j = item_to_json(it);
    int rc = j ? json_respond(c->resp, status, j) : -1;
    cJSON_Delete(j);
    /* TODO(stage 7): every answer with an item carries its ETag:
     * etag_format(it->version, ...) and response_header(c->resp, "ETag",
     * ...) when rc is 0. */
    return rc;
}

/* TODO(stage 7): conditional requests (RFC 9110 section 13). Write the
 * helpers the handlers share here:
 *  - condition(c, name, version, weak): every field called name
 *    (header_values(): a list may come in several fields) through
 *    etag_match(); 1 when one matches, 0 when none does, -1 when one is
 *    malformed -- which the caller answers with a 400 problem.
 *  - check_if_match(c, current, &version): no If-Match field -> go on
 *    with version 0 (any); none matches the current version -> 412
 *    problem, nothing changes; else go on with version = current, which
 *    store_replace()/store_delete() then require (STORE_STALE -> 412).
 *  - if_match(c, id, &version) for PUT and DELETE: store_get() first --
 *    a missing item is 404 even with If-Match (section 13.2.1) --, then
 *    check_if_match().
 * get_item(): after store_get(), If-None-Match compared weakly; a match
 * is 304 with the ETag and no body (c->resp->status = 304, the ETag
 * field, nothing else). put_item() and delete_item(): if_match() before
 * anything else; patch_item(): check_if_match() on the item it read, and
 * then store the result only at the version it read (a patch is read,
 * merge, write). */

/* ---- reading a JSON body (stage 3) ---------------------------------------- */

/* Reads the request body as JSON of the media type type into *out: 415
 * unless Content-Type says type, 400 unless json_check() accepts it
 * (detail: where and why), 422 if a string holds U+0000. Returns 1 with
 * *out set, 0 when the answer is made (an error), -1 when memory ran out. */
static int read_json_as(struct call *c, const char *type, cJSON **out)
{
    /* TODO(stage 3): in this order --
     *  1. Content-Type (http_header_get()) must be type: media_is(*ct,
     *     type); else problem 415.
     *  2. json_check() the body with {JSON_MAX_DEPTH, JSON_MAX_VALUES};
     *     refused: problem 400 whose detail says why and where: "the body
     *     is not valid JSON: <reason> at byte <offset>".
     *  3. res.nul_escapes > 0: 422 with one error, pointer "" (cJSON
     *     would cut such a string short).
     *  4. Only now cJSON: copy the body into malloc(len + 1) with a NUL
     *     after it (a body has none, and some cJSON versions read up to
     *     one), cJSON_ParseWithLength(), free the copy.
     * Until then (stage 2), this parses the body without any check. */
    char *text = malloc(c->body->len + 1);
    if (!text)
        return -1;
    if (c->body->len)
        memcpy(text, c->body->data, c->body->len);
    text[c->body->len] = '\0';
    *out = cJSON_ParseWithLength(text, c->body->len);
    free(text);
    (void)type;
    if (!*out)
        return problem(c, 400, "the body is not JSON") < 0 ? -1 : 0;
    return 1;
}

static int read_json(struct call *c, cJSON **out)
{
    return read_json_as(c, "application/json", out);
}

/* ---- the handlers ----------------------------------------------------------- */

static int get_health(struct call *c)
{
    /* TODO(stage 1): the object {"status":"ok"} through json_respond(),
     * status 200; delete the object. */
    (void)c;
    return -1;
}

static int post_item(struct call *c)
{
    /* TODO(stage 2): read_json() the body (<= 0: done, return it);
     * item_from_json() it with a fresh cJSON_CreateArray() for the errors;
     * -1 with errors listed: reset(c->resp) and problem_respond_errors(...,
     * 422, "the item is not valid", errors) -- it takes the array. Valid:
     * store_create(), then item_respond(c, 201, &stored) and the field
     * "Location: /items/<id>". Free the body, the errors (unless given
     * away) and both items on every path.
     *
     * TODO(stage 8): with an Idempotency-Key field (header_values(): more
     * than one field is a 400 problem too), idem_key() it first -- -1 is
     * a 400 problem -- and create with store_create_once(store, key, &in,
     * &out) instead: STORE_OK and STORE_REPLAYED both answer 201 with out,
     * its ETag and its Location (a replay is the first answer again);
     * STORE_KEY_REUSED is a 422 problem (the key was used for another
     * item). */
    return not_yet(c);
}

static int get_item(struct call *c)
{
    /* TODO(stage 2): parse_id(c->id); 0: 404 problem. store_get(): STORE_OK
     * -> item_respond(c, 200, &it); STORE_NOT_FOUND -> 404 problem (say
     * which id: problem_quoting()); anything else -> -1 (500). item_free()
     * what store_get() gave. */
    return not_yet(c);
}

/* PUT: the body is the whole new item; members left out get their
 * defaults. The same PUT twice leaves the same item (idempotent). */
static int put_item(struct call *c)
{
    /* TODO(stage 5): parse_id() (0: 404 problem), read_json(),
     * item_from_json() (422 with the errors, as in post_item()), then
     * store_replace(store, id, 0, &in, &out): STORE_OK -> item_respond(c,
     * 200, &out), STORE_NOT_FOUND -> 404 problem. PATCH ends the same way:
     * write that part once, as a helper both call. */
    return not_yet(c);
}

/* PATCH with a JSON merge patch (RFC 7396). */
static int patch_item(struct call *c)
{
    /* TODO(stage 5): in this order --
     *  1. parse_id(): 0 is a 404 problem.
     *  2. Content-Type must be application/merge-patch+json: else a 415
     *     problem plus the field "Accept-Patch:
     *     application/merge-patch+json" (RFC 5789 section 3.1).
     *  3. store_get(): STORE_NOT_FOUND is a 404 problem.
     *  4. read_json_as(c, "application/merge-patch+json", &patch).
     *  5. item_to_json() of the stored item, without what the server owns
     *     (cJSON_DeleteItemFromObjectCaseSensitive: id, version,
     *     created_at, updated_at), then item_merge_patch() with the patch
     *     (-1 with errors: 422).
     *  6. The result is checked and stored like a PUT body.
     * Free the patch, the tree, the errors and the item on every path. */
    return not_yet(c);
}

/* DELETE: 204 and no body; the id is never given out again. */
static int delete_item(struct call *c)
{
    /* TODO(stage 5): parse_id() (0: 404), store_delete(store, id, 0):
     * STORE_OK -> status 204 and nothing else (no body, no Content-Type);
     * STORE_NOT_FOUND -> 404 problem. */
    return not_yet(c);
}

/* GET /items: a page of the collection. */
static int list_items(struct call *c)
{
    /* TODO(stage 6): query_parse(c->req->query, &lq, errors) with a fresh
     * cJSON_CreateArray(): -1 with errors listed is a 400 problem through
     * problem_respond_errors(..., 400, "the query is not valid", errors).
     * Then store_list(store, &lq.store, &items, &n, &more) and the body
     * {"items": [item_to_json() of each], "next": link or null} through
     * json_respond(c->resp, 200, page). When more: the link is
     * query_next(&lq, &items[n - 1], ...), in "next" and in the field
     * Link: <link>; rel="next" (RFC 8288). Free the items, the array and
     * the tree on every path. */
    return not_yet(c);
}

/* What you have not written yet: 501. */
static int not_yet(struct call *c)
{
    return problem(c, 501, "this operation comes in a later stage of the chapter");
}

/* ---- dispatch ---------------------------------------------------------------- */

int api_may_block(void *api, const struct http_request *req)
{
    (void)req;
    return store_may_block(((struct api *)api)->store);
}

int api_serve(void *ctx, const struct http_request *req, const struct buf *body,
              struct response *resp, const struct loop_job *job)
{
    struct call c = {.api = ctx, .req = req, .body = body, .resp = resp};
    (void)job;
    /* TODO(stage 1): route the request, in this order --
     *  1. router_method(req->method); 0 (a method the API does not know):
     *     problem 501 (problem_quoting() can name it).
     *  2. The first route whose template router_match()es req->path (with
     *     room for one parameter, which becomes c.id); none: problem 404.
     *  3. router_allow() the route's methods into a buffer. A method the
     *     route does not allow: problem 405, plus the field "Allow".
     *  4. OPTIONS: status 204 and "Allow", no body.
     *  5. The route's handler for the method: get for GET and HEAD (the
     *     HTTP layer leaves out HEAD's body), post, put, patch, del.
     * TODO(stage 3): between 4 and 5, the Accept fields: collect them with
     * header_values() and, unless media_accepts_json() says yes, problem
     * 406. */
    (void)routes;
    (void)header_values;
    (void)item_respond;
    (void)parse_id;
    (void)read_json;
    (void)problem_quoting;
    return problem(&c, 501, "api_serve() is not written yet");
}

int api_error(void *api, int status, struct response *resp)
{
    /* TODO(stage 1): the HTTP layer calls this for the errors it answers
     * itself (400, 408, 413, 414, 431, 500, 503): problem_respond() with
     * the status and a detail that says what happened ("the body is larger
     * than the server takes (--max-body)" for 413, ...). Without it, those
     * errors would be plain text: the one thing a JSON client cannot read. */
    (void)api;
    (void)status;
    (void)resp;
    return -1;
}
