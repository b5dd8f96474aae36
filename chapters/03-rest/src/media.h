/* media -- which media types a request sends and accepts (stage 3).
 *
 * A body is JSON only when Content-Type says so: "application/json", in
 * any case, with parameters allowed ("application/json; charset=utf-8";
 * a charset other than utf-8 is not JSON, RFC 8259 section 8.1). Anything
 * else, or no Content-Type at all, is 415 Unsupported Media Type: the
 * server does not guess.
 *
 * The answer is JSON too, so a client that cannot take JSON is told so:
 * 406 Not Acceptable. Accept (RFC 9110 section 12.5.1) lists media ranges
 * with optional weights: "text/html, application/json;q=0.5". JSON is
 * acceptable when a range that matches it -- application/json, the type
 * application with any subtype, or any type at all -- has a weight above
 * 0, where the most specific matching range decides. No Accept field
 * accepts anything. */
#ifndef MEDIA_H
#define MEDIA_H

#include "http.h"

/* 1 when the Content-Type value v is the media type want (lower case, such
 * as "application/json"): its type/subtype equal to want in any case,
 * whitespace allowed before ';' and around parameters, and a charset
 * parameter, if any, "utf-8" in any case. Else 0. */
int media_is(struct http_slice v, const char *want);

/* 1 when a response of type "application/json" is acceptable to a
 * request whose Accept field values are accept[0..n) (a request may send
 * several Accept fields: they form one list), else 0. n == 0: 1. */
int media_accepts_json(const struct http_slice *accept, size_t n);

#endif
