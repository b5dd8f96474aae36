/* httpc -- see httpc.h. */
#define _GNU_SOURCE
#include "httpc.h"

#include <ctype.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- small things --------------------------------------------------------- */

/* A growable string for building messages. */
struct sb {
    char *s;
    size_t len, cap;
};

static void sb_add(struct sb *b, const char *p, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *s = realloc(b->s, cap);
        if (!s)
            cr_fatal("out of memory");
        b->s = s;
        b->cap = cap;
    }
    memcpy(b->s + b->len, p, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
    sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_fmt(struct sb *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        cr_fatal("out of memory");
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

/* Moves b's string into a message slot (wb_msgbuf). */
static const char *sb_done(struct sb *b)
{
    char *out = wb_msgbuf(b->len + 1);
    memcpy(out, b->s ? b->s : "", b->len + 1);
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    return out;
}

/* ---- reasons ------------------------------------------------------------- */

const char *ht_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 426: return "Upgrade Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default: return "";
    }
}

/* ---- shell command lines ------------------------------------------------- */

/* The length of the run of one letter or digit at s[i], when it is 32 or
 * more (worth writing as head -c N /dev/zero | tr '\0' c); else 0. */
static size_t letter_run(const char *s, size_t i, size_t n)
{
    size_t run = 1;
    while (i + run < n && s[i + run] == s[i])
        run++;
    return run >= 32 && isalnum((unsigned char)s[i]) ? run : 0;
}

/* Appends s[0..n) as a shell word in single quotes. Runs of 32 or more of
 * one letter or digit become $(head -c N /dev/zero | tr '\0' c), so that a
 * 9000-byte target stays readable. */
static void sh_word(struct sb *b, const char *s, size_t n)
{
    int open = 0;
    for (size_t i = 0; i < n;) {
        size_t run = letter_run(s, i, n);
        if (run) {
            if (open)
                sb_str(b, "'");
            open = 0;
            sb_fmt(b, "\"$(head -c %zu /dev/zero | tr '\\0' %c)\"", run, s[i]);
            i += run;
            continue;
        }
        if (!open)
            sb_str(b, "'");
        open = 1;
        if (s[i] == '\'')
            sb_str(b, "'\\''");
        else
            sb_add(b, s + i, 1);
        i++;
    }
    if (open)
        sb_str(b, "'");
    if (n == 0)
        sb_str(b, "''");
}

/* Appends bytes as printf(1) commands separated by "; ": the bytes as a
 * format in single quotes, and runs of 32 or more of one letter or digit
 * as head -c N /dev/zero | tr '\0' c. Returns the number of commands. */
static int printf_bytes(struct sb *b, const char *s, size_t n)
{
    int open = 0, cmds = 0;
    for (size_t i = 0; i < n;) {
        size_t run = letter_run(s, i, n);
        if (run) {
            if (open)
                sb_str(b, "'");
            open = 0;
            sb_fmt(b, "%shead -c %zu /dev/zero | tr '\\0' %c", cmds ? "; " : "", run, s[i]);
            cmds++;
            i += run;
            continue;
        }
        if (!open) {
            sb_str(b, cmds ? "; printf '" : "printf '");
            cmds++;
        }
        open = 1;
        unsigned char c = (unsigned char)s[i];
        if (c == '\r')
            sb_str(b, "\\r");
        else if (c == '\n')
            sb_str(b, "\\n");
        else if (c == '\t')
            sb_str(b, "\\t");
        else if (c == '\\')
            sb_str(b, "\\\\");
        else if (c == '%')
            sb_str(b, "%%");
        else if (c == '\'' || c < 0x20 || c >= 0x7f)
            sb_fmt(b, "\\%03o", c);
        else
            sb_add(b, s + i, 1);
        i++;
    }
    if (open)
        sb_str(b, "'");
    return cmds;
}

static int has_long_run(const char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        size_t run = 1;
        while (i + run < n && s[i + run] == s[i])
            run++;
        if (run >= 32 && isalnum((unsigned char)s[i]))
            return 1;
        i += run;
    }
    return 0;
}

static const char *nc_command(const char *raw, size_t len, const char *host, int port,
                              const char *reason)
{
    struct sb cmd = { 0 }, b = { 0 };
    int cmds = printf_bytes(&cmd, raw, len);
    sb_fmt(&b, "(no curl equivalent%s%s: send the raw bytes with ", reason ? " -- " : "",
           reason ? reason : "");
    if (cmd.len > 3000)
        sb_fmt(&b, "a small program: the request is %zu bytes long)", len);
    else if (cmds > 1)
        sb_fmt(&b, "{ %s; } | nc %s %d)", cmd.s, host, port);
    else
        sb_fmt(&b, "%s | nc %s %d)", cmd.s ? cmd.s : "printf ''", host, port);
    free(cmd.s);
    return sb_done(&b);
}

static int is_tchar(unsigned char c)
{
    return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

const char *ht_curl(const char *raw, size_t len, const char *host, int port)
{
    if (!host)
        host = "127.0.0.1";
    /* the request line: METHOD SP TARGET SP HTTP/1.x CRLF */
    const char *end = raw + len, *p = raw;
    const char *nl = memchr(raw, '\n', len);
    if (!nl)
        return nc_command(raw, len, host, port, "the request line does not end");
    if (nl == raw || nl[-1] != '\r')
        return nc_command(raw, len, host, port, "a line ends with a bare \\n");
    const char *line_end = nl - 1;
    const char *sp1 = memchr(p, ' ', (size_t)(line_end - p));
    if (!sp1 || sp1 == p)
        return nc_command(raw, len, host, port, NULL);
    for (const char *q = p; q < sp1; q++)
        if (!is_tchar((unsigned char)*q))
            return nc_command(raw, len, host, port, NULL);
    const char *t = sp1 + 1;
    const char *sp2 = memchr(t, ' ', (size_t)(line_end - t));
    if (!sp2 || sp2 == t)
        return nc_command(raw, len, host, port, NULL);
    for (const char *q = t; q < sp2; q++)
        if ((unsigned char)*q <= 0x20 || (unsigned char)*q >= 0x7f)
            return nc_command(raw, len, host, port, NULL);
    size_t vlen = (size_t)(line_end - (sp2 + 1));
    int http10;
    if (vlen == 8 && memcmp(sp2 + 1, "HTTP/1.0", 8) == 0)
        http10 = 1;
    else if (vlen == 8 && memcmp(sp2 + 1, "HTTP/1.1", 8) == 0)
        http10 = 0;
    else
        return nc_command(raw, len, host, port, "curl sends only HTTP/1.0 and HTTP/1.1");
    size_t mlen = (size_t)(sp1 - p), tlen = (size_t)(sp2 - t);

    /* the header fields */
    struct {
        const char *name, *value;
        size_t nlen, vlen;
    } h[80];
    size_t nh = 0;
    int has_host = 0, chunked = 0;
    long long clen = -1;
    p = nl + 1;
    for (;;) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return nc_command(raw, len, host, port, "the head does not end with an empty line");
        if (nl == p || nl[-1] != '\r')
            return nc_command(raw, len, host, port, "a line ends with a bare \\n");
        if (nl - 1 == p) {
            p = nl + 1;
            break;
        }
        if (*p == ' ' || *p == '\t')
            return nc_command(raw, len, host, port, "obs-fold");
        const char *colon = memchr(p, ':', (size_t)(nl - 1 - p));
        if (!colon || colon == p || nh == sizeof h / sizeof h[0])
            return nc_command(raw, len, host, port, NULL);
        for (const char *q = p; q < colon; q++)
            if (!is_tchar((unsigned char)*q))
                return nc_command(raw, len, host, port, NULL);
        const char *v = colon + 1, *ve = nl - 1;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || (unsigned char)*q == 0x7f)
                return nc_command(raw, len, host, port, "a control byte in a header field");
        h[nh].name = p;
        h[nh].nlen = (size_t)(colon - p);
        h[nh].value = v;
        h[nh].vlen = (size_t)(ve - v);
        if (h[nh].nlen == 4 && strncasecmp(p, "Host", 4) == 0)
            has_host++;
        if (h[nh].nlen == 17 && strncasecmp(p, "Transfer-Encoding", 17) == 0)
            chunked = 1;
        if (h[nh].nlen == 14 && strncasecmp(p, "Content-Length", 14) == 0) {
            char num[32];
            size_t k = h[nh].vlen < sizeof num - 1 ? h[nh].vlen : sizeof num - 1;
            memcpy(num, v, k);
            num[k] = '\0';
            char *e;
            clen = strtoll(num, &e, 10);
            if (*e || k == 0)
                return nc_command(raw, len, host, port, NULL);
        }
        nh++;
        p = nl + 1;
    }
    size_t blen = (size_t)(end - p);
    const char *body = p;
    if (chunked)
        return nc_command(raw, len, host, port, "curl would chunk the body itself");
    if (blen > 0 && clen < 0)
        return nc_command(raw, len, host, port,
                          "bytes after the head that no Content-Length announces");
    if (clen >= 0 && (size_t)clen != blen)
        return nc_command(raw, len, host, port,
                          blen > (size_t)clen ? "more than one request"
                                              : "a body shorter than its Content-Length");

    struct sb b = { 0 };
    sb_str(&b, "curl -v");
    if (http10)
        sb_str(&b, " --http1.0");
    int is_get = mlen == 3 && memcmp(raw, "GET", 3) == 0;
    int is_head = mlen == 4 && memcmp(raw, "HEAD", 4) == 0;
    int is_post = mlen == 4 && memcmp(raw, "POST", 4) == 0;
    if (is_head)
        sb_str(&b, " -I");
    else if (!(is_get && blen == 0) && !(is_post && blen > 0)) {
        sb_str(&b, " -X ");
        sh_word(&b, raw, mlen);
    }
    int origin = t[0] == '/' && !memchr(t, '#', tlen);
    if (origin && (memmem(t, tlen, "/.", 2) || memchr(t, '\\', tlen)))
        sb_str(&b, " --path-as-is");
    if (memchr(t, '[', tlen) || memchr(t, ']', tlen) || memchr(t, '{', tlen) ||
        memchr(t, '}', tlen))
        sb_str(&b, " -g");
    char base[160];
    snprintf(base, sizeof base, strchr(host, ':') ? "http://[%s]:%d" : "http://%s:%d", host,
             port);
    sb_str(&b, " ");
    if (origin) {
        struct sb url = { 0 };
        sb_str(&url, base);
        sb_add(&url, t, tlen);
        sh_word(&b, url.s, url.len);
        free(url.s);
    } else {
        strcat(base, "/");
        sh_word(&b, base, strlen(base));
        sb_str(&b, " --request-target ");
        sh_word(&b, t, tlen);
    }
    if (!has_host)
        sb_str(&b, " -H 'Host:'");
    for (size_t i = 0; i < nh; i++) {
        if (h[i].nlen == 14 && strncasecmp(h[i].name, "Content-Length", 14) == 0)
            continue; /* curl counts the body itself */
        struct sb hv = { 0 };
        sb_add(&hv, h[i].name, h[i].nlen);
        if (h[i].vlen) {
            sb_str(&hv, ": ");
            sb_add(&hv, h[i].value, h[i].vlen);
        } else {
            sb_str(&hv, ";"); /* curl's way to send an empty value */
        }
        sb_str(&b, " -H ");
        sh_word(&b, hv.s, hv.len);
        free(hv.s);
    }
    if (blen > 0) {
        int printable = 1;
        for (size_t i = 0; i < blen; i++)
            if ((unsigned char)body[i] < 0x20 || (unsigned char)body[i] >= 0x7f)
                printable = 0;
        if (blen <= 256 && printable) {
            sb_str(&b, " --data-binary ");
            sh_word(&b, body, blen);
        } else if (blen <= 256 || has_long_run(body, blen)) {
            sb_str(&b, " --data-binary @<(");
            printf_bytes(&b, body, blen);
            sb_str(&b, ")");
        } else {
            sb_fmt(&b, " --data-binary @body.bin  (body.bin: the %zu-byte body the test sends)",
                   blen);
        }
    }
    return sb_done(&b);
}

const char *ht_describe_request(struct wb_proc *p, const char *raw, size_t len)
{
    struct sb b = { 0 };
    sb_fmt(&b, "request sent (%zu bytes): %s\n  to replay it: %s", len, wb_esc(raw, len, 400),
           ht_curl(raw, len, p ? p->host : "127.0.0.1", p ? p->port : 8080));
    return sb_done(&b);
}

const char *ht_describe_response(const struct ht_response *r)
{
    struct sb b = { 0 };
    /* the head as sent, one line each, indented */
    const char *s = r->raw, *e = r->raw + r->head_len;
    int first = 1;
    while (s < e) {
        const char *nl = memchr(s, '\n', (size_t)(e - s));
        size_t n = nl ? (size_t)(nl - s) : (size_t)(e - s);
        if (n && s[n - 1] == '\r')
            n--;
        if (n == 0)
            break;
        char line[2000];
        sb_str(&b, first ? "" : "\n          ");
        sb_str(&b, wb_escape_text(s, n, 400, line, sizeof line));
        first = 0;
        s = nl ? nl + 1 : e;
    }
    if (r->head_request)
        sb_str(&b, "\n(no body: it answered a HEAD request)");
    else
        sb_fmt(&b, "\nbody (%zu bytes): %s", r->body_len, wb_esc(r->body, r->body_len, 200));
    return sb_done(&b);
}

/* ---- reading responses ---------------------------------------------------- */

#define HEAD_CAP (64 * 1024)
#define BODY_CAP ((size_t)64 * 1024 * 1024)

struct rd {
    char *buf;
    size_t len, cap;
};

static int rd_reserve(struct rd *r, size_t need)
{
    if (r->len + need + 1 <= r->cap)
        return 0;
    size_t cap = r->cap ? r->cap : 8192;
    while (cap < r->len + need + 1)
        cap *= 2;
    char *b = realloc(r->buf, cap);
    if (!b)
        return -1;
    r->buf = b;
    r->cap = cap;
    return 0;
}

static void why_set(char *why, size_t whylen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void why_set(char *why, size_t whylen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
}

/* Receives into r until deadline: the head, never past its empty line.
 * Returns the head's length, or 0 with why set. */
static size_t read_head(int fd, struct rd *r, int ms, char *why, size_t whylen)
{
    long long deadline = wb_now_ms() + ms;
    for (;;) {
        if (r->len >= HEAD_CAP) {
            why_set(why, whylen, "%zu bytes arrived and still no empty line (\\r\\n\\r\\n) ended "
                    "the head", r->len);
            return 0;
        }
        struct pollfd pfd = { .fd = fd, .events = POLLIN };
        int pr = poll(&pfd, 1, wb_ms_left(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr <= 0) {
            if (r->len == 0)
                why_set(why, whylen, "nothing arrived within %d ms", ms);
            else if (memmem(r->buf, r->len, "\n\n", 2))
                why_set(why, whylen, "the head ends with \"\\n\\n\": every line of an HTTP "
                        "head ends with \"\\r\\n\", so the empty line is \"\\r\\n\\r\\n\"");
            else
                why_set(why, whylen, "the head did not end (no empty line \"\\r\\n\\r\\n\") "
                        "within %d ms", ms);
            return 0;
        }
        if (rd_reserve(r, 4096) < 0) {
            why_set(why, whylen, "out of memory");
            return 0;
        }
        ssize_t n = recv(fd, r->buf + r->len, 4096, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            const char *how = n == 0 ? "closed" : strerror(errno);
            if (r->len == 0)
                why_set(why, whylen, "the connection was %s before any byte of a response "
                        "arrived", n == 0 ? "closed" : how);
            else
                why_set(why, whylen, "the connection was %s before the head ended (no empty "
                        "line \"\\r\\n\\r\\n\")", how);
            return 0;
        }
        /* where does the head end, if it does in these bytes? */
        size_t from = r->len > 3 ? r->len - 3 : 0, total = r->len + (size_t)n, take = (size_t)n;
        size_t head = 0;
        for (size_t i = from; i + 4 <= total; i++)
            if (memcmp(r->buf + i, "\r\n\r\n", 4) == 0) {
                head = i + 4;
                take = head - r->len;
                break;
            }
        /* take exactly those bytes: the peeked ones are there */
        size_t got = 0;
        while (got < take) {
            ssize_t m = recv(fd, r->buf + r->len + got, take - got, MSG_DONTWAIT);
            if (m < 0 && errno == EINTR)
                continue;
            if (m <= 0) {
                why_set(why, whylen, "recv failed after a peek: %s", strerror(errno));
                return 0;
            }
            got += (size_t)m;
        }
        r->len += take;
        r->buf[r->len] = '\0';
        if (head)
            return head;
    }
}

static int parse_head(struct ht_response *res, const char *h, size_t n, char *why,
                      size_t whylen)
{
    const char *end = h + n - 2; /* the final CRLF */
    const char *nl = memchr(h, '\n', n);
    /* status line: HTTP/1.x SP 3DIGIT SP reason */
    size_t sl = (size_t)(nl - h);
    if (sl < 1 || h[sl - 1] != '\r') {
        why_set(why, whylen, "the status line ends with a bare \"\\n\": lines end with \"\\r\\n\"");
        return -1;
    }
    sl--;
    if (sl < 12 || memcmp(h, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)h[7]) ||
        h[8] != ' ' || !isdigit((unsigned char)h[9]) || !isdigit((unsigned char)h[10]) ||
        !isdigit((unsigned char)h[11]) || (sl > 12 && h[12] != ' ')) {
        why_set(why, whylen, "the status line %s is not \"HTTP/1.1 SSS Reason\" (version, one "
                "space, a 3-digit status, one space, the reason phrase)", wb_esc(h, sl, 100));
        return -1;
    }
    if (sl == 12) {
        why_set(why, whylen, "the status line %s has no space and reason phrase after the "
                "status code", wb_esc(h, sl, 100));
        return -1;
    }
    res->minor = h[7] - '0';
    res->status = (h[9] - '0') * 100 + (h[10] - '0') * 10 + (h[11] - '0');
    size_t rl = sl - 13;
    for (size_t i = 0; i < rl; i++) {
        unsigned char c = (unsigned char)h[13 + i];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            why_set(why, whylen, "the reason phrase in %s holds a control byte",
                    wb_esc(h, sl, 100));
            return -1;
        }
    }
    if (rl >= sizeof res->reason)
        rl = sizeof res->reason - 1;
    memcpy(res->reason, h + 13, rl);
    res->reason[rl] = '\0';

    const char *p = nl + 1;
    while (p < end) {
        nl = memchr(p, '\n', (size_t)(end + 2 - p));
        size_t ll = (size_t)(nl - p);
        if (ll < 1 || p[ll - 1] != '\r') {
            why_set(why, whylen, "the header line %s ends with a bare \"\\n\": lines end with "
                    "\"\\r\\n\"", wb_esc(p, ll, 100));
            return -1;
        }
        ll--;
        const char *colon = memchr(p, ':', ll);
        int ok = colon && colon > p;
        for (const char *q = p; ok && q < colon; q++)
            ok = is_tchar((unsigned char)*q);
        if (!ok) {
            why_set(why, whylen, "the header line %s is not \"Name: value\" (a name made of "
                    "letters, digits and -, then a colon)", wb_esc(p, ll, 100));
            return -1;
        }
        const char *v = colon + 1, *ve = p + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *q = v; q < ve; q++)
            if (((unsigned char)*q < 0x20 && *q != '\t') || (unsigned char)*q == 0x7f) {
                why_set(why, whylen, "the header line %s holds a control byte",
                        wb_esc(p, ll, 100));
                return -1;
            }
        if (res->nheaders == HT_MAX_HEADERS) {
            why_set(why, whylen, "more than %d header fields", HT_MAX_HEADERS);
            return -1;
        }
        size_t nl_ = (size_t)(colon - p), vl = (size_t)(ve - v);
        if (nl_ >= sizeof res->headers[0].name)
            nl_ = sizeof res->headers[0].name - 1;
        if (vl >= sizeof res->headers[0].value)
            vl = sizeof res->headers[0].value - 1;
        memcpy(res->headers[res->nheaders].name, p, nl_);
        res->headers[res->nheaders].name[nl_] = '\0';
        memcpy(res->headers[res->nheaders].value, v, vl);
        res->headers[res->nheaders].value[vl] = '\0';
        res->nheaders++;
        p = nl + 1;
    }
    return 0;
}

struct ht_response *ht_try_read(int fd, int head_request, int ms, char *why, size_t whylen,
                                char **got, size_t *gotlen)
{
    struct rd r = { 0 };
    struct ht_response *res = calloc(1, sizeof *res);
    if (got)
        *got = NULL;
    if (gotlen)
        *gotlen = 0;
    if (!res) {
        why_set(why, whylen, "out of memory");
        return NULL;
    }
    res->fd = fd;
    res->head_request = head_request;
    size_t head = read_head(fd, &r, ms, why, whylen);
    if (!head || parse_head(res, r.buf, head, why, whylen) < 0)
        goto fail;
    res->head_len = head;

    /* how long is the body? */
    long long clen = -1;
    for (size_t i = 0; i < res->nheaders; i++) {
        if (strcasecmp(res->headers[i].name, "Transfer-Encoding") == 0) {
            why_set(why, whylen, "the response has \"Transfer-Encoding: %s\": this server "
                    "sends Content-Length, never a chunked response", res->headers[i].value);
            goto fail;
        }
        if (strcasecmp(res->headers[i].name, "Content-Length") != 0)
            continue;
        const char *v = res->headers[i].value;
        char *e;
        errno = 0;
        long long n = strtoll(v, &e, 10);
        if (!isdigit((unsigned char)v[0]) || *e || errno || (size_t)n > BODY_CAP) {
            why_set(why, whylen, "\"Content-Length: %s\" is not a byte count (digits only)", v);
            goto fail;
        }
        if (clen >= 0 && n != clen) {
            why_set(why, whylen, "two Content-Length fields disagree (%lld and %lld)", clen, n);
            goto fail;
        }
        clen = n;
    }
    int no_body = head_request || res->status / 100 == 1 || res->status == 204 ||
                  res->status == 304;
    if (!no_body) {
        size_t want = clen >= 0 ? (size_t)clen : BODY_CAP;
        long long deadline = wb_now_ms() + ms;
        size_t have = 0;
        while (have < want) {
            struct pollfd pfd = { .fd = fd, .events = POLLIN };
            int pr = poll(&pfd, 1, wb_ms_left(deadline));
            if (pr < 0 && errno == EINTR)
                continue;
            if (pr <= 0) {
                if (clen >= 0) {
                    why_set(why, whylen, "Content-Length is %lld, but only %zu body bytes "
                            "arrived within %d ms", clen, have, ms);
                    goto fail;
                }
                why_set(why, whylen, "no Content-Length, and the connection did not close "
                        "within %d ms (the body's end is unknown): every response needs "
                        "Content-Length", ms);
                goto fail;
            }
            size_t chunk = want - have < 65536 ? want - have : 65536;
            if (rd_reserve(&r, chunk) < 0) {
                why_set(why, whylen, "out of memory");
                goto fail;
            }
            ssize_t n = recv(fd, r.buf + r.len, chunk, MSG_DONTWAIT);
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0) {
                if (clen < 0)
                    break; /* read until close */
                why_set(why, whylen, "Content-Length is %lld, but the connection was %s after "
                        "%zu body bytes", clen, n == 0 ? "closed" : strerror(errno), have);
                goto fail;
            }
            r.len += (size_t)n;
            have += (size_t)n;
            r.buf[r.len] = '\0';
            deadline = wb_now_ms() + ms; /* a deadline per stall, not for 1 MiB */
        }
    }
    if (rd_reserve(&r, 1) < 0) {
        why_set(why, whylen, "out of memory");
        goto fail;
    }
    r.buf[r.len] = '\0';
    res->raw = r.buf;
    res->raw_len = r.len;
    res->body_len = r.len - head;
    res->body = malloc(res->body_len + 1);
    if (!res->body) {
        why_set(why, whylen, "out of memory");
        res->raw = NULL;
        goto fail;
    }
    memcpy(res->body, r.buf + head, res->body_len);
    res->body[res->body_len] = '\0';
    return res;

fail:
    if (got && r.buf) {
        *got = r.buf;
        *gotlen = r.len;
    } else {
        free(r.buf);
    }
    free(res);
    return NULL;
}

static void fail_read(struct wb_proc *p, const char *why, const char *got, size_t gotlen,
                      const char *raw, size_t len, const char *send_note)
{
    const char *hint = "";
    if (gotlen >= 5 && memcmp(got, "HTTP/", 5) != 0)
        hint = "\n(a response starts with its status line, \"HTTP/1.1 200 OK\\r\\n\")";
    cr_fatal("no complete HTTP response: %s\n"
             "%s%s\n"
             "received (%zu bytes): %s%s\n"
             "%s",
             why, send_note ? send_note : "", ht_describe_request(p, raw, len), gotlen,
             wb_esc(got ? got : "", gotlen, 600), hint, p ? wb_describe(p) : "");
}

struct ht_response *ht_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                            int head_request)
{
    char why[1024];
    char *got = NULL;
    size_t gotlen = 0;
    struct ht_response *r = ht_try_read(fd, head_request, WB_IO_MS, why, sizeof why, &got,
                                        &gotlen);
    if (!r) {
        fail_read(p, why, got, gotlen, raw, len, NULL);
        free(got);
        return NULL;
    }
    r->req = malloc(len + 1);
    if (!r->req)
        cr_fatal("out of memory");
    memcpy(r->req, raw, len);
    r->req[len] = '\0';
    r->req_len = len;
    return r;
}

/* Sends everything it can; when the program closes the connection early
 * (it may answer an over-long request before reading all of it), says so
 * in note[] instead of failing: the response may be there anyway. */
static void send_tolerant(struct wb_proc *p, int fd, const char *raw, size_t len, char *note,
                          size_t notelen)
{
    size_t sent = 0;
    long long deadline = wb_now_ms() + WB_IO_MS;
    note[0] = '\0';
    while (sent < len) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        int pr = poll(&pfd, 1, wb_ms_left(deadline));
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr == 0) {
            /* It stopped reading; maybe it answered already. */
            why_set(note, notelen, "(the program stopped reading after %zu of the %zu bytes of "
                    "the request)\n", sent, len);
            return;
        }
        ssize_t n = send(fd, raw + sent, len - sent, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            why_set(note, notelen, "(sending failed after %zu of the %zu bytes of the request: "
                    "%s -- the program closed the connection before reading all of it; if it "
                    "answered first, close() with unread bytes sends a reset that can destroy "
                    "the answer: shut down the sending side and read what is left)\n",
                    sent, len, strerror(errno));
            return;
        }
        sent += (size_t)n;
    }
    (void)p;
}

struct ht_response *ht_exchange(struct wb_proc *p, const char *raw, size_t len)
{
    int fd = wb_connect(p);
    char note[512], why[1024];
    send_tolerant(p, fd, raw, len, note, sizeof note);
    int head = len >= 5 && memcmp(raw, "HEAD ", 5) == 0;
    char *got = NULL;
    size_t gotlen = 0;
    struct ht_response *r = ht_try_read(fd, head, WB_IO_MS, why, sizeof why, &got, &gotlen);
    if (!r) {
        fail_read(p, why, got, gotlen, raw, len, note);
        free(got);
        close(fd);
        return NULL;
    }
    r->own_fd = 1;
    r->req = malloc(len + 1);
    if (!r->req)
        cr_fatal("out of memory");
    memcpy(r->req, raw, len);
    r->req[len] = '\0';
    r->req_len = len;
    return r;
}

struct ht_response *ht_exchange_str(struct wb_proc *p, const char *raw)
{
    return ht_exchange(p, raw, strlen(raw));
}

struct ht_response *ht_get(struct wb_proc *p, const char *target)
{
    struct sb b = { 0 };
    sb_fmt(&b, "GET %s HTTP/1.1\r\nHost: localhost\r\n\r\n", target);
    struct ht_response *r = ht_exchange(p, b.s, b.len);
    free(b.s);
    return r;
}

const char *ht_header(const struct ht_response *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

size_t ht_header_count(const struct ht_response *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            n++;
    return n;
}

void ht_free(struct ht_response *r)
{
    if (!r)
        return;
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    free(r->body);
    free(r->raw);
    free(r->req);
    free(r);
}

/* ---- assertions ----------------------------------------------------------- */

static const char *req_of(struct wb_proc *p, const struct ht_response *r, const char *raw,
                          size_t len)
{
    if (!raw) {
        raw = r && r->req ? r->req : "";
        len = r && r->req ? r->req_len : 0;
    }
    return ht_describe_request(p, raw, len);
}

void ht_expect_status(struct wb_proc *p, const struct ht_response *r, int want,
                      const char *raw, size_t len, const char *why)
{
    if (r->status == want)
        return;
    cr_fatal("%s\n"
             "%s\n"
             "expected status: %d %s\n"
             "received: %s",
             why, req_of(p, r, raw, len), want, ht_reason(want), ht_describe_response(r));
}

void ht_expect_header(struct wb_proc *p, const struct ht_response *r, const char *name,
                      const char *want, const char *why)
{
    const char *got = ht_header(r, name);
    if (want ? got && strcmp(got, want) == 0 : got == NULL)
        return;
    char expected[2300], received[2300];
    if (want)
        snprintf(expected, sizeof expected, "%s: %s", name, want);
    else
        snprintf(expected, sizeof expected, "no %s field", name);
    if (got)
        snprintf(received, sizeof received, "%s: %s", name, got);
    else
        snprintf(received, sizeof received, "no %s field", name);
    cr_fatal("%s\n"
             "%s\n"
             "expected: %s\n"
             "found:    %s\n"
             "the whole response: %s",
             why, req_of(p, r, NULL, 0), expected, received, ht_describe_response(r));
}

void ht_expect_body(struct wb_proc *p, const struct ht_response *r, const void *want,
                    size_t len, const char *why)
{
    if (r->body_len == len && memcmp(r->body, want, len) == 0)
        return;
    cr_fatal("%s\n"
             "%s\n"
             "the body differs: %zu bytes expected, %zu received, %s\n"
             "the head: %s",
             why, req_of(p, r, NULL, 0), len, r->body_len,
             wb_diff(want, len, r->body, r->body_len, 200), ht_describe_response(r));
}

static void no_extra(struct wb_proc *p, int fd, const struct ht_response *r, const char *raw,
                     size_t len, const char *why)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    int pr;
    do
        pr = poll(&pfd, 1, 100);
    while (pr < 0 && errno == EINTR);
    if (pr <= 0)
        return;
    char extra[4096];
    ssize_t n = recv(fd, extra, sizeof extra, MSG_DONTWAIT);
    if (n <= 0)
        return; /* closed (or reset): nothing more came */
    cr_fatal("%s\n"
             "extra bytes after the response: %s\n"
             "%s\n"
             "%s%s",
             why, wb_esc(extra, (size_t)n, 400), req_of(p, r, raw, len),
             r ? "the response before them: " : "", r ? ht_describe_response(r) : "");
}

void ht_expect_no_extra(struct wb_proc *p, const struct ht_response *r, const char *why)
{
    no_extra(p, r->fd, r, NULL, 0, why);
}

void ht_expect_no_extra_fd(struct wb_proc *p, int fd, const char *raw, size_t len,
                           const char *why)
{
    no_extra(p, fd, NULL, raw, len, why);
}

/* ---- unit-test helpers ------------------------------------------------------ */

char *ht_dup(const void *p, size_t n)
{
    char *d = malloc(n ? n : 1);
    if (!d)
        cr_fatal("out of memory");
    if (n)
        memcpy(d, p, n);
    return d;
}

const char *ht_esc(const void *p, size_t n, size_t max)
{
    return wb_esc(p, n, max);
}

int ht_parse_date(const char *s, time_t *t)
{
    static const char *const wdays[] = { "Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed" };
    static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    if (strlen(s) != 29 || s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' ||
        s[16] != ' ' || s[19] != ':' || s[22] != ':' || strcmp(s + 25, " GMT") != 0)
        return -1;
    static const int pos[] = { 5, 6, 12, 13, 14, 15, 17, 18, 20, 21, 23, 24 };
    for (size_t i = 0; i < sizeof pos / sizeof pos[0]; i++)
        if (!isdigit((unsigned char)s[pos[i]]))
            return -1;
    int day = (s[5] - '0') * 10 + s[6] - '0';
    int year = atoi(s + 12), hh = atoi(s + 17), mm = atoi(s + 20), ss = atoi(s + 23);
    int mon = -1;
    for (int i = 0; i < 12; i++)
        if (strncmp(s + 8, months[i], 3) == 0)
            mon = i + 1;
    if (mon < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
        return -1;
    /* days from 1970-01-01 (Howard Hinnant's days_from_civil) */
    long long y = year - (mon <= 2);
    long long era = (y >= 0 ? y : y - 399) / 400;
    long long yoe = y - era * 400;
    long long doy = (153 * (mon + (mon > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    long long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    long long days = era * 146097 + doe - 719468;
    if (strncmp(s, wdays[((days % 7) + 7) % 7], 3) != 0)
        return -1;
    *t = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss);
    return 0;
}

/* ---- waiting: a response within a deadline of one's own, or none ----------- */

struct ht_response *ht_must_read(struct wb_proc *p, int fd, const char *raw, size_t len,
                                 int head_request, int ms, const char *context)
{
    char why[1024], e[2048];
    char *got = NULL;
    size_t gotlen = 0;
    struct ht_response *r = ht_try_read(fd, head_request, ms, why, sizeof why, &got,
                                        &gotlen);
    if (!r)
        cr_fatal("%s\nno complete response: %s\n%s\nreceived (%zu bytes): %s\n%s", context, why,
                 ht_describe_request(p, raw, len), gotlen,
                 wb_escape(got ? got : "", gotlen, 400, e, sizeof e), p ? wb_describe(p) : "");
    r->req = malloc(len + 1);
    cr_assert(r->req != NULL, "out of memory");
    memcpy(r->req, raw, len);
    r->req[len] = '\0';
    r->req_len = len;
    return r;
}

/* Fails the test if anything (a response, or the close) arrives on fd
 * within ms: the server must wait for the rest of the request. */
void ht_expect_silence(struct wb_proc *p, int fd, int ms, const char *sent, size_t sentlen,
                       const char *why)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    if (poll(&pfd, 1, ms) == 0)
        return;
    char got[2048], e1[1024], e2[3000];
    ssize_t n = recv(fd, got, sizeof got, MSG_DONTWAIT);
    cr_fatal("%s\nsent so far (%zu bytes): %s\nwithin %d ms the server %s%s\n%s", why, sentlen,
             wb_escape(sent, sentlen, 300, e1, sizeof e1), ms,
             n > 0 ? "answered: " : "closed the connection",
             n > 0 ? wb_escape(got, (size_t)n, 400, e2, sizeof e2) : "", wb_describe(p));
}
