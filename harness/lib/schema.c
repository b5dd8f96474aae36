/* schema -- see schema.h.
 *
 * One recursive walk: check() applies a schema to a value, descending
 * into both together. Two pointers follow it, for the message: where in
 * the value it is (vptr, a JSON Pointer) and where in the document the
 * schema being applied is (sloc, "#/components/schemas/Item/properties/
 * qty"); each descent appends to them and each return cuts them back. */
#define _POSIX_C_SOURCE 200809L
#include "schema.h"

#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Room for a pointer; a longer one is cut (the message says so). */
#define PTR_CAP 512
/* Room for the reason of one branch of anyOf / oneOf. */
#define BRANCH_CAP 320

struct ctx {
    const cJSON *root;
    char *why;           /* where the message goes; NULL: nowhere */
    size_t whylen;
    char vptr[PTR_CAP];  /* where in the value, "" for the whole */
    size_t vlen;
    char sloc[PTR_CAP];  /* where the schema is in root, "#/..." */
    size_t slen;
    int depth;
};

/* ---- pointers --------------------------------------------------------------- */

/* Appends s to buf[0..*len) -- escaped as a JSON Pointer token (~0, ~1)
 * when token is 1 -- cutting at the capacity. */
static void append(char *buf, size_t *len, const char *s, int token)
{
    for (; *s && *len + 3 < PTR_CAP; s++) {
        if (token && (*s == '~' || *s == '/')) {
            buf[(*len)++] = '~';
            buf[(*len)++] = *s == '~' ? '0' : '1';
        } else {
            buf[(*len)++] = *s;
        }
    }
    buf[*len] = '\0';
}

/* Appends "/token" to a pointer; returns the length to cut back to. */
static size_t push(char *buf, size_t *len, const char *token)
{
    size_t old = *len;
    append(buf, len, "/", 0);
    append(buf, len, token, 1);
    return old;
}

static size_t push_index(char *buf, size_t *len, int i)
{
    char n[16];
    snprintf(n, sizeof n, "%d", i);
    return push(buf, len, n);
}

static void pop(char *buf, size_t *len, size_t old)
{
    *len = old;
    buf[old] = '\0';
}

/* Finds the path from node to target (by identity) and appends it to
 * buf; 1 when found. For the location of the schema a caller passes. */
static int find(const cJSON *node, const cJSON *target, char *buf, size_t *len)
{
    if (node == target)
        return 1;
    int i = 0;
    for (const cJSON *m = node ? node->child : NULL; m; m = m->next, i++) {
        size_t old = cJSON_IsObject(node) ? push(buf, len, m->string ? m->string : "")
                                          : push_index(buf, len, i);
        if (find(m, target, buf, len))
            return 1;
        pop(buf, len, old);
    }
    return 0;
}

/* Decodes one RFC 6901 token tok[0..n) (~1 is /, ~0 is ~) into out. */
static int unescape_token(const char *tok, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= cap)
            return -1;
        if (tok[i] == '~') {
            if (i + 1 >= n || (tok[i + 1] != '0' && tok[i + 1] != '1'))
                return -1;
            out[o++] = tok[i + 1] == '0' ? '~' : '/';
            i++;
        } else {
            out[o++] = tok[i];
        }
    }
    out[o] = '\0';
    return 0;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

const cJSON *schema_resolve(const cJSON *root, const char *ref)
{
    char path[PTR_CAP], tok[PTR_CAP];
    size_t n = 0;
    if (!root || !ref || ref[0] != '#')
        return NULL;
    /* The fragment is a URI's: %XX first. */
    for (const char *s = ref + 1; *s; s++) {
        if (n + 1 >= sizeof path)
            return NULL;
        if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
            path[n++] = (char)(hexval(s[1]) * 16 + hexval(s[2]));
            s += 2;
        } else {
            path[n++] = *s;
        }
    }
    path[n] = '\0';
    if (n > 0 && path[0] != '/')
        return NULL;
    const cJSON *node = root;
    const char *p = path;
    while (*p == '/' && node) {
        const char *start = ++p;
        while (*p && *p != '/')
            p++;
        if (unescape_token(start, (size_t)(p - start), tok, sizeof tok) < 0)
            return NULL;
        if (cJSON_IsObject(node)) {
            node = cJSON_GetObjectItemCaseSensitive(node, tok);
        } else if (cJSON_IsArray(node)) {
            char *end;
            long i = strtol(tok, &end, 10);
            if (!*tok || *end || i < 0 || (tok[0] == '0' && tok[1]))
                return NULL;
            node = cJSON_GetArrayItem(node, (int)i);
        } else {
            return NULL;
        }
    }
    return node;
}

/* ---- messages ------------------------------------------------------------- */

/* v printed without whitespace, cut to fit out[0..cap). */
static const char *show(const cJSON *v, char *out, size_t cap)
{
    char *s = v ? cJSON_PrintUnformatted(v) : NULL;
    if (!s) {
        snprintf(out, cap, "%s", v ? "(a value)" : "(nothing)");
        return out;
    }
    size_t len = strlen(s);
    if (len < cap)
        memcpy(out, s, len + 1);
    else
        snprintf(out, cap, "%.*s...", (int)(cap > 4 ? cap - 4 : 0), s);
    cJSON_free(s);
    return out;
}

static const char *type_of(const cJSON *v)
{
    return cJSON_IsObject(v)   ? "an object"
           : cJSON_IsArray(v)  ? "an array"
           : cJSON_IsString(v) ? "a string"
           : cJSON_IsNumber(v) ? "a number"
           : cJSON_IsBool(v)   ? "a boolean"
           : cJSON_IsNull(v)   ? "null"
                               : "nothing";
}

/* SCHEMA_INVALID, with why = at "<vptr>": <what> (rule "<kw>": <rule> at
 * <sloc>). rule may be NULL (no value shown). */
static int fail(struct ctx *c, const char *kw, const cJSON *rule, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fail(struct ctx *c, const char *kw, const cJSON *rule, const char *fmt, ...)
{
    if (!c->why || c->whylen == 0)
        return SCHEMA_INVALID;
    char what[768], r[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (rule)
        snprintf(c->why, c->whylen, "at \"%s\": %s (rule \"%s\": %s at %s)", c->vptr, what, kw,
                 show(rule, r, sizeof r), c->sloc);
    else
        snprintf(c->why, c->whylen, "at \"%s\": %s (rule \"%s\" at %s)", c->vptr, what, kw,
                 c->sloc);
    return SCHEMA_INVALID;
}

/* SCHEMA_BAD, with why = the schema at <sloc>: <what>. */
static int bad(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct ctx *c, const char *fmt, ...)
{
    if (!c->why || c->whylen == 0)
        return SCHEMA_BAD;
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->why, c->whylen, "the schema at %s cannot be used: %s", c->sloc, what);
    return SCHEMA_BAD;
}

/* ---- the rules ---------------------------------------------------------------- */

static int check(struct ctx *c, const cJSON *s, const cJSON *v);

/* s applied to v with "/kw" (and "/sub" when not NULL) added to sloc. */
static int check_sub(struct ctx *c, const cJSON *s, const cJSON *v, const char *kw,
                     const char *sub)
{
    size_t old = push(c->sloc, &c->slen, kw);
    if (sub)
        push(c->sloc, &c->slen, sub);
    int rc = check(c, s, v);
    pop(c->sloc, &c->slen, old);
    return rc;
}

/* No fraction: every double beyond 2^63 is an integer, and below it the
 * conversion is exact for those that are (no libm needed). */
static int is_integer(double d)
{
    if (!isfinite(d))
        return 0;
    if (d >= 9.2e18 || d <= -9.2e18)
        return 1;
    return d == (double)(long long)d;
}

static int has_type(const cJSON *v, const char *t)
{
    return strcmp(t, "object") == 0    ? cJSON_IsObject(v)
           : strcmp(t, "array") == 0   ? cJSON_IsArray(v)
           : strcmp(t, "string") == 0  ? cJSON_IsString(v)
           : strcmp(t, "number") == 0  ? cJSON_IsNumber(v)
           : strcmp(t, "integer") == 0 ? cJSON_IsNumber(v) && is_integer(v->valuedouble)
           : strcmp(t, "boolean") == 0 ? cJSON_IsBool(v)
           : strcmp(t, "null") == 0    ? cJSON_IsNull(v)
                                       : -1;
}

static int check_type(struct ctx *c, const cJSON *t, const cJSON *v)
{
    char shown[96];
    int ok = 0;
    if (cJSON_IsString(t)) {
        ok = has_type(v, t->valuestring);
    } else if (cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0) {
        const cJSON *e;
        cJSON_ArrayForEach(e, t)
        {
            int h = cJSON_IsString(e) ? has_type(v, e->valuestring) : -1;
            if (h < 0)
                return bad(c, "\"type\" lists something that is not a type name");
            ok |= h;
        }
    } else {
        return bad(c, "\"type\" must be a type name or a list of them");
    }
    if (ok < 0)
        return bad(c, "\"type\": \"%s\" is not a type name", t->valuestring);
    if (ok)
        return SCHEMA_OK;
    if (cJSON_IsNumber(v) && cJSON_IsString(t) && strcmp(t->valuestring, "integer") == 0)
        return fail(c, "type", t, "%s is not an integer (it has a fraction)",
                    show(v, shown, sizeof shown));
    if (cJSON_IsNull(v))
        return fail(c, "type", t, "null is not of the type allowed");
    return fail(c, "type", t, "%s %s is not of the type allowed", type_of(v),
                show(v, shown, sizeof shown));
}

static int check_enum(struct ctx *c, const cJSON *e, const cJSON *v)
{
    char shown[96];
    if (!cJSON_IsArray(e))
        return bad(c, "\"enum\" must be an array");
    const cJSON *x;
    cJSON_ArrayForEach(x, e)
        if (cJSON_Compare(x, v, 1))
            return SCHEMA_OK;
    return fail(c, "enum", e, "%s is not one of the values allowed",
                show(v, shown, sizeof shown));
}

/* Unicode code points in a UTF-8 string: the bytes that do not continue one. */
static size_t code_points(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static int check_pattern(struct ctx *c, const cJSON *pat, const char *s)
{
    char shown[96], err[128];
    regex_t re;
    if (!cJSON_IsString(pat))
        return bad(c, "\"pattern\" must be a string");
    int rc = regcomp(&re, pat->valuestring, REG_EXTENDED | REG_NOSUB);
    if (rc != 0) {
        regerror(rc, &re, err, sizeof err);
        return bad(c, "regcomp() refuses \"pattern\": \"%s\": %s", pat->valuestring, err);
    }
    rc = regexec(&re, s, 0, NULL, 0);
    regfree(&re);
    if (rc == 0)
        return SCHEMA_OK;
    cJSON tmp;
    memset(&tmp, 0, sizeof tmp);
    tmp.type = cJSON_String;
    tmp.valuestring = (char *)s; /* shown only; show() does not change it */
    return fail(c, "pattern", pat, "%s does not match the pattern",
                show(&tmp, shown, sizeof shown));
}

/* A keyword whose value must be a number: 1 and *d set when present,
 * 0 when absent, SCHEMA_BAD when it is there but no number. */
static int number_kw(struct ctx *c, const cJSON *s, const char *kw, double *d)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(s, kw);
    if (!k)
        return 0;
    if (!cJSON_IsNumber(k))
        return bad(c, "\"%s\" must be a number", kw);
    *d = k->valuedouble;
    return 1;
}

static int check_string(struct ctx *c, const cJSON *s, const cJSON *v)
{
    double min = 0, max = 0;
    int rc;
    size_t n = code_points(v->valuestring ? v->valuestring : "");
    if ((rc = number_kw(c, s, "minLength", &min)) < 0)
        return rc;
    if (rc && (double)n < min)
        return fail(c, "minLength", cJSON_GetObjectItemCaseSensitive(s, "minLength"),
                    "the string has %zu characters, fewer than allowed", n);
    if ((rc = number_kw(c, s, "maxLength", &max)) < 0)
        return rc;
    if (rc && (double)n > max)
        return fail(c, "maxLength", cJSON_GetObjectItemCaseSensitive(s, "maxLength"),
                    "the string has %zu characters, more than allowed", n);
    const cJSON *pat = cJSON_GetObjectItemCaseSensitive(s, "pattern");
    return pat ? check_pattern(c, pat, v->valuestring ? v->valuestring : "") : SCHEMA_OK;
}

static int check_number(struct ctx *c, const cJSON *s, const cJSON *v)
{
    static const struct {
        const char *kw;
        int below, equal_ok; /* fails when v < lim (below) or v > lim, or equal unless ok */
        const char *what;
    } bounds[] = {
        {"minimum", 1, 1, "below the minimum"},
        {"exclusiveMinimum", 1, 0, "not above the exclusive minimum"},
        {"maximum", 0, 1, "above the maximum"},
        {"exclusiveMaximum", 0, 0, "not below the exclusive maximum"},
    };
    char shown[96];
    double d = v->valuedouble, lim = 0;
    for (size_t i = 0; i < sizeof bounds / sizeof bounds[0]; i++) {
        int rc = number_kw(c, s, bounds[i].kw, &lim);
        if (rc < 0)
            return rc;
        if (!rc)
            continue;
        int out = bounds[i].below ? d < lim : d > lim;
        if (!bounds[i].equal_ok && d == lim)
            out = 1;
        if (out || !isfinite(d))
            return fail(c, bounds[i].kw, cJSON_GetObjectItemCaseSensitive(s, bounds[i].kw),
                        "%s is %s", show(v, shown, sizeof shown), bounds[i].what);
    }
    int rc = number_kw(c, s, "multipleOf", &lim);
    if (rc < 0)
        return rc;
    if (rc && (lim <= 0 || !is_integer(d / lim)))
        return lim <= 0 ? bad(c, "\"multipleOf\" must be above 0")
                        : fail(c, "multipleOf", cJSON_GetObjectItemCaseSensitive(s, "multipleOf"),
                               "%s is not a multiple", show(v, shown, sizeof shown));
    return SCHEMA_OK;
}

/* Does a member of obj before m have m's name? */
static int named_before(const cJSON *obj, const cJSON *m)
{
    for (const cJSON *p = obj->child; p && p != m; p = p->next)
        if (p->string && m->string && strcmp(p->string, m->string) == 0)
            return 1;
    return 0;
}

/* The names of the members of props, for a message. */
static const char *names_of(const cJSON *props, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    const cJSON *m;
    cJSON_ArrayForEach(m, props)
    {
        int n = snprintf(out + len, cap - len, "%s%s", len ? ", " : "", m->string);
        if (n < 0 || (size_t)n >= cap - len)
            break;
        len += (size_t)n;
    }
    return len ? out : "(none)";
}

static int check_object(struct ctx *c, const cJSON *s, const cJSON *v)
{
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties");
    const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required");
    const cJSON *addl = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
    const cJSON *m;
    double lim = 0;
    int rc, n = cJSON_GetArraySize(v);
    char names[256];

    if (props && !cJSON_IsObject(props))
        return bad(c, "\"properties\" must be an object");
    if (req && !cJSON_IsArray(req))
        return bad(c, "\"required\" must be an array of names");
    cJSON_ArrayForEach(m, v)
    {
        if (named_before(v, m)) {
            size_t old = push(c->vptr, &c->vlen, m->string);
            rc = fail(c, "(I-JSON)", NULL, "the member \"%s\" appears twice in the object "
                      "(RFC 7493 section 2.3: names must be unique)", m->string);
            pop(c->vptr, &c->vlen, old);
            return rc;
        }
    }
    const cJSON *r;
    cJSON_ArrayForEach(r, req)
    {
        if (!cJSON_IsString(r))
            return bad(c, "\"required\" must be an array of names");
        if (!cJSON_GetObjectItemCaseSensitive(v, r->valuestring))
            return fail(c, "required", req, "the member \"%s\" is missing", r->valuestring);
    }
    if ((rc = number_kw(c, s, "minProperties", &lim)) < 0)
        return rc;
    if (rc && n < lim)
        return fail(c, "minProperties", cJSON_GetObjectItemCaseSensitive(s, "minProperties"),
                    "the object has %d members, fewer than allowed", n);
    if ((rc = number_kw(c, s, "maxProperties", &lim)) < 0)
        return rc;
    if (rc && n > lim)
        return fail(c, "maxProperties", cJSON_GetObjectItemCaseSensitive(s, "maxProperties"),
                    "the object has %d members, more than allowed", n);
    cJSON_ArrayForEach(m, v)
    {
        const cJSON *p = props ? cJSON_GetObjectItemCaseSensitive(props, m->string) : NULL;
        size_t old = push(c->vptr, &c->vlen, m->string);
        rc = SCHEMA_OK;
        if (p) {
            rc = check_sub(c, p, m, "properties", m->string);
        } else if (cJSON_IsFalse(addl)) {
            size_t olds = push(c->sloc, &c->slen, "additionalProperties");
            rc = fail(c, "additionalProperties", addl, "the object may not have a member "
                      "\"%s\": its members are %s", m->string,
                      names_of(props, names, sizeof names));
            pop(c->sloc, &c->slen, olds);
        } else if (addl) {
            rc = check_sub(c, addl, m, "additionalProperties", NULL);
        }
        pop(c->vptr, &c->vlen, old);
        if (rc != SCHEMA_OK)
            return rc;
    }
    return SCHEMA_OK;
}

static int check_array(struct ctx *c, const cJSON *s, const cJSON *v)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
    const cJSON *uniq = cJSON_GetObjectItemCaseSensitive(s, "uniqueItems");
    double lim = 0;
    int rc, n = cJSON_GetArraySize(v);
    if ((rc = number_kw(c, s, "minItems", &lim)) < 0)
        return rc;
    if (rc && n < lim)
        return fail(c, "minItems", cJSON_GetObjectItemCaseSensitive(s, "minItems"),
                    "the array has %d elements, fewer than allowed", n);
    if ((rc = number_kw(c, s, "maxItems", &lim)) < 0)
        return rc;
    if (rc && n > lim)
        return fail(c, "maxItems", cJSON_GetObjectItemCaseSensitive(s, "maxItems"),
                    "the array has %d elements, more than allowed", n);
    if (items && cJSON_IsArray(items))
        return bad(c, "\"items\" as an array is draft 4's tuple form (2020-12: prefixItems), "
                      "which this checker does not take");
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, v)
    {
        if (cJSON_IsTrue(uniq)) {
            int j = 0;
            for (const cJSON *f = v->child; f != e; f = f->next, j++)
                if (cJSON_Compare(f, e, 1))
                    return fail(c, "uniqueItems", uniq, "elements %d and %d are equal", j, i);
        }
        if (items) {
            size_t old = push_index(c->vptr, &c->vlen, i);
            rc = check_sub(c, items, e, "items", NULL);
            pop(c->vptr, &c->vlen, old);
            if (rc != SCHEMA_OK)
                return rc;
        }
        i++;
    }
    return SCHEMA_OK;
}

/* anyOf (want 0: at least one), oneOf (want 1: exactly one), allOf (want
 * -1: every one). */
static int check_combined(struct ctx *c, const cJSON *list, const cJSON *v, const char *kw,
                          int want)
{
    char *why = c->why;
    size_t whylen = c->whylen;
    char reasons[3 * BRANCH_CAP], branch[BRANCH_CAP], shown[96];
    size_t rlen = 0;
    int matched = 0, first = -1, second = -1, i = 0, rc = SCHEMA_OK;

    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) == 0)
        return bad(c, "\"%s\" must be a non-empty array of schemas", kw);
    reasons[0] = '\0';
    const cJSON *s;
    cJSON_ArrayForEach(s, list)
    {
        char idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        if (want < 0) {
            rc = check_sub(c, s, v, kw, idx);
            if (rc != SCHEMA_OK)
                return rc; /* allOf: the branch's own message */
            i++;
            continue;
        }
        c->why = branch;
        c->whylen = sizeof branch;
        branch[0] = '\0';
        rc = check_sub(c, s, v, kw, idx);
        c->why = why;
        c->whylen = whylen;
        if (rc == SCHEMA_BAD) {
            if (why && whylen)
                snprintf(why, whylen, "%s", branch);
            return rc;
        }
        if (rc == SCHEMA_OK) {
            matched++;
            if (first < 0)
                first = i;
            else if (second < 0)
                second = i;
        } else if (rlen + 1 < sizeof reasons) {
            int n = snprintf(reasons + rlen, sizeof reasons - rlen, "%s[%d] %s", rlen ? "; " : "",
                             i, branch);
            if (n > 0)
                rlen += (size_t)n;
            if (rlen >= sizeof reasons)
                rlen = sizeof reasons - 1; /* cut: snprintf stopped there */
        }
        i++;
    }
    if (want < 0 || (want == 0 && matched > 0) || (want == 1 && matched == 1))
        return SCHEMA_OK;
    if (matched == 0)
        return fail(c, kw, NULL, "%s matches none of the %d schemas of %s: %s",
                    show(v, shown, sizeof shown), i, kw, reasons);
    return fail(c, kw, NULL, "%s matches more than one of the schemas of oneOf (%d and %d); "
                "exactly one must match", show(v, shown, sizeof shown), first, second);
}

/* Assertions that change what is valid and are not implemented here: a
 * schema using one is refused rather than half-checked. */
static const char *const unsupported[] = {
    "if", "then", "else", "prefixItems", "contains", "minContains", "maxContains",
    "patternProperties", "propertyNames", "dependentRequired", "dependentSchemas",
    "unevaluatedProperties", "unevaluatedItems", "$dynamicRef", "$recursiveRef", "nullable",
};

static int check_keywords(struct ctx *c, const cJSON *s, const cJSON *v)
{
    const cJSON *k;
    int rc;
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (cJSON_GetObjectItemCaseSensitive(s, unsupported[i]))
            return bad(c, "\"%s\" is not implemented by this checker%s", unsupported[i],
                       strcmp(unsupported[i], "nullable") == 0
                           ? " (it is OpenAPI 3.0's: in 3.1 write \"type\": [..., \"null\"])"
                           : "");
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "$ref"))) {
        const cJSON *target = cJSON_IsString(k) ? schema_resolve(c->root, k->valuestring) : NULL;
        if (!target)
            return bad(c, "\"$ref\": \"%s\" names nothing in the document",
                       cJSON_IsString(k) ? k->valuestring : "(not a string)");
        /* The target is where the rules are: its own location. */
        char saved[PTR_CAP];
        size_t savedlen = c->slen;
        memcpy(saved, c->sloc, c->slen + 1);
        c->slen = 0;
        append(c->sloc, &c->slen, k->valuestring, 0);
        rc = check(c, target, v);
        memcpy(c->sloc, saved, savedlen + 1);
        c->slen = savedlen;
        if (rc != SCHEMA_OK)
            return rc;
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "type")) && (rc = check_type(c, k, v)) != 0)
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "const")) && !cJSON_Compare(k, v, 1)) {
        char shown[96];
        return fail(c, "const", k, "%s is not the one value allowed", show(v, shown, sizeof shown));
    }
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum")) && (rc = check_enum(c, k, v)) != 0)
        return rc;
    if (cJSON_IsString(v) && (rc = check_string(c, s, v)) != 0)
        return rc;
    if (cJSON_IsNumber(v) && (rc = check_number(c, s, v)) != 0)
        return rc;
    if (cJSON_IsObject(v) && (rc = check_object(c, s, v)) != 0)
        return rc;
    if (cJSON_IsArray(v) && (rc = check_array(c, s, v)) != 0)
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "allOf")) &&
        (rc = check_combined(c, k, v, "allOf", -1)) != 0)
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "anyOf")) &&
        (rc = check_combined(c, k, v, "anyOf", 0)) != 0)
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "oneOf")) &&
        (rc = check_combined(c, k, v, "oneOf", 1)) != 0)
        return rc;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "not"))) {
        char *why = c->why;
        size_t whylen = c->whylen;
        c->why = NULL;
        c->whylen = 0;
        rc = check_sub(c, k, v, "not", NULL);
        c->why = why;
        c->whylen = whylen;
        if (rc == SCHEMA_BAD)
            return check_sub(c, k, v, "not", NULL); /* again, for its message */
        if (rc == SCHEMA_OK) {
            char shown[96];
            return fail(c, "not", k, "%s matches a schema it must not match",
                        show(v, shown, sizeof shown));
        }
    }
    return SCHEMA_OK;
}

static int check(struct ctx *c, const cJSON *s, const cJSON *v)
{
    if (cJSON_IsTrue(s))
        return SCHEMA_OK;
    if (cJSON_IsFalse(s))
        return fail(c, "false", NULL, "nothing is allowed here");
    if (!cJSON_IsObject(s))
        return bad(c, "a schema must be an object, true or false");
    if (c->depth >= SCHEMA_MAX_DEPTH)
        return bad(c, "schemas nested more than %d deep: a $ref that leads back to itself?",
                   SCHEMA_MAX_DEPTH);
    c->depth++;
    int rc = check_keywords(c, s, v);
    c->depth--;
    return rc;
}

int schema_check(const cJSON *root, const cJSON *schema, const cJSON *value, char *why,
                 size_t whylen)
{
    struct ctx *c = calloc(1, sizeof *c);
    if (!c) {
        if (why && whylen)
            snprintf(why, whylen, "schema_check: out of memory");
        return SCHEMA_BAD;
    }
    c->root = root;
    c->why = why;
    c->whylen = whylen;
    if (why && whylen)
        why[0] = '\0';
    /* Where the caller's schema is in root, for the messages. */
    append(c->sloc, &c->slen, "#", 0);
    if (!root || !find(root, schema, c->sloc, &c->slen)) {
        c->slen = 0;
        append(c->sloc, &c->slen, "(the schema given)", 0);
    }
    int rc = schema && value ? check(c, schema, value)
                             : bad(c, "schema_check() needs a schema and a value");
    free(c);
    return rc;
}
