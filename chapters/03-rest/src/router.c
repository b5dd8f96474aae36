/* router -- see router.h. */
#include "router.h"

#include <stdio.h>
#include <string.h>

unsigned router_method(struct http_slice method)
{
    /* TODO(stage 1): compare the method with "GET", "HEAD", "POST", "PUT",
     * "PATCH", "DELETE" and "OPTIONS" -- as bytes, with its length:
     * method.p is not NUL-terminated -- and return the matching M_ bit; 0
     * for anything else. A small table of {name, bit} keeps it short, and
     * router_allow() can walk the same table. */
    (void)method;
    return 0;
}

int router_match(const char *template, struct http_slice path, struct http_slice *params,
                 int max)
{
    /* TODO(stage 1): walk template and path one segment at a time. Each
     * starts after a '/' and ends at the next '/' or the end. A template
     * segment "{...}" takes any non-empty path segment as the next
     * parameter (a slice into path; -1 when there would be more than
     * max); any other template segment must equal the path segment. Both
     * must run out together: "/items/1/x" and "/items" do not match
     * "/items/{id}", nor does "/items/" (its last segment is empty). */
    (void)template;
    (void)path;
    (void)params;
    (void)max;
    return -1;
}

int router_allow(unsigned bits, char *out, size_t cap)
{
    /* TODO(stage 1): for each method in the order of router.h whose bit is
     * set, append ", " (not before the first) and its name; snprintf()
     * returns how much it wanted to write: when that does not fit what is
     * left of cap, return -1. */
    (void)bits;
    if (cap)
        out[0] = '\0';
    return -1;
}
