/* http -- the request parser. See http.h for the contracts: they are the
 * spec the tests check, read them first.
 *
 * The parsing functions start at the start of the buffer, never read past
 * len, never copy: slices point into buf. A head that arrives in pieces is
 * not parsed again after every read -- that costs O(n^2) --:
 * http_scan_head() keeps its place (stage 6), and the head is parsed once,
 * when its end is there. */
#include "http.h"

#include <string.h>

/* tchar from RFC 9110 section 5.6.2: the bytes of a token (a method, a
 * header field name). */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

int http_slice_eq_nocase(struct http_slice s, const char *cstr)
{
    size_t n = strlen(cstr);
    if (s.n != n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s.p[i]) != lower((unsigned char)cstr[i]))
            return 0;
    return 1;
}

int http_parse_request_line(const char *buf, size_t len, struct http_request *req)
{
    /* TODO(stage 1): parse "METHOD SP TARGET SP HTTP/1.x CRLF".
     *
     *  - Skip empty lines ("\r\n" or "\n") before the request line.
     *  - Find the line end (CRLF, or a bare LF). No end yet: if the bytes
     *    so far could still become a valid line, HTTP_INCOMPLETE; a CR
     *    followed by anything but LF is -400.
     *  - The limit: a line longer than HTTP_MAX_REQUEST_LINE is -414. It
     *    counts the line without its line end (and without the skipped
     *    empty lines): exactly HTTP_MAX_REQUEST_LINE bytes and "\r\n" is
     *    fine. Say -414 as soon as the line is too long, before its end
     *    came -- but a CR at the very end of buf does not count yet: it
     *    may be the first half of the "\r\n".
     *  - method: 1 or more tchars (is_tchar), then exactly one ' '.
     *  - target: 1 or more bytes > 0x20 and != 0x7f, then exactly one ' '.
     *    Split it at the first '?' into path and query. "*" only for
     *    OPTIONS; "http://host/path" (absolute-form) has path "/path",
     *    and its host part (up to that '/') holds no '@' -- userinfo,
     *    "http://user:pass@host/", is -400 (RFC 9110 section 4.2.4) --
     *    and no '?'.
     *  - version: exactly "HTTP/" DIGIT "." DIGIT; major other than 1 is
     *    -505; minor 0 is 0, anything else counts as 1.
     * Return the bytes used, skipped empty lines and line end included. */
    (void)buf;
    (void)len;
    (void)req;
    (void)is_tchar;
    return -400;
}

int http_parse_headers(const char *buf, size_t len, struct http_request *req)
{
    /* TODO(stage 2): one "name: value" per line until an empty line.
     * For each line: a line starting with ' ' or '\t' (obs-fold) is -400;
     * the name is 1 or more tchars directly followed by ':' (a space before
     * the colon is -400); the value is the rest without spaces and tabs
     * around it, and holds no control bytes but '\t' (-400). Store slices
     * in req->headers; more than HTTP_MAX_HEADERS is -431, a line longer
     * than HTTP_MAX_HEADER_LINE (without its line end, counted like the
     * request line's limit) is -431. Return the bytes used, the empty
     * line included, or HTTP_INCOMPLETE before it arrived. */
    (void)buf;
    (void)len;
    req->nheaders = 0;
    return -400;
}

int http_parse_request(const char *buf, size_t len, struct http_request *req)
{
    int n = http_parse_request_line(buf, len, req);
    if (n <= 0)
        return n;
    size_t limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
    int h = http_parse_headers(buf + n, limit - (size_t)n, req);
    if (h == HTTP_INCOMPLETE && len >= HTTP_MAX_HEAD)
        return -431;
    if (h <= 0)
        return h;
    return n + h;
}

void http_scan_init(struct http_scan *s)
{
    memset(s, 0, sizeof *s);
}

int http_scan_head(struct http_scan *s, const char *buf, size_t len)
{
    /* TODO(stage 6): find the end of the head, looking only at the bytes
     * that came since the last call (from s->pos on):
     *  - memchr() for '\n' from s->pos; each one ends a line that started
     *    at s->line (without its "\r\n" it is n bytes long);
     *  - before the request line: an empty line is skipped (s->skip, and
     *    s->line, move past it; s->skip >= HTTP_MAX_REQUEST_LINE: -400);
     *    the first other line is the request line: remember where it
     *    ended (s->line_end);
     *  - after it: an empty line ends the head -- return its end (the
     *    caller's http_parse_request() checks everything then); a field
     *    line longer than HTTP_MAX_HEADER_LINE, or more than
     *    HTTP_MAX_HEADERS of them: -431 (unless the request line is
     *    wrong: its error first);
     *  - no end yet (s->pos = len): check the request line with
     *    http_parse_request_line(buf + s->skip, ...) -- once when it has
     *    ended, and while it has not, each time it has doubled in length
     *    since the last check (s->checked) or passed HTTP_MAX_REQUEST_LINE:
     *    its error, if any, is the answer. An unfinished field line over
     *    HTTP_MAX_HEADER_LINE (a CR at its very end not counted: it may
     *    be half of the "\r\n"), or len >= HTTP_MAX_HEAD: -431. Else
     *    HTTP_INCOMPLETE. */
    (void)s;
    (void)buf;
    (void)len;
    return HTTP_INCOMPLETE;
}

const struct http_slice *http_header_get(const struct http_request *req, const char *name)
{
    /* TODO(stage 2): the value of the first field whose name equals name
     * without regard to case (http_slice_eq_nocase), or NULL. */
    (void)req;
    (void)name;
    return NULL;
}

int http_check_head(const struct http_request *req, struct http_head_info *info)
{
    memset(info, 0, sizeof *info);
    (void)req;
    /* TODO(stage 2): HTTP/1.1 needs exactly one Host field (else -400);
     * HTTP/1.0 may have none (but not two). Its value must be a host,
     * then optionally ':' and a port of digits only, else -400:
     *   - "[" IPv6 address "]": one or more hex digits, ':' and '.'
     *     between brackets that close ("[::1" and "[]" are -400);
     *   - or a name or IPv4 address: letters, digits, "-._~", %XX, and
     *     "!$&'()*+,;=" (so '@', '/', spaces are -400);
     *   - "example.com:abc" and "a:1x" are -400; an empty value is valid.
     * Put the value in info->host.
     *
     * TODO(stage 6): info->keep_alive: HTTP/1.1 stays open unless a
     * Connection field lists "close"; HTTP/1.0 closes unless it lists
     * "keep-alive". (The value is a comma-separated list, any case.)
     *
     * TODO(stage 7): the body. Content-Length: digits only, no overflow,
     * repeated only with the same value (else -400) -> HTTP_BODY_LENGTH
     * when > 0. Transfer-Encoding: with Content-Length, or in HTTP/1.0,
     * or twice, -400 (request smuggling). Its value is a list of codings,
     * applied in order (split at ',', trim, skip empty ones):
     *   - the final coding is not "chunked" ("gzip", "chunked, gzip"):
     *     nothing says where the body ends -- -400, and the connection
     *     closes (RFC 9112 section 6.3);
     *   - "chunked" twice: -400;
     *   - codings before the final "chunked" ("gzip, chunked"): -501,
     *     only chunked is implemented;
     *   - "chunked" alone (any case) -> HTTP_BODY_CHUNKED. */
    return 0;
}
