/* manifest.c -- see manifest.h. */
#define _GNU_SOURCE
#include "manifest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void chapter_load(struct chapter *ch, const char *dir)
{
    char path[PATH_MAX + 32];
    if (!realpath(dir, ch->dir))
        die("no chapter at %s", dir);
    const char *base = strrchr(ch->dir, '/');
    snprintf(ch->name, sizeof ch->name, "%s", base ? base + 1 : ch->dir);
    snprintf(path, sizeof path, "%s/manifest.json", ch->dir);
    ch->manifest = read_json(path);
    if (!ch->manifest)
        die("%s is missing or is not valid JSON", path);
    ch->stages = cJSON_GetObjectItemCaseSensitive(ch->manifest, "stages");
    if (!cJSON_IsArray(ch->stages) || cJSON_GetArraySize(ch->stages) == 0)
        die("%s has no \"stages\" array", path);
}

void chapter_free(struct chapter *ch)
{
    cJSON_Delete(ch->manifest);
    ch->manifest = ch->stages = NULL;
}

int chapter_nstages(const struct chapter *ch)
{
    return cJSON_GetArraySize(ch->stages);
}

const char *chapter_short(const struct chapter *ch)
{
    const char *dash = strchr(ch->name, '-');
    return jstr(ch->manifest, "short", dash ? dash + 1 : ch->name);
}

const char *chapter_title(const struct chapter *ch)
{
    return jstr(ch->manifest, "title", ch->name);
}

cJSON *stage_by_id(const struct chapter *ch, int id)
{
    cJSON *st;
    cJSON_ArrayForEach(st, ch->stages)
        if (jint(st, "id", -1) == id)
            return st;
    return NULL;
}

cJSON *stage_of_suite(const struct chapter *ch, const char *suite)
{
    cJSON *st;
    cJSON_ArrayForEach(st, ch->stages)
        if (strcmp(jstr(st, "suite", ""), suite) == 0)
            return st;
    return NULL;
}

int stage_id(const cJSON *stage, int fallback)
{
    return jint(stage, "id", fallback);
}
