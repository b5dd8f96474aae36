/* query -- the query string of GET /items, and the link to the next page
 * (stage 6).
 *
 *   GET /items?limit=20&sort=name&order=desc&name=pea&cursor=...
 *
 *   limit    1 to 100 items a page (20 when not given): digits, no sign,
 *            no leading zero
 *   sort     id, name, qty or price (id when not given)
 *   order    asc or desc (asc when not given)
 *   name     only items whose name contains this text (1 to 200 code
 *            points): ASCII letters match either case; '%' and '_' are
 *            ordinary characters, not wildcards
 *   cursor   where the page starts: the cursor of the "next" link of the
 *            page before, given back unchanged, with the same sort and
 *            order
 *
 * The query is application/x-www-form-urlencoded, as browsers send it
 * (URLSearchParams): parameters separated by '&' (empty ones skipped), a
 * name and a value separated by the first '=', '+' stands for a space and
 * %XX for the byte XX; names and values are decoded the same way. Decoded
 * text must be UTF-8 without NUL. A parameter the API does not have, one
 * given twice, or a value out of its range is an error: 400, with every
 * bad parameter listed.
 *
 * The cursor is opaque to clients: only this module writes it and reads
 * it. It holds the sort, the order, and the place of the page's last item
 * in that order (its sort key and id): the next page starts right after
 * that place, whatever was deleted or created meanwhile (store.h: keyset
 * paging). It is the text "<sort><order><id>:<key>" -- "na42:pear" is
 * sort=name, order=asc, after (pear, 42) -- in base64url without padding
 * (RFC 4648 section 5), so that it is one URL-safe token. */
#ifndef QUERY_H
#define QUERY_H

#include <cJSON.h>

#include "http.h"
#include "store.h"

#define QUERY_LIMIT_DEFAULT 20
#define QUERY_LIMIT_MAX 100
#define QUERY_NAME_MAX 200                  /* code points in name */
#define QUERY_TEXT_MAX (4 * QUERY_NAME_MAX) /* bytes: 200 code points of 4 bytes */
#define QUERY_ERRORS_MAX 16                 /* errors listed at most */

/* The parameters a client may give, as bits of list_query.given. */
enum {
    QUERY_LIMIT = 1,
    QUERY_SORT = 2,
    QUERY_ORDER = 4,
    QUERY_NAME = 8,
    QUERY_CURSOR = 16,
};

struct list_query {
    struct store_query store; /* what to ask the store; its name and after
                                 point into this struct: fill it in place
                                 (query_parse()) and never copy it */
    unsigned given;           /* the parameters the client gave (QUERY_...) */
    char name[QUERY_TEXT_MAX + 1];       /* the name filter, decoded */
    struct store_key after;              /* the cursor, decoded */
    char after_name[QUERY_TEXT_MAX + 1]; /* after.name, for sort=name */
};

/* Reads a query string (what follows '?', without it; may be empty) into
 * *lq: the defaults, then what the client gave. Returns 0; or -1 when a
 * parameter is bad, with one object per bad parameter added to errors,
 * {"parameter": "limit", "detail": "must be a whole number from 1 to
 * 100"} -- a known parameter under its name, an unknown one under the
 * name as sent (at most 64 bytes of it) -- and *lq unusable. At most
 * QUERY_ERRORS_MAX errors are listed: a query of a thousand bad
 * parameters must not make an answer a hundred times its size. A cursor
 * that does not decode, or that was made for another sort or order, is
 * an error of "cursor". When errors cannot grow (memory ran out), -1
 * with errors as it was. */
int query_parse(struct http_slice query, struct list_query *lq, cJSON *errors);

/* The link to the page after the one that ends with last: "/items?" and
 * the parameters the client gave -- limit, sort, order, name, in this
 * order, each percent-encoded (RFC 3986: letters, digits and -._~ stay,
 * every other byte is %XX) -- and then cursor=<last's place>. Writes it
 * NUL-terminated into out[0..cap); returns its length, or -1 when it does
 * not fit. query_parse() of the part after '?' gives lq back, with the
 * cursor after last. */
int query_next(const struct list_query *lq, const struct item *last, char *out, size_t cap);

#endif
