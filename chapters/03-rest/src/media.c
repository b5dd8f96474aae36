/* media -- see media.h. */
#include "media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int media_is(struct http_slice v, const char *want)
{
    /* TODO(stage 3): the value is "type/subtype" then parameters, each
     * after a ';': "application/json; charset=utf-8". Cut at the first
     * ';', trim spaces and tabs, compare with want without case
     * (strncasecmp, and the lengths equal). Then look at each parameter:
     * "name=value", the value maybe in double quotes; a charset other than
     * utf-8 (any case) means it is not JSON. */
    (void)v;
    (void)want;
    return 0;
}

int media_accepts_json(const struct http_slice *accept, size_t n)
{
    /* TODO(stage 3): each value is a list of media ranges separated by
     * ',': "text/html;q=0.9, application/json;q=0.5". For each range:
     * the type, and q from its parameters (1 without one; "0", "0.5",
     * "1.000": at most three decimals). Keep the most specific range that
     * matches JSON -- application/json beats "application/" with a star,
     * which beats star/star -- and its q. JSON is acceptable when one matched with q > 0.
     * n == 0 (no Accept field): 1. */
    (void)accept;
    (void)n;
    return 0;
}
