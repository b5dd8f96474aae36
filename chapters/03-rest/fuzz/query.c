/* query -- the fuzz checks of query_parse() and query_next(), called by
 * the one libFuzzer entry point in json_check.c with the same input taken
 * as a query string (what follows '?' in GET /items?...).
 *
 * Besides crashes and sanitizer reports (query_parse() gets an
 * exactly-sized copy), it checks:
 *  - -1 always lists at least one bad parameter, 0 never lists one, and
 *    an accepted query is inside the limits (limit 1..100, a name filter
 *    of UTF-8 without NUL);
 *  - for an accepted query, query_next() after a made-up last item writes
 *    a link of visible ASCII that query_parse() takes back as the same
 *    query with that item's place as its cursor (a round trip). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "query.h"

void fuzz_query(const uint8_t *data, size_t size);

static void fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "query fuzz: %s\n  query (%zu bytes): %.*s\n", what, len,
            len > 200 ? 200 : (int)len, text);
    abort();
}

void fuzz_query(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1);
    cJSON *errors = cJSON_CreateArray();
    struct list_query *lq = malloc(sizeof *lq), *back = malloc(sizeof *back);
    if (!text || !errors || !lq || !back)
        goto out;
    memcpy(text, data, size);
    int rc = query_parse((struct http_slice){text, size}, lq, errors);
    int nerr = cJSON_GetArraySize(errors);
    if ((rc == -1) != (nerr > 0) || (rc != 0 && rc != -1))
        fail("the result and the errors disagree", text, size);
    if (rc != 0)
        goto out;
    if (lq->store.limit < 1 || lq->store.limit > QUERY_LIMIT_MAX)
        fail("accepted a limit outside 1..100", text, size);

    /* A last item whose key comes from the input too. */
    struct item last = {.id = 1 + (int64_t)(size * 7919 % 999999999999999LL),
                        .name = lq->store.name ? lq->name : "pear",
                        .qty = (int64_t)(size * 31 % 2147483648LL),
                        .price = size ? (double)data[0] / 7 : 0.1};
    char link[8192];
    int n = query_next(lq, &last, link, sizeof link);
    if (n < 0 || (size_t)n != strlen(link) || strncmp(link, "/items?", 7) != 0)
        fail("query_next() failed or wrote no /items? link", text, size);
    for (int i = 0; i < n; i++)
        if (link[i] <= ' ' || link[i] >= 0x7F || link[i] == '#')
            fail("query_next() wrote a byte a link cannot hold", text, size);
    cJSON_Delete(errors);
    errors = cJSON_CreateArray();
    if (!errors || query_parse((struct http_slice){link + 7, (size_t)n - 7}, back, errors) != 0)
        fail("query_parse() refused query_next()'s own link", link, (size_t)n);
    const struct store_key *a = back->store.after;
    if (back->store.limit != lq->store.limit || back->store.sort != lq->store.sort ||
        back->store.desc != lq->store.desc || back->given != (lq->given | QUERY_CURSOR) ||
        !a || a->id != last.id)
        fail("the link does not read back as the same query after the last item", link,
             (size_t)n);
    if ((lq->store.name == NULL) != (back->store.name == NULL) ||
        (lq->store.name && strcmp(lq->store.name, back->store.name) != 0))
        fail("the link's name filter reads back different", link, (size_t)n);
    if ((lq->store.sort == STORE_SORT_NAME && strcmp(a->name, last.name) != 0) ||
        (lq->store.sort == STORE_SORT_QTY && a->qty != last.qty) ||
        (lq->store.sort == STORE_SORT_PRICE && a->price != last.price))
        fail("the cursor's key reads back different", link, (size_t)n);
out:
    free(text);
    free(lq);
    free(back);
    cJSON_Delete(errors);
}
