/* Stage 9: caching and ranges -- HTTP dates (http_parse_date), entity
 * tags (files_etag), conditional requests (If-None-Match,
 * If-Modified-Since -> 304 Not Modified) and single byte ranges
 * (files_parse_range -> 206 Partial Content, 416 Range Not Satisfiable). */
#define _GNU_SOURCE
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "files.h"
#include "http.h"
#include "response.h"
#include "wbtest.h"

WB_SUITE(caching);

/* ---- helpers --------------------------------------------------------------- */

static struct http_slice slice(const char *s)
{
    return (struct http_slice){ s, strlen(s) };
}

/* Formats t as an IMF-fixdate, independently of the code under test. */
static void imf_date(time_t t, char out[64])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, 64, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Parses an IMF-fixdate, independently of the code under test; -1 if it
 * is not one. */
static time_t parse_imf(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end || *end || strlen(s) != 29)
        return -1;
    return timegm(&tm);
}

static time_t mtime_of(const char *file)
{
    char path[8192];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", ht_make_root(), file);
    cr_assert(eq(int, stat(path, &st), 0), "test setup: stat %s: %s", path, strerror(errno));
    return st.st_mtime;
}

/* METHOD path with extra header lines (each ending in CRLF), on a new connection. */
static struct ht_response *get_with(struct wb_proc *p, const char *method, const char *path,
                                    const char *extra)
{
    char raw[1024];
    snprintf(raw, sizeof raw, "%s %s HTTP/1.1\r\nHost: localhost\r\n%s\r\n", method, path,
             extra);
    return ht_exchange_str(p, raw);
}

/* The ETag of /hello.txt, from a plain GET. */
static void etag_of_hello(struct wb_proc *p, char *out, size_t cap)
{
    struct ht_response *r = ht_get(p, "/hello.txt");
    ht_expect_status(p, r, 200, NULL, 0, "GET /hello.txt");
    const char *e = ht_header(r, "ETag");
    cr_assert(e != NULL, "GET /hello.txt has no ETag field: every file response carries "
              "one (files_etag())\nreceived: %s", ht_describe_response(r));
    snprintf(out, cap, "%s", e);
    ht_free(r);
}

/* Expects 304 with no body; the same ETag when etag is not NULL. */
static void expect_304(struct wb_proc *p, struct ht_response *r, const char *etag,
                       const char *why)
{
    ht_expect_status(p, r, 304, NULL, 0, why);
    if (etag)
        ht_expect_header(p, r, "ETag", etag,
                         "a 304 response carries the ETag the 200 would have, so the client "
                         "can keep using its copy");
    ht_expect_no_extra(p, r, "a 304 Not Modified response has no body (nor a Content-Length "
                       "that announces one)");
}

/* ---- http_parse_date ------------------------------------------------------------ */

Test(caching, http_parse_date_reads_the_three_http_date_formats)
{
    static const struct {
        const char *s;
        long long want;
    } cases[] = {
        { "Sun, 06 Nov 1994 08:49:37 GMT", 784111777 },   /* IMF-fixdate */
        { "Sunday, 06-Nov-94 08:49:37 GMT", 784111777 },  /* RFC 850 (obsolete) */
        { "Sun Nov  6 08:49:37 1994", 784111777 },        /* asctime (obsolete) */
        { "Thu, 01 Jan 1970 00:00:00 GMT", 0 },
        { "Thu, 29 Feb 2024 12:00:00 GMT", 1709208000 },  /* a leap day */
        { "Thursday, 29-Feb-24 12:00:00 GMT", 1709208000 }, /* 24: 2024, not 1924 */
        { "Thu Feb 29 12:00:00 2024", 1709208000 },       /* asctime, two-digit day */
        { "Wed, 01 Mar 2000 00:00:00 GMT", 951868800 },   /* 2000 was a leap year */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        time_t t = 12345;
        int rc = http_parse_date(slice(cases[i].s), &t);
        cr_expect(rc == 0 && (long long)t == cases[i].want,
                  "http_parse_date(\"%s\") returned %d and set %lld; expected 0 and %lld "
                  "(RFC 9110 section 5.6.7: senders use the first form; recipients accept all "
                  "three)", cases[i].s, rc, (long long)t, cases[i].want);
    }

    /* A slice is not NUL-terminated: only its n bytes count. */
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMTXYZ";
    time_t t = 0;
    int rc = http_parse_date((struct http_slice){ s, 29 }, &t);
    cr_expect(rc == 0 && t == 784111777,
              "http_parse_date() on a slice of 29 bytes, \"Sun, 06 Nov 1994 08:49:37 GMT\", "
              "followed in memory by \"XYZ\": returned %d, set %lld; expected 0 and 784111777 "
              "(v.n bytes are the value: never strlen() a slice)", rc, (long long)t);

    /* what http_format_date() writes, it reads back */
    for (int i = 0; i < 50; i++) {
        time_t when = (time_t)(wb_random_u32() & 0x7fffffff);
        char out[HTTP_DATE_LEN + 1];
        http_format_date(when, out);
        time_t back = 0;
        rc = http_parse_date((struct http_slice){ out, HTTP_DATE_LEN }, &back);
        cr_assert(rc == 0 && back == when,
                  "http_format_date(%lld) wrote \"%s\", and http_parse_date() read it back as "
                  "%lld (result %d) (seed %llu)", (long long)when, out, (long long)back, rc,
                  (unsigned long long)wb_seed());
    }
}

Test(caching, http_parse_date_rejects_what_is_not_an_http_date)
{
    time_t t = 0;
    int rc = http_parse_date(slice("Sun, 06 Nov 1994 08:49:37 GMT"), &t);
    cr_assert(rc == 0 && t == 784111777, "http_parse_date(\"Sun, 06 Nov 1994 08:49:37 GMT\") "
              "returned %d, set %lld; expected 0 and 784111777", rc, (long long)t);
    static const char *const bad[] = {
        "",
        "yesterday",
        "784111777",
        "Sun, 06 Nov 1994",
        "Sun, 06 Nov 1994 08:49",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:61:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "1994-11-06T08:49:37Z",
        "Sun Nov  6 08:49:37",
        "Sunday, 06-Nov-94 08:49:37",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        t = 42;
        rc = http_parse_date(slice(bad[i]), &t);
        cr_expect(eq(int, rc, -1), "http_parse_date(\"%s\") returned %d (time %lld); expected "
                  "-1: it is none of the three HTTP date formats (a wrong If-Modified-Since "
                  "is ignored, so saying -1 is always safe)", bad[i], rc, (long long)t);
    }
    /* a valid date cut short by the slice's length */
    const char *s = "Sun, 06 Nov 1994 08:49:37 GMT";
    rc = http_parse_date((struct http_slice){ s, 20 }, &t);
    cr_expect(eq(int, rc, -1), "http_parse_date() on the first 20 bytes of \"%s\" returned %d; "
              "expected -1: read only v.n bytes", s, rc);
}

/* ---- files_etag, files_parse_range ---------------------------------------------- */

Test(caching, files_etag_is_a_strong_tag_that_changes_with_size_or_mtime)
{
    struct stat st;
    char a[128], b[128];
    memset(&st, 0, sizeof st);
    st.st_size = 1234;
    st.st_mtime = 1700000000;
    st.st_atime = 1700000000;
    memset(a, '#', sizeof a);
    int n = files_etag(&st, a, sizeof a);
    cr_assert(n >= 3 && n < (int)sizeof a && a[n] == '\0' && (size_t)n == strlen(a),
              "files_etag() returned %d; expected the length of the NUL-terminated tag it "
              "wrote (at least 3: two quotes around something)", n);
    cr_assert(a[0] == '"' && a[n - 1] == '"',
              "files_etag() wrote %s; an entity tag is quoted, \"\\\"...\\\"\" (a strong tag: "
              "no W/ in front)", a);
    for (int i = 1; i < n - 1; i++) {
        unsigned char c = (unsigned char)a[i];
        cr_assert(c > 0x20 && c != '"' && c != 0x7f, "files_etag() wrote %s: between the "
                  "quotes only visible characters other than '\"' (RFC 9110 etagc)", a);
    }

    files_etag(&st, b, sizeof b);
    cr_assert(eq(str, a, b), "files_etag() gave two tags for the same size and mtime");

    struct stat other = st;
    other.st_atime += 3600; /* reading a file changes its atime, not its version */
    files_etag(&other, b, sizeof b);
    cr_assert(eq(str, a, b), "files_etag() changed when only st_atime changed (%s -> %s): the "
              "tag names a version of the file -- size and mtime -- and reading the file must "
              "not change it", a, b);

    other = st;
    other.st_size = 1235;
    files_etag(&other, b, sizeof b);
    cr_assert(ne(str, a, b), "files_etag() gave the same tag %s for sizes 1234 and 1235: a "
              "changed file must get a new tag, or clients keep a stale copy", a);

    other = st;
    other.st_mtime = 1700000001;
    files_etag(&other, b, sizeof b);
    cr_assert(ne(str, a, b), "files_etag() gave the same tag %s for mtimes 1700000000 and "
              "1700000001: an edit that keeps the size must change the tag too", a);

    other = st;
    other.st_size = 0x10000;
    other.st_mtime = 1700000000 + 0x10000;
    files_etag(&other, b, sizeof b);
    cr_assert(ne(str, a, b), "files_etag() gave the same tag for (size 1234, mtime 1700000000) "
              "and (size 65536, mtime 1700065536)");
}

Test(caching, files_parse_range_serves_one_byte_range_or_ignores_the_header)
{
    static const struct {
        const char *v;
        long long size;
        int want;
        long long first, last;
        const char *why;
    } cases[] = {
        { "bytes=0-4", 10, 1, 0, 4, "the first 5 bytes" },
        { "bytes=5-", 10, 1, 5, 9, "from byte 5 to the end" },
        { "bytes=-3", 10, 1, 7, 9, "the last 3 bytes" },
        { "bytes=9-9", 10, 1, 9, 9, "the last byte alone" },
        { "bytes=0-999999", 10, 1, 0, 9, "a last byte past the end is clamped to the end" },
        { "bytes=-20", 10, 1, 0, 9, "a suffix longer than the file is the whole file" },
        { "bytes=4-4", 10, 1, 4, 4, "one byte" },
        { "bytes=100-", 10, -416, 0, 0, "starts past the end: 416 Range Not Satisfiable" },
        { "bytes=10-20", 10, -416, 0, 0, "starts exactly at the end (byte 10 of 0..9)" },
        { "bytes=5-2", 10, 0, 0, 0, "last < first is invalid: ignore the header (RFC 9110 "
          "section 14.1.1)" },
        { "items=0-1", 10, 0, 0, 0, "another unit: ignore the header" },
        { "bytes=0-1,3-4", 10, 0, 0, 0, "several ranges: send the whole file instead" },
        { "bytes=", 10, 0, 0, 0, "no range at all" },
        { "bytes=-", 10, 0, 0, 0, "neither first nor last" },
        { "bytes=a-b", 10, 0, 0, 0, "not numbers" },
        { "bytes=1-2x", 10, 0, 0, 0, "junk after the range" },
        { "bytes=0x1-2", 10, 0, 0, 0, "decimal digits only" },
        { "", 10, 0, 0, 0, "an empty value" },
        { "bytes=0-4", 6, 1, 0, 4, "hello.txt's first 5 bytes" },
        { "bytes=-1", 6, 1, 5, 5, "hello.txt's last byte" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        off_t first = -7, last = -7;
        int rc = files_parse_range(slice(cases[i].v), (off_t)cases[i].size, &first, &last);
        cr_expect(eq(int, rc, cases[i].want),
                  "files_parse_range(\"%s\", size %lld) returned %d; expected %d: %s",
                  cases[i].v, cases[i].size, rc, cases[i].want, cases[i].why);
        if (rc == 1 && cases[i].want == 1)
            cr_expect(first == cases[i].first && last == cases[i].last,
                      "files_parse_range(\"%s\", size %lld) gave bytes %lld-%lld; expected "
                      "%lld-%lld (inclusive): %s", cases[i].v, cases[i].size,
                      (long long)first, (long long)last, cases[i].first, cases[i].last,
                      cases[i].why);
    }
    /* only v.n bytes count */
    off_t first = -7, last = -7;
    int rc = files_parse_range((struct http_slice){ "bytes=0-4999", 9 }, 10000, &first, &last);
    cr_expect(rc == 1 && first == 0 && last == 4,
              "files_parse_range() on a 9-byte slice, \"bytes=0-4\" (followed in memory by "
              "\"999\"), size 10000: returned %d, bytes %lld-%lld; expected 1 and 0-4 (v.n "
              "bytes are the value)", rc, (long long)first, (long long)last);
}

/* ---- end to end ---------------------------------------------------------------- */

Test(caching, a_file_comes_with_a_stable_etag_and_its_last_modified_time)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *a = ht_get(p, "/hello.txt");
    ht_expect_status(p, a, 200, NULL, 0, "GET /hello.txt");
    const char *etag = ht_header(a, "ETag"), *lm = ht_header(a, "Last-Modified");
    cr_assert(etag != NULL, "a file response needs an ETag field, the file version's tag "
              "(files_etag()): clients send it back in If-None-Match\nreceived: %s",
              ht_describe_response(a));
    size_t el = strlen(etag);
    cr_assert(el >= 3 && etag[0] == '"' && etag[el - 1] == '"',
              "\"ETag: %s\": an entity tag is quoted, e.g. ETag: \"5e1f2a-6\"", etag);
    cr_assert(lm != NULL, "a file response needs a Last-Modified field, the file's mtime as "
              "an HTTP date\nreceived: %s", ht_describe_response(a));
    time_t mtime = mtime_of("hello.txt"), got = parse_imf(lm);
    char want[64];
    imf_date(mtime, want);
    cr_assert(eq(long, (long)got, (long)mtime), "\"Last-Modified: %s\"; expected \"%s\", "
              "hello.txt's mtime as an IMF-fixdate (http_format_date(st.st_mtime))", lm, want);

    struct ht_response *b = ht_get(p, "/hello.txt");
    ht_expect_header(p, b, "ETag", etag, "the same file, unchanged, must keep its ETag");
    struct ht_response *h = ht_exchange_str(p, "HEAD /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n");
    ht_expect_header(p, h, "ETag", etag, "a HEAD response has the same fields as the GET");
    ht_expect_header(p, h, "Last-Modified", lm, "a HEAD response has the same fields as the GET");
    struct ht_response *c = ht_get(p, "/index.html");
    const char *other = ht_header(c, "ETag");
    cr_assert(other == NULL || strcmp(other, etag) != 0,
              "/hello.txt and /index.html (different sizes) have the same ETag %s", etag);
    ht_free(a);
    ht_free(b);
    ht_free(h);
    ht_free(c);
}

Test(caching, if_none_match_with_the_current_etag_gets_304_without_a_body)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    char etag[256], h[512];
    etag_of_hello(p, etag, sizeof etag);

    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    struct ht_response *r = get_with(p, "GET", "/hello.txt", h);
    expect_304(p, r, etag, "If-None-Match with the file's current ETag: the client's copy is "
               "up to date, answer 304 Not Modified");
    ht_free(r);

    r = get_with(p, "GET", "/hello.txt", "If-None-Match: *\r\n");
    expect_304(p, r, NULL, "\"If-None-Match: *\" matches any current version of the file");
    ht_free(r);

    snprintf(h, sizeof h, "If-None-Match: \"nope\", %s\r\n", etag);
    r = get_with(p, "GET", "/hello.txt", h);
    expect_304(p, r, etag, "If-None-Match holds a list of tags: one of them matches");
    ht_free(r);

    r = get_with(p, "GET", "/hello.txt", "If-None-Match: \"some-other-version\"\r\n");
    ht_expect_status(p, r, 200, NULL, 0, "If-None-Match with a tag that is not the file's: "
                     "the client's copy is stale, send the file");
    ht_expect_body(p, r, "hello\n", 6, "If-None-Match that does not match: the whole file");
    ht_free(r);

    snprintf(h, sizeof h, "If-None-Match: %s\r\n", etag);
    r = get_with(p, "HEAD", "/hello.txt", h);
    expect_304(p, r, etag, "HEAD with If-None-Match and the current ETag");
    ht_free(r);
}

Test(caching, if_modified_since_gets_304_unless_the_file_is_newer_and_loses_to_if_none_match)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    char etag[256], h[512], lm[64], older[64];
    etag_of_hello(p, etag, sizeof etag);
    time_t mtime = mtime_of("hello.txt");
    imf_date(mtime, lm);
    imf_date(mtime - 3600, older);

    snprintf(h, sizeof h, "If-Modified-Since: %s\r\n", lm);
    struct ht_response *r = get_with(p, "GET", "/hello.txt", h);
    expect_304(p, r, etag, "If-Modified-Since equal to the file's Last-Modified: not modified "
               "since, answer 304 (compare with st_mtime <= since)");
    ht_free(r);

    snprintf(h, sizeof h, "If-Modified-Since: %s\r\n", older);
    r = get_with(p, "GET", "/hello.txt", h);
    ht_expect_status(p, r, 200, NULL, 0, "If-Modified-Since an hour before the file's mtime: "
                     "it was modified since, send it");
    ht_expect_body(p, r, "hello\n", 6, "a file modified since If-Modified-Since");
    ht_free(r);

    r = get_with(p, "GET", "/hello.txt", "If-Modified-Since: yesterday\r\n");
    ht_expect_status(p, r, 200, NULL, 0, "an If-Modified-Since that is not a date is ignored "
                     "(http_parse_date() returns -1): send the file");
    ht_free(r);

    snprintf(h, sizeof h, "If-None-Match: \"some-other-version\"\r\nIf-Modified-Since: %s\r\n",
             lm);
    r = get_with(p, "GET", "/hello.txt", h);
    ht_expect_status(p, r, 200, NULL, 0, "If-None-Match (not matching) and If-Modified-Since "
                     "(not modified): when If-None-Match is there, If-Modified-Since is "
                     "ignored (RFC 9110 section 13.2.2), so the file is sent");
    ht_free(r);

    snprintf(h, sizeof h, "If-None-Match: %s\r\nIf-Modified-Since: %s\r\n", etag, older);
    r = get_with(p, "GET", "/hello.txt", h);
    expect_304(p, r, etag, "If-None-Match (matching) and an older If-Modified-Since: "
               "If-None-Match decides");
    ht_free(r);
}

Test(caching, a_byte_range_of_a_file_gets_206_with_content_range)
{
    static const struct {
        const char *range, *body, *content_range, *length;
    } cases[] = {
        { "bytes=0-4", "hello", "bytes 0-4/6", "5" },
        { "bytes=-1", "\n", "bytes 5-5/6", "1" },
        { "bytes=2-", "llo\n", "bytes 2-5/6", "4" },
        { "bytes=1-1000", "ello\n", "bytes 1-5/6", "5" },
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char h[128], why[256];
        snprintf(h, sizeof h, "Range: %s\r\n", cases[i].range);
        snprintf(why, sizeof why, "GET /hello.txt (\"hello\\n\", 6 bytes) with \"Range: %s\"",
                 cases[i].range);
        struct ht_response *r = get_with(p, "GET", "/hello.txt", h);
        ht_expect_status(p, r, 206, NULL, 0, why);
        ht_expect_header(p, r, "Content-Range", cases[i].content_range, why);
        ht_expect_header(p, r, "Content-Length", cases[i].length,
                         "Content-Length of a 206 is the length of the range, not of the file");
        ht_expect_body(p, r, cases[i].body, strlen(cases[i].body), why);
        ht_expect_no_extra(p, r, "only the range's bytes");
        ht_free(r);
    }

    struct ht_response *r = get_with(p, "GET", "/hello.txt", "Range: items=0-1\r\n");
    ht_expect_status(p, r, 200, NULL, 0, "a Range in another unit than bytes is ignored: the "
                     "whole file, 200");
    ht_expect_body(p, r, "hello\n", 6, "an ignored Range");
    ht_free(r);
}

Test(caching, head_with_a_range_gets_the_206_head_of_the_get)
{
    static const char why[] =
        "HEAD /hello.txt (\"hello\\n\", 6 bytes) with \"Range: bytes=0-4\": a HEAD gets "
        "exactly the head its GET would get -- 206 Partial Content, \"Content-Range: bytes "
        "0-4/6\", \"Content-Length: 5\" -- only without the body. Apply the range for HEAD "
        "too (RFC 9110 sections 9.3.2 and 14.2)";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    struct ht_response *r = get_with(p, "HEAD", "/hello.txt", "Range: bytes=0-4\r\n");
    ht_expect_status(p, r, 206, NULL, 0, why);
    ht_expect_header(p, r, "Content-Range", "bytes 0-4/6", why);
    ht_expect_header(p, r, "Content-Length", "5", why);
    ht_expect_no_extra(p, r, "a HEAD response has no body, also for a range: the 5 bytes "
                       "must not be sent");
    ht_free(r);

    r = get_with(p, "HEAD", "/hello.txt", "Range: bytes=6-\r\n");
    ht_expect_status(p, r, 416, NULL, 0, "HEAD /hello.txt (6 bytes) with \"Range: bytes=6-\": "
                     "the same 416 its GET would get");
    ht_expect_header(p, r, "Content-Range", "bytes */6", "HEAD with a range past the end");
    ht_expect_no_extra(p, r, "a HEAD response has no body, also for a 416");
    ht_free(r);
}

Test(caching, a_range_past_the_end_gets_416_with_the_file_size)
{
    static const char *const ranges[] = { "bytes=6-", "bytes=100-200" };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < 2; i++) {
        char h[128], why[256];
        snprintf(h, sizeof h, "Range: %s\r\n", ranges[i]);
        snprintf(why, sizeof why, "GET /hello.txt (6 bytes: 0..5) with \"Range: %s\": no byte "
                 "of it exists", ranges[i]);
        struct ht_response *r = get_with(p, "GET", "/hello.txt", h);
        ht_expect_status(p, r, 416, NULL, 0, why);
        ht_expect_header(p, r, "Content-Range", "bytes */6",
                         "a 416 response says the file's size in Content-Range: \"bytes */6\"");
        ht_free(r);
    }
}

Test(caching, a_random_range_of_big_bin_is_byte_exact)
{
    const struct ht_file *f = ht_file("/big.bin");
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (int i = 0; i < 3; i++) {
        size_t first = wb_random_u32() % (HT_BIG_LEN - 1);
        size_t last = first + wb_random_u32() % (300 * 1024);
        if (last >= HT_BIG_LEN)
            last = HT_BIG_LEN - 1;
        char h[128], why[256], cr[128];
        snprintf(h, sizeof h, "Range: bytes=%zu-%zu\r\n", first, last);
        snprintf(cr, sizeof cr, "bytes %zu-%zu/%d", first, last, HT_BIG_LEN);
        snprintf(why, sizeof why, "GET /big.bin (1 MiB of random bytes, seed %llu) with "
                 "\"Range: bytes=%zu-%zu\"", (unsigned long long)wb_seed(), first, last);
        struct ht_response *r = get_with(p, "GET", "/big.bin", h);
        ht_expect_status(p, r, 206, NULL, 0, why);
        ht_expect_header(p, r, "Content-Range", cr, why);
        ht_expect_body(p, r, f->data + first, last - first + 1,
                       "the range's bytes, exactly: start reading the file at the first byte "
                       "(pread() or lseek()) and stop after the last");
        ht_free(r);
    }
    struct ht_response *r = get_with(p, "GET", "/big.bin", "Range: bytes=-1000\r\n");
    ht_expect_status(p, r, 206, NULL, 0, "GET /big.bin with \"Range: bytes=-1000\"");
    ht_expect_body(p, r, f->data + HT_BIG_LEN - 1000, 1000, "the last 1000 bytes of /big.bin");
    ht_free(r);
}

Test(caching, if_range_applies_the_range_only_to_the_current_version)
{
    char etag[128], h[256];
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    etag_of_hello(p, etag, sizeof etag);

    snprintf(h, sizeof h, "Range: bytes=0-4\r\nIf-Range: %s\r\n", etag);
    struct ht_response *r = get_with(p, "GET", "/hello.txt", h);
    ht_expect_status(p, r, 206, NULL, 0, "GET /hello.txt with \"Range: bytes=0-4\" and "
                     "If-Range naming the current ETag: the client's partial copy is of this "
                     "version, so the range is sent");
    ht_expect_header(p, r, "Accept-Ranges", "bytes",
                     "a file response says that ranges are served: \"Accept-Ranges: bytes\"");
    ht_expect_body(p, r, "hello", 5, "the range of the current version");
    ht_free(r);

    r = get_with(p, "GET", "/hello.txt", "Range: bytes=0-4\r\nIf-Range: \"old-version\"\r\n");
    ht_expect_status(p, r, 200, NULL, 0, "GET /hello.txt with \"Range: bytes=0-4\" and an "
                     "If-Range naming another version: the client's partial copy is stale, so "
                     "the whole file comes back with 200 (RFC 9110 section 13.1.5)");
    ht_expect_body(p, r, "hello\n", 6, "If-Range with a stale ETag: the whole file");
    ht_free(r);
}
