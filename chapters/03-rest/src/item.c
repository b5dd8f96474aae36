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
     * name: add_error(errors, "name", "is required") and return -1. */
    (void)body;
    add_error(errors, NULL, "item_from_json() is not written yet");
    return -1;
}
