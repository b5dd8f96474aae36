/* item -- see item.h. */
#define _POSIX_C_SOURCE 200809L
#include "item.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_MAX_CP 200
#define TAG_MAX_CP 50
#define TAGS_MAX 100
#define QTY_MAX 2147483647.0
#define PRICE_MAX 1e9
#define SKU_MAX 32

cJSON *item_to_json(const struct item *it)
{
    cJSON *o = cJSON_CreateObject(), *tags = NULL;
    if (!o)
        return NULL;
    /* ids and versions stay below 2^53: a double holds them exactly */
    if (!cJSON_AddNumberToObject(o, "id", (double)it->id) ||
        !cJSON_AddStringToObject(o, "name", it->name ? it->name : "") ||
        !cJSON_AddNumberToObject(o, "qty", (double)it->qty) ||
        !cJSON_AddNumberToObject(o, "price", it->price) ||
        !(tags = cJSON_AddArrayToObject(o, "tags")))
        goto fail;
    for (size_t i = 0; i < it->ntags; i++) {
        cJSON *t = cJSON_CreateString(it->tags[i]);
        if (!t || !cJSON_AddItemToArray(tags, t)) {
            cJSON_Delete(t);
            goto fail;
        }
    }
    if ((it->sku && !cJSON_AddStringToObject(o, "sku", it->sku)) ||
        !cJSON_AddNumberToObject(o, "version", (double)it->version) ||
        !cJSON_AddStringToObject(o, "created_at", it->created_at) ||
        !cJSON_AddStringToObject(o, "updated_at", it->updated_at))
        goto fail;
    return o;
fail:
    cJSON_Delete(o);
    return NULL;
}

/* Code points in a valid UTF-8 string: the bytes that do not continue one. */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Adds {"pointer": "/member[/index]", "detail": detail} to errors. The
 * member name is escaped as RFC 6901 says: "~" as "~0", "/" as "~1". */
static void add_error(cJSON *errors, const char *member, int index, const char *detail)
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
    if (index >= 0)
        snprintf(ptr + len, sizeof ptr - len, "/%d", index);
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "pointer", ptr) ||
        !cJSON_AddStringToObject(e, "detail", detail) || !cJSON_AddItemToArray(errors, e))
        cJSON_Delete(e);
}

/* A string of 1 to max code points (json_check() made it valid UTF-8). */
static int good_string(const cJSON *v, size_t max)
{
    if (!cJSON_IsString(v) || !v->valuestring)
        return 0;
    size_t n = code_points(v->valuestring);
    return n >= 1 && n <= max;
}

static int read_name(const cJSON *v, struct item *out, cJSON *errors)
{
    if (!good_string(v, NAME_MAX_CP)) {
        add_error(errors, "name", -1, "must be a string of 1 to 200 characters");
        return -1;
    }
    return (out->name = strdup(v->valuestring)) ? 0 : -1;
}

static int read_qty(const cJSON *v, struct item *out, cJSON *errors)
{
    /* Never valueint: cJSON saturates 2147483648 to INT_MAX and cuts 1.5 to
     * 1. The double is exact for integers up to 2^53, and the range check
     * keeps us far below that. */
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!cJSON_IsNumber(v) || !(d >= 0 && d <= QTY_MAX) || d != floor(d)) {
        add_error(errors, "qty", -1, "must be an integer from 0 to 2147483647");
        return -1;
    }
    out->qty = (int64_t)d;
    return 0;
}

static int read_price(const cJSON *v, struct item *out, cJSON *errors)
{
    /* 1e999 parses as infinity: isfinite() is part of the range check */
    double d = cJSON_IsNumber(v) ? v->valuedouble : -1;
    if (!cJSON_IsNumber(v) || !isfinite(d) || d < 0 || d > PRICE_MAX) {
        add_error(errors, "price", -1, "must be a number from 0 to 1000000000");
        return -1;
    }
    out->price = d == 0 ? 0 : d; /* -0 is stored as 0 */
    return 0;
}

static int read_tags(const cJSON *v, struct item *out, cJSON *errors)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > TAGS_MAX) {
        add_error(errors, "tags", -1, "must be an array of at most 100 strings");
        return -1;
    }
    int bad = 0, i = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, v)
    {
        if (!good_string(t, TAG_MAX_CP)) {
            add_error(errors, "tags", i, "must be a string of 1 to 50 characters");
            bad = 1;
        }
        i++;
    }
    if (bad)
        return -1;
    size_t n = (size_t)i;
    if (n && !(out->tags = calloc(n, sizeof *out->tags)))
        return -1;
    cJSON_ArrayForEach(t, v)
    {
        if (!(out->tags[out->ntags] = strdup(t->valuestring)))
            return -1;
        out->ntags++;
    }
    return 0;
}

#if ITEM_SKU
/* Chapter 04's stock-keeping code: null (none), or 1 to 32 of A-Z 0-9 -,
 * starting with a letter or digit. Unique among the items: the database's
 * UNIQUE index decides, not this function. */
static int read_sku(const cJSON *v, struct item *out, cJSON *errors)
{
    if (cJSON_IsNull(v))
        return 0;
    const char *p = cJSON_IsString(v) ? v->valuestring : NULL;
    size_t n = 0;
    while (p && ((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= '0' && p[n] <= '9') ||
                 (p[n] == '-' && n > 0)))
        n++;
    if (!p || p[n] || n < 1 || n > SKU_MAX) {
        add_error(errors, "sku", -1, "must be null or 1 to 32 of A-Z, 0-9 and -, not starting "
                                     "with -");
        return -1;
    }
    return (out->sku = strdup(p)) ? 0 : -1;
}
#endif

/* Does a member of obj before m have m's name? cJSON keeps both members
 * of {"a":1,"a":2}. */
static int named_before(const cJSON *obj, const cJSON *m)
{
    for (const cJSON *prev = obj->child; prev != m; prev = prev->next)
        if (strcmp(prev->string, m->string) == 0)
            return 1;
    return 0;
}

int item_from_json(const cJSON *body, struct item *out, cJSON *errors)
{
    static const struct {
        const char *name;
        int (*read)(const cJSON *, struct item *, cJSON *);
    } members[] = {
        {"name", read_name}, {"qty", read_qty}, {"price", read_price}, {"tags", read_tags},
#if ITEM_SKU
        {"sku", read_sku},
#endif
    };
    memset(out, 0, sizeof *out);
    if (!cJSON_IsObject(body)) {
        add_error(errors, NULL, -1, "must be a JSON object");
        return -1;
    }
    if (cJSON_GetArraySize(body) > ITEM_MEMBERS_MAX) {
        add_error(errors, NULL, -1, "has more than 32 members: an item has 4");
        return -1;
    }
    int bad = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, body)
    {
        /* cJSON keeps both members of {"a":1,"a":2}, and its getters find
         * the first; another parser would take the last (RFC 7493 section
         * 2.3 forbids duplicates). */
        if (named_before(body, m)) {
            add_error(errors, m->string, -1, "appears more than once");
            bad = 1;
            continue;
        }
        size_t k = 0;
        while (k < sizeof members / sizeof members[0] && strcmp(members[k].name, m->string) != 0)
            k++;
        if (k == sizeof members / sizeof members[0]) {
            /* mass assignment: id, version, is_admin ... are not the client's */
            add_error(errors, m->string, -1, "is not a member a client may send");
            bad = 1;
        } else if (members[k].read(m, out, errors) < 0) {
            bad = 1;
        }
    }
    if (!cJSON_GetObjectItemCaseSensitive(body, "name")) {
        add_error(errors, "name", -1, "is required");
        bad = 1;
    }
    return bad ? -1 : 0;
}

/* The first member of obj, an object, whose name an earlier member has
 * too; NULL when every name is unique. */
static const cJSON *duplicate_member(const cJSON *obj)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, obj)
        if (named_before(obj, m))
            return m;
    return NULL;
}

/* RFC 7396 section 2, on a tree this function owns: returns the merged
 * tree (target itself, or a new one with target freed), NULL when memory
 * ran out (target freed too). */
static cJSON *merge(cJSON *target, const cJSON *patch)
{
    if (!cJSON_IsObject(patch)) {
        /* anything but an object replaces the target whole */
        cJSON_Delete(target);
        return cJSON_Duplicate(patch, 1);
    }
    if (!cJSON_IsObject(target)) {
        cJSON_Delete(target);
        if (!(target = cJSON_CreateObject()))
            return NULL;
    }
    const cJSON *m;
    cJSON_ArrayForEach(m, patch)
    {
        cJSON *old = cJSON_DetachItemFromObjectCaseSensitive(target, m->string);
        if (cJSON_IsNull(m)) {
            cJSON_Delete(old); /* null removes the member */
            continue;
        }
        cJSON *merged = merge(old, m);
        if (!merged || !cJSON_AddItemToObject(target, m->string, merged)) {
            cJSON_Delete(merged);
            cJSON_Delete(target);
            return NULL;
        }
    }
    return target;
}

/* obj, an object, or an object merge() would walk into from it, has
 * more than ITEM_MEMBERS_MAX members. The depth is json_check()'s, at
 * most 32. */
static int too_wide(const cJSON *obj)
{
    const cJSON *m;
    if (cJSON_GetArraySize(obj) > ITEM_MEMBERS_MAX)
        return 1;
    cJSON_ArrayForEach(m, obj)
        if (cJSON_IsObject(m) && too_wide(m))
            return 1;
    return 0;
}

int item_merge_patch(cJSON **target, const cJSON *patch, cJSON *errors)
{
    /* merge() looks each member up in the target: an object of n members
     * costs n * n, so the width is checked first, in one pass. */
    if (cJSON_IsObject(patch) && too_wide(patch)) {
        add_error(errors, NULL, -1, "has an object of more than 32 members: an item has 4");
        return -1;
    }
    /* A duplicate in the patch would be applied twice, the last winning:
     * refused, as in a body (RFC 7493 section 2.3). */
    const cJSON *dup = cJSON_IsObject(patch) ? duplicate_member(patch) : NULL;
    if (dup) {
        add_error(errors, dup->string, -1, "appears more than once");
        return -1;
    }
    *target = merge(*target, patch);
    return *target ? 0 : -1;
}
