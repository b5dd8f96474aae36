/* fuzz_parser -- a libFuzzer target for the request parser and the other
 * functions that read untrusted bytes: http_parse_request(),
 * http_scan_head(), http_check_head(), chunked_decode() and
 * files_decode_path().
 *
 *   make fuzz CHAPTER=http                  the reference, FUZZ_TIME seconds
 *   make fuzz CHAPTER=http IMPL=learner     your own parser
 *
 * Besides crashes and sanitizer reports, it checks the contracts: a result
 * is never more than the bytes given, every slice lies inside them, and the
 * scanner finds the same head end as the parser, and the same answer
 * whether the bytes come at once or in pieces. */
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

/* What a connection does with the scanner's result r: a head's length
 * (the head then parses to exactly that) or the error status it answers.
 * A head that arrives whole is checked by the one parse; one that arrives
 * in pieces may have its request line refused by the scanner first -- the
 * answer must be the same. */
static int outcome(const char *buf, int r)
{
    struct http_request req;
    if (r <= 0)
        return r;
    int p = http_parse_request(buf, (size_t)r, &req);
    return p == r ? r : p;
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

    /* The scanner: at once, and in pieces of 1 to 8 bytes (the first byte
     * picks the size), as a connection would see them. */
    struct http_scan sc;
    http_scan_init(&sc);
    int whole = http_scan_head(&sc, buf, size);
    if (whole > (int)size || (n > 0 && whole != n))
        abort(); /* the parser found a head that the scanner did not */
    size_t piece = size ? 1 + (unsigned char)buf[0] % 8 : 1;
    int parts = HTTP_INCOMPLETE;
    http_scan_init(&sc);
    for (size_t have = 0; have < size && parts == HTTP_INCOMPLETE;) {
        have = have + piece < size ? have + piece : size;
        parts = http_scan_head(&sc, buf, have);
    }
    if ((whole > 0 || parts > 0) && outcome(buf, whole) != outcome(buf, parts))
        abort(); /* how the bytes were cut changed the answer */

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
