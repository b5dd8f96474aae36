/* handler -- what the server answers (stages 4, 5, 7, 8 and 9).
 *
 * The connection layer (conn.h) parses a request and reads its body; the
 * handler decides the answer. It never touches a socket, so tests call it
 * with a parsed request and look at the response. main.c plugs it in:
 *
 *   struct http_handler h = { .may_block = handler_may_block, .serve = handler_serve, .ctx = &site };
 *
 *   GET, HEAD    /...    a file under the root (files.h), with caching
 *                        (ETag, Last-Modified -> 304) and ranges (206, 416)
 *   POST         /echo   200 with the request body as the response body
 *   GET          /delay?ms=N   waits N milliseconds (0 to 10000), then 200
 *                        "slept N ms\n": a stand-in for a handler that
 *                        blocks, like a database query (400 for a bad N);
 *                        it gives up when the server stops waiting for it
 *   other known methods  405 Method Not Allowed, with Allow: the methods
 *                        the path has ("GET, HEAD" or "POST")
 *   unknown methods      501 Not Implemented */
#ifndef HANDLER_H
#define HANDLER_H

#include <limits.h>

#include "buf.h"
#include "http.h"
#include "loop.h"
#include "response.h"

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

struct site {
    char root[PATH_MAX];   /* realpath() of --root */
};

/* 1 when answering req may block for long (here: /delay), else 0. The
 * connection layer runs such requests on a worker thread, so that they
 * stall no other client. site (a struct site) is not used. */
int handler_may_block(void *site, const struct http_request *req);

/* Fills resp (response_init()ed by the caller) with the answer to req,
 * whose body (already decoded) is in body; site is the struct site to
 * serve. On a request for a file, resp->file_fd is an open fd the response
 * owns. job: see struct http_handler in conn.h (NULL: not on a worker).
 * Returns 0; or -1 when memory ran out, or when the job was cancelled
 * while /delay waited -- resp is then to be thrown away. */
int handler_serve(void *site, const struct http_request *req, const struct buf *body,
                  struct response *resp, const struct loop_job *job);

#endif
