/* router -- which resource a request is for, and which methods it allows
 * (stage 1).
 *
 * The API's paths are templates: literal segments and {name} parameters,
 * "/items/{id}". A request's path is matched as sent, before any
 * percent-decoding: a parameter is one whole segment, so "/items/1%2F2"
 * has the id "1%2F2" (which is then not a number: 404), never two
 * segments. */
#ifndef ROUTER_H
#define ROUTER_H

#include <stddef.h>

#include "http.h"

/* The methods the API knows, as bits, so that a resource's methods are a
 * set. */
enum method {
    M_GET = 1 << 0,
    M_HEAD = 1 << 1,
    M_POST = 1 << 2,
    M_PUT = 1 << 3,
    M_PATCH = 1 << 4,
    M_DELETE = 1 << 5,
    M_OPTIONS = 1 << 6,
};

/* The bit of a request method: "GET" -> M_GET, ... Methods are
 * case-sensitive (RFC 9110 section 9.1): "get" is not GET. 0 for any
 * other method. */
unsigned router_method(struct http_slice method);

/* Matches path against template. Both start with '/'; segments are what
 * lies between slashes. A literal segment must be equal, byte for byte; a
 * {name} segment matches any one non-empty segment. The number of segments
 * must be the same: "/items/" (an empty last segment), "/items//1" and
 * "/items/1/x" do not match "/items/{id}". Returns the number of
 * parameters and fills params[0..] with them, slices into path, in
 * template order; -1 when path does not match, or has more than max
 * parameters. */
int router_match(const char *template, struct http_slice path, struct http_slice *params,
                 int max);

/* Writes the value of an Allow field (RFC 9110 section 10.2.1) for the
 * methods in bits, in this order: GET, HEAD, POST, PUT, PATCH, DELETE,
 * OPTIONS, separated by ", ": "GET, HEAD, POST, OPTIONS". Writes a NUL
 * after it. Returns its length; -1 when it does not fit in cap. */
int router_allow(unsigned bits, char *out, size_t cap);

#endif
