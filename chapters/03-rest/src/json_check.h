/* json_check -- a strict JSON validator that runs before cJSON (stage 3).
 *
 * cJSON is lenient: it accepts trailing bytes after the value, leading
 * zeros ("01"), "1." and "-.5", raw control characters in strings, any
 * byte below 0x20 as whitespace, invalid UTF-8, and \u escapes with bad
 * hex digits (as U+0000, which then cuts the string short). A server that
 * trusts it stores what no other JSON parser would read back. So every
 * request body goes through json_check() first, which accepts exactly the
 * JSON of RFC 8259 (section 2 to 7: whitespace is SP, HT, LF, CR only)
 * encoded as UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF), and refuses what would cost the server too much:
 * nesting deeper than max_depth, more than max_values values in all.
 *
 * It never allocates and reads each byte once: a hostile body costs time
 * in proportion to its length, and no memory. A lone surrogate escape
 * ("\ud800" without its pair) is refused too: it stands for no character.
 * What it accepts but reports: escapes of U+0000 ("\u0000"), which are
 * valid JSON but which a C string cannot hold -- the API refuses them
 * where it reads strings (stage 4). A byte order mark (EF BB BF) at the
 * start is refused like any other byte outside a string that is not ASCII:
 * RFC 8259 section 8.1 says a sender must not add one. */
#ifndef JSON_CHECK_H
#define JSON_CHECK_H

#include <stddef.h>

/* The API's limits (the lesson states them). */
#define JSON_MAX_DEPTH 32
#define JSON_MAX_VALUES 10000

struct json_limits {
    int max_depth;      /* arrays and objects inside each other: [[1]] is 2;
                           above JSON_MAX_DEPTH counts as JSON_MAX_DEPTH (the
                           check keeps one byte per level, in a fixed array),
                           below 0 as 0 */
    size_t max_values;  /* every value counts: [1,[2]] is 4 (the outer array too) */
};

struct json_result {
    size_t offset;      /* refused: where, in bytes from the start */
    const char *reason; /* refused: why, a constant phrase: "a leading zero" */
    size_t values;      /* accepted: how many values */
    int depth;          /* accepted: the deepest nesting */
    size_t nul_escapes; /* accepted: how many "\u0000" escapes */
};

/* Checks that text[0..len) is exactly one JSON value with optional
 * whitespace around it, within lim. Returns 0 when it is; -1 when it is
 * not, with res->offset at the first byte that makes it wrong (len when
 * the text ends too early) and res->reason saying what is wrong. text
 * need not end with a NUL; nothing past len is read. */
int json_check(const char *text, size_t len, const struct json_limits *lim,
               struct json_result *res);

/* The length (1 to 4) of the UTF-8 character text[0..len) starts with:
 * RFC 3629, no overlong forms, no surrogates, nothing above U+10FFFF.
 * Returns 0 when it does not start with one, with *bad the offset of the
 * first byte that cannot be right (len when the text ends inside the
 * character). json_check() uses it for the bytes >= 0x80 in strings; the
 * API for text that does not come as JSON (stage 6: query parameters). */
size_t json_utf8_char(const char *text, size_t len, size_t *bad);

#endif
