/* json_check -- the strict JSON validator. See json_check.h for the
 * contract: it is the spec the tests check, read it first.
 *
 * It looks at the bytes only: it builds no values (cJSON does that, after
 * this check), allocates nothing, and reads text[0..len) once, from left
 * to right, never text[len]. Everything it needs fits in a few local
 * variables and one fixed array. */
#include "json_check.h"

#include <string.h>

/* TODO(stage 3): the plan.
 *
 * 1. The shape: a loop, not a recursive function. Recursion spends a C
 *    stack frame on every '[' -- 100000 of them crash it. Keep your own
 *    stack instead: an array of JSON_MAX_DEPTH bytes, one per open array
 *    or object, holding the bracket that closes it (']' or '}'). A
 *    max_depth above JSON_MAX_DEPTH counts as JSON_MAX_DEPTH (your array
 *    has no more places), below 0 as 0.
 *
 * 2. The loop knows what may come next -- an enum of states:
 *      a value          at the start, after ':', after ',' in an array
 *      a value or ']'   right after '['
 *      a name or '}'    right after '{'
 *      a name           after ',' in an object (a name: a string, then ':')
 *      ',' or a closer  after a value; at depth 0: only the end of the text
 *    Each turn: skip whitespace (SP, HT, LF, CR -- nothing else), look at
 *    one byte, act, change state. The text may end only after the value,
 *    at depth 0.
 *
 * 3. A value starts with one of [ { " - 0-9 t f n. Count it (containers
 *    too): the (max_values + 1)th value is refused at its first byte. A
 *    '[' or '{' opens a level: one past max_depth is refused at it. Keep
 *    the deepest level seen for res->depth.
 *
 * 4. Numbers: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? -- write
 *    it out byte by byte ("01" is refused at its '1'). Literals: true,
 *    false, null, exactly.
 *
 * 5. Strings: stop at '"'. A byte below 0x20 is refused. After '\' come
 *    only " \ / b f n r t, or u and exactly 4 hex digits. Count \u0000
 *    (res->nul_escapes). A \u escape of D800..DBFF must be followed at
 *    once by one of DC00..DFFF; a lone one of either is refused.
 *
 * 6. UTF-8: a byte >= 0x80 in a string starts a character. Write the
 *    table of RFC 3629 section 4 as data -- the lead bytes, how many
 *    continuation bytes follow, the range of the first of them:
 *        C2..DF  1  80..BF        ED      2  80..9F
 *        E0      2  A0..BF        EE..EF  2  80..BF
 *        E1..EC  2  80..BF        F0      3  90..BF
 *        F1..F3  3  80..BF        F4      3  80..8F
 *    (the other continuation bytes: 80..BF). Any other lead byte is
 *    refused. This part is json_utf8_char() below: json_check() calls it
 *    for each byte >= 0x80 in a string, and the API reuses it in stage 6.
 *
 * 7. Errors: res->offset is the first byte that cannot be right -- len
 *    when the text ends too early -- and res->reason a constant phrase
 *    ("a leading zero", "invalid UTF-8", ...), different for different
 *    faults: the client reads it. One static helper that sets both and
 *    returns -1 keeps every error path one line. */

size_t json_utf8_char(const char *text, size_t len, size_t *bad)
{
    /* TODO(stage 3): ASCII (below 0x80) is 1 byte; otherwise find the
     * lead byte's row of the table in step 6 and check the continuation
     * bytes -- the first against the row's range, the others 80..BF --
     * without reading text[len]. */
    (void)text;
    (void)len;
    *bad = 0;
    return 0;
}

int json_check(const char *text, size_t len, const struct json_limits *lim,
               struct json_result *res)
{
    /* TODO(stage 3): the loop of the plan above; on success fill
     * res->values, res->depth and res->nul_escapes. */
    (void)text;
    (void)len;
    (void)lim;
    memset(res, 0, sizeof *res);
    res->reason = "not written yet";
    return -1;
}
