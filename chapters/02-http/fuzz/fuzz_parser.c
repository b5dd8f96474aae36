/* fuzz_parser -- a libFuzzer target for the request parser and the other
 * functions that read untrusted bytes: http_parse_request(),
 * http_check_head(), chunked_decode() and files_decode_path().
 *
 *   make fuzz CHAPTER=http                  the reference, FUZZ_TIME seconds
 *   make fuzz CHAPTER=http IMPL=learner     your own parser
 *
 * Besides crashes and sanitizer reports, it checks the contracts: a result
 * is never more than the bytes given, and every slice lies inside them. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "body.h"
#include "files.h"
#include "http.h"

static void check_slice(struct http_slice s, const char *buf, size_t len)
{
    if (s.n && (s.p < buf || s.p + s.n > buf + len))
        abort(); /* a slice points outside the request */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: reading one byte past it is an ASan report. */
    char *buf = malloc(size ? size : 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);

    struct http_request req;
    int n = http_parse_request(buf, size, &req);
    if (n > (int)size)
        abort();
    if (n > 0) {
        check_slice(req.method, buf, size);
        check_slice(req.target, buf, size);
        check_slice(req.path, buf, size);
        check_slice(req.query, buf, size);
        for (size_t i = 0; i < req.nheaders; i++) {
            check_slice(req.headers[i].name, buf, size);
            check_slice(req.headers[i].value, buf, size);
        }
        struct http_head_info info;
        http_check_head(&req, &info);
        char path[1024];
        files_decode_path(req.path, path, sizeof path);
    }

    struct chunked dec;
    struct buf out;
    int done = 0;
    chunked_init(&dec);
    buf_init(&out);
    int used = chunked_decode(&dec, buf, size, &out, 1 << 20, &done);
    if (used > (int)size)
        abort();
    buf_free(&out);
    free(buf);
    return 0;
}
