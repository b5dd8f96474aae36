/* query -- the query string of GET /items and the next link (stage 6).
 * See query.h for the contract: it is the spec the tests check. */
#define _POSIX_C_SOURCE 200809L
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

/* TODO(stage 6): the plan.
 *
 * 1. query_parse(): memset *lq, limit = QUERY_LIMIT_DEFAULT. Walk the
 *    query a parameter at a time (up to the next '&'; skip empty ones),
 *    split each at its first '='. Form-decode name and value into
 *    buffers ('+' is a space, %XX one byte, a '%' without two hex digits
 *    is an error; stop before the buffer is full). Then, per name:
 *      limit   1 to 3 digits, no leading '0', at most 100
 *      sort    one of "id" "name" "qty" "price" -- an allow-list: the
 *              value picks an enum, it never becomes part of a query
 *      order   "asc" or "desc"
 *      name    UTF-8 (json_utf8_char() for each character: you wrote it
 *              in stage 3), no NUL byte, 1 to QUERY_NAME_MAX code points;
 *              copy it into lq->name and point lq->store.name at it
 *      cursor  keep the raw value for now: it is read with the final sort
 *              and order, after the loop
 *    A name seen twice, an unknown name or a bad value: add an error
 *    object {"parameter", "detail"} to errors (once per parameter), and
 *    go on -- the client learns about every bad parameter at once (up
 *    to QUERY_ERRORS_MAX of them: stop adding, still return -1).
 *    Remember in lq->given which parameters came (for query_next()).
 *
 * 2. The cursor: the text "<sort><order><id>:<key>" -- sort one of the
 *    letters i n q p, order a or d, the last item's id in decimal, and
 *    its sort key (nothing for id, the name's bytes, qty in decimal,
 *    price as "%.17g", which reads back exactly) -- in base64url (RFC
 *    4648 section 5: A-Z a-z 0-9 - _, no '=' padding). Reading it back,
 *    be strict: only those 64 characters, a length that is not 4k+1,
 *    the right sort and order letters, 1 to 15 digits of id, a key that
 *    parses for the sort (a finite price from 0 to 1e9, a qty up to
 *    2147483647, a name that is UTF-8), and it fits your buffers. Then
 *    lq->after holds the place and lq->store.after points at it. A
 *    cursor that fails is an error of "cursor".
 *
 * 3. query_next(): "/items?", then "name=value&" for each parameter in
 *    lq->given (limit, sort, order, name: the values as parsed), each
 *    value percent-encoded -- a-z A-Z 0-9 - . _ ~ stay, every other byte
 *    becomes %XX --, then "cursor=" and the cursor of last. snprintf()
 *    into out and check the room at every step. */

int query_parse(struct http_slice query, struct list_query *lq, cJSON *errors)
{
    /* TODO(stage 6): steps 1 and 2 of the plan. */
    (void)query;
    (void)errors;
    memset(lq, 0, sizeof *lq);
    lq->store.limit = QUERY_LIMIT_DEFAULT;
    return -1;
}

int query_next(const struct list_query *lq, const struct item *last, char *out, size_t cap)
{
    /* TODO(stage 6): step 3 of the plan. */
    (void)lq;
    (void)last;
    (void)out;
    (void)cap;
    return -1;
}
