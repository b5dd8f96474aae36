/* restc -- see restc.h. */
#include "restc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ht_response *rc_send(struct wb_proc *p, int fd, const char *method, const char *target,
                            const char *headers, const char *body, size_t body_len)
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
    size_t len = (size_t)n + (body ? body_len : 0);
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

void rc_expect_alive(struct wb_proc *p, int fd, const char *after)
{
    struct ht_response *r = rc_send(p, fd, "GET", "/health", NULL, NULL, 0);
    char why[512];
    snprintf(why, sizeof why, "after %s, the same keep-alive connection must still serve "
             "GET /health: an error answers one request, it does not end the connection", after);
    ht_expect_status(p, r, 200, NULL, 0, why);
    ht_free(r);
}
