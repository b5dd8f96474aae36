/* restc -- see restc.h. */
#include "restc.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *rc_request(const char *method, const char *target, const char *headers, const char *body,
                 size_t body_len, size_t *len)
{
    size_t cap = strlen(method) + strlen(target) + (headers ? strlen(headers) : 0) + body_len + 256;
    char *raw = malloc(cap);
    cr_assert(raw != NULL, "test setup: out of memory");
    int n = snprintf(raw, cap, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s", method, target,
                     headers ? headers : "");
    if (body)
        n += snprintf(raw + n, cap - (size_t)n, "Content-Length: %zu\r\n", body_len);
    n += snprintf(raw + n, cap - (size_t)n, "\r\n");
    if (body && body_len)
        memcpy(raw + n, body, body_len);
    *len = (size_t)n + (body ? body_len : 0);
    return raw;
}

struct ht_response *rc_send(struct wb_proc *p, int fd, const char *method, const char *target,
                            const char *headers, const char *body, size_t body_len)
{
    size_t len;
    char *raw = rc_request(method, target, headers, body, body_len, &len);
    wb_send(p, fd, raw, len);
    char ctx[256];
    snprintf(ctx, sizeof ctx, "the answer to %s %.150s", method, target);
    struct ht_response *r = ht_must_read(p, fd, raw, len, strcmp(method, "HEAD") == 0, 5000, ctx);
    free(raw);
    return r;
}

struct ht_response *rc_post(struct wb_proc *p, int fd, const char *json)
{
    return rc_send(p, fd, "POST", "/items", "Content-Type: application/json\r\n", json,
                   strlen(json));
}

long long rc_create(struct wb_proc *p, int fd, const char *json, char *loc, size_t cap)
{
    struct ht_response *r = rc_post(p, fd, json);
    ht_expect_status(p, r, 201, NULL, 0, "POST /items, to have an item for the test");
    cJSON *j = jt_body(p, r, "POST /items");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    long long v = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    if (loc)
        snprintf(loc, cap, "%s", ht_header(r, "Location") ? ht_header(r, "Location") : "");
    cJSON_Delete(j);
    ht_free(r);
    return v;
}

const char *rc_test_path(const char *rel)
{
    static char found[PATH_MAX];
    char here[PATH_MAX], tests[PATH_MAX], chapter[PATH_MAX];
    snprintf(here, sizeof here, "%s", __FILE__);
    char *slash = strrchr(here, '/');
    *(slash ? slash + 1 : here) = '\0';
    snprintf(found, sizeof found, "%s%s", here, rel);
    snprintf(tests, sizeof tests, "tests/%s", rel);
    snprintf(chapter, sizeof chapter, "chapters/03-rest/tests/%s", rel);
    const char *tries[] = {found, tests, chapter};
    for (size_t i = 0; i < sizeof tries / sizeof tries[0]; i++) {
        if (access(tries[i], F_OK) == 0) {
            if (i)
                snprintf(found, sizeof found, "%s", tries[i]);
            return found;
        }
    }
    char cwd[PATH_MAX];
    cr_fatal("cannot find %s: tried %s, %s and %s (from %s). It belongs beside "
             "chapters/03-rest/tests/ -- restore it with git.", rel, found, tests, chapter,
             getcwd(cwd, sizeof cwd) ? cwd : "?");
    return NULL;
}

void rc_expect_alive(struct wb_proc *p, int fd, const char *after)
{
    struct ht_response *r = rc_send(p, fd, "GET", "/health", NULL, NULL, 0);
    char why[512];
    snprintf(why, sizeof why, "after %s, the same keep-alive connection must still serve "
             "GET /health: an error answers one request, it does not end the connection", after);
    ht_expect_status(p, r, 200, NULL, 0, why);
    ht_free(r);
}
