/* json_check -- a strict JSON validator: the grammar of RFC 8259, UTF-8 as
 * RFC 3629 defines it, and caps on nesting and on the number of values.
 * See json_check.h for the contract.
 *
 * It is one loop over the bytes with an explicit stack, not a recursive
 * parser. A recursive parser spends a C stack frame on every '[', and a
 * body of 100000 of them would crash it; cJSON guards against that with
 * its own nesting limit of 1000. Here the stack is a fixed array of
 * JSON_MAX_DEPTH bytes, one per open array or object, so a max_depth above
 * JSON_MAX_DEPTH counts as JSON_MAX_DEPTH (clamped, not refused: the
 * caller still gets an answer, with the deepest limit this code can keep).
 *
 * Each byte is looked at once, left to right. Nothing is allocated or
 * copied, and nothing at or past len is read: the text need not end with a
 * NUL. What it deliberately does not do: build values (cJSON does that,
 * after this check), decide what numbers mean (1e999 is valid JSON; the API
 * refuses it in stage 4), or notice duplicate member names (stage 4 too). */
#include "json_check.h"

#include <string.h>

/* The reasons, one constant phrase per kind of fault: the API puts them
 * into the problem's "detail", so they are written for the client's
 * programmer. */
#define R_EMPTY "no value: the text is empty or only whitespace"
#define R_END "the text ended too early"
#define R_END_STRING "the text ended inside a string"
#define R_AFTER "bytes after the value"
#define R_NOT_VALUE "not the start of a value"
#define R_MISSING "a value is missing before the closing bracket"
#define R_NAME "a member name must be a string"
#define R_TRAILING "a comma before '}' (a member is missing)"
#define R_COLON "a ':' must follow a member name"
#define R_COMMA_ARRAY "a ',' or ']' must follow a value in an array"
#define R_COMMA_OBJECT "a ',' or '}' must follow a value in an object"
#define R_CONTROL "a control character outside a string (whitespace is space, tab, LF, CR)"
#define R_NON_ASCII "a byte that is not ASCII outside a string"
#define R_BOM "a byte order mark (RFC 8259 section 8.1: do not send one)"
#define R_LITERAL "a misspelled literal (true, false or null)"
#define R_LEADING_ZERO "a leading zero"
#define R_MINUS "a digit must follow the minus sign"
#define R_FRACTION "a digit must follow the decimal point"
#define R_EXPONENT "a digit must follow the exponent"
#define R_RAW_CONTROL "a raw control character in a string"
#define R_ESCAPE "a bad escape"
#define R_HEX "a \\u escape needs 4 hex digits"
#define R_SURROGATE "a lone surrogate escape"
#define R_UTF8 "invalid UTF-8"
#define R_DEPTH "nesting deeper than the limit"
#define R_VALUES "more values than the limit"

/* What the next token must be. */
enum want {
    WANT_VALUE,      /* at the start, after ':' and after ',' in an array */
    WANT_FIRST_ITEM, /* after '[': a value or ']' */
    WANT_FIRST_NAME, /* after '{': a member name or '}' */
    WANT_NAME,       /* after ',' in an object */
    WANT_NEXT,       /* after a value: ',' or the container's closing bracket */
};

/* The whole state of a check. Invariant: i <= len, and p[i] is read only
 * after a test that i < len. */
struct scan {
    const unsigned char *p;
    size_t len;
    size_t i;                           /* the next byte to look at */
    int depth, deepest, max_depth;
    size_t values, max_values, nul_escapes;
    unsigned char open[JSON_MAX_DEPTH]; /* the closing bracket each open container waits for */
    size_t err_at;                      /* the first fault: where, and why */
    const char *why;
};

static int fail(struct scan *s, size_t at, const char *why)
{
    s->err_at = at;
    s->why = why;
    return -1;
}

/* Fails at the byte p[i] that cannot come here. Bytes that no token starts
 * with get their own reason, whatever was expected: a control character
 * where whitespace might have been meant, a byte that is not ASCII. */
static int unexpected(struct scan *s, const char *why)
{
    unsigned char c = s->p[s->i];
    if (c < 0x20)
        why = R_CONTROL;
    else if (c >= 0x80)
        why = s->i == 0 && s->len >= 3 && memcmp(s->p, "\xEF\xBB\xBF", 3) == 0 ? R_BOM
                                                                            : R_NON_ASCII;
    return fail(s, s->i, why);
}

/* RFC 8259 section 2: whitespace is these four bytes and no others. cJSON
 * skips every byte up to 0x20, so NUL, form feed and vertical tab pass
 * there; a server that accepts what it should not makes every other
 * parser on the way disagree with it. */
static void skip_ws(struct scan *s)
{
    while (s->i < s->len) {
        unsigned char c = s->p[s->i];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return;
        s->i++;
    }
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int hex_value(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* RFC 8259 section 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
 * cJSON hands the bytes to strtod(), which also takes "01", "-01", "1."
 * and "-.5" (and "2.e3"); other parsers refuse them, so a client that
 * sends them is relying on an accident. */
static int scan_number(struct scan *s)
{
    const unsigned char *p = s->p;
    size_t i = s->i, n = s->len;

    if (p[i] == '-' && ++i == n)
        return fail(s, n, R_END);
    if (p[i] == '0') {
        if (++i < n && is_digit(p[i]))
            return fail(s, i, R_LEADING_ZERO);
    } else if (is_digit(p[i])) {
        while (++i < n && is_digit(p[i]))
            ;
    } else {
        return fail(s, i, R_MINUS);
    }
    if (i < n && p[i] == '.') {
        if (++i == n)
            return fail(s, n, R_END);
        if (!is_digit(p[i]))
            return fail(s, i, R_FRACTION);
        while (++i < n && is_digit(p[i]))
            ;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        if (++i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i == n)
            return fail(s, n, R_END);
        if (!is_digit(p[i]))
            return fail(s, i, R_EXPONENT);
        while (++i < n && is_digit(p[i]))
            ;
    }
    s->i = i;
    return 0;
}

/* true, false, null: lower case, exactly. */
static int scan_literal(struct scan *s, const char *word)
{
    for (; *word; word++, s->i++) {
        if (s->i == s->len)
            return fail(s, s->len, R_END);
        if (s->p[s->i] != (unsigned char)*word)
            return fail(s, s->i, R_LITERAL);
    }
    return 0;
}

/* RFC 3629 section 4, one row per line of its table: the lead bytes, how
 * many continuation bytes follow, and the range of the first of them (the
 * others are always 80..BF). The narrow ranges after E0, F0 (no overlong
 * forms), ED (no surrogates, U+D800..U+DFFF) and F4 (nothing above
 * U+10FFFF) are the whole difference between "looks like UTF-8" and UTF-8.
 * Lead bytes missing from the table -- 80..C1 and F5..FF -- never start a
 * character. cJSON copies any bytes into its strings and prints them back
 * unchanged, so without this check the API would store text that no other
 * program can read back. */
static const struct utf8_row {
    unsigned char first, last; /* the lead bytes of this row */
    unsigned char more;        /* continuation bytes after them */
    unsigned char lo, hi;      /* the range of the first continuation byte */
} utf8_rows[] = {
    {0xC2, 0xDF, 1, 0x80, 0xBF}, /* U+0080..U+07FF */
    {0xE0, 0xE0, 2, 0xA0, 0xBF}, /* U+0800..U+0FFF */
    {0xE1, 0xEC, 2, 0x80, 0xBF}, /* U+1000..U+CFFF */
    {0xED, 0xED, 2, 0x80, 0x9F}, /* U+D000..U+D7FF */
    {0xEE, 0xEF, 2, 0x80, 0xBF}, /* U+E000..U+FFFF */
    {0xF0, 0xF0, 3, 0x90, 0xBF}, /* U+10000..U+3FFFF */
    {0xF1, 0xF3, 3, 0x80, 0xBF}, /* U+40000..U+FFFFF */
    {0xF4, 0xF4, 3, 0x80, 0x8F}, /* U+100000..U+10FFFF */
};

size_t json_utf8_char(const char *text, size_t len, size_t *bad)
{
    const unsigned char *p = (const unsigned char *)text;
    const struct utf8_row *row = NULL;

    if (len == 0) {
        *bad = 0;
        return 0;
    }
    if (p[0] < 0x80)
        return 1;
    for (size_t r = 0; r < sizeof utf8_rows / sizeof utf8_rows[0]; r++)
        if (p[0] >= utf8_rows[r].first && p[0] <= utf8_rows[r].last)
            row = &utf8_rows[r];
    if (!row) {
        *bad = 0;
        return 0;
    }
    unsigned char lo = row->lo, hi = row->hi;
    for (size_t k = 1; k <= row->more; k++) {
        if (k == len || p[k] < lo || p[k] > hi) {
            *bad = k;
            return 0;
        }
        lo = 0x80;
        hi = 0xBF;
    }
    return 1 + (size_t)row->more;
}

/* One character of 2 to 4 bytes, its lead byte at *at (>= 0x80), inside a
 * string. On success *at is past it. */
static int scan_utf8(struct scan *s, size_t *at)
{
    size_t bad, n = json_utf8_char((const char *)s->p + *at, s->len - *at, &bad);
    if (n == 0)
        return *at + bad == s->len ? fail(s, s->len, R_END_STRING) : fail(s, *at + bad, R_UTF8);
    *at += n;
    return 0;
}

/* A string, from its opening quote at p[i] to past its closing quote (a
 * member name too). RFC 8259 section 7: bytes below 0x20 must be escaped
 * (cJSON takes raw tabs, newlines and even NUL, which cuts its C string
 * short); the escapes are the eight below and \u with exactly 4 hex digits
 * (cJSON reads "\uqqqq" as U+0000). A \u escape of a surrogate only means
 * something as a pair: a high one, D800..DBFF, right before a low one,
 * DC00..DFFF. A lone one stands for no character, and UTF-8 cannot hold
 * it; it is reported at its backslash. "\u0000" is valid, and counted: a
 * C string cannot hold it, so the API decides what to do with it. */
static int scan_string(struct scan *s)
{
    const unsigned char *p = s->p;
    size_t n = s->len, i = s->i + 1;
    int pending = 0; /* a high surrogate escape waits for its low one */
    size_t high = 0; /* where that escape starts */

    for (;;) {
        if (i == n)
            return fail(s, n, R_END_STRING);
        unsigned char c = p[i];
        if (pending && c != '\\')
            return fail(s, high, R_SURROGATE);
        if (c == '"') {
            s->i = i + 1;
            return 0;
        }
        if (c < 0x20)
            return fail(s, i, R_RAW_CONTROL);
        if (c >= 0x80) {
            if (scan_utf8(s, &i) < 0)
                return -1;
            continue;
        }
        if (c != '\\') {
            i++;
            continue;
        }

        size_t start = i;
        if (++i == n)
            return fail(s, n, R_END_STRING);
        c = p[i];
        if (c != 'u') {
            if (pending)
                return fail(s, high, R_SURROGATE);
            if (!c || !strchr("\"\\/bfnrt", c))
                return fail(s, i, R_ESCAPE);
            i++;
            continue;
        }
        unsigned u = 0;
        for (int k = 0; k < 4; k++) {
            if (++i == n)
                return fail(s, n, R_END_STRING);
            int h = hex_value(p[i]);
            if (h < 0)
                return fail(s, i, R_HEX);
            u = u * 16 + (unsigned)h;
        }
        i++;
        if (u >= 0xD800 && u <= 0xDBFF) {
            if (pending)
                return fail(s, high, R_SURROGATE);
            pending = 1;
            high = start;
        } else if (u >= 0xDC00 && u <= 0xDFFF) {
            if (!pending)
                return fail(s, start, R_SURROGATE);
            pending = 0;
        } else {
            if (pending)
                return fail(s, high, R_SURROGATE);
            if (u == 0)
                s->nul_escapes++;
        }
    }
}

/* A value starts at p[i] (the bytes that can start one were checked).
 * Every value counts against max_values, containers too: a 1 MiB array
 * of "1," is half a million values, and cJSON would make a 64-byte node
 * of each (36 MiB). A container opens a level; more than max_depth is
 * refused at its bracket. */
static int start_value(struct scan *s, enum want *w)
{
    unsigned char c = s->p[s->i];

    if (s->values == s->max_values)
        return fail(s, s->i, R_VALUES);
    s->values++;
    if (c == '[' || c == '{') {
        if (s->depth == s->max_depth)
            return fail(s, s->i, R_DEPTH);
        s->open[s->depth++] = c == '[' ? ']' : '}';
        if (s->depth > s->deepest)
            s->deepest = s->depth;
        s->i++;
        *w = c == '[' ? WANT_FIRST_ITEM : WANT_FIRST_NAME;
        return 0;
    }
    *w = WANT_NEXT;
    if (c == '"')
        return scan_string(s);
    if (c == 't')
        return scan_literal(s, "true");
    if (c == 'f')
        return scan_literal(s, "false");
    if (c == 'n')
        return scan_literal(s, "null");
    return scan_number(s);
}

static int starts_value(unsigned char c)
{
    return c == '[' || c == '{' || c == '"' || c == 't' || c == 'f' || c == 'n' || c == '-' ||
           is_digit(c);
}

/* The loop: whitespace, then the token that w says may come. Returns 0
 * once the text is exactly one value with whitespace around it. cJSON
 * stops after the first value and ignores the rest ("{}xyz", two
 * documents); here the end of the text is part of the grammar. */
static int walk(struct scan *s)
{
    enum want w = WANT_VALUE;

    for (;;) {
        skip_ws(s);
        if (s->i == s->len) {
            if (w == WANT_NEXT && s->depth == 0)
                return 0;
            return fail(s, s->len, w == WANT_VALUE && s->depth == 0 ? R_EMPTY : R_END);
        }
        unsigned char c = s->p[s->i];

        if (w == WANT_NEXT) {
            if (s->depth == 0)
                return unexpected(s, R_AFTER);
            unsigned char close = s->open[s->depth - 1];
            if (c == close) {
                s->depth--;
                s->i++;
            } else if (c == ',') {
                s->i++;
                w = close == ']' ? WANT_VALUE : WANT_NAME;
            } else {
                return unexpected(s, close == ']' ? R_COMMA_ARRAY : R_COMMA_OBJECT);
            }
        } else if ((w == WANT_FIRST_ITEM && c == ']') || (w == WANT_FIRST_NAME && c == '}')) {
            s->depth--; /* [] or {} */
            s->i++;
            w = WANT_NEXT;
        } else if (w == WANT_NAME || w == WANT_FIRST_NAME) {
            if (c != '"')
                return unexpected(s, c == '}' ? R_TRAILING : R_NAME);
            if (scan_string(s) < 0)
                return -1;
            skip_ws(s);
            if (s->i == s->len)
                return fail(s, s->len, R_END);
            if (s->p[s->i] != ':')
                return unexpected(s, R_COLON);
            s->i++;
            w = WANT_VALUE;
        } else if (!starts_value(c)) {
            return unexpected(s, s->depth > 0 && (c == ']' || c == '}') ? R_MISSING : R_NOT_VALUE);
        } else if (start_value(s, &w) < 0) {
            return -1;
        }
    }
}

int json_check(const char *text, size_t len, const struct json_limits *lim,
               struct json_result *res)
{
    struct scan s;

    memset(&s, 0, sizeof s);
    s.p = (const unsigned char *)text;
    s.len = len;
    s.max_depth = lim->max_depth < 0               ? 0
                  : lim->max_depth > JSON_MAX_DEPTH ? JSON_MAX_DEPTH
                                                    : lim->max_depth;
    s.max_values = lim->max_values;
    memset(res, 0, sizeof *res);
    if (walk(&s) < 0) {
        res->offset = s.err_at;
        res->reason = s.why;
        return -1;
    }
    res->values = s.values;
    res->depth = s.deepest;
    res->nul_escapes = s.nul_escapes;
    return 0;
}
