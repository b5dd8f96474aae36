/* http -- the request parser. See http.h for the contracts.
 *
 * Every parsing function walks the bytes once, from the start, and never
 * past len. A connection does not call them on every read of a head that
 * arrives in pieces -- parsing it again from the start each time would
 * cost O(n^2) for n pieces. http_scan_head() keeps its place instead,
 * and the head is parsed once, when its end is there. */
#include "http.h"

#include <string.h>

/* tchar from RFC 9110 section 5.6.2: the bytes of a token. */
static int is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Bytes allowed in a request-target: visible ASCII but no '#' fragment
 * marker problems (the fragment is never sent), and bytes >= 0x80, which
 * some clients send raw. No spaces, no control bytes. */
static int is_target_char(unsigned char c)
{
    return c > 0x20 && c != 0x7f;
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

/* Finds the end of the line starting at buf[0..len). Returns the length of
 * the line without its end and sets *eol to the length of the end (2 for
 * CRLF, 1 for LF); HTTP_INCOMPLETE-style -1 when no end yet; -2 for a CR
 * that is not followed by LF. */
static long find_eol(const char *buf, size_t len, size_t *eol)
{
    for (size_t i = 0; i < len; i++) {
        if (buf[i] == '\n') {
            *eol = 1;
            return (long)i;
        }
        if (buf[i] == '\r') {
            if (i + 1 == len)
                return -1;
            if (buf[i + 1] != '\n')
                return -2;
            *eol = 2;
            return (long)i;
        }
    }
    return -1;
}

/* The length of a line that has not ended yet in buf[0..len): what came,
 * but a CR at the very end, which may be the first half of its CRLF. The
 * line limits count a line without its line end. */
static size_t line_so_far(const char *buf, size_t len)
{
    return len > 0 && buf[len - 1] == '\r' ? len - 1 : len;
}

int http_parse_request_line(const char *buf, size_t len, struct http_request *req)
{
    size_t skip = 0, eol = 0;

    /* RFC 9112 section 2.2: ignore empty lines before the request line. */
    while (skip < len && (buf[skip] == '\n' ||
                          (buf[skip] == '\r' && skip + 1 < len && buf[skip + 1] == '\n')))
        skip += buf[skip] == '\r' ? 2 : 1;
    if (skip >= HTTP_MAX_REQUEST_LINE)
        return -400;
    buf += skip;
    len -= skip;

    long n = find_eol(buf, len < HTTP_MAX_REQUEST_LINE + 2 ? len : HTTP_MAX_REQUEST_LINE + 2,
                      &eol);
    if (n == -2)
        return -400;
    if (n > HTTP_MAX_REQUEST_LINE || (n == -1 && line_so_far(buf, len) > HTTP_MAX_REQUEST_LINE))
        return -414;
    if (n == -1) {
        /* Validate what is there, so that garbage fails early. */
        n = (long)line_so_far(buf, len);
        eol = 0;
    }
    const char *p = buf, *end = buf + n;

    /* method */
    const char *m = p;
    while (p < end && is_tchar((unsigned char)*p))
        p++;
    if (p == end)
        return eol ? -400 : HTTP_INCOMPLETE;
    if (p == m || *p != ' ')
        return -400;
    req->method = (struct http_slice){ m, (size_t)(p - m) };
    p++;

    /* request-target */
    const char *t = p;
    while (p < end && is_target_char((unsigned char)*p))
        p++;
    if (p == end)
        return eol ? -400 : HTTP_INCOMPLETE;
    if (p == t || *p != ' ')
        return -400;
    req->target = (struct http_slice){ t, (size_t)(p - t) };
    p++;

    /* HTTP-version: "HTTP/" DIGIT "." DIGIT */
    static const char name[] = "HTTP/";
    size_t vlen = (size_t)(end - p);
    if (memcmp(p, name, vlen < 5 ? vlen : 5) != 0)
        return -400;
    if (!eol) {
        if (vlen > 8)
            return -400;
        for (size_t i = 5; i < vlen; i++)
            if (!(i == 6 ? p[i] == '.' : (p[i] >= '0' && p[i] <= '9')))
                return -400;
        return HTTP_INCOMPLETE;
    }
    if (vlen != 8 || p[5] < '0' || p[5] > '9' || p[6] != '.' || p[7] < '0' || p[7] > '9')
        return -400;
    if (p[5] != '1')
        return -505;
    req->minor = p[7] == '0' ? 0 : 1;

    /* origin-form "/path?query", absolute-form "http://host/path", or
     * asterisk-form "*" (OPTIONS only) */
    struct http_slice tg = req->target;
    if (tg.n == 1 && tg.p[0] == '*') {
        struct http_slice options = { "OPTIONS", 7 };
        if (req->method.n != options.n || memcmp(req->method.p, options.p, 7) != 0)
            return -400;
        req->path = tg;
        req->query = (struct http_slice){ tg.p + 1, 0 };
        return (int)(skip + (size_t)n + eol);
    }
    if (tg.p[0] != '/') {
        /* absolute-form: skip "scheme://authority" */
        const char *s = memchr(tg.p, ':', tg.n);
        if (!s || (size_t)(s - tg.p) + 3 > tg.n || s[1] != '/' || s[2] != '/')
            return -400;
        const char *auth = s + 3;
        const char *slash = memchr(auth, '/', tg.n - (size_t)(auth - tg.p));
        if (!slash)
            return -400; /* no path: not served */
        /* RFC 9110 section 4.2.4: no userinfo ("user:pass@") in an http
         * URI -- it would put a password in every log. And a '?' before
         * the path's '/' ends the authority: a query without a path, not
         * served either. */
        if (memchr(auth, '@', (size_t)(slash - auth)) || memchr(auth, '?', (size_t)(slash - auth)))
            return -400;
        tg = (struct http_slice){ slash, tg.n - (size_t)(slash - tg.p) };
    }
    const char *q = memchr(tg.p, '?', tg.n);
    const char *hash = memchr(tg.p, '#', tg.n);
    if (hash)
        return -400; /* a fragment is never sent (RFC 9110 section 7.1) */
    if (q) {
        req->path = (struct http_slice){ tg.p, (size_t)(q - tg.p) };
        req->query = (struct http_slice){ q + 1, tg.n - (size_t)(q - tg.p) - 1 };
    } else {
        req->path = tg;
        req->query = (struct http_slice){ tg.p + tg.n, 0 };
    }
    return (int)(skip + (size_t)n + eol);
}

int http_parse_headers(const char *buf, size_t len, struct http_request *req)
{
    size_t off = 0;
    req->nheaders = 0;

    for (;;) {
        size_t eol = 0, room = len - off;
        long n = find_eol(buf + off, room < HTTP_MAX_HEADER_LINE + 2 ? room : HTTP_MAX_HEADER_LINE + 2,
                          &eol);
        if (n == -2)
            return -400;
        if (n > HTTP_MAX_HEADER_LINE ||
            (n == -1 && line_so_far(buf + off, room) > HTTP_MAX_HEADER_LINE))
            return -431;
        if (n == -1) {
            /* check what is there, so that garbage fails without waiting */
            const char *p = buf + off;
            if (room > 0 && (p[0] == ' ' || p[0] == '\t'))
                return -400;
            for (size_t i = 0; i < room && p[i] != ':'; i++)
                if (!is_tchar((unsigned char)p[i]) && p[i] != '\r')
                    return -400;
            return HTTP_INCOMPLETE;
        }
        const char *line = buf + off;
        off += (size_t)n + eol;
        if (n == 0)
            return (int)off; /* the empty line: end of the head */

        if (line[0] == ' ' || line[0] == '\t')
            return -400; /* obs-fold: RFC 9112 section 5.2 */
        const char *colon = memchr(line, ':', (size_t)n);
        if (!colon || colon == line)
            return -400;
        for (const char *c = line; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return -400; /* also whitespace before the colon */
        const char *v = colon + 1, *vend = line + n;
        while (v < vend && (*v == ' ' || *v == '\t'))
            v++;
        while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
            vend--;
        for (const char *c = v; c < vend; c++) {
            unsigned char ch = (unsigned char)*c;
            if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
                return -400;
        }
        if (req->nheaders == HTTP_MAX_HEADERS)
            return -431;
        req->headers[req->nheaders++] = (struct http_header){
            { line, (size_t)(colon - line) }, { v, (size_t)(vend - v) }
        };
    }
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

/* Checks the first n bytes of the request line -- all of it, or as far as
 * it came --, once for each length. Returns its error, or 0. */
static int scan_check_line(struct http_scan *s, const char *buf, size_t n)
{
    struct http_request req; /* the slices are thrown away */
    if (n == 0 || n == s->checked)
        return 0;
    s->checked = n;
    int r = http_parse_request_line(buf + s->skip, n, &req);
    return r < 0 ? r : 0;
}

int http_scan_head(struct http_scan *s, const char *buf, size_t len)
{
    while (s->pos < len) {
        const char *nl = memchr(buf + s->pos, '\n', len - s->pos);
        if (!nl) {
            s->pos = len;
            break;
        }
        size_t end = (size_t)(nl - buf) + 1; /* just past the '\n' */
        size_t n = end - 1 - s->line;       /* the line, without "\r\n" */
        if (n > 0 && buf[end - 2] == '\r')
            n--;
        s->pos = end;
        if (!s->line_end) {
            if (n == 0 && s->line == s->skip) {
                /* an empty line before the request line: skip it */
                s->skip = s->line = end;
                if (s->skip >= HTTP_MAX_REQUEST_LINE)
                    return -400;
                continue;
            }
            s->line_end = s->line = end; /* checked below, unless the head is all here */
            continue;
        }
        if (n == 0)
            return (int)end; /* the empty line: http_parse_request() checks the rest */
        if (n > HTTP_MAX_HEADER_LINE || ++s->fields > HTTP_MAX_HEADERS) {
            int r = scan_check_line(s, buf, s->line_end - s->skip);
            return r < 0 ? r : -431;
        }
        s->line = end;
    }

    /* No end yet: is what is there already wrong, or too long? */
    size_t open = len - s->line; /* the unfinished line */
    int r = 0;
    if (s->line_end)
        r = scan_check_line(s, buf, s->line_end - s->skip); /* once: it has ended */
    else if (open > 0 && (open >= 2 * s->checked || open > HTTP_MAX_REQUEST_LINE))
        r = scan_check_line(s, buf, open); /* each time it doubled: linear */
    if (r < 0)
        return r;
    if (s->line_end && line_so_far(buf + s->line, open) > HTTP_MAX_HEADER_LINE)
        return -431;
    if (len >= HTTP_MAX_HEAD)
        return -431;
    return HTTP_INCOMPLETE;
}

const struct http_slice *http_header_get(const struct http_request *req, const char *name)
{
    for (size_t i = 0; i < req->nheaders; i++)
        if (http_slice_eq_nocase(req->headers[i].name, name))
            return &req->headers[i].value;
    return NULL;
}

/* Parses a Content-Length value: 1*DIGIT, no sign, no overflow. */
static int parse_length(struct http_slice v, uint64_t *out)
{
    uint64_t n = 0;
    if (v.n == 0)
        return -1;
    for (size_t i = 0; i < v.n; i++) {
        if (v.p[i] < '0' || v.p[i] > '9')
            return -1;
        unsigned d = (unsigned)(v.p[i] - '0');
        if (n > (UINT64_MAX - d) / 10)
            return -1;
        n = n * 10 + d;
    }
    *out = n;
    return 0;
}

/* Takes the next element of the comma-separated list [*p, end), without
 * the spaces and tabs around it, into *elem (it may be empty), and moves
 * *p past it (NULL after the last one). Returns 0 once the list is used
 * up. */
static int next_element(const char **p, const char *end, struct http_slice *elem)
{
    if (!*p)
        return 0;
    const char *comma = memchr(*p, ',', (size_t)(end - *p));
    const char *e = comma ? comma : end, *s = *p;
    while (s < e && (*s == ' ' || *s == '\t'))
        s++;
    const char *t = e;
    while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
        t--;
    *elem = (struct http_slice){ s, (size_t)(t - s) };
    *p = comma ? comma + 1 : NULL;
    return 1;
}

/* Does the comma-separated list v hold token (any case)? */
static int list_has(struct http_slice v, const char *token)
{
    const char *p = v.p;
    struct http_slice e;
    while (next_element(&p, v.p + v.n, &e))
        if (http_slice_eq_nocase(e, token))
            return 1;
    return 0;
}

static int is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Is v a Host value (RFC 9110 section 7.2, RFC 3986 section 3.2.2)?
 *     uri-host [ ":" port ]      port = *DIGIT
 * where uri-host is an IPv6 address in brackets ("[::1]"), or a name or
 * IPv4 address: letters, digits, "-._~", %XX escapes and "!$&'()*+,;=".
 * An empty value is valid: a client sends one when the URI has no host
 * (RFC 9112 section 3.2). IPvFuture literals ("[v1.x]") are not taken. */
static int valid_host(struct http_slice v)
{
    const char *p = v.p, *end = v.p + v.n;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', v.n);
        if (!close || close == p + 1)
            return 0; /* "[::1" never ends */
        for (const char *c = p + 1; c < close; c++)
            if (!is_hex(*c) && *c != ':' && *c != '.')
                return 0;
        p = close + 1;
    } else {
        while (p < end && *p != ':') {
            unsigned char c = (unsigned char)*p;
            if (c == '%') {
                if (end - p < 3 || !is_hex(p[1]) || !is_hex(p[2]))
                    return 0;
                p += 3;
                continue;
            }
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) &&
                (c == 0 || !strchr("-._~!$&'()*+,;=", c)))
                return 0; /* also '@' (userinfo), '/', '\\', spaces, controls */
            p++;
        }
    }
    if (p == end)
        return 1;
    if (*p != ':')
        return 0; /* "[::1]x" */
    for (p++; p < end; p++)
        if (*p < '0' || *p > '9')
            return 0; /* "example.com:abc", "a:1x", "a:1:2" */
    return 1;
}

/* Checks a request's Transfer-Encoding list (RFC 9112 sections 6.1 and
 * 6.3). Returns 0 for "chunked" alone; -400 when the final coding is not
 * chunked -- then nothing says where the body ends, so the request cannot
 * be read: "gzip", "chunked, gzip" -- or when chunked comes twice; -501
 * when other codings come before the final chunked ("gzip, chunked"): the
 * body could be framed, but the server decodes no coding but chunked.
 * Empty list elements are skipped (RFC 9110 section 5.6.1). */
static int check_te(struct http_slice v)
{
    const char *p = v.p;
    struct http_slice e;
    int chunked = 0, others = 0, last_chunked = 0;
    while (next_element(&p, v.p + v.n, &e)) {
        if (e.n == 0)
            continue;
        last_chunked = http_slice_eq_nocase(e, "chunked");
        if (last_chunked && chunked)
            return -400;
        chunked |= last_chunked;
        others |= !last_chunked;
    }
    if (!last_chunked)
        return -400;
    return others ? -501 : 0;
}

int http_check_head(const struct http_request *req, struct http_head_info *info)
{
    const struct http_slice *host = NULL, *te = NULL;
    int hosts = 0, lengths = 0;
    uint64_t length = 0;

    memset(info, 0, sizeof *info);
    info->keep_alive = req->minor >= 1;
    for (size_t i = 0; i < req->nheaders; i++) {
        const struct http_header *h = &req->headers[i];
        if (http_slice_eq_nocase(h->name, "host")) {
            host = &h->value;
            hosts++;
        } else if (http_slice_eq_nocase(h->name, "content-length")) {
            uint64_t n;
            if (parse_length(h->value, &n) < 0 || (lengths && n != length))
                return -400;
            length = n;
            lengths++;
        } else if (http_slice_eq_nocase(h->name, "transfer-encoding")) {
            if (te)
                return -400; /* keep it simple: one field */
            te = &h->value;
        } else if (http_slice_eq_nocase(h->name, "connection")) {
            if (list_has(h->value, "close"))
                info->keep_alive = 0;
            else if (req->minor == 0 && list_has(h->value, "keep-alive"))
                info->keep_alive = 1;
        }
    }
    if (req->minor >= 1 && hosts != 1)
        return -400; /* RFC 9112 section 3.2 */
    if (hosts > 1)
        return -400;
    if (host) {
        if (!valid_host(*host))
            return -400; /* RFC 9112 section 3.2: an invalid Host is 400 */
        info->host = *host;
    }
    if (te) {
        if (lengths || req->minor == 0)
            return -400; /* RFC 9112 section 6.1: smuggling */
        int rc = check_te(*te);
        if (rc < 0)
            return rc;
        info->body = HTTP_BODY_CHUNKED;
    } else if (lengths && length > 0) {
        info->body = HTTP_BODY_LENGTH;
        info->content_length = length;
    }
    return 0;
}
