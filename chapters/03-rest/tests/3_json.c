/* Stage 3: strict JSON -- json_check(), the validator every request body
 * goes through before cJSON sees it. These are unit tests: they call
 * json_check() directly, on exactly-sized heap copies (AddressSanitizer
 * stops a read past len), and need no server.
 *
 * The corpus in jsontestsuite/ is nst/JSONTestSuite (MIT): every y_ file
 * must be accepted and every n_ file refused. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "json_check.h"
#include "restc.h"

WB_SUITE(json);

/* A string literal and its length, NULs inside included. */
#define T(lit) lit, sizeof(lit) - 1

static const struct json_limits api = {JSON_MAX_DEPTH, JSON_MAX_VALUES};

/* Built with AddressSanitizer (make check is)? gcc and clang say so
 * differently. */
#if defined(__SANITIZE_ADDRESS__)
#define HAVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HAVE_ASAN 1
#endif
#endif

/* ---- calling json_check() ------------------------------------------------ */

/* json_check() on an exactly-sized heap copy of in[0..n): no NUL after it,
 * so a read past len is an AddressSanitizer report. res starts out as
 * garbage, so a field that is never set shows. */
static int check(const char *in, size_t n, const struct json_limits *lim, struct json_result *res)
{
    char *copy = malloc(n);
    cr_assert(copy != NULL || n == 0, "out of memory");
    if (n)
        memcpy(copy, in, n);
    memset(res, 0, sizeof *res);
    res->offset = (size_t)-1;
    res->values = (size_t)-1;
    res->depth = -1;
    res->nul_escapes = (size_t)-1;
    int rc = json_check(copy, n, lim, res);
    free(copy);
    return rc;
}

/* What json_check() said, for a message. */
static const char *said(int rc, const struct json_result *r)
{
    char *m = wb_msgbuf(320);
    if (rc == 0)
        snprintf(m, 320, "0 (accepted: values %zu, depth %d, nul_escapes %zu)", r->values,
                 r->depth, r->nul_escapes);
    else if (rc == -1)
        snprintf(m, 320, "-1 (refused at offset %zu, reason \"%s\")", r->offset,
                 r->reason ? r->reason : "(NULL)");
    else
        snprintf(m, 320, "%d (it returns 0 or -1, nothing else)", rc);
    return m;
}

/* The bytes of in[0..n) from offset off on, for a message. */
static const char *from(const char *in, size_t n, size_t off)
{
    if (off == n)
        return "(the end of the text)";
    if (off > n)
        return "(past the end of the text!)";
    return wb_esc(in + off, n - off, 12);
}

static int has_reason(const struct json_result *r)
{
    return r->reason != NULL && r->reason[0] != '\0';
}

/* Expects in[0..n) refused at offset off. what says why; cjson what cJSON
 * would have done with it (NULL: nothing worth saying). */
static void expect_refused_lim(const char *in, size_t n, const struct json_limits *lim, size_t off,
                               const char *what, const char *cjson)
{
    struct json_result r;
    int rc = check(in, n, lim, &r);
    cr_expect(rc == -1 && r.offset == off && has_reason(&r),
              "json_check(%s, %zu) returned %s; expected -1 at offset %zu, with a reason.\n"
              "  The text from offset %zu: %s\n"
              "  Why: %s%s%s",
              wb_esc(in, n, 100), n, said(rc, &r), off, off, from(in, n, off), what,
              cjson ? "\n  cJSON alone: " : "", cjson ? cjson : "");
}

static void expect_refused(const char *in, size_t n, size_t off, const char *what,
                           const char *cjson)
{
    expect_refused_lim(in, n, &api, off, what, cjson);
}

/* Expects in[0..n) accepted; returns the result for further checks. */
static struct json_result expect_accepted_lim(const char *in, size_t n,
                                              const struct json_limits *lim, const char *what)
{
    struct json_result r;
    int rc = check(in, n, lim, &r);
    cr_expect(eq(int, rc, 0), "json_check(%s, %zu) returned %s; expected 0: %s",
              wb_esc(in, n, 100), n, said(rc, &r), what);
    return r;
}

static struct json_result expect_accepted(const char *in, size_t n, const char *what)
{
    return expect_accepted_lim(in, n, &api, what);
}

/* ---- JSONTestSuite ---------------------------------------------------- */

/* The whole of a file, in an exactly-sized buffer (*n bytes). */
static char *read_whole(const char *path, size_t *n)
{
    int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0, "cannot open %s", path);
    struct stat st;
    cr_assert(fstat(fd, &st) == 0, "cannot stat %s", path);
    *n = (size_t)st.st_size;
    char *buf = malloc(*n ? *n : 1);
    cr_assert(buf != NULL, "out of memory");
    size_t got = 0;
    while (got < *n) {
        ssize_t r = read(fd, buf + got, *n - got);
        cr_assert(r > 0, "cannot read %s", path);
        got += (size_t)r;
    }
    close(fd);
    return buf;
}

static int is_y(const struct dirent *d)
{
    return strncmp(d->d_name, "y_", 2) == 0;
}

static int is_n(const struct dirent *d)
{
    return strncmp(d->d_name, "n_", 2) == 0;
}

/* Can a JSON value start with byte c? */
static int starts_a_value(unsigned char c)
{
    return c && strchr("[{\"-0123456789tfn", c) != NULL;
}

enum { SHOW_FILES = 5 };

/* The file being checked, named when a sanitizer stops the test: its
 * report shows the line in json_check.c, this says which input. */
static const char *current_file;
#ifdef HAVE_ASAN
void __sanitizer_set_death_callback(void (*callback)(void));
static void name_current_file(void)
{
    if (current_file)
        fprintf(stderr, "\n(the sanitizer stopped json_check() on jsontestsuite/%s)\n",
                current_file);
}
#endif

/* Runs every file that pick() selects; accept says what each must get.
 * Reports how many went wrong, and the first SHOW_FILES by name. */
static void run_corpus(int (*pick)(const struct dirent *), int accept)
{
    const char *dir = rc_test_path("jsontestsuite");
    struct dirent **names;
    int count = scandir(dir, &names, pick, alphasort);
    cr_assert(count > 50, "%s holds %d %s_ files; JSONTestSuite has %s -- restore them with git",
              dir, count, accept ? "y" : "n", accept ? "95" : "188");
    static char report[8192];
    size_t cap = sizeof report, used = 0, wrong = 0;
    report[0] = '\0';
#ifdef HAVE_ASAN
    __sanitizer_set_death_callback(name_current_file);
#endif
    for (int i = 0; i < count; i++) {
        char path[PATH_MAX + 256];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
        size_t n;
        char *text = read_whole(path, &n);
        struct json_result r;
        current_file = names[i]->d_name;
        int rc = check(text, n, &api, &r);
        current_file = NULL;
        const char *problem = NULL;
        if (accept && rc != 0)
            problem = "must be accepted";
        else if (!accept && rc != -1)
            problem = "must be refused";
        else if (!accept && (!has_reason(&r) || r.offset > n))
            problem = "needs a reason, and an offset no greater than the length";
        else if (!accept && n > 0 && starts_a_value((unsigned char)text[0]) && r.offset == 0)
            problem = "starts with a byte that begins a value, so the fault is after offset 0";
        if (problem && wrong++ < SHOW_FILES && used < cap)
            used += (size_t)snprintf(report + used, cap - used,
                                     "\n  %s %s:\n    text %s (%zu bytes)\n    got %s",
                                     names[i]->d_name, problem, wb_esc(text, n, 80), n,
                                     said(rc, &r));
        free(text);
        free(names[i]);
    }
    free(names);
    cr_assert(wrong == 0, "JSONTestSuite's %s_ files: %d, and %zu of them went wrong. %s "
              "(The files are in %s.)%s%s",
              accept ? "y" : "n", count, wrong,
              accept ? "They are valid JSON (RFC 8259): each must be accepted."
                     : "They are not JSON: each must be refused, with a reason and the offset "
                       "of its fault.",
              dir, report, wrong > SHOW_FILES ? "\n  ..." : "");
}

Test(json, every_y_file_of_jsontestsuite_is_accepted)
{
    run_corpus(is_y, 1);
}

Test(json, every_n_file_of_jsontestsuite_is_refused)
{
    /* A validator that refuses everything would pass a test of refusals:
     * first make sure this one accepts something. */
    struct json_result r;
    int rc = check(T("[1]"), &api, &r);
    cr_assert(eq(int, rc, 0),
              "json_check(\"[1]\") returned %s; expected 0. A check that refuses everything "
              "refuses the n_ files too, which proves nothing: make it accept valid JSON first "
              "(every_y_file_of_jsontestsuite_is_accepted)", said(rc, &r));
    run_corpus(is_n, 0);
}

/* ---- what cJSON lets through ------------------------------------------ */

struct refusal {
    const char *in;
    size_t len;
    size_t off;
    const char *what, *cjson;
};

static void expect_refusals(const struct refusal *c, size_t n)
{
    for (size_t i = 0; i < n; i++)
        expect_refused(c[i].in, c[i].len, c[i].off, c[i].what, c[i].cjson);
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

Test(json, what_cjson_lets_through_is_refused)
{
    static const struct refusal cases[] = {
        {T("{\"a\":1}xyz"), 7, "bytes after the value",
         "cJSON_Parse() stops after the first value and ignores the rest: it returns {\"a\":1}"},
        {T("{\"a\":1}{\"b\":2}"), 7, "two documents: exactly one value is allowed",
         "returns the first, {\"a\":1}, and ignores the second"},
        {T("01"), 1, "a leading zero (RFC 8259 section 6: 0 or [1-9][0-9]*)",
         "strtod() reads it as 1"},
        {T("-01"), 2, "a leading zero after the minus sign", "strtod() reads it as -1"},
        {T("1."), 2, "a digit must follow the decimal point, and the text ends first: the "
                     "offset is len",
         "strtod() reads it as 1"},
        {T("-.5"), 1, "a digit must follow the minus sign: numbers start with a digit",
         "strtod() reads it as -0.5"},
        {T("2.e3"), 2, "a digit must follow the decimal point", "strtod() reads it as 2000"},
        {T("[\"a\tb\"]"), 3, "a raw tab in a string: bytes below 0x20 must be escaped (\\t)",
         "keeps the tab, and prints it back as \\t"},
        {T("[\"a\nb\"]"), 3, "a raw newline in a string (\\n is the escape)",
         "keeps the newline"},
        {T("[\"a\0b\"]"), 3, "a raw NUL in a string",
         "keeps it, and the C string ends there: the value reads \"a\""},
        {T("[\"\\uqqqq\"]"), 4, "\\u needs exactly 4 hex digits; q is not one",
         "reads the bad escape as U+0000: the string becomes \"\""},
        {T("[\"a\\u00zzb\"]"), 7, "\\u needs exactly 4 hex digits; z is not one",
         "reads U+0000 and cuts the string: \"a\""},
        {T("[\"\377\"]"), 2, "invalid UTF-8: byte FF never occurs in UTF-8",
         "copies the byte into the string and prints it back unchanged"},
        {T("[\"\300\257\"]"), 2, "invalid UTF-8: C0 AF is an overlong '/' (C0 and C1 start "
                                 "only overlong forms)",
         "copies the bytes: a '/' that a later check for \"/\" does not see"},
        {T("[\"\355\240\200\"]"), 3, "invalid UTF-8: ED A0 80 encodes the surrogate U+D800 "
                                     "(CESU-8); after ED the next byte must be 80..9F",
         "copies the bytes"},
        {T("[\"\342\202\"]"), 4, "invalid UTF-8: E2 82 is the start of a 3-byte character "
                                 "(the euro sign is E2 82 AC), cut short by the quote",
         "copies the bytes"},
        {T("[1,\f2]"), 3, "a form feed between tokens: whitespace is space, tab, LF and CR only",
         "skips every byte up to 0x20 as whitespace"},
        {T("[1,\0" "2]"), 3, "a NUL between tokens", "skips it as whitespace"},
        {T("[1]\v"), 3, "a vertical tab after the value",
         "skips it as whitespace (and then stops anyway)"},
    };
    expect_refusals(cases, COUNT(cases));
}

/* ---- the grammar -------------------------------------------------------- */

Test(json, valid_values_of_every_kind_are_accepted)
{
    static const struct {
        const char *in;
        size_t len;
        const char *what;
    } cases[] = {
        {T("0"), "a lone number is a whole JSON text"},
        {T("-0"), "minus zero"},
        {T("-0.0e-0"), "every part of a number"},
        {T("1.5E+3"), "a capital E and a plus sign"},
        {T("123456789012345678901234567890"), "a number of any length: the grammar sets no "
                                              "range (the API checks ranges, stage 4)"},
        {T("1e999"), "valid JSON, although no double holds it: stage 4 refuses it (cJSON "
                     "makes it infinity, and prints it as null)"},
        {T("true"), "a literal"},
        {T("false"), "a literal"},
        {T("null"), "a literal"},
        {T("\"\""), "the empty string"},
        {T("[]"), "an empty array"},
        {T("{}"), "an empty object"},
        {T("{\"\":0}"), "an empty member name"},
        {T("{\"a\":[1,{\"b\":null}],\"c\":\"d\"}"), "nested arrays and objects"},
        {T(" \t\r\n{ \"a\" : [ 1 , 2 ] } \r\n\t "), "whitespace around every token"},
        {T("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\""), "the eight escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t"},
        {T("\"\\u00e9\\u00E9\\uFFFF\""), "\\u escapes, in either case"},
        {T("\"\\u0000\""), "\\u0000 is valid JSON (counted in nul_escapes)"},
        {T("\"\x7f\""), "DEL (0x7f) may be raw: only bytes below 0x20 must be escaped"},
        {T("\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x8D\x90\""), "UTF-8 of 2, 3 and 4 bytes: "
                                                            "\xC3\xA9, \xE2\x82\xAC, \xF0\x9F\x8D\x90"},
        {T("[\"\xEF\xBB\xBF\"]"), "U+FEFF inside a string is a character like any other"},
    };
    for (size_t i = 0; i < COUNT(cases); i++)
        expect_accepted(cases[i].in, cases[i].len, cases[i].what);
}

Test(json, bad_numbers_are_refused_at_the_byte_that_breaks_them)
{
    static const struct refusal cases[] = {
        {T("00"), 1, "a leading zero", "strtod() reads 0"},
        {T("[-00]"), 3, "a leading zero after the minus sign", NULL},
        {T("01.5"), 1, "a leading zero", "strtod() reads 1.5"},
        {T("[1.]"), 3, "a digit must follow the decimal point", "strtod() reads 1"},
        {T("[1,-]"), 4, "a digit must follow the minus sign", NULL},
        {T("-"), 1, "the text ends where a digit must come: the offset is len", NULL},
        {T("-a"), 1, "a digit must follow the minus sign", NULL},
        {T("1e"), 2, "the exponent needs digits; the text ends first", NULL},
        {T("[1e+]"), 4, "the exponent needs digits after its sign", NULL},
        {T("[1E-x]"), 4, "the exponent needs digits after its sign", NULL},
        {T("[1eE2]"), 3, "one exponent, then digits", NULL},
        {T("0x10"), 1, "JSON has no hex numbers: after the number 0, 'x' is a byte after "
                       "the value", "refuses it too"},
        {T("[1.5.2]"), 4, "one decimal point", NULL},
        {T("[.5]"), 1, "a number starts with a digit or '-'", "refuses it too"},
        {T("+1"), 0, "no plus sign in front", "refuses it too"},
        {T("[-Infinity]"), 2, "no Infinity: a digit must follow the minus sign", NULL},
        {T("[NaN]"), 1, "no NaN", NULL},
    };
    expect_refusals(cases, COUNT(cases));
}

Test(json, bad_escapes_and_raw_control_characters_are_refused)
{
    static const struct refusal cases[] = {
        {T("\"\\x41\""), 2, "\\x is not an escape: only \\\" \\\\ \\/ \\b \\f \\n \\r \\t "
                            "and \\u", "refuses it too"},
        {T("\"\\a\""), 2, "\\a is not an escape", NULL},
        {T("\"\\'\""), 2, "\\' is not an escape (JSON strings use double quotes only)", NULL},
        {T("\"\\U00e9\""), 2, "\\U is not an escape: the u is lower case", NULL},
        {T("\"\\0\""), 2, "\\0 is not an escape: \\u0000 is", NULL},
        {T("\"\\u12\""), 5, "\\u needs 4 hex digits: the quote is not one", NULL},
        {T("\"\\u00G0\""), 5, "G is not a hex digit", "reads U+0000"},
        {T("\"\\"), 2, "the text ends right after the backslash: the offset is len", NULL},
        {T("\"\\u00"), 5, "the text ends inside the \\u escape", NULL},
        {T("\"\n\""), 1, "a raw newline", "keeps it"},
        {T("\"a\x1f\""), 2, "a raw 0x1f (unit separator): below 0x20", "keeps it"},
        {T("{\"a\tb\":1}"), 3, "a raw tab in a member name: names are strings too", "keeps it"},
        {T("\"abc"), 4, "the string never ends: the offset is len", NULL},
    };
    expect_refusals(cases, COUNT(cases));
    expect_accepted(T("\"\\\\x41\""), "\\\\ is an escaped backslash: then x41 is plain text");
}

Test(json, structure_errors_are_reported_at_the_right_byte)
{
    static const struct refusal cases[] = {
        {T("[1,]"), 3, "a trailing comma: a value must follow ','", "refuses it too"},
        {T("[1,,2]"), 3, "two commas", NULL},
        {T("[,1]"), 1, "a comma before the first value", NULL},
        {T("{\"a\":1,}"), 7, "a trailing comma in an object", "refuses it too"},
        {T("{\"a\" 1}"), 5, "a ':' must follow a member name", NULL},
        {T("{\"a\":}"), 5, "a value must follow ':'", NULL},
        {T("{a:1}"), 1, "member names are strings, in double quotes", NULL},
        {T("{'a':1}"), 1, "single quotes are not JSON", NULL},
        {T("{\"a\":1 \"b\":2}"), 7, "a ',' must come between members", NULL},
        {T("[1 2]"), 3, "a ',' must come between values", NULL},
        {T("[1}"), 2, "an array ends with ']'", NULL},
        {T("{\"a\":1]"), 6, "an object ends with '}'", NULL},
        {T("[\"a\":1]"), 4, "':' belongs in objects only", NULL},
        {T("["), 1, "the array never ends: the offset is len", NULL},
        {T("{\"a\":[1,2"), 9, "the text ends with two containers open", NULL},
        {T("tru"), 3, "the text ends inside the literal", NULL},
        {T("trux"), 3, "a misspelled literal", NULL},
        {T("True"), 0, "literals are lower case", NULL},
        {T("[true false]"), 6, "a ',' must come between values", NULL},
        {T("]"), 0, "nothing is open", NULL},
    };
    expect_refusals(cases, COUNT(cases));
}

Test(json, bytes_after_the_value_are_refused)
{
    static const struct refusal cases[] = {
        {T("[] []"), 3, "two values", "returns the first"},
        {T("1 2"), 2, "two numbers", "returns 1"},
        {T("\"a\"\"b\""), 3, "two strings", "returns \"a\""},
        {T("truex"), 4, "a byte after the literal", "returns true"},
        {T("null,"), 4, "a comma after the only value", "returns null"},
        {T("{}}"), 2, "one '}' too many", "returns {}"},
        {T("[1]]"), 3, "one ']' too many", "returns [1]"},
        {T("{}/*c*/"), 2, "JSON has no comments", "returns {}"},
    };
    expect_refusals(cases, COUNT(cases));
    expect_accepted(T("{} \n"), "whitespace after the value is allowed");
}

Test(json, whitespace_is_space_tab_lf_and_cr_only)
{
    expect_accepted(T(" \t\n\r1 \t\n\r"), "SP, HT, LF and CR around a value");
    expect_accepted(T("[ 1 ,\t2\n,\r3 ]"), "SP, HT, LF and CR between tokens");
    static const struct refusal cases[] = {
        {T("\f1"), 0, "a form feed before the value", "skips it as whitespace"},
        {T("[1\v]"), 2, "a vertical tab", "skips it as whitespace"},
        {T("1\0"), 1, "a NUL after the value", "stops before it"},
        {T("{\"a\"\f:1}"), 4, "a form feed before ':'", "skips it as whitespace"},
        {T("[1,\x01" "2]"), 3, "byte 0x01", "skips it as whitespace"},
        {T("[1,\xC2\xA0" "2]"), 3, "a no-break space (U+00A0, C2 A0): Unicode spaces are "
                                   "not JSON whitespace, and outside strings only ASCII may "
                                   "appear", "refuses it too"},
    };
    expect_refusals(cases, COUNT(cases));
}

/* ---- UTF-8 and surrogates -------------------------------------------- */

Test(json, utf8_is_checked_against_the_rfc_3629_table)
{
    static const struct {
        const char *in;
        size_t len;
        const char *what;
    } good[] = {
        {T("[\"\xC2\x80\"]"), "U+0080, the first 2-byte character"},
        {T("[\"\xDF\xBF\"]"), "U+07FF, the last 2-byte character"},
        {T("[\"\xE0\xA0\x80\"]"), "U+0800, the first 3-byte character"},
        {T("[\"\xED\x9F\xBF\"]"), "U+D7FF, the last character before the surrogates"},
        {T("[\"\xEE\x80\x80\"]"), "U+E000, the first character after them"},
        {T("[\"\xEF\xBF\xBF\"]"), "U+FFFF, the last 3-byte character"},
        {T("[\"\xF0\x90\x80\x80\"]"), "U+10000, the first 4-byte character"},
        {T("[\"\xF4\x8F\xBF\xBF\"]"), "U+10FFFF, the last character there is"},
    };
    for (size_t i = 0; i < COUNT(good); i++)
        expect_accepted(good[i].in, good[i].len, good[i].what);

    const char *cj = "cJSON copies the bytes and prints them back unchanged";
    static const struct refusal bad[] = {
        {T("[\"\x80\"]"), 2, "80..BF continue a character; none can start one", NULL},
        {T("[\"\xC0\x80\"]"), 2, "C0 80 is an overlong NUL: C0 and C1 start only overlong "
                                 "forms", NULL},
        {T("[\"\xC1\xBF\"]"), 2, "C1 BF is an overlong '\\x7f'", NULL},
        {T("[\"\xE0\x9F\xBF\"]"), 3, "E0 9F BF is an overlong U+07FF: after E0 comes A0..BF",
         NULL},
        {T("[\"\xED\xA0\x80\"]"), 3, "ED A0 80 is the surrogate U+D800: after ED comes 80..9F",
         NULL},
        {T("[\"\xED\xBF\xBF\"]"), 3, "ED BF BF is the surrogate U+DFFF", NULL},
        {T("[\"\xF0\x8F\xBF\xBF\"]"), 3, "F0 8F BF BF is an overlong U+FFFF: after F0 comes "
                                         "90..BF", NULL},
        {T("[\"\xF4\x90\x80\x80\"]"), 3, "F4 90 80 80 would be U+110000, past the last code "
                                         "point: after F4 comes 80..8F", NULL},
        {T("[\"\xF5\x80\x80\x80\"]"), 2, "F5..FF start nothing", NULL},
        {T("[\"\xFE\"]"), 2, "FE is never UTF-8", NULL},
        {T("[\"\xC3" "A\"]"), 3, "C3 needs a continuation byte (80..BF); 'A' is not one", NULL},
        {T("[\"\xF0\x9F\x8D" "A\"]"), 5, "a 4-byte character cut short", NULL},
        {T("[\"\xC3"), 3, "the text ends inside a character: the offset is len", NULL},
        {T("[\"\xF0\x9F\x8D"), 5, "the text ends inside a character: the offset is len", NULL},
        {T("\xC3\xA9"), 0, "outside strings, only ASCII: \xC3\xA9 cannot start a value", NULL},
    };
    for (size_t i = 0; i < COUNT(bad); i++)
        expect_refused(bad[i].in, bad[i].len, bad[i].off, bad[i].what, i < 12 ? cj : NULL);
}

Test(json, json_utf8_char_measures_one_character)
{
    static const struct {
        const char *in;
        size_t len;
        size_t want;    /* the character's length, or 0 */
        size_t bad;     /* when 0: the offset of the first wrong byte */
        const char *what;
    } cases[] = {
        {T("A"), 1, 0, "ASCII is one byte"},
        {T("\x7F"
           "A"),
         1, 0, "U+007F, the last ASCII character, and only it"},
        {T("\xC3\xA9xyz"), 2, 0,
         "\xC3\xA9 (U+00E9), and only it: the bytes after it are not part of it"},
        {T("\xE2\x82\xAC"), 3, 0, "\xE2\x82\xAC (U+20AC)"},
        {T("\xF0\x9F\x98\x80"), 4, 0, "U+1F600, an emoji"},
        {T("\xF4\x8F\xBF\xBF"), 4, 0, "U+10FFFF, the last code point"},
        {T("\x80"), 0, 0, "a continuation byte starts nothing: bad at 0"},
        {T("\xC0\xAF"), 0, 0, "C0 starts only overlong forms: bad at 0"},
        {T("\xE0\x80\xAF"), 0, 1, "E0 80 AF is an overlong '/': after E0 comes A0..BF, bad at 1"},
        {T("\xED\xA0\x80"), 0, 1, "ED A0 80 is a surrogate: after ED comes 80..9F, bad at 1"},
        {T("\xE2\x82"
           "A"),
         0, 2, "the third byte of E2 82 .. must be 80..BF: bad at 2"},
        {T("\xF0\x9F\x98"), 0, 3, "the text ends inside the character: bad is len (3)"},
        {T(""), 0, 0, "an empty text holds no character: bad at 0"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        size_t bad = 12345;
        size_t got = json_utf8_char(cases[i].in, cases[i].len, &bad);
        cr_expect(eq(sz, got, cases[i].want),
                  "json_utf8_char(%s, %zu) returned %zu; expected %zu -- %s",
                  wb_esc(cases[i].in, cases[i].len, 20), cases[i].len, got, cases[i].want,
                  cases[i].what);
        if (cases[i].want == 0 && got == 0)
            cr_expect(eq(sz, bad, cases[i].bad),
                      "json_utf8_char(%s, %zu) set *bad to %zu; expected %zu -- %s",
                      wb_esc(cases[i].in, cases[i].len, 20), cases[i].len, bad, cases[i].bad,
                      cases[i].what);
    }
}

Test(json, a_lone_surrogate_escape_is_refused_and_a_pair_is_accepted)
{
    expect_accepted(T("\"\\ud83c\\udf50\""), "\\ud83c\\udf50 is a surrogate pair: U+1F350, a "
                                             "pear");
    expect_accepted(T("\"\\uD834\\uDD1E\""), "a pair in capitals: U+1D11E");
    expect_accepted(T("\"\\udbff\\udfff\""), "the last pair: U+10FFFF");
    expect_accepted(T("[\"\\ud800\\udc00x\"]"), "the first pair: U+10000, then x");

    /* Where exactly the fault is depends on how the check reads the
     * escapes, so any offset from the first surrogate escape to the byte
     * after the escape that shows it alone is right. */
    static const struct {
        const char *in;
        size_t len;
        size_t lo, hi;
        const char *what;
    } cases[] = {
        {T("\"\\ud800\""), 1, 7, "a high surrogate (D800..DBFF) with no low one after it"},
        {T("\"\\udc00\""), 1, 6, "a low surrogate (DC00..DFFF) with no high one before it"},
        {T("\"\\ud800\\u0041\""), 1, 12, "a high surrogate, then an escape that is not a low "
                                         "one"},
        {T("\"\\ud800\\n\""), 1, 8, "a high surrogate, then another escape"},
        {T("\"\\ud800x\\udc00\""), 1, 7, "a high surrogate, then a character: the pair must be "
                                         "adjacent"},
        {T("\"\\udc00\\ud800\""), 1, 6, "the two halves in the wrong order"},
        {T("\"\\ud800\\ud800\""), 1, 12, "two high surrogates"},
        {T("{\"\\udfff\":1}"), 2, 7, "a lone low surrogate in a member name"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct json_result r;
        int rc = check(cases[i].in, cases[i].len, &api, &r);
        cr_expect(rc == -1 && r.offset >= cases[i].lo && r.offset <= cases[i].hi &&
                      has_reason(&r),
                  "json_check(%s) returned %s; expected -1 with a reason, at an offset from "
                  "%zu to %zu (the escapes involved).\n"
                  "  The fault: %s. A surrogate escape means something only as a pair, high "
                  "then low; alone it stands for no character, and UTF-8 cannot hold it.\n"
                  "  cJSON alone: refuses these too -- but without saying where",
                  wb_esc(cases[i].in, cases[i].len, 100), said(rc, &r), cases[i].lo,
                  cases[i].hi, cases[i].what);
    }
}

/* ---- what is reported ----------------------------------------------- */

Test(json, values_and_depth_are_reported)
{
    static const struct {
        const char *in;
        size_t len;
        size_t values;
        int depth;
        const char *what;
    } cases[] = {
        {T("1"), 1, 0, "one value, in no container: depth 0"},
        {T("\"x\""), 1, 0, "one string"},
        {T("[]"), 1, 1, "an empty array is one value, depth 1"},
        {T("{}"), 1, 1, "an empty object"},
        {T("[1,2,3]"), 4, 1, "the array and its three numbers"},
        {T("[1,[2]]"), 4, 2, "[1,[2]]: two arrays, two numbers; [2] is inside"},
        {T("{\"a\":1}"), 2, 1, "member names are not values: the object and 1"},
        {T("{\"a\":{\"b\":[true,null]}}"), 5, 3, "two objects, an array, true and null"},
        {T("[[[[]]]]"), 4, 4, "four arrays inside each other"},
        {T("[{},{},[[]]]"), 5, 3, "the deepest branch counts"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct json_result r;
        int rc = check(cases[i].in, cases[i].len, &api, &r);
        cr_expect(rc == 0 && r.values == cases[i].values && r.depth == cases[i].depth &&
                      r.nul_escapes == 0,
                  "json_check(%s) returned %s; expected 0 with values %zu, depth %d, "
                  "nul_escapes 0: %s. Every value counts, the containers too.",
                  wb_esc(cases[i].in, cases[i].len, 100), said(rc, &r), cases[i].values,
                  cases[i].depth, cases[i].what);
    }
}

Test(json, nul_escapes_are_counted)
{
    static const struct {
        const char *in;
        size_t len;
        size_t nuls;
        const char *what;
    } cases[] = {
        {T("\"\\u0000\""), 1, "one \\u0000"},
        {T("[\"\\u0000\",\"a\\u0000b\\u0000\"]"), 3, "three, in two strings"},
        {T("{\"\\u0000\":0}"), 1, "one in a member name: it counts too"},
        {T("\"\\\\u0000\""), 0, "\\\\ is an escaped backslash, so u0000 is plain text"},
        {T("\"\\u0001\\u0100\\u1000\""), 0, "other code points are not U+0000"},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        struct json_result r;
        int rc = check(cases[i].in, cases[i].len, &api, &r);
        cr_expect(rc == 0 && r.nul_escapes == cases[i].nuls,
                  "json_check(%s) returned %s; expected 0 with nul_escapes %zu: %s. \\u0000 "
                  "is valid JSON, but cJSON's strings are C strings and end at it -- the API "
                  "refuses it where it reads strings, so the check counts them.",
                  wb_esc(cases[i].in, cases[i].len, 100), said(rc, &r), cases[i].nuls,
                  cases[i].what);
    }
}

Test(json, a_reason_is_a_constant_phrase_that_names_the_fault)
{
    const struct json_limits small = {2, 3};
    static const struct {
        const char *in;
        size_t len;
        const char *fault;
    } faults[] = {
        {T("01"), "a leading zero"},
        {T("\"\\x\""), "a bad escape"},
        {T("\"\xFF\""), "invalid UTF-8"},
        {T("\"\t\""), "a raw control character in a string"},
        {T("[[[]]]"), "nesting deeper than the limit (max_depth 2)"},
        {T("[1,2,3]"), "more values than the limit (max_values 3)"},
        {T("{}x"), "bytes after the value"},
        {T("\"\\ud800\""), "a lone surrogate escape"},
    };
    const char *reasons[COUNT(faults)];
    char first[COUNT(faults)][200];
    for (size_t i = 0; i < COUNT(faults); i++) {
        struct json_result r;
        int rc = check(faults[i].in, faults[i].len, &small, &r);
        cr_assert(rc == -1 && has_reason(&r), "json_check(%s) returned %s; expected -1 with a "
                  "reason (this fault: %s)", wb_esc(faults[i].in, faults[i].len, 60),
                  said(rc, &r), faults[i].fault);
        reasons[i] = r.reason;
        snprintf(first[i], sizeof first[i], "%s", r.reason);
    }
    for (size_t i = 0; i < COUNT(faults); i++) {
        cr_expect(strcmp(reasons[i], first[i]) == 0,
                  "the reason for %s was \"%s\", and after more calls it reads \"%s\": a reason "
                  "is a constant string (a literal), not a buffer that the next call fills",
                  wb_esc(faults[i].in, faults[i].len, 60), first[i], reasons[i]);
        for (size_t j = 0; j < i; j++)
            cr_expect(strcmp(first[i], first[j]) != 0,
                      "%s and %s got the same reason, \"%s\"; their faults differ (%s; %s): "
                      "the reason goes to the client, in the problem's detail, and must say "
                      "which is wrong",
                      wb_esc(faults[j].in, faults[j].len, 60), wb_esc(faults[i].in,
                      faults[i].len, 60), first[i], faults[j].fault, faults[i].fault);
    }
    /* The same fault in another place: the same reason. */
    struct json_result a, b;
    check(T("01"), &api, &a);
    check(T("{\"k\":[7,-01]}"), &api, &b);
    cr_expect(a.reason && b.reason && strcmp(a.reason, b.reason) == 0,
              "\"01\" got the reason \"%s\" and {\"k\":[7,-01]} got \"%s\": the same fault, a "
              "leading zero, should get the same phrase", a.reason ? a.reason : "(NULL)",
              b.reason ? b.reason : "(NULL)");
}

/* ---- limits --------------------------------------------------------- */

/* n '[' then n ']' (close = 1) or just the '['. */
static char *brackets(size_t n, int close, size_t *len)
{
    *len = close ? 2 * n : n;
    char *s = malloc(*len ? *len : 1);
    cr_assert(s != NULL, "out of memory");
    memset(s, '[', n);
    if (close)
        memset(s + n, ']', n);
    return s;
}

Test(json, depth_at_the_limit_is_accepted_and_one_more_is_refused)
{
    size_t n;
    char *s = brackets(JSON_MAX_DEPTH, 1, &n);
    struct json_result r = expect_accepted(s, n, "32 arrays inside each other: depth "
                                                 "JSON_MAX_DEPTH (32) is within the limit");
    cr_expect(r.depth == JSON_MAX_DEPTH && r.values == JSON_MAX_DEPTH,
              "32 '[' then 32 ']': res->depth is %d, res->values %zu; expected 32 and 32",
              r.depth, r.values);
    free(s);
    s = brackets(JSON_MAX_DEPTH + 1, 1, &n);
    expect_refused(s, n, JSON_MAX_DEPTH, "33 '[' then 33 ']': the 33rd '[' (offset 32) opens "
                   "level 33, one more than max_depth", "accepts up to 1000 levels");
    free(s);

    /* Objects count the same: {"a":{"a":...}}. */
    char obj[5 * (JSON_MAX_DEPTH + 1) + JSON_MAX_DEPTH + 2];
    size_t len = 0;
    for (int i = 0; i < JSON_MAX_DEPTH; i++)
        len += (size_t)sprintf(obj + len, "{\"a\":");
    len += (size_t)sprintf(obj + len, "1");
    memset(obj + len, '}', JSON_MAX_DEPTH);
    expect_accepted(obj, len + JSON_MAX_DEPTH, "32 objects inside each other");
    memmove(obj + 5, obj, len + JSON_MAX_DEPTH);
    memcpy(obj, "{\"a\":", 5);
    obj[len + 5 + JSON_MAX_DEPTH] = '}';
    expect_refused(obj, len + 6 + JSON_MAX_DEPTH, 5 * JSON_MAX_DEPTH,
                   "33 objects inside each other: the 33rd '{' is past the limit", NULL);

    /* The caller's limit, not only the constant. */
    const struct json_limits three = {3, JSON_MAX_VALUES};
    expect_accepted_lim(T("[[],[[1]]]"), &three, "depth 3 with max_depth 3");
    expect_refused_lim(T("[[],[[[1]]]]"), &three, 6, "the fourth '[' on one path, with "
                       "max_depth 3", NULL);
}

Test(json, a_limit_above_json_max_depth_counts_as_json_max_depth)
{
    const struct json_limits big = {1000, JSON_MAX_VALUES};
    size_t n;
    char *s = brackets(JSON_MAX_DEPTH, 1, &n);
    expect_accepted_lim(s, n, &big, "32 levels with max_depth 1000");
    free(s);
    s = brackets(JSON_MAX_DEPTH + 1, 1, &n);
    expect_refused_lim(s, n, &big, JSON_MAX_DEPTH,
                       "33 levels with max_depth 1000: a limit above JSON_MAX_DEPTH counts as "
                       "JSON_MAX_DEPTH (json_check.h). The stack of open containers has "
                       "JSON_MAX_DEPTH places; a 33rd would be written past its end", NULL);
    free(s);

    const struct json_limits none = {0, JSON_MAX_VALUES}, below = {-5, JSON_MAX_VALUES};
    expect_accepted_lim(T("\"x\""), &none, "max_depth 0 allows values outside containers");
    expect_refused_lim(T("[]"), &none, 0, "max_depth 0: no container at all", NULL);
    expect_refused_lim(T(" {}"), &below, 1, "max_depth below 0 counts as 0", NULL);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

Test(json, a_hundred_thousand_brackets_are_refused_at_once)
{
    size_t n;
    char *s = brackets(100000, 0, &n);
    double best = 1e9;
    struct json_result r;
    int rc = 0;
    for (int round = 0; round < 3; round++) {
        double t0 = now_ms();
        rc = check(s, n, &api, &r);
        double t = now_ms() - t0;
        best = t < best ? t : best;
    }
    cr_expect(rc == -1 && r.offset == JSON_MAX_DEPTH && has_reason(&r),
              "json_check(100000 times '[') returned %s; expected -1 at offset %d, the first "
              "'[' past max_depth. A recursive parser would have used 100000 stack frames "
              "(cJSON stops at its own limit of 1000 levels)", said(rc, &r), JSON_MAX_DEPTH);
    cr_expect(best < 100.0,
              "json_check(100000 times '[') took %.1f ms (the best of 3 runs); expected well "
              "under 100 ms: the answer is known at the 33rd byte", best);
    free(s);
}

Test(json, the_values_cap_counts_every_value)
{
    const struct json_limits four = {JSON_MAX_DEPTH, 4};
    struct json_result r = expect_accepted_lim(T("[1,[2]]"), &four,
                                               "[1,[2]] is 4 values, with max_values 4");
    cr_expect(r.values == 4, "json_check(\"[1,[2]]\"): res->values is %zu; expected 4",
              r.values);
    expect_refused_lim(T("[1,[2],3]"), &four, 7, "the 5th value, 3, is one past max_values 4",
                       NULL);
    expect_refused_lim(T("[1,[2,3]]"), &four, 6, "the 5th value, 3, is one past max_values 4",
                       NULL);
    expect_refused_lim(T("[1,[2],[]]"), &four, 7, "the 5th value is the array [] (containers "
                       "count)", NULL);
    const struct json_limits two = {JSON_MAX_DEPTH, 2}, one = {JSON_MAX_DEPTH, 1};
    expect_accepted_lim(T("{\"a\":1}"), &two, "{\"a\":1} is 2 values: member names do not count");
    expect_refused_lim(T("{\"a\":1}"), &one, 5, "the 2nd value, 1, with max_values 1", NULL);

    /* JSON_MAX_VALUES exactly, and one more: [1,1,...,1]. */
    size_t ones = JSON_MAX_VALUES, n = 2 * ones + 1;
    char *s = malloc(n);
    cr_assert(s != NULL, "out of memory");
    s[0] = '[';
    for (size_t i = 0; i < ones; i++) {
        s[1 + 2 * i] = '1';
        s[2 + 2 * i] = ',';
    }
    s[n - 1] = ']';
    expect_refused(s, n, 2 * (JSON_MAX_VALUES - 1) + 1,
                   "an array of 10000 ones is 10001 values: the last 1 is one too many", NULL);
    /* one 1 fewer: "[" + 9999 times "1," with the last ',' turned into ']' */
    s[n - 3] = ']';
    r = expect_accepted(s, n - 2, "an array of 9999 ones is JSON_MAX_VALUES (10000) values");
    cr_expect(r.values == JSON_MAX_VALUES, "[1,1,...] with 9999 ones: res->values is %zu; "
              "expected 10000", r.values);
    free(s);
}

/* Counting allocations: AddressSanitizer calls these hooks on every
 * malloc() and free() when the tests are built with it (make check does);
 * without it the count is not checked. */
#ifdef HAVE_ASAN
int __sanitizer_install_malloc_and_free_hooks(void (*m)(const volatile void *, size_t),
                                              void (*f)(const volatile void *));
static volatile size_t mallocs;
static void on_malloc(const volatile void *p, size_t n)
{
    (void)p;
    (void)n;
    mallocs++;
}
static void on_free(const volatile void *p)
{
    (void)p;
}
#endif

Test(json, a_mebibyte_array_is_refused_at_the_first_value_past_the_cap)
{
    /* [1,1,...,1]: 524288 values in 1 MiB. cJSON would make a node of
     * each -- 36 MiB of heap for a 1 MiB body. */
    size_t ones = 524287, n = 2 * ones + 1;
    char *s = malloc(n);
    cr_assert(s != NULL, "out of memory");
    s[0] = '[';
    for (size_t i = 0; i < ones; i++) {
        s[1 + 2 * i] = '1';
        s[2 + 2 * i] = ',';
    }
    s[n - 1] = ']';
    struct json_result r;
    memset(&r, 0, sizeof r);
    size_t before = 0, after = 0;
#ifdef HAVE_ASAN
    __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
    before = mallocs;
#endif
    int rc = json_check(s, n, &api, &r); /* s itself is exactly n bytes */
#ifdef HAVE_ASAN
    after = mallocs;
#endif
    cr_expect(rc == -1 && r.offset == 19999 && has_reason(&r),
              "json_check(\"[1,1,1,...,1]\", %zu bytes: %zu values) returned %s; expected -1 at "
              "offset 19999, the 10000th 1 -- with the array it is value 10001, one past "
              "JSON_MAX_VALUES. Stop there: the rest of the body need not be read",
              n, ones + 1, said(rc, &r));
    cr_expect(eq(sz, after - before, 0),
              "json_check() called malloc() %zu times; expected none: it only looks at the "
              "bytes, and a fixed array is its stack", after - before);
    free(s);
}

/* ---- the buffer: (ptr, len), no NUL ------------------------------------- */

Test(json, every_prefix_of_a_valid_text_is_refused_at_its_end)
{
    static const struct {
        const char *in;
        size_t len;
    } texts[] = {
        {T("{\"a\":[1,-2.5e+3,\"\\u00e9\xC3\xA9\\ud83c\\udf50\\n\",true,false,null],\"b\":{}}")},
        {T("[\"\xF0\x9F\x8D\x90\",0,{\"\":[]}]")},
    };
    for (size_t t = 0; t < COUNT(texts); t++) {
        const char *in = texts[t].in;
        size_t n = texts[t].len;
        expect_accepted(in, n, "the whole text is valid JSON");
        for (size_t k = 0; k < n; k++) {
            struct json_result r;
            int rc = check(in, k, &api, &r);
            cr_expect(rc == -1 && r.offset == k && has_reason(&r),
                      "json_check(%s, %zu) -- the first %zu bytes of the valid %s -- returned "
                      "%s; expected -1 at offset %zu: the text ends too early, and the offset "
                      "is then len. It is an exactly-sized buffer with no NUL after it: a read "
                      "at text[len] is an AddressSanitizer report",
                      wb_esc(in, k, 80), k, k, wb_esc(in, n, 80), said(rc, &r), k);
        }
    }
    /* Values that end exactly at len: a number reader that looks one byte
     * further (strtod() does, for a NUL) reads past the buffer. */
    expect_accepted(T("-12.5e+10"), "a number that ends at len");
    expect_accepted(T("1"), "a one-byte text");
    expect_accepted(T("null"), "a literal that ends at len");
}

Test(json, empty_and_whitespace_only_texts_are_refused)
{
    expect_refused(T(""), 0, "no value at all: the offset is len, 0", "refuses it too");
    expect_refused(T(" "), 1, "only whitespace: the offset is len", "refuses it too");
    expect_refused(T(" \t\r\n"), 4, "only whitespace", "refuses it too");
    expect_accepted(T(" 1 "), "a value with whitespace around it");
}

Test(json, a_byte_order_mark_is_refused)
{
    const char *why = "a UTF-8 byte order mark, EF BB BF: RFC 8259 section 8.1 says a sender "
                      "must not add one, and outside strings only ASCII may appear";
    expect_accepted(T("{}"), "without the BOM it is valid");
    expect_refused(T("\xEF\xBB\xBF{}"), 0, why, "skips it and accepts {}");
    expect_refused(T("\xEF\xBB\xBF"), 0, why, NULL);
    expect_refused(T(" \xEF\xBB\xBF{}"), 1, "a BOM after a space", NULL);
}
