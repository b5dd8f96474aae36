/* restc -- what this chapter's tests share: requests to the API on one
 * keep-alive connection, built from a method, a target, header lines and
 * a body. */
#ifndef RESTC_H
#define RESTC_H

#include "httpc.h"
#include "jsontest.h"
#include "wbtest.h"

/* The bytes of "METHOD TARGET HTTP/1.1", Host, the header lines in
 * headers (each ending in \r\n; may be NULL), Content-Length when body is
 * not NULL, and the body: malloc'd, *len bytes (free() it). */
char *rc_request(const char *method, const char *target, const char *headers, const char *body,
                 size_t body_len, size_t *len);

/* Sends rc_request(...) on fd and returns the response (ht_free() it). */
struct ht_response *rc_send(struct wb_proc *p, int fd, const char *method, const char *target,
                            const char *headers, const char *body, size_t body_len);

/* POST /items with a JSON body: rc_send with "Content-Type:
 * application/json". */
struct ht_response *rc_post(struct wb_proc *p, int fd, const char *json);

/* POST /items of json, which must be answered 201: returns the new item's
 * id, and its Location into loc[0..cap) when loc is not NULL. */
long long rc_create(struct wb_proc *p, int fd, const char *json, char *loc, size_t cap);

/* The path of rel beside this chapter's tests/ (a file or a folder that
 * exists): found from this file's own path (chapter.mk compiles tests by
 * their absolute paths), else from the usual working directories. Fails
 * the test, saying where it looked, when there is none. The string lives
 * until the next call. */
const char *rc_test_path(const char *rel);

/* Fails the test unless GET /health still answers 200 on fd: after an
 * error, the same keep-alive connection must go on serving. */
void rc_expect_alive(struct wb_proc *p, int fd, const char *after);

#endif
