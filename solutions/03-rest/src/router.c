/* router -- see router.h. */
#include "router.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *name;
    unsigned bit;
} methods[] = {
    {"GET", M_GET},     {"HEAD", M_HEAD},     {"POST", M_POST},       {"PUT", M_PUT},
    {"PATCH", M_PATCH}, {"DELETE", M_DELETE}, {"OPTIONS", M_OPTIONS},
};

unsigned router_method(struct http_slice method)
{
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (method.n == strlen(methods[i].name) && memcmp(method.p, methods[i].name, method.n) == 0)
            return methods[i].bit;
    return 0;
}

/* The segment of s that starts at *pos (just after a '/'): its length, and
 * *pos moved to the next '/' or the end. */
static size_t segment(const char *s, size_t n, size_t *pos)
{
    size_t start = *pos;
    while (*pos < n && s[*pos] != '/')
        (*pos)++;
    return *pos - start;
}

int router_match(const char *template, struct http_slice path, struct http_slice *params,
                 int max)
{
    size_t tn = strlen(template), tp = 0, pp = 0;
    int count = 0;
    if (tn == 0 || template[0] != '/' || path.n == 0 || path.p[0] != '/')
        return -1;
    /* Walk both, one segment at a time: each starts after a '/'. */
    while (tp < tn && pp < path.n) {
        if (template[tp] != '/' || path.p[pp] != '/')
            return -1;
        tp++, pp++;
        size_t ts = tp, ps = pp;
        size_t tl = segment(template, tn, &tp), pl = segment(path.p, path.n, &pp);
        if (tl >= 2 && template[ts] == '{' && template[ts + tl - 1] == '}') {
            if (pl == 0 || count == max)
                return -1; /* a parameter is never empty */
            params[count].p = path.p + ps;
            params[count].n = pl;
            count++;
        } else if (tl != pl || memcmp(template + ts, path.p + ps, tl) != 0) {
            return -1;
        }
    }
    /* Both must end together: "/items/1/x" and "/items" are not "/items/{id}". */
    return tp == tn && pp == path.n ? count : -1;
}

int router_allow(unsigned bits, char *out, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return -1;
    out[0] = '\0';
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
        if (!(bits & methods[i].bit))
            continue;
        int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", methods[i].name);
        if (n < 0 || (size_t)n >= cap - len)
            return -1;
        len += (size_t)n;
    }
    return (int)len;
}
