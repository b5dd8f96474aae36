/* api -- the REST API: the handler the HTTP layer calls (stages 1 to 8).
 *
 *   GET    /health           200 {"status":"ok"}
 *   GET    /items            200 a page of items              (stage 6)
 *   POST   /items            201 + Location: the new item      (stage 2)
 *   GET    /items/{id}       200 the item; 304                 (stages 2, 7)
 *   PUT    /items/{id}       200 the replaced item; 412        (stages 5, 7)
 *   PATCH  /items/{id}       200 the patched item; 412         (stages 5, 7)
 *   DELETE /items/{id}       204; 412                          (stages 5, 7)
 *
 * Every answer with an item carries its ETag, and If-None-Match /
 * If-Match make requests conditional (stage 7); POST takes an
 * Idempotency-Key (stage 8).
 *
 * HEAD is allowed wherever GET is (the same head, no body); OPTIONS
 * anywhere answers 204 with Allow. A path the API does not have is 404; a
 * method a path does not allow is 405 with Allow; a method the API does
 * not know at all is 501. Every answer's body is JSON, every error a
 * problem document (problem.h), also for the errors the HTTP layer
 * answers itself (api_error()). openapi.json is the whole contract. */
#ifndef API_H
#define API_H

#include "conn.h"
#include "store.h"

struct api {
    struct store *store;
};

/* struct http_handler's three callbacks, with ctx a struct api. */
int api_may_block(void *api, const struct http_request *req);
int api_serve(void *api, const struct http_request *req, const struct buf *body,
              struct response *resp, const struct loop_job *job);
int api_error(void *api, int status, struct response *resp);

#endif
