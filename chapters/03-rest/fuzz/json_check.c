/* json_check -- a libFuzzer target for the strict JSON validator, with
 * cJSON as a second opinion.
 *
 *   make fuzz CHAPTER=rest                  the reference, FUZZ_TIME seconds
 *   make fuzz CHAPTER=rest IMPL=learner     your own json_check()
 *
 * Besides crashes and sanitizer reports (json_check() gets an exactly-sized
 * copy: a read past len is one), it checks:
 *  - the contract: -1 with a reason and an offset no greater than len, or
 *    0 with counts inside the limits;
 *  - the offset is the first bad byte: the text cut there is either valid
 *    or ends too early -- refused at its new end;
 *  - the limits: smaller ones refuse no later, and accept only what the
 *    API's limits accept, with the same counts;
 *  - the differential oracle: every text json_check() accepts, cJSON
 *    parses to its end, into a tree of as many values and as deep as
 *    json_check() counted; and the tree printed, parsed again and printed
 *    again gives the same text and the same tree (a round trip). cJSON
 *    accepts much more than json_check() (that is why json_check() exists),
 *    so a refusal proves nothing either way and is not compared.
 * A failed check prints what failed and aborts: libFuzzer keeps the input.
 * The same input then goes to query_parse() as a query string (query.c). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "json_check.h"

void fuzz_query(const uint8_t *data, size_t size);

static const struct json_limits api = {JSON_MAX_DEPTH, JSON_MAX_VALUES};

static void fail(const char *what, const char *text, size_t len)
{
    fprintf(stderr, "json_check fuzz: %s\n  input (%zu bytes): %.*s\n", what, len,
            len > 200 ? 200 : (int)len, text);
    abort();
}

/* The contract of one call's result. */
static void check_result(int rc, const struct json_result *r, const struct json_limits *lim,
                         const char *text, size_t len)
{
    int max_depth = lim->max_depth < 0 ? 0 : lim->max_depth;
    if (max_depth > JSON_MAX_DEPTH)
        max_depth = JSON_MAX_DEPTH;
    if (rc == -1) {
        if (r->offset > len || !r->reason || !r->reason[0])
            fail("refused, but the offset is past len or the reason is missing", text, len);
    } else if (rc == 0) {
        if (r->values < 1 || r->values > lim->max_values || r->depth < 0 ||
            r->depth > max_depth || r->nul_escapes > len / 6)
            fail("accepted, but values, depth or nul_escapes are out of range", text, len);
    } else {
        fail("returned neither 0 nor -1", text, len);
    }
}

/* ---- cJSON's tree ------------------------------------------------------ */

/* Values in the tree (every node) and the deepest container level. The
 * recursion is bounded: json_check() accepted at most JSON_MAX_DEPTH. */
static void measure(const cJSON *j, int level, size_t *nodes, int *deepest)
{
    (*nodes)++;
    if (cJSON_IsArray(j) || cJSON_IsObject(j)) {
        level++;
        if (level > *deepest)
            *deepest = level;
        for (const cJSON *c = j->child; c; c = c->next)
            measure(c, level, nodes, deepest);
    }
}

static int all_finite(const cJSON *j)
{
    if (cJSON_IsNumber(j) && !isfinite(j->valuedouble))
        return 0;
    for (const cJSON *c = j->child; c; c = c->next)
        if (!all_finite(c))
            return 0;
    return 1;
}

/* Two trees alike, member by member in order. (cJSON_Compare() looks
 * members up by name, so it calls {"a":1,"a":2} unequal to itself.)
 * Numbers as cJSON prints them: 15 significant digits when they read back
 * within DBL_EPSILON, else 17 -- so alike means within a few epsilons. */
static int same(const cJSON *a, const cJSON *b)
{
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return 0;
    if ((a->string == NULL) != (b->string == NULL) ||
        (a->string && strcmp(a->string, b->string) != 0))
        return 0;
    if (cJSON_IsNumber(a)) {
        double x = a->valuedouble, y = b->valuedouble;
        return fabs(x - y) <= fmax(fabs(x), fabs(y)) * 4 * DBL_EPSILON;
    }
    if (cJSON_IsString(a))
        return strcmp(a->valuestring, b->valuestring) == 0;
    const cJSON *x = a->child, *y = b->child;
    for (; x && y; x = x->next, y = y->next)
        if (!same(x, y))
            return 0;
    return x == NULL && y == NULL;
}

/* RFC 8259 whitespace. */
static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* cJSON on what json_check() accepted with the API's limits (r). */
static void oracle(const char *text, size_t len, const struct json_result *r)
{
    /* cJSON gets its own copy with a NUL after it: some cJSON versions
     * read one byte past the length they are given (CVE-2023-53154), and
     * this target looks for json_check()'s bugs, not cJSON's. */
    char *z = malloc(len + 1);
    if (!z)
        return;
    memcpy(z, text, len);
    z[len] = '\0';
    const char *end = NULL;
    cJSON *tree = cJSON_ParseWithLengthOpts(z, len, &end, 0);
    if (!tree)
        fail("json_check() accepted it, cJSON refuses it", text, len);
    while (end < z + len && is_ws(*end))
        end++;
    if (end != z + len)
        fail("json_check() accepted it, cJSON stops before its end", text, len);

    size_t nodes = 0;
    int deepest = 0;
    measure(tree, 0, &nodes, &deepest);
    if (nodes != r->values || deepest != r->depth)
        fail("cJSON's tree has another number of values, or another depth, than "
             "json_check() counted", text, len);

    /* The round trip. Skipped where cJSON is known to lose what the text
     * says, so that the trees could not agree with the text anyway:
     *  - a number beyond the range of a double becomes infinity, and
     *    prints as null: the reprinted tree holds null where a number was;
     *  - "\u0000" cuts cJSON's C string short: both trees hold the cut
     *    string, and comparing them would say nothing about the text. The
     *    API refuses such strings (stage 4). */
    if (all_finite(tree) && r->nul_escapes == 0) {
        char *once = cJSON_PrintUnformatted(tree);
        cJSON *again = once ? cJSON_Parse(once) : NULL;
        char *twice = again ? cJSON_PrintUnformatted(again) : NULL;
        if (!once || !again || !twice)
            fail("cJSON cannot print and parse again what it parsed", text, len);
        if (strcmp(once, twice) != 0 || !same(tree, again))
            fail("cJSON's round trip changed the value", text, len);
        cJSON_free(twice);
        cJSON_Delete(again);
        cJSON_free(once);
    }
    cJSON_Delete(tree);
    free(z);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: reading one byte past it is an ASan report. */
    char *text = malloc(size ? size : 1);
    if (!text)
        return 0;
    memcpy(text, data, size);

    struct json_result r;
    int rc = json_check(text, size, &api, &r);
    check_result(rc, &r, &api, text, size);

    /* The offset is the first byte that cannot be right: everything
     * before it is the start of some valid text. */
    if (rc == -1 && r.offset < size) {
        struct json_result cut;
        int c = json_check(text, r.offset, &api, &cut);
        check_result(c, &cut, &api, text, r.offset);
        if (c == -1 && cut.offset != r.offset)
            fail("cut at its error offset, the text is refused somewhere else than at its "
                 "new end: the offset was not the first bad byte", text, size);
    }

    /* Smaller limits, from the first byte: depth -3..36 (below 0 and above
     * JSON_MAX_DEPTH too), values 0..63. */
    unsigned char b = size ? (unsigned char)text[0] : 0;
    struct json_limits small = {(int)(b % 40) - 3, (size_t)(b % 64)};
    int eff_depth = small.max_depth < 0               ? 0
                    : small.max_depth > JSON_MAX_DEPTH ? JSON_MAX_DEPTH
                                                       : small.max_depth;
    struct json_result s;
    int sc = json_check(text, size, &small, &s);
    check_result(sc, &s, &small, text, size);
    if (sc == 0 && (rc != 0 || s.values != r.values || s.depth != r.depth ||
                    s.nul_escapes != r.nul_escapes))
        fail("accepted with smaller limits, but not alike with the API's", text, size);
    if (rc == 0 && sc != 0 && r.values <= small.max_values && r.depth <= eff_depth)
        fail("within the smaller limits, but refused with them", text, size);
    if (rc == -1 && sc == -1 && s.offset > r.offset)
        fail("smaller limits refused it later than the API's", text, size);

    if (rc == 0)
        oracle(text, size, &r);
    free(text);
    fuzz_query(data, size); /* the same bytes as a query string: fuzz/query.c */
    return 0;
}
