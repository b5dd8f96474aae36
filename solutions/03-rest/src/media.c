/* media -- see media.h. */
#include "media.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* s[*i..n): skips spaces and tabs. */
static void skip_ows(const char *s, size_t n, size_t *i)
{
    while (*i < n && is_ows(s[*i]))
        (*i)++;
}

/* Does s[0..n) equal the lower-case want, in any case? */
static int eq_nocase(const char *s, size_t n, const char *want)
{
    return strlen(want) == n && strncasecmp(s, want, n) == 0;
}

/* Cuts s[*i..n) at the next c outside a quoted string; returns the piece
 * (without c) and moves *i past c. */
static struct http_slice next_piece(const char *s, size_t n, size_t *i, char c)
{
    size_t start = *i;
    int quoted = 0;
    while (*i < n && (quoted || s[*i] != c)) {
        if (s[*i] == '"')
            quoted = !quoted;
        else if (quoted && s[*i] == '\\' && *i + 1 < n)
            (*i)++;
        (*i)++;
    }
    struct http_slice piece = {s + start, *i - start};
    if (*i < n)
        (*i)++;
    /* without the whitespace around it */
    while (piece.n && is_ows(piece.p[0]))
        piece.p++, piece.n--;
    while (piece.n && is_ows(piece.p[piece.n - 1]))
        piece.n--;
    return piece;
}

/* A parameter "name=value" (value maybe quoted): its name and value. */
static void split_param(struct http_slice p, struct http_slice *name, struct http_slice *value)
{
    const char *eq = memchr(p.p, '=', p.n);
    *name = (struct http_slice){p.p, eq ? (size_t)(eq - p.p) : p.n};
    *value = (struct http_slice){eq ? eq + 1 : p.p + p.n, eq ? p.n - (size_t)(eq + 1 - p.p) : 0};
    while (name->n && is_ows(name->p[name->n - 1]))
        name->n--;
    while (value->n && is_ows(value->p[0]))
        value->p++, value->n--;
    if (value->n >= 2 && value->p[0] == '"' && value->p[value->n - 1] == '"')
        value->p++, value->n -= 2;
}

int media_is(struct http_slice v, const char *want)
{
    size_t i = 0;
    skip_ows(v.p, v.n, &i);
    struct http_slice type = next_piece(v.p, v.n, &i, ';');
    if (!eq_nocase(type.p, type.n, want))
        return 0;
    while (i < v.n) {
        struct http_slice name, value, param = next_piece(v.p, v.n, &i, ';');
        split_param(param, &name, &value);
        /* JSON is UTF-8 (RFC 8259 section 8.1): any other charset is not it */
        if (eq_nocase(name.p, name.n, "charset") && !eq_nocase(value.p, value.n, "utf-8"))
            return 0;
    }
    return 1;
}

/* The weight of a media range's parameters: q=0.5 -> 500; 1000 without q;
 * -1 when q is not a valid qvalue (RFC 9110 section 12.4.2). */
static int weight(const char *s, size_t n, size_t *i)
{
    int q = 1000;
    while (*i < n) {
        struct http_slice name, value, param = next_piece(s, n, i, ';');
        split_param(param, &name, &value);
        if (!eq_nocase(name.p, name.n, "q"))
            continue;
        /* qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] ) */
        if (value.n == 0 || (value.p[0] != '0' && value.p[0] != '1') ||
            (value.n > 1 && (value.p[1] != '.' || value.n > 5)))
            return -1;
        q = (value.p[0] - '0') * 1000;
        int scale = 100;
        for (size_t k = 2; k < value.n; k++, scale /= 10) {
            if (value.p[k] < '0' || value.p[k] > '9')
                return -1;
            q += (value.p[k] - '0') * scale;
        }
        if (q > 1000)
            return -1;
    }
    return q;
}

int media_accepts_json(const struct http_slice *accept, size_t n)
{
    /* The most specific range that matches decides: 3 for
     * application/json, 2 for application/x, 1 for x/x. */
    int best = 0, q = 0, any = 0;
    for (size_t f = 0; f < n; f++) {
        const char *s = accept[f].p;
        size_t len = accept[f].n, i = 0;
        while (i < len) {
            struct http_slice range = next_piece(s, len, &i, ',');
            if (range.n == 0)
                continue; /* empty list elements are allowed */
            any = 1;
            size_t k = 0;
            struct http_slice type = next_piece(range.p, range.n, &k, ';');
            int w = weight(range.p, range.n, &k);
            int spec = eq_nocase(type.p, type.n, "application/json")  ? 3
                       : eq_nocase(type.p, type.n, "application/*") ? 2
                       : eq_nocase(type.p, type.n, "*/*")           ? 1
                                                                    : 0;
            if (spec > best && w >= 0) {
                best = spec;
                q = w;
            }
        }
    }
    return !any || (best > 0 && q > 0);
}
