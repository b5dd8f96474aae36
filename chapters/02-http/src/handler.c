/* handler -- the answers of the file server. See handler.h. */
#include "handler.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

int handler_may_block(void *site, const struct http_request *req)
{
    /* TODO(stage 8): 1 for /delay (the path, whatever the query), else 0. */
    (void)site;
    (void)req;
    return 0;
}

int handler_serve(void *site, const struct http_request *req, const struct buf *body,
                  struct response *resp, const struct loop_job *job)
{
    (void)site; /* a struct site * */
    (void)body;
    (void)job;
    /* Every response_*() call can fail for lack of memory: return -1 then
     * (the connection answers 500 instead); return 0 once resp holds the
     * answer -- an error status is an answer too. */
    /* TODO(stage 4): GET: files_decode_path() the request path,
     * files_resolve() it under site->root, open() the file, and answer 200
     * with "Content-Type: <files_mime()>" and the file as the body
     * (resp->file_fd, file_off = 0, file_len = its size). An error code
     * from a files_* function is minus the status to answer with
     * (response_error(resp, -rc)). open() failing with EACCES (a file
     * that may not be read) is 403; failing otherwise, 404.
     *
     * TODO(stage 5): HEAD is GET without the body (resp->head_only = 1);
     * the other methods RFC 9110 defines (POST, PUT, DELETE, CONNECT,
     * OPTIONS, TRACE, PATCH) get 405 with "Allow: GET, HEAD"; any other
     * method token gets 501. The path /echo is not a file: every method
     * but POST on it gets 405 with "Allow: POST".
     *
     * TODO(stage 7): POST /echo answers 200 with the request body
     * ("Content-Type: application/octet-stream").
     *
     * TODO(stage 8): GET /delay?ms=N (N from 0 to 10000; anything else is
     * 400): sleep N ms with loop_job_sleep(job, N) -- it returns -1 early
     * when the server stops waiting (then return -1) --, then 200 "slept N
     * ms\n" as text/plain. Other methods on /delay: 405 with "Allow: GET,
     * HEAD".
     *
     * TODO(stage 9): ETag and Last-Modified on every file; If-None-Match
     * (weak comparison, "*") or else If-Modified-Since -> 304; Range ->
     * 206 with Content-Range, or 416 with "Content-Range: bytes * /SIZE"
     * (no space before the slash). "Accept-Ranges: bytes". HEAD gets the
     * same: with a Range, 206 and its Content-Range and Content-Length,
     * only without the body (head_only). */
    (void)req;
    return response_error(resp, 404);
}
