/* item -- see item.h. */
#define _POSIX_C_SOURCE 200809L
#include "item.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cJSON *item_to_json(const struct item *it)
{
    /* TODO(stage 2): cJSON_CreateObject(), then the members in the order
     * of item.h: id, name, qty, price, tags (an array of strings), version,
     * created_at, updated_at. Numbers go in as doubles: ids and versions
     * stay far below 2^53, where a double stops being exact. When any
     * cJSON_Add... fails (NULL), delete the object and return NULL. */
    (void)it;
    return NULL;
}

/* Adds {"pointer": "/member", "detail": detail} to errors. A member name
 * with '~' or '/' is escaped as RFC 6901 says ("~0", "~1"); stage 4 uses
 * this for every error. */
static void add_error(cJSON *errors, const char *member, const char *detail)
{
    char ptr[512];
    size_t len = 0;
    if (member) {
        ptr[len++] = '/';
        for (const char *s = member; *s && len + 3 < sizeof ptr; s++) {
            if (*s == '~' || *s == '/') {
                ptr[len++] = '~';
                ptr[len++] = *s == '~' ? '0' : '1';
            } else {
                ptr[len++] = *s;
            }
        }
    }
    ptr[len] = '\0';
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "pointer", ptr) ||
        !cJSON_AddStringToObject(e, "detail", detail) || !cJSON_AddItemToArray(errors, e))
        cJSON_Delete(e);
}

int item_from_json(const cJSON *body, struct item *out, cJSON *errors)
{
    memset(out, 0, sizeof *out);
    /* TODO(stage 2): body must be an object (cJSON_IsObject); "name"
     * (cJSON_GetObjectItemCaseSensitive: cJSON_GetObjectItem ignores case)
     * a string -- strdup() it into out->name --; "qty" and "price"
     * numbers, read from valuedouble (never valueint: it saturates and
     * truncates); "tags" an array of strings (cJSON_ArrayForEach, strdup
     * each). A member left out keeps its zero. A missing or non-string
     * name: add_error(errors, "name", "is required") and return -1.
     *
     * TODO(stage 4): every rule of store.h, and every error listed -- go
     * on after the first, so the client fixes all at once:
     *  - not an object, or an object of more than ITEM_MEMBERS_MAX
     *    members (cJSON_GetArraySize()): one error at the root (member
     *    NULL: pointer ""), and nothing more -- before the walk below,
     *    whose duplicate check costs n * n;
     *  - walk the members with cJSON_ArrayForEach: a name seen before in
     *    this object is a duplicate (cJSON keeps both); a name that is not
     *    name, qty, price or tags is refused (mass assignment: id, version,
     *    is_admin);
     *  - name: a string of 1 to 200 code points (count the bytes that are
     *    not 10xxxxxx: json_check() made it valid UTF-8);
     *  - qty: a number, whole (d == floor(d)), 0 to 2147483647 -- that
     *    range also keeps it far below 2^53, where doubles stop counting
     *    in ones;
     *  - price: a number, isfinite() (1e999 parses as infinity), 0 to 1e9;
     *  - tags: an array of at most 100 strings of 1 to 50 code points; an
     *    element's pointer is "/tags/<index>" (add_error() needs an index
     *    for that: extend it);
     *  - and, after the walk, "name" missing.
     * Each error: add_error(errors, member, detail), the detail saying what
     * is allowed ("must be an integer from 0 to 2147483647"). */
    (void)body;
    add_error(errors, NULL, "item_from_json() is not written yet");
    return -1;
}

int item_merge_patch(cJSON **target, const cJSON *patch, cJSON *errors)
{
    /* TODO(stage 5): RFC 7396 section 2, as a recursive function on a tree
     * it owns:
     *   merge(target, patch): patch not an object -> the target is
     *   replaced by a copy of patch (cJSON_Duplicate(patch, 1); delete the
     *   old). Otherwise make target an object (a new one if it was not),
     *   and for each member of patch: detach the target's member of that
     *   name (cJSON_DetachItemFromObjectCaseSensitive); null -> delete it
     *   and go on; else add merge(detached, member) under that name.
     * Before merging, refuse (add_error(), return -1, *target left alone):
     *  - a patch object of more than ITEM_MEMBERS_MAX members, or holding
     *    such an object at any depth along object members (a small
     *    recursion): one error at the root -- merging n members looks
     *    each up in the target, n * n steps;
     *  - a patch object that names a member twice: add_error(errors, name,
     *    "appears more than once"). */
    (void)target;
    (void)patch;
    (void)errors;
    return -1;
}
