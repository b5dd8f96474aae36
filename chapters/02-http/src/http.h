/* http -- parsing HTTP/1.1 requests (RFC 9112), incrementally and without
 * copying.
 *
 * The parser reads the request head -- the request line and the header
 * fields, up to the empty line -- from the start of a buffer that may hold
 * only part of it yet. It never allocates and never copies: every field of
 * struct http_request is a slice (pointer + length) into the caller's
 * buffer, valid as long as that buffer is. It never reads past len.
 *
 *   stage 1: http_parse_request_line()
 *   stage 2: http_parse_headers(), http_header_get(), http_check_head()
 *   stage 6: http_scan_head(): finding the end of a head that arrives in
 *            pieces, looking at each byte once
 *
 * What it deliberately does not do: decode percent-escapes (files.c does,
 * once, where it matters), interpret header values beyond what framing
 * needs (Host, Content-Length, Transfer-Encoding, Connection), or accept
 * obsolete forms that RFC 9112 says to reject (obs-fold). */
#ifndef HTTP_H
#define HTTP_H

#include <stddef.h>
#include <stdint.h>

/* Limits. A longer request line is 414 URI Too Long; a longer header line,
 * more header fields or a longer head is 431 Request Header Fields Too
 * Large. The two line limits count a line without its line end (CRLF or
 * LF) and, for the request line, without the empty lines before it: a
 * request line of exactly HTTP_MAX_REQUEST_LINE bytes and its CRLF is
 * accepted; one byte more is 414. */
#define HTTP_MAX_REQUEST_LINE 8192
#define HTTP_MAX_HEADER_LINE 8192
#define HTTP_MAX_HEADERS 64
#define HTTP_MAX_HEAD 65536

/* Results: > 0 is a byte count; HTTP_INCOMPLETE asks for more bytes; a
 * negative value is minus the status code to answer with (-400, -414,
 * -431, -501, -505). */
#define HTTP_INCOMPLETE 0

/* A run of bytes in the caller's buffer. Not NUL-terminated. */
struct http_slice {
    const char *p;
    size_t n;
};

struct http_header {
    struct http_slice name;  /* as sent; compare without case */
    struct http_slice value; /* without the whitespace around it */
};

struct http_request {
    struct http_slice method;   /* "GET": a token, case-sensitive */
    struct http_slice target;   /* the request-target as sent: "/a%20b?x=1" */
    struct http_slice path;     /* target up to '?': "/a%20b" ("*" for OPTIONS *) */
    struct http_slice query;    /* after '?', without it; n == 0 when none */
    int minor;                  /* HTTP/1.minor: 0 or 1 (1.2 and up count as 1) */
    struct http_header headers[HTTP_MAX_HEADERS];
    size_t nheaders;
};

/* How the body is framed, and whether the connection stays open; filled by
 * http_check_head(). */
enum http_body { HTTP_BODY_NONE, HTTP_BODY_LENGTH, HTTP_BODY_CHUNKED };

struct http_head_info {
    enum http_body body;
    uint64_t content_length;    /* for HTTP_BODY_LENGTH */
    int keep_alive;             /* 1: the connection may serve another request */
    struct http_slice host;     /* the Host header's value */
};

/* 1 when s holds exactly the text of cstr, ignoring ASCII case. */
int http_slice_eq_nocase(struct http_slice s, const char *cstr);

/* Parses the request line at the start of buf[0..len):
 *     method SP request-target SP HTTP-version CRLF
 * (a bare LF ends the line too; empty lines before it are skipped).
 * Fills req->method, target, path, query and minor.
 * Returns the bytes used, line end included (> 0); HTTP_INCOMPLETE when no
 * line end came yet and the line could still become valid; -400 when it
 * cannot (a method that is not a token, not exactly one space between the
 * parts, a target with control bytes or spaces, a target that is neither
 * "/path" (origin-form), "http://host/path" (absolute-form: path is
 * "/path") nor "*" for OPTIONS, userinfo in an absolute-form target
 * ("http://user:pass@host/": RFC 9110 section 4.2.4), a '#' fragment, a
 * version that is not "HTTP/" DIGIT "." DIGIT, a CR not followed by LF);
 * -414 when the line, its line end not counted, is longer than
 * HTTP_MAX_REQUEST_LINE -- as soon as that many bytes and one more came
 * without a line end (a CR at the very end of buf is not counted yet: it
 * may be the first half of the CRLF); -505 for a version other than
 * HTTP/1.x. */
int http_parse_request_line(const char *buf, size_t len, struct http_request *req);

/* Parses header fields from buf[0..len), which starts right after the
 * request line, up to and including the empty line that ends the head.
 *     field-name ":" OWS field-value OWS CRLF
 * Fills req->headers and req->nheaders. Returns the bytes used, the empty
 * line included (> 0); HTTP_INCOMPLETE when the empty line has not come
 * yet; -400 for a malformed field (no colon, a name that is not a token,
 * whitespace before the colon, obs-fold -- a line starting with a space or
 * tab --, a control byte other than tab in the value); -431 for a line
 * longer than HTTP_MAX_HEADER_LINE (its line end not counted, as above)
 * or more than HTTP_MAX_HEADERS fields. */
int http_parse_headers(const char *buf, size_t len, struct http_request *req);

/* The whole head: the request line, then the header fields, then no more
 * than HTTP_MAX_HEAD bytes in all (else -431). Same results as above. */
int http_parse_request(const char *buf, size_t len, struct http_request *req);

/* Where http_scan_head() is in a head that arrives in pieces. */
struct http_scan {
    size_t pos;       /* bytes looked at so far */
    size_t skip;      /* empty lines before the request line (RFC 9112 2.2) */
    size_t line;      /* where the line being read starts */
    size_t fields;    /* header field lines seen */
    size_t checked;   /* length of the request line when it was last checked */
    size_t line_end;  /* where the request line ended; 0 while it has not */
};

/* Prepares s for a new request. */
void http_scan_init(struct http_scan *s);

/* Looks for the end of the head at the start of buf[0..len), resuming
 * where the last call on s stopped: buf must hold the same bytes as then,
 * and perhaps more after them. Every byte is looked at once (the
 * unfinished request line: each time it doubled), so a head that arrives
 * one byte at a time costs linear work, not quadratic.
 * Returns the length of the head, empty line included (> 0), once it is
 * there -- then parse it with http_parse_request(), which checks it all;
 * HTTP_INCOMPLETE while it is not; or minus a status when it can never
 * become valid: the request line's own errors (http_parse_request_line():
 * -400, -414, -505, found when the head is not complete yet, even before
 * the line ends), -431 for a field line longer than HTTP_MAX_HEADER_LINE,
 * more than HTTP_MAX_HEADERS fields, or HTTP_MAX_HEAD bytes without an
 * end. */
int http_scan_head(struct http_scan *s, const char *buf, size_t len);

/* The value of the first header field called name (any case), or NULL. */
const struct http_slice *http_header_get(const struct http_request *req,
                                         const char *name);

/* Checks the head for what RFC 9112 requires and says how to read the body.
 * Returns 0, or -400 when: HTTP/1.1 without exactly one Host field; a Host
 * value that is not host [":" port] -- a name or IPv4 address (letters,
 * digits, "-._~", %XX, "!$&'()*+,;="), or an IPv6 address in brackets,
 * then optionally ':' and digits: "example.com:abc", "a:1x", "[::1" and
 * "user@host" are 400, an empty value is valid; a Content-Length that is
 * not all digits, overflows, or appears twice with different values;
 * Transfer-Encoding together with Content-Length (a request smuggling
 * risk); Transfer-Encoding in HTTP/1.0; a Transfer-Encoding whose final
 * coding is not chunked ("gzip", "chunked, gzip": the body's end cannot
 * be found, RFC 9112 section 6.3 -- the connection must then be closed),
 * or that lists chunked twice; two Transfer-Encoding fields. Returns -501
 * when codings come before the final chunked ("gzip, chunked"): only
 * chunked is implemented. keep_alive: HTTP/1.1 unless "Connection: close",
 * HTTP/1.0 only with "Connection: keep-alive". */
int http_check_head(const struct http_request *req, struct http_head_info *info);

#endif
