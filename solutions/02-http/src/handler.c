/* handler -- the answers of the file server. See handler.h. */
#include "handler.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* ---- a small cache of resolved paths -------------------------------------
 *
 * files_resolve() costs a readlink() per path component (realpath) and a
 * stat(): more system calls than sending a small file. Busy paths keep
 * their resolution for RESOLVE_TTL_MS; after that it is checked again, so
 * a file renamed or a symlink changed is seen within that time -- the same
 * trade-off as nginx's open_file_cache. Misses and errors are not cached.
 * Each thread has its own cache: no lock, so no thread ever waits for
 * another one that the scheduler put to sleep while it held the lock. */
#define RESOLVE_SLOTS 8
#define RESOLVE_KEY_MAX 256
#define RESOLVE_TTL_MS 1000

static _Thread_local struct {
    const struct site *site;
    char key[RESOLVE_KEY_MAX];
    char real[PATH_MAX];
    long long expires;
} resolved[RESOLVE_SLOTS];

static unsigned slot_of(const char *key)
{
    unsigned h = 2166136261u; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h % RESOLVE_SLOTS;
}

/* The real path of decoded under the site's root: from the cache, or
 * files_resolve(). Returns 0, or minus a status. */
static int resolve_cached(const struct site *site, const char *decoded, char *real, size_t cap)
{
    struct stat st;
    size_t klen = strlen(decoded);
    unsigned slot = slot_of(decoded);
    long long now = loop_now_ms();
    int hit = 0;

    if (klen < RESOLVE_KEY_MAX && resolved[slot].site == site && resolved[slot].expires > now &&
        strcmp(resolved[slot].key, decoded) == 0 && strlen(resolved[slot].real) < cap) {
        memcpy(real, resolved[slot].real, strlen(resolved[slot].real) + 1);
        hit = 1;
    }
    if (hit)
        return 0;
    int rc = files_resolve(site->root, decoded, real, cap, &st);
    if (rc == 0 && klen < RESOLVE_KEY_MAX && strlen(real) < PATH_MAX) {
        resolved[slot].site = site;
        memcpy(resolved[slot].key, decoded, klen + 1);
        memcpy(resolved[slot].real, real, strlen(real) + 1);
        resolved[slot].expires = now + RESOLVE_TTL_MS;
    }
    return rc;
}

static int method_is(const struct http_request *req, const char *m)
{
    return req->method.n == strlen(m) && memcmp(req->method.p, m, req->method.n) == 0;
}

/* Methods RFC 9110 defines: the server knows them, even where it does not
 * allow them (405). Anything else is 501. */
static int known_method(const struct http_request *req)
{
    static const char *const known[] = { "GET", "HEAD", "POST", "PUT", "DELETE",
                                         "CONNECT", "OPTIONS", "TRACE", "PATCH" };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (method_is(req, known[i]))
            return 1;
    return 0;
}

/* Every response_*() call can fail for lack of memory; a response that
 * misses a field must not go out. These return 0, or -1 then. */
static int fail(struct response *resp, int status)
{
    return response_error(resp, status);
}

static int not_allowed(struct response *resp, const char *allow)
{
    return fail(resp, 405) < 0 || response_header(resp, "Allow", allow) < 0 ? -1 : 0;
}

/* Does the If-None-Match list v name etag? Weak comparison (RFC 9110
 * section 13.1.2): W/ prefixes do not matter. */
static int etag_listed(struct http_slice v, const char *etag)
{
    const char *p = v.p, *end = v.p + v.n;
    size_t n = strlen(etag);
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
            p++;
        if (p < end && *p == '*')
            return 1;
        if (end - p >= 2 && p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *e = p;
        while (e < end && *e != ',')
            e++;
        const char *t = e;
        while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - p) == n && memcmp(p, etag, n) == 0)
            return 1;
        p = e;
    }
    return 0;
}

static int serve_file(const struct site *site, const struct http_request *req,
                      struct response *resp)
{
    char decoded[PATH_MAX], path[PATH_MAX], etag[96], date[HTTP_DATE_LEN + 1];
    struct stat st;
    int rc;

    if ((rc = files_decode_path(req->path, decoded, sizeof decoded)) < 0 ||
        (rc = resolve_cached(site, decoded, path, sizeof path)) < 0)
        return fail(resp, -rc);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        int status = fd < 0 && errno == EACCES ? 403 : 404;
        if (fd >= 0)
            close(fd);
        return fail(resp, status);
    }
    resp->file_fd = fd; /* the response owns it now: response_free() closes it */

    files_etag(&st, etag, sizeof etag);
    http_format_date(st.st_mtime, date);
    if (response_header(resp, "Content-Type", files_mime(path)) < 0 ||
        response_header(resp, "ETag", etag) < 0 ||
        response_header(resp, "Last-Modified", date) < 0 ||
        response_header(resp, "Accept-Ranges", "bytes") < 0)
        return -1;

    /* Conditional requests, RFC 9110 section 13.2.2: If-None-Match first;
     * If-Modified-Since only when there is no If-None-Match. */
    const struct http_slice *inm = http_header_get(req, "If-None-Match");
    const struct http_slice *ims = http_header_get(req, "If-Modified-Since");
    time_t since;
    int not_modified = inm ? etag_listed(*inm, etag)
                           : (ims && http_parse_date(*ims, &since) == 0 && st.st_mtime <= since);
    if (not_modified) {
        close(resp->file_fd);
        resp->file_fd = -1;
        resp->status = 304;
        return 0;
    }

    off_t first = 0, last = st.st_size - 1;
    const struct http_slice *range = http_header_get(req, "Range");
    const struct http_slice *if_range = http_header_get(req, "If-Range");
    if (range && (!if_range || (if_range->n == strlen(etag) &&
                                memcmp(if_range->p, etag, if_range->n) == 0))) {
        rc = files_parse_range(*range, st.st_size, &first, &last);
        if (rc < 0) {
            char cr[64];
            snprintf(cr, sizeof cr, "bytes */%lld", (long long)st.st_size);
            return fail(resp, 416) < 0 || response_header(resp, "Content-Range", cr) < 0 ? -1 : 0;
        }
        if (rc == 1) {
            char cr[96];
            snprintf(cr, sizeof cr, "bytes %lld-%lld/%lld", (long long)first, (long long)last,
                     (long long)st.st_size);
            resp->status = 206;
            if (response_header(resp, "Content-Range", cr) < 0)
                return -1;
        } else {
            first = 0;
            last = st.st_size - 1;
        }
    }
    resp->file_off = first;
    resp->file_len = last - first + 1;
    return 0;
}

static int path_is(const struct http_request *req, const char *path)
{
    return req->path.n == strlen(path) && memcmp(req->path.p, path, req->path.n) == 0;
}

int handler_may_block(void *site, const struct http_request *req)
{
    (void)site;
    return path_is(req, "/delay");
}

/* The value of "ms" in a query like "ms=250" or "a=1&ms=250": 0 to 10000,
 * or -1. */
static long delay_ms(struct http_slice q)
{
    const char *p = q.p, *end = q.p + q.n;
    while (p < end) {
        const char *amp = memchr(p, '&', (size_t)(end - p));
        const char *e = amp ? amp : end;
        if (e - p > 3 && memcmp(p, "ms=", 3) == 0) {
            long v = 0;
            for (const char *d = p + 3; d < e; d++) {
                if (*d < '0' || *d > '9' || v > 10000)
                    return -1;
                v = v * 10 + (*d - '0');
            }
            return v <= 10000 ? v : -1;
        }
        p = amp ? amp + 1 : end;
    }
    return -1;
}

/* GET /delay?ms=N: sleeps, then says so. It stands in for a handler that
 * blocks -- a slow query, password hashing -- to show that it stalls no
 * other client. Like any blocking work it gives up when the server no
 * longer waits for it (loop_job_sleep returns early): a server that stops
 * must not wait out a 10 s sleep. */
static int serve_delay(const struct http_request *req, struct response *resp,
                       const struct loop_job *job)
{
    char text[64];
    long ms = delay_ms(req->query);
    if (ms < 0)
        return fail(resp, 400);
    if (loop_job_sleep(job, ms) < 0)
        return -1; /* cancelled: nobody waits for the answer */
    int n = snprintf(text, sizeof text, "slept %ld ms\n", ms);
    if (response_header(resp, "Content-Type", "text/plain; charset=utf-8") < 0 ||
        response_body(resp, text, (size_t)n) < 0)
        return -1;
    return 0;
}

int handler_serve(void *site, const struct http_request *req, const struct buf *body,
                  struct response *resp, const struct loop_job *job)
{
    resp->head_only = method_is(req, "HEAD");
    if (!known_method(req))
        return fail(resp, 501);
    if (path_is(req, "/echo")) {
        if (!method_is(req, "POST"))
            return not_allowed(resp, "POST");
        resp->status = 200;
        if (response_header(resp, "Content-Type", "application/octet-stream") < 0 ||
            response_body(resp, body->data ? body->data : "", body->len) < 0)
            return -1;
        return 0;
    }
    if (path_is(req, "/delay")) {
        if (method_is(req, "GET") || method_is(req, "HEAD"))
            return serve_delay(req, resp, job);
        return not_allowed(resp, "GET, HEAD");
    }
    if (method_is(req, "GET") || method_is(req, "HEAD"))
        return serve_file(site, req, resp);
    return not_allowed(resp, "GET, HEAD");
}
