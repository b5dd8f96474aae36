/* store_item -- what every store shares (given): the memory of a struct
 * item, the comparison of idempotency keys, the time stamps -- for this
 * chapter's store in memory and chapter 04's on SQLite. See store.h. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void item_free(struct item *it)
{
    if (!it)
        return;
    free(it->name);
    for (size_t i = 0; i < it->ntags; i++)
        free(it->tags[i]);
    free(it->tags);
    free(it->sku);
    memset(it, 0, sizeof *it);
}

int item_copy(struct item *dst, const struct item *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->tags = NULL;
    dst->ntags = 0;
    dst->sku = NULL;
    if ((src->name && !(dst->name = strdup(src->name))) ||
        (src->sku && !(dst->sku = strdup(src->sku))))
        goto fail;
    if (src->ntags) {
        if (!(dst->tags = calloc(src->ntags, sizeof *dst->tags)))
            goto fail;
        for (; dst->ntags < src->ntags; dst->ntags++)
            if (!(dst->tags[dst->ntags] = strdup(src->tags[dst->ntags])))
                goto fail;
    }
    return 0;
fail:
    item_free(dst);
    return -1;
}

int item_same_fields(const struct item *a, const struct item *b)
{
    if (strcmp(a->name, b->name) != 0 || a->qty != b->qty || a->price != b->price ||
        a->ntags != b->ntags || (a->sku ? !b->sku || strcmp(a->sku, b->sku) != 0 : !!b->sku))
        return 0;
    for (size_t i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i], b->tags[i]) != 0)
            return 0;
    return 1;
}

void store_time_now(char *out)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[20];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, STORE_TIME_LEN + 1, "%.19s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}
