/* client -- what chapter 2's tests need beyond the HTTP client of
 * harness/lib/httpc.h (ht_exchange(), the expectations, the messages):
 *
 *  - ht_make_root(): the folder the server serves, in the test's
 *    temporary directory (wb_tmpdir), with files of every type, a secret
 *    file next to it (outside the root) and symlinks.
 *  - Helpers that know this chapter's types (http.h, conn.h): slices,
 *    a request built without parsing, http_service fed without a
 *    network, conn_serve() on a thread of its own.
 *  - ht_expect_accepted(): the positive control of a test that expects
 *    an error status.
 *
 * Every function that can fail calls cr_fatal() with a message; they
 * return only on success unless their comment says otherwise. */
#ifndef HT_CLIENT_H
#define HT_CLIENT_H

#include <stddef.h>

#include "buf.h"
#include "conn.h"
#include "http.h"
#include "httpc.h"
#include "wbtest.h"

/* ---- the folder the server serves ---------------------------------------- */

/* Fills the test's temporary directory (wb_tmpdir(), removed when the
 * test ends) once per test: secret.txt ("TOP SECRET\n") and the root
 * folder DIR/root with the files below; returns the root's path.
 * big.bin is HT_BIG_LEN seeded random bytes (wb_seed()).
 *
 *   index.html  hello.txt  style.css  app.js  data.json  logo.png (binary,
 *   with NUL bytes)  photo.JPG  noext  "a b.txt"  big.bin
 *   docs/index.html  docs/guide.html  empty/ (a folder without index.html)
 *   escape.txt -> ../secret.txt     (a symlink out of the root: never served)
 *   docs-link  -> docs              (a symlink inside the root: served) */
#define HT_BIG_LEN (1024 * 1024)
#define HT_SECRET "TOP SECRET\n"
char *ht_make_root(void);

/* The folder holding the root (and secret.txt), after ht_make_root(). */
const char *ht_parent_dir(void);

/* One file of the root, for comparing what the server sends. */
struct ht_file {
    const char *path;   /* URL path: "/hello.txt", "/a%20b.txt" */
    const char *file;   /* its name under the root: "hello.txt", "a b.txt" */
    const char *mime;   /* the Content-Type files_mime() gives it */
    const char *data;   /* its bytes (big.bin: filled by ht_make_root) */
    size_t len;
};

/* The files of the root (ht_make_root() first): *n entries. */
const struct ht_file *ht_files(size_t *n);

/* The entry for a URL path ("/hello.txt"), or NULL. */
const struct ht_file *ht_file(const char *path);

/* ---- unit-test helpers ------------------------------------------------------ */

/* 1 when s holds exactly the text want (s.p may be anything when both are
 * empty). */
int ht_slice_is(struct http_slice s, const char *want);

/* 1 when s lies inside buf[0..len) (a slice into the caller's buffer, not
 * a copy). An empty slice counts as inside when s.p is within or right
 * after buf. */
int ht_slice_within(struct http_slice s, const void *buf, size_t len);

/* s escaped for a message ("(null)" when s.p is NULL), in a message slot
 * (wb_msgbuf). */
const char *ht_slice_esc(struct http_slice s);

/* A positive control for tests that expect an error status: sends
 * "GET /hello.txt HTTP/1.1" with a Host on a new connection and fails the
 * test unless a complete response with a status other than 400 comes
 * back -- so that a program answering 400 to everything cannot pass. */
void ht_expect_accepted(struct wb_proc *p, const char *why);

/* A request as the parser would fill it, for handler tests: method and
 * target (split at '?'), HTTP/1.1, "Host: localhost". The strings must
 * outlive req. */
void ht_make_request(struct http_request *req, const char *method, const char *target);

/* Feeds raw[0..len) to http_service's callbacks directly, as the loop
 * would: on_open, then piece bytes appended to c->in and on_data at a
 * time; whenever a response is queued it is taken as sent (c->out
 * emptied, on_drain). No network, no threads: every piece is one read.
 * handler answers (NULL: the file server of ht_make_root()). Stores the
 * number of complete "HTTP/1.1 NNN" responses in *responses and their
 * status codes in status[0..cap); when out is not NULL, everything the
 * service sent goes there (buf_init()ed by the caller), and *closed says
 * whether it closed the connection. Returns the CPU time the calls took,
 * in ms. */
double ht_feed_service(const struct http_handler *handler, const char *raw, size_t len,
                       size_t piece, int *responses, int *status, size_t cap, struct buf *out,
                       int *closed);

/* Runs conn_serve() on a thread of its own for a fresh loopback connection
 * (root: ht_make_root(), the given timeout, max_body 1 MiB) and returns the
 * client's end. One per test. */
int ht_start_conn_serve(int timeout_ms);

/* Waits up to ms for that conn_serve() to return. Returns 1 if it did. */
int ht_conn_serve_returned(int ms);

#endif
