/* etag -- see etag.h. */
#include "etag.h"

#include <stdio.h>
#include <string.h>

int etag_format(int64_t version, char *out, size_t cap)
{
    int n = snprintf(out, cap, "\"%lld\"", (long long)version);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* etagc: what may stand between the quotes of an opaque tag. */
static int is_etagc(unsigned char c)
{
    return c == 0x21 || (c >= 0x23 && c <= 0x7E) || c >= 0x80;
}

int etag_match(struct http_slice value, int64_t version, int weak)
{
    const char *p = value.p;
    size_t n = value.n, i = 0, tags = 0;
    char want[32];
    int wn = snprintf(want, sizeof want, "%lld", (long long)version), matched = 0;

    while (n > 0 && is_ows(p[n - 1]))
        n--;
    while (i < n && is_ows(p[i]))
        i++;
    if (n - i == 1 && p[i] == '*')
        return 1;
    while (i < n) {
        if (p[i] == ',' || is_ows(p[i])) { /* empty elements and the space around */
            i++;
            continue;
        }
        int is_weak = 0;
        if (n - i >= 2 && p[i] == 'W' && p[i + 1] == '/') {
            is_weak = 1;
            i += 2;
        }
        if (i == n || p[i] != '"')
            return -1;
        size_t start = ++i;
        while (i < n && is_etagc((unsigned char)p[i]))
            i++;
        if (i == n || p[i] != '"')
            return -1;
        size_t len = i++ - start;
        tags++;
        if ((weak || !is_weak) && len == (size_t)wn && memcmp(p + start, want, len) == 0)
            matched = 1;
        while (i < n && is_ows(p[i]))
            i++;
        if (i < n && p[i] != ',')
            return -1;
    }
    return tags ? matched : -1;
}
