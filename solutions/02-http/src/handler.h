/* handler -- what the server answers (stages 4, 5, 7 and 9).
 *
 * The connection loop parses a request and reads its body; the handler
 * decides the answer. It never touches a socket, so tests call it with a
 * parsed request and look at the response.
 *
 *   GET, HEAD    /...    a file under the root (files.h), with caching
 *                        (ETag, Last-Modified -> 304) and ranges (206, 416)
 *   POST         /echo   200 with the request body as the response body
 *   GET          /delay?ms=N   waits N milliseconds (0 to 10000), then 200
 *                        "slept N ms\n": a stand-in for a handler that
 *                        blocks, like a database query (400 for a bad N)
 *   other known methods  405 Method Not Allowed, with Allow: the methods
 *                        the path has ("GET, HEAD" or "POST")
 *   unknown methods      501 Not Implemented */
#ifndef HANDLER_H
#define HANDLER_H

#include <limits.h>

#include "buf.h"
#include "http.h"
#include "response.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct site {
    char root[PATH_MAX];   /* realpath() of --root */
};

/* 1 when answering req may block for long (here: /delay), else 0. The
 * connection loop runs such requests on a worker thread, so that they
 * stall no other client. */
int handler_may_block(const struct http_request *req);

/* Fills resp (response_init()ed by the caller) with the answer to req,
 * whose body (already decoded) is in body. On a request for a file,
 * resp->file_fd is an open fd the response owns. */
void handler_serve(const struct site *site, const struct http_request *req,
                   const struct buf *body, struct response *resp);

#endif
