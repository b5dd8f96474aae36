/* cache.c -- see cache.h. */
#define _GNU_SOURCE
#include "cache.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

void cache_open(struct cache *c, const char *chapter, const char *impl)
{
    char home[PATH_MAX], dir[PATH_MAX + 16];
    home_dir(home, sizeof home);
    snprintf(dir, sizeof dir, "%s/state", home);
    mkdirs(dir);
    snprintf(c->path, sizeof c->path, "%s/%s-%s.json", dir, chapter, impl);
    c->state = read_json(c->path);
    if (!cJSON_IsObject(c->state)) {
        cJSON_Delete(c->state);
        c->state = cJSON_CreateObject();
    }
    c->tests = cJSON_GetObjectItemCaseSensitive(c->state, "tests");
    if (!cJSON_IsObject(c->tests)) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->state, "tests");
        c->tests = cJSON_AddObjectToObject(c->state, "tests");
    }
}

void cache_close(struct cache *c)
{
    cJSON_Delete(c->state);
    c->state = c->tests = NULL;
}

int cache_save(struct cache *c)
{
    if (write_json(c->path, c->state) < 0) {
        fprintf(stderr, "grade: cannot save %s\n", c->path);
        return -1;
    }
    return 0;
}

/* A fingerprint of a file's bytes ("missing" when there is none). */
static void hash_file(const char *path, char *out, size_t cap)
{
    FILE *f = path ? fopen(path, "rb") : NULL;
    if (!f) {
        snprintf(out, cap, "missing");
        return;
    }
    uint64_t h = FNV_START;
    unsigned char buf[65536];
    size_t n, total = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        h = fnv1a(h, buf, n);
        total += n;
    }
    fclose(f);
    snprintf(out, cap, "%zu:%016llx", total, (unsigned long long)h);
}

void cache_fingerprint(char *out, size_t cap, const char *tests, const char *program)
{
    char a[64], b[64];
    const char *seed = getenv("WB_SEED");
    hash_file(tests, a, sizeof a);
    hash_file(program, b, sizeof b);
    snprintf(out, cap, "%s|%s|seed=%s", a, b, seed ? seed : "");
}

int cache_fresh(const struct cache *c, const char *fp, const char *suite)
{
    if (strcmp(jstr(c->state, "binaries", ""), fp) != 0)
        return 0;
    const cJSON *suites = cJSON_GetObjectItemCaseSensitive(c->state, "suites");
    const cJSON *s;
    cJSON_ArrayForEach(s, suites)
    {
        if (!cJSON_IsString(s))
            continue;
        if (strcmp(s->valuestring, "*") == 0 || (suite && strcmp(s->valuestring, suite) == 0))
            return 1;
    }
    return 0;
}

cJSON *cache_tests(const struct cache *c, const char *suite)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, c->tests)
        if (!suite || strcmp(jstr(t, "suite", ""), suite) == 0)
            cJSON_AddItemToArray(arr, cJSON_Duplicate(t, 1));
    return arr;
}

void cache_record(struct cache *c, const char *fp, const char *suite, const cJSON *tests,
                  const char *chapter_dir)
{
    int all = strcmp(suite, "*") == 0;
    if (all) {
        /* a full run replaces everything: tests may have been renamed */
        cJSON_DeleteItemFromObjectCaseSensitive(c->state, "tests");
        c->tests = cJSON_AddObjectToObject(c->state, "tests");
    }
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        char key[512];
        snprintf(key, sizeof key, "%s/%s", jstr(t, "suite", ""), jstr(t, "name", ""));
        cJSON_DeleteItemFromObjectCaseSensitive(c->tests, key);
        cJSON_AddItemToObject(c->tests, key, cJSON_Duplicate(t, 1));
    }
    /* The suites that ran against these binaries. */
    cJSON *suites = cJSON_GetObjectItemCaseSensitive(c->state, "suites");
    if (all || strcmp(jstr(c->state, "binaries", ""), fp) != 0 || !cJSON_IsArray(suites)) {
        cJSON_DeleteItemFromObjectCaseSensitive(c->state, "suites");
        suites = cJSON_AddArrayToObject(c->state, "suites");
    }
    cJSON_AddItemToArray(suites, cJSON_CreateString(suite));
    cJSON_DeleteItemFromObjectCaseSensitive(c->state, "binaries");
    cJSON_AddStringToObject(c->state, "binaries", fp);
    cJSON_DeleteItemFromObjectCaseSensitive(c->state, "chapter");
    cJSON_AddStringToObject(c->state, "chapter", chapter_dir);
    cJSON_DeleteItemFromObjectCaseSensitive(c->state, "finished");
    cJSON_AddNumberToObject(c->state, "finished", (double)time(NULL));
}
