/* query -- see query.h. */
#define _POSIX_C_SOURCE 200809L
#include "query.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_check.h"

/* What a cursor's text can hold: "<s><o>", 15 digits of id, ':', a key of
 * up to QUERY_TEXT_MAX bytes; and that text in base64url (4 characters
 * for each 3 bytes). */
#define CURSOR_TEXT_MAX (2 + 15 + 1 + QUERY_TEXT_MAX)
#define CURSOR_MAX ((CURSOR_TEXT_MAX + 2) / 3 * 4)

static const char sort_names[][6] = {"id", "name", "qty", "price"}; /* enum store_sort */
static const char sort_letters[] = "inqp";

/* ---- bytes ------------------------------------------------------------------ */

static int hex_digit(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* Form-decodes s[0..n) into out[0..cap) and NUL-terminates it: '+' is a
 * space, %XX the byte XX. Returns the decoded length; -1 for a '%' without
 * two hex digits, -2 when it does not fit. */
static long decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int hi = i + 2 < n ? hex_digit(s[i + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return -1;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (len + 1 >= cap)
            return -2;
        out[len++] = c;
    }
    out[len] = '\0';
    return (long)len;
}

/* The number of code points in s[0..n) when it is UTF-8 without NUL;
 * -1 otherwise. */
static long code_points(const char *s, size_t n)
{
    long count = 0;
    for (size_t i = 0, k, bad; i < n; i += k, count++)
        if (s[i] == '\0' || (k = json_utf8_char(s + i, n - i, &bad)) == 0)
            return -1;
    return count;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* base64url without padding (RFC 4648 section 5) of in[0..n) into out,
 * which has room for (n + 2) / 3 * 4 + 1 bytes. Returns the length. */
static size_t b64_encode(const unsigned char *in, size_t n, char *out)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (i + 1 < n ? (unsigned)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        size_t chars = n - i >= 3 ? 4 : n - i + 1;
        for (size_t k = 0; k < chars; k++)
            out[len++] = b64url[(v >> (18 - 6 * k)) & 63];
    }
    out[len] = '\0';
    return len;
}

/* The other way; strict: only the 64 characters, no padding, and no bits
 * left over (a length of 4k+1 cannot be, and the unused low bits of the
 * last character must be 0 -- else two texts would decode the same).
 * Returns the length, or -1. */
static long b64_decode(const char *in, size_t n, unsigned char *out, size_t cap)
{
    size_t len = 0;
    if (n % 4 == 1)
        return -1;
    for (size_t i = 0; i < n; i += 4) {
        size_t chars = n - i < 4 ? n - i : 4, bytes = chars - 1;
        unsigned long v = 0; /* 24 bits: 4 characters of 6 */
        for (size_t k = 0; k < 4; k++) {
            const char *at = k < chars ? memchr(b64url, in[i + k], 64) : b64url;
            if (!at)
                return -1;
            v = v << 6 | (unsigned long)(at - b64url);
        }
        if (v & ((1UL << (8 * (3 - bytes))) - 1)) /* bits past the last byte */
            return -1;
        if (len + bytes > cap)
            return -1;
        for (size_t k = 0; k < bytes; k++)
            out[len++] = (unsigned char)(v >> (16 - 8 * k));
    }
    return (long)len;
}

/* ---- errors -------------------------------------------------------------------- */

/* Adds {"parameter": name[0..n), "detail": detail} to errors, unless
 * QUERY_ERRORS_MAX are there. */
static int bad(cJSON *errors, const char *name, size_t n, const char *detail)
{
    char param[65];
    if (cJSON_GetArraySize(errors) >= QUERY_ERRORS_MAX)
        return 0;
    snprintf(param, sizeof param, "%.*s", (int)(n > 64 ? 64 : n), name);
    cJSON *e = cJSON_CreateObject();
    if (!e || !cJSON_AddStringToObject(e, "parameter", param) ||
        !cJSON_AddStringToObject(e, "detail", detail) || !cJSON_AddItemToArray(errors, e)) {
        cJSON_Delete(e);
        return -1;
    }
    return 0;
}

/* ---- the cursor ---------------------------------------------------------------- */

/* Decodes cursor c[0..n) into lq->after, for lq's sort and order. */
static int cursor_decode(const char *c, size_t n, struct list_query *lq)
{
    unsigned char text[CURSOR_TEXT_MAX + 1];
    if (n > CURSOR_MAX)
        return -1;
    long len = b64_decode(c, n, text, CURSOR_TEXT_MAX);
    if (len < 4 || text[0] != (unsigned char)sort_letters[lq->store.sort] ||
        text[1] != (lq->store.desc ? 'd' : 'a'))
        return -1;
    text[len] = '\0';
    const char *p = (const char *)text + 2, *colon = strchr(p, ':');
    if (!colon || colon - p < 1 || colon - p > 15 || *p == '0' ||
        strspn(p, "0123456789") != (size_t)(colon - p))
        return -1;
    struct store_key *k = &lq->after;
    memset(k, 0, sizeof *k);
    k->id = strtoll(p, NULL, 10);
    const char *key = colon + 1;
    size_t klen = (size_t)(text + len - (const unsigned char *)key);
    char *end;
    switch (lq->store.sort) {
    case STORE_SORT_ID:
        return klen == 0 ? 0 : -1;
    case STORE_SORT_NAME:
        if (klen == 0 || klen > QUERY_TEXT_MAX || code_points(key, klen) < 1)
            return -1;
        memcpy(lq->after_name, key, klen + 1);
        k->name = lq->after_name;
        return 0;
    case STORE_SORT_QTY:
        if (klen == 0 || klen > 10 || strspn(key, "0123456789") != klen ||
            (key[0] == '0' && klen > 1))
            return -1;
        k->qty = strtoll(key, NULL, 10);
        return k->qty <= 2147483647 ? 0 : -1;
    case STORE_SORT_PRICE:
        if (klen == 0 || strspn(key, "0123456789.e+-") != klen)
            return -1;
        k->price = strtod(key, &end);
        return *end == '\0' && isfinite(k->price) && k->price >= 0 && k->price <= 1e9 ? 0 : -1;
    }
    return -1;
}

/* The cursor of last's place in lq's order, into out (CURSOR_MAX + 1). */
static int cursor_encode(const struct list_query *lq, const struct item *last, char *out)
{
    char text[CURSOR_TEXT_MAX + 1];
    int n = snprintf(text, sizeof text, "%c%c%lld:", sort_letters[lq->store.sort],
                     lq->store.desc ? 'd' : 'a', (long long)last->id);
    int k = lq->store.sort == STORE_SORT_NAME
                ? snprintf(text + n, sizeof text - (size_t)n, "%s", last->name)
            : lq->store.sort == STORE_SORT_QTY
                ? snprintf(text + n, sizeof text - (size_t)n, "%lld", (long long)last->qty)
            : lq->store.sort == STORE_SORT_PRICE
                ? snprintf(text + n, sizeof text - (size_t)n, "%.17g", last->price)
                : 0;
    if (n < 0 || k < 0 || (size_t)(n + k) >= sizeof text)
        return -1;
    b64_encode((const unsigned char *)text, (size_t)(n + k), out);
    return 0;
}

/* ---- parsing ---------------------------------------------------------------------- */

/* One known parameter's decoded value v (len bytes) into lq. Returns 0,
 * or the detail of what is wrong. */
static const char *set_param(struct list_query *lq, unsigned which, const char *v, size_t len)
{
    switch (which) {
    case QUERY_LIMIT:
        if (len == 0 || len > 3 || v[0] == '0' || strspn(v, "0123456789") != len ||
            atoi(v) > QUERY_LIMIT_MAX)
            return "must be a whole number from 1 to 100, written without sign or leading zero";
        lq->store.limit = (size_t)atoi(v);
        return NULL;
    case QUERY_SORT:
        for (int s = 0; s < 4; s++)
            if (strcmp(v, sort_names[s]) == 0) {
                lq->store.sort = (enum store_sort)s;
                return NULL;
            }
        return "must be one of id, name, qty, price";
    case QUERY_ORDER:
        if (strcmp(v, "asc") != 0 && strcmp(v, "desc") != 0)
            return "must be asc or desc";
        lq->store.desc = v[0] == 'd';
        return NULL;
    case QUERY_NAME: {
        long cp = code_points(v, len);
        if (cp < 1 || cp > QUERY_NAME_MAX)
            return "must be 1 to 200 characters of UTF-8, without U+0000";
        memcpy(lq->name, v, len + 1);
        lq->store.name = lq->name;
        return NULL;
    }
    }
    return "is not a parameter of GET /items";
}

int query_parse(struct http_slice query, struct list_query *lq, cJSON *errors)
{
    static const struct {
        const char *name;
        unsigned bit;
    } params[] = {{"limit", QUERY_LIMIT}, {"sort", QUERY_SORT}, {"order", QUERY_ORDER},
                  {"name", QUERY_NAME},   {"cursor", QUERY_CURSOR}};
    char name[16], value[QUERY_TEXT_MAX + 1];
    struct http_slice cursor = {NULL, 0};
    unsigned bad_bits = 0; /* the known parameters found bad: each listed once */
    int nbad = 0;

    memset(lq, 0, sizeof *lq);
    lq->store.limit = QUERY_LIMIT_DEFAULT;

    for (size_t i = 0; i < query.n;) {
        const char *s = query.p + i, *amp = memchr(s, '&', query.n - i);
        size_t n = amp ? (size_t)(amp - s) : query.n - i;
        i += n + 1;
        if (n == 0)
            continue;
        const char *eq = memchr(s, '=', n);
        size_t nlen = eq ? (size_t)(eq - s) : n;
        const char *raw_v = eq ? eq + 1 : s + n;
        size_t raw_vlen = eq ? n - nlen - 1 : 0;

        unsigned which = 0;
        if (decode(s, nlen, name, sizeof name) >= 0)
            for (size_t k = 0; k < sizeof params / sizeof params[0]; k++)
                if (strcmp(name, params[k].name) == 0)
                    which = params[k].bit;
        if (!which) {
            nbad++;
            if (bad(errors, s, nlen,
                    "is not a parameter of GET /items: it takes limit, sort, order, name and "
                    "cursor") < 0)
                return -1;
            continue;
        }
        const char *why = NULL;
        if (lq->given & which)
            why = "is given twice: give it once";
        lq->given |= which;
        if (which == QUERY_CURSOR) {
            cursor = (struct http_slice){raw_v, raw_vlen}; /* read once sort and order are known */
        } else if (!why) {
            long len = decode(raw_v, raw_vlen, value, sizeof value);
            why = len == -1 ? "has a '%' that is not followed by two hex digits"
                  : len < 0 ? "is too long"
                            : set_param(lq, which, value, (size_t)len);
        }
        if (why && !(bad_bits & which)) {
            bad_bits |= which;
            nbad++;
            if (bad(errors, name, strlen(name), why) < 0)
                return -1;
        }
    }
    if ((lq->given & QUERY_CURSOR) && !(bad_bits & (QUERY_CURSOR | QUERY_SORT | QUERY_ORDER))) {
        if (cursor_decode(cursor.p, cursor.n, lq) < 0) {
            nbad++;
            if (bad(errors, "cursor", 6,
                    "is not a cursor of this list: give back the next link of the page before "
                    "as it is, with the same sort and order") < 0)
                return -1;
        } else {
            lq->store.after = &lq->after;
        }
    }
    return nbad ? -1 : 0;
}

/* ---- the next link ------------------------------------------------------------------ */

/* Appends "name=" and value percent-encoded (RFC 3986 section 2.3: only
 * unreserved characters stay), then '&', to out at *len. */
static int append(char *out, size_t cap, size_t *len, const char *name, const char *value)
{
    int n = snprintf(out + *len, cap - *len, "%s=", name);
    if (n < 0 || (size_t)n >= cap - *len)
        return -1;
    *len += (size_t)n;
    for (const unsigned char *v = (const unsigned char *)value; *v; v++) {
        int plain = (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
                    (*v >= '0' && *v <= '9') || strchr("-._~", *v);
        n = plain ? snprintf(out + *len, cap - *len, "%c", *v)
                  : snprintf(out + *len, cap - *len, "%%%02X", *v);
        if (n < 0 || (size_t)n >= cap - *len)
            return -1;
        *len += (size_t)n;
    }
    if (*len + 1 >= cap)
        return -1;
    out[(*len)++] = '&';
    out[*len] = '\0';
    return 0;
}

int query_next(const struct list_query *lq, const struct item *last, char *out, size_t cap)
{
    char limit[8], cursor[CURSOR_MAX + 1];
    size_t len = 0;
    int n = snprintf(out, cap, "/items?");
    if (n < 0 || (size_t)n >= cap || cursor_encode(lq, last, cursor) < 0)
        return -1;
    len = (size_t)n;
    snprintf(limit, sizeof limit, "%zu", lq->store.limit);
    if (((lq->given & QUERY_LIMIT) && append(out, cap, &len, "limit", limit) < 0) ||
        ((lq->given & QUERY_SORT) &&
         append(out, cap, &len, "sort", sort_names[lq->store.sort]) < 0) ||
        ((lq->given & QUERY_ORDER) &&
         append(out, cap, &len, "order", lq->store.desc ? "desc" : "asc") < 0) ||
        ((lq->given & QUERY_NAME) && append(out, cap, &len, "name", lq->name) < 0) ||
        append(out, cap, &len, "cursor", cursor) < 0)
        return -1;
    out[--len] = '\0'; /* the last '&' */
    return (int)len;
}
