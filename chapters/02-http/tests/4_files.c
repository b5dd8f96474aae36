/* Stage 4: serve files, and only those -- files_decode_path(),
 * files_mime(), files_resolve(), handler_serve() for GET, and the files
 * the server sends. */
#define _GNU_SOURCE /* memmem */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "files.h"
#include "handler.h"
#include "response.h"
#include "wbtest.h"

WB_SUITE(files);

/* ---- files_decode_path ----------------------------------------------------- */

/* Decodes in[0..strlen) from an exactly-sized copy into an exactly-sized
 * out of cap bytes. Returns the result; out_copy gets the decoded bytes. */
static int decode(const char *in, size_t cap, char *out_copy)
{
    size_t n = strlen(in);
    char *src = ht_dup(in, n);
    char *out = malloc(cap ? cap : 1);
    cr_assert(out != NULL, "out of memory");
    memset(out, '#', cap);
    int got = files_decode_path((struct http_slice){ src, n }, out, cap);
    if (got >= 0 && (size_t)got < cap)
        memcpy(out_copy, out, (size_t)got + 1);
    else
        out_copy[0] = '\0';
    free(src);
    free(out);
    return got;
}

Test(files, files_decode_path_decodes_percent_escapes)
{
    static const struct {
        const char *in, *want, *why;
    } cases[] = {
        { "/hello.txt", "/hello.txt", "nothing to decode" },
        { "/a%20b.txt", "/a b.txt", "%20 is a space" },
        { "/%68%65llo", "/hello", "any byte may be escaped" },
        { "/%7e%7E", "/~~", "hex digits in either case" },
        { "/a%2Fb", "/a/b", "%2F decodes to '/': files_resolve() judges the decoded path" },
        { "/%2e%2e/x", "/../x", "%2e is '.': decoding comes before the \"..\" check" },
        { "/%252e", "/%2e", "decode once: %25 is '%', and the result is not decoded again" },
        { "/a+b", "/a+b", "'+' is a space only in HTML forms, not in paths" },
        { "/%e2%82%ac", "/\xe2\x82\xac", "UTF-8 bytes (the euro sign)" },
        { "", "", "empty" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        int got = decode(cases[i].in, sizeof out, out);
        int want_len = (int)strlen(cases[i].want);
        cr_expect(eq(int, got, want_len),
                  "files_decode_path(\"%s\") returned %d; expected %d, the decoded length (%s)",
                  cases[i].in, got, want_len, cases[i].why);
        if (got >= 0)
            cr_expect(strcmp(out, cases[i].want) == 0,
                      "files_decode_path(\"%s\") wrote %s; expected %s, NUL-terminated (%s)",
                      cases[i].in, ht_esc(out, strlen(out), 100),
                      ht_esc(cases[i].want, strlen(cases[i].want), 100), cases[i].why);
    }
}

Test(files, files_decode_path_rejects_bad_escapes_and_nul)
{
    static const struct {
        const char *in, *why;
    } cases[] = {
        { "/a%00b", "%00 decodes to NUL: C functions would stop there (\"/secret%00.png\")" },
        { "/%", "'%' at the end" },
        { "/%4", "only one hex digit after '%'" },
        { "/%zz", "'z' is not a hex digit" },
        { "/%4g.txt", "'g' is not a hex digit" },
        { "/%%41", "\"%%\" is not an escape" },
        { "/a%2", "only one hex digit, at the end" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[256];
        int got = decode(cases[i].in, sizeof out, out);
        cr_expect(eq(int, got, -400), "files_decode_path(\"%s\") returned %d; expected -400: %s",
                  cases[i].in, got, cases[i].why);
    }
    char out[256];
    int got = decode("/ok%41%2e", sizeof out, out);
    cr_expect(eq(int, got, 5), "files_decode_path(\"/ok%%41%%2e\") returned %d; expected 5 "
              "(\"/okA.\"): good escapes are decoded", got);
}

Test(files, files_decode_path_stays_inside_out)
{
    char out[64];
    int got = decode("/abcdef", 8, out);
    cr_expect(eq(int, got, 7), "files_decode_path(\"/abcdef\", cap 8) returned %d; expected 7: "
              "7 bytes and the NUL fit in 8", got);
    got = decode("/abcdef", 7, out);
    cr_expect(eq(int, got, -414), "files_decode_path(\"/abcdef\", cap 7) returned %d; expected "
              "-414: 7 bytes and the NUL do not fit in 7 (and nothing may be written past "
              "out[6])", got);
    got = decode("/%41%42%43", 5, out);
    cr_expect(eq(int, got, 4), "files_decode_path(\"/%%41%%42%%43\", cap 5) returned %d; expected "
              "4: the decoded \"/ABC\" and its NUL fit in 5", got);
}

/* ---- files_mime ---------------------------------------------------------- */

Test(files, files_mime_maps_extensions_case_insensitively)
{
    static const struct {
        const char *name, *want;
    } cases[] = {
        { "index.html", "text/html; charset=utf-8" },
        { "/www/old.HTM", "text/html; charset=utf-8" },
        { "style.css", "text/css; charset=utf-8" },
        { "app.js", "text/javascript; charset=utf-8" },
        { "data.json", "application/json" },
        { "logo.png", "image/png" },
        { "photo.JPG", "image/jpeg" },
        { "photo.jpeg", "image/jpeg" },
        { "anim.Gif", "image/gif" },
        { "icon.svg", "image/svg+xml" },
        { "favicon.ico", "image/x-icon" },
        { "notes.txt", "text/plain; charset=utf-8" },
        { "paper.pdf", "application/pdf" },
        { "module.wasm", "application/wasm" },
        { "noext", "application/octet-stream" },
        { "archive.tar.gz", "application/octet-stream" },
        { "page.html.bak", "application/octet-stream" },
        { "/srv/v1.html/readme", "application/octet-stream" },
        { "trailing.", "application/octet-stream" },
        { "html", "application/octet-stream" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *got = files_mime(cases[i].name);
        cr_expect(ne(ptr, (void *)got, NULL), "files_mime(\"%s\") returned NULL", cases[i].name);
        if (got)
            cr_expect(eq(str, (char *)got, (char *)cases[i].want),
                      "files_mime(\"%s\") returned \"%s\"; expected \"%s\" (the extension is "
                      "what follows the last '.' of the last path segment, in any case; "
                      "anything unknown is application/octet-stream)",
                      cases[i].name, got, cases[i].want);
    }
}

/* ---- files_resolve ------------------------------------------------------- */

static const char *real_root(void)
{
    static char real[PATH_MAX];
    cr_assert(ne(ptr, realpath(ht_make_root(), real), NULL), "test setup: realpath(%s)",
              ht_make_root());
    return real;
}

Test(files, files_resolve_finds_files_and_index_html)
{
    static const struct {
        const char *decoded, *file, *why;
    } cases[] = {
        { "/hello.txt", "hello.txt", "a file in the root" },
        { "/docs/guide.html", "docs/guide.html", "a file in a folder" },
        { "/a b.txt", "a b.txt", "a space in the (decoded) name" },
        { "/", "index.html", "the root folder means its index.html" },
        { "/docs", "docs/index.html", "a folder means its index.html" },
        { "/docs/", "docs/index.html", "with or without the slash" },
        { "/docs-link/guide.html", "docs/guide.html",
          "a symlink to a folder inside the root is fine: out is the real path" },
        { "//hello.txt", "hello.txt", "an empty segment is harmless" },
    };
    const char *root = real_root();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX], want[PATH_MAX];
        struct stat st;
        snprintf(want, sizeof want, "%s/%s", root, cases[i].file);
        memset(&st, 0, sizeof st);
        int got = files_resolve(root, cases[i].decoded, out, sizeof out, &st);
        cr_expect(eq(int, got, 0), "files_resolve(\"%s\", \"%s\") returned %d; expected 0 (%s)",
                  root, cases[i].decoded, got, cases[i].why);
        if (got != 0)
            continue;
        cr_expect(strcmp(out, want) == 0,
                  "files_resolve(\"%s\", \"%s\") wrote \"%s\"; expected \"%s\" (%s)", root,
                  cases[i].decoded, out, want, cases[i].why);
        struct stat real;
        stat(want, &real);
        cr_expect(eq(i64, (long long)st.st_size, (long long)real.st_size),
                  "files_resolve(\"%s\", \"%s\"): st->st_size is %lld; expected %lld, the size "
                  "of %s (fill *st with stat() of the file)",
                  root, cases[i].decoded, (long long)st.st_size, (long long)real.st_size, want);
    }
}

Test(files, files_resolve_refuses_everything_outside_the_root)
{
    static const struct {
        const char *decoded, *why;
    } cases[] = {
        { "/../secret.txt", "\"..\" climbs out of the root" },
        { "/docs/../../secret.txt", "two \"..\" climb out of the root" },
        { "/docs/../hello.txt", "any \"..\" segment is refused, even one that stays inside" },
        { "/..", "the parent folder itself" },
        { "/..\\secret.txt", "a backslash (a path separator on Windows) is refused" },
        { "/escape.txt", "a symlink that points out of the root (../secret.txt)" },
        { "/docs-link/../../secret.txt", "\"..\" behind a symlink" },
        { "/missing.txt", "no such file" },
        { "/docs/missing/", "no such folder" },
        { "/empty", "a folder without index.html" },
        { "/empty/", "a folder without index.html" },
        { "/hello.txt/", "a file is not a folder" },
        { "/hello.txt/x", "a file is not a folder" },
    };
    const char *root = real_root();
    char ok[PATH_MAX];
    struct stat ok_st;
    int rc = files_resolve(root, "/hello.txt", ok, sizeof ok, &ok_st);
    cr_expect(eq(int, rc, 0), "files_resolve(\"%s\", \"/hello.txt\") returned %d; expected 0: "
              "the file is there (refusing everything is not the answer)", root, rc);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[PATH_MAX];
        struct stat st;
        strcpy(out, "(untouched)");
        int got = files_resolve(root, cases[i].decoded, out, sizeof out, &st);
        cr_expect(eq(int, got, -404),
                  "files_resolve(\"%s\", \"%s\") returned %d%s%s%s; expected -404: %s. "
                  "(realpath() the joined path and check it starts with root + '/')",
                  root, cases[i].decoded, got, got == 0 ? " and the file \"" : "",
                  got == 0 ? out : "", got == 0 ? "\"" : "", cases[i].why);
    }
}

/* ---- handler_serve ------------------------------------------------------- */


/* 1 when the header block holds the field line exactly. */
static int has_field(const struct buf *h, const char *line)
{
    return h->data && memmem(h->data, h->len, line, strlen(line)) != NULL;
}

Test(files, handler_serve_answers_get_with_the_file)
{
    struct site site;
    strcpy(site.root, real_root());
    const struct ht_file *f = ht_file("/data.json");
    struct http_request req;
    ht_make_request(&req, "GET", "/data.json?cache=no");
    struct buf body;
    buf_init(&body);
    struct response r;
    response_init(&r);
    int rc = handler_serve(&site, &req, &body, &r, NULL);
    cr_assert(eq(int, rc, 0), "handler_serve(GET /data.json?cache=no) returned %d; expected 0 "
              "(-1 is only for running out of memory)", rc);
    cr_assert(eq(int, r.status, 200), "handler_serve(GET /data.json?cache=no): status %d; "
              "expected 200 (the query is not part of the file name)", r.status);
    char line[128];
    snprintf(line, sizeof line, "Content-Type: %s\r\n", f->mime);
    cr_expect(has_field(&r.headers, line),
              "handler_serve(GET /data.json): r->headers is %s; expected it to hold %s "
              "(response_header(r, \"Content-Type\", files_mime(path)))",
              ht_esc(r.headers.data ? r.headers.data : "", r.headers.len, 400),
              ht_esc(line, strlen(line), 100));
    cr_assert(r.file_fd >= 0, "handler_serve(GET /data.json): r->file_fd is %d; expected an open "
              "fd of the file (the connection sends file_len bytes from file_off)", r.file_fd);
    cr_expect(eq(i64, (long long)r.file_off, 0), "r->file_off is %lld; expected 0",
              (long long)r.file_off);
    cr_assert(eq(i64, (long long)r.file_len, (long long)f->len),
              "r->file_len is %lld; expected %zu, the file's size", (long long)r.file_len, f->len);
    char got[256];
    ssize_t n = pread(r.file_fd, got, sizeof got, r.file_off);
    cr_expect(n == (ssize_t)f->len && memcmp(got, f->data, f->len) == 0,
              "r->file_fd does not read as data.json: %s", ht_esc(got, n > 0 ? (size_t)n : 0, 100));
    response_free(&r);

    response_init(&r);
    ht_make_request(&req, "GET", "/nope.html");
    rc = handler_serve(&site, &req, &body, &r, NULL);
    cr_expect(eq(int, rc, 0), "handler_serve(GET /nope.html) returned %d; a 404 is an answer: "
              "return 0", rc);
    cr_expect(eq(int, r.status, 404), "handler_serve(GET /nope.html): status %d; expected 404",
              r.status);
    cr_expect(eq(int, r.file_fd, -1), "handler_serve(GET /nope.html): a 404 must not hold a file "
              "(r->file_fd is %d)", r.file_fd);
    response_free(&r);
}

/* ---- against the running server ------------------------------------------- */

Test(files, serves_every_file_with_its_type_and_exact_bytes)
{
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    size_t nfiles;
    const struct ht_file *files = ht_files(&nfiles);
    for (size_t i = 0; i < nfiles; i++) {
        struct ht_response *r = ht_get(p, files[i].path);
        char why[256];
        snprintf(why, sizeof why, "GET %s: the file %s of the root", files[i].path, files[i].file);
        ht_expect_status(p, r, 200, NULL, 0, why);
        ht_expect_header(p, r, "Content-Type", files[i].mime,
                         "Content-Type comes from the extension (files_mime), in any case");
        char clen[32];
        snprintf(clen, sizeof clen, "%zu", files[i].len);
        ht_expect_header(p, r, "Content-Length", clen, "Content-Length is the file's size");
        snprintf(why, sizeof why,
                 "the body must be the file's bytes, all of them, unchanged (binary files hold "
                 "NUL bytes: no string functions; big.bin is %d random bytes, seed %llu)",
                 HT_BIG_LEN, (unsigned long long)wb_seed());
        ht_expect_body(p, r, files[i].data, files[i].len, why);
        ht_expect_no_extra(p, r, "nothing may follow the file's bytes");
        ht_free(r);
    }
}

Test(files, a_file_response_is_complete_and_exact)
{
    static const char req[] = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    time_t before = time(NULL);
    struct ht_response *r = ht_exchange_str(p, req);
    time_t after = time(NULL);
    ht_expect_status(p, r, 200, NULL, 0, "GET of a file that is there");
    static const char line[] = "HTTP/1.1 200 OK\r\n";
    cr_assert(strncmp(r->raw, line, sizeof line - 1) == 0,
              "the status line is %s; expected \"HTTP/1.1 200 OK\\r\\n\"\n%s",
              ht_esc(r->raw, strcspn(r->raw, "\n") + 1, 200),
              ht_describe_request(p, req, sizeof req - 1));
    const char *again = memmem(r->raw + 1, r->head_len - 1, "HTTP/1.", 7);
    cr_assert(again == NULL, "the head holds a second status line: send the head once\n"
              "received: %s", ht_describe_response(r));
    const char *date = ht_header(r, "Date");
    time_t t = 0;
    int ok = date && ht_parse_date(date, &t) == 0 && t >= before - 2 && t <= after + 2;
    cr_assert(ok, "Date is %s%s%s; expected the current time as an IMF-fixdate (\"Sun, 06 Nov "
              "1994 08:49:37 GMT\") within 2 s\nreceived: %s",
              date ? "\"" : "", date ? date : "missing", date ? "\"" : "",
              ht_describe_response(r));
    ht_expect_header(p, r, "Content-Length", "6", "hello.txt holds 6 bytes");
    ht_expect_header(p, r, "Content-Type", "text/plain; charset=utf-8", "a .txt file");
    ht_expect_body(p, r, "hello\n", 6, "the file's bytes");
    ht_expect_no_extra(p, r, "nothing may follow the file's 6 bytes");
    ht_free(r);
}

Test(files, a_folder_is_served_as_its_index_html)
{
    static const struct {
        const char *target, *file;
    } cases[] = {
        { "/", "/index.html" },
        { "/docs/", "/docs/index.html" },
        { "/docs", "/docs/index.html" },
        { "/docs-link/", "/docs/index.html" },
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct ht_file *f = ht_file(cases[i].file);
        struct ht_response *r = ht_get(p, cases[i].target);
        ht_expect_status(p, r, 200, NULL, 0, "a folder is served as its index.html");
        ht_expect_header(p, r, "Content-Type", "text/html; charset=utf-8",
                         "index.html is HTML: the type comes from the file served, not from "
                         "the request path");
        ht_expect_body(p, r, f->data, f->len, "the body is the folder's index.html");
        ht_free(r);
    }
}

Test(files, a_missing_file_gets_404)
{
    static const char *const targets[] = { "/nope.txt", "/docs/nope.html", "/empty/",
                                           "/hello.txt/more", "/nope/" };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        struct ht_response *r = ht_get(p, targets[i]);
        ht_expect_status(p, r, 404, NULL, 0,
                         "no such file (or a folder without index.html) gets 404 Not Found");
        ht_expect_body(p, r, "404 Not Found\n", 14, "the body of a 404 (response_error)");
        ht_free(r);
    }
    ht_expect_accepted(p, "after the 404s");
}

Test(files, the_query_is_ignored_and_the_path_is_decoded)
{
    static const struct {
        const char *target, *file, *why;
    } cases[] = {
        { "/hello.txt?v=2&x=%zz", "/hello.txt", "the query is not part of the file name" },
        { "/hello.txt?", "/hello.txt", "an empty query" },
        { "/a%20b.txt", "/a%20b.txt", "%20 in the path is a space in the file name" },
        { "/%68%65%6c%6c%6f.txt", "/hello.txt", "any byte of the path may be escaped" },
        { "/docs%2fguide.html", "/docs/guide.html", "%2f is a '/' once decoded" },
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const struct ht_file *f = ht_file(cases[i].file);
        struct ht_response *r = ht_get(p, cases[i].target);
        ht_expect_status(p, r, 200, NULL, 0, cases[i].why);
        ht_expect_body(p, r, f->data, f->len, cases[i].why);
        ht_free(r);
    }
    struct ht_response *r = ht_get(p, "/a%zzb.txt");
    ht_expect_status(p, r, 400, NULL, 0,
                     "a bad escape in the path (files_decode_path returns -400) gets 400");
    ht_free(r);
}

Test(files, traversal_attacks_never_reveal_the_secret)
{
    /* The root is DIR/root and DIR/secret.txt is next to it (DIR: the
     * test's temporary directory). None of these may return it, or any
     * other file outside the root. */
    static const char *const attacks[] = {
        "/../secret.txt",
        "/docs/../../secret.txt",
        "/./../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/.%2e/secret.txt",
        "/%2e%2e%2f%2e%2e%2f..%2fsecret.txt",
        "/%252e%252e/secret.txt",
        "/..\\secret.txt",
        "/docs/..%5c..%5csecret.txt",
        "/%5c..%5csecret.txt",
        "/escape.txt",
        "/escape.txt/",
        "/docs-link/../../secret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt",
        "/../../../../../../../../../../etc/passwd",
        "//etc/passwd",
        "/..%00/secret.txt",
        "http://localhost/../secret.txt",
    };
    struct wb_proc *p = wb_start("--root", ht_make_root(), NULL);
    char absolute[4200];
    snprintf(absolute, sizeof absolute, "/%s/secret.txt", ht_parent_dir());
    for (size_t i = 0; i < sizeof attacks / sizeof attacks[0] + 1; i++) {
        const char *target = i < sizeof attacks / sizeof attacks[0] ? attacks[i] : absolute;
        struct ht_response *r = ht_get(p, target);
        int leaked = memmem(r->raw, r->raw_len, "TOP SECRET", 10) != NULL ||
                     memmem(r->raw, r->raw_len, "root:x:0:0", 10) != NULL;
        cr_assert(leaked == 0,
                  "GET %s returned a file from OUTSIDE the root: anyone can read any file the "
                  "server can (private keys, passwords)\n%s\nreceived: %s\n"
                  "Decode the path first, then refuse \"..\" segments and backslashes, and "
                  "check that realpath() of the file starts with the root's realpath() plus "
                  "'/' (a symlink can point anywhere)",
                  target, ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
        int client_error = r->status >= 400 && r->status <= 499;
        cr_assert(client_error,
                  "GET %s got %d: an attempt to leave the root gets a 4xx status (404 or 400)\n"
                  "%s\nreceived: %s",
                  target, r->status, ht_describe_request(p, r->req, r->req_len),
                  ht_describe_response(r));
        ht_free(r);
    }
    struct ht_response *r = ht_get(p, "/docs-link/guide.html");
    ht_expect_status(p, r, 200, NULL, 0,
                     "a symlink that stays inside the root is served (docs-link -> docs): "
                     "compare real paths, do not refuse every symlink");
    ht_free(r);
}
