/* store_item -- the memory of a struct item (given): item_free() and
 * item_copy() of store.h, which every store shares -- this chapter's in
 * memory, chapter 04's on SQLite. */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <stdlib.h>
#include <string.h>

void item_free(struct item *it)
{
    if (!it)
        return;
    free(it->name);
    for (size_t i = 0; i < it->ntags; i++)
        free(it->tags[i]);
    free(it->tags);
    memset(it, 0, sizeof *it);
}

int item_copy(struct item *dst, const struct item *src)
{
    *dst = *src;
    dst->name = NULL;
    dst->tags = NULL;
    dst->ntags = 0;
    if (src->name && !(dst->name = strdup(src->name)))
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
