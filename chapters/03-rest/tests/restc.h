/* restc -- what this chapter's tests share: requests to the API on one
 * keep-alive connection, built from a method, a target, header lines and
 * a body. */
#ifndef RESTC_H
#define RESTC_H

#include "httpc.h"
#include "jsontest.h"
#include "wbtest.h"

/* Sends "METHOD TARGET HTTP/1.1", Host, the header lines in headers (each
 * ending in \r\n; may be NULL), Content-Length when body is not NULL, and
 * the body, on fd; returns the response (ht_free() it). */
struct ht_response *rc_send(struct wb_proc *p, int fd, const char *method, const char *target,
                            const char *headers, const char *body, size_t body_len);

/* POST /items with a JSON body: rc_send with "Content-Type:
 * application/json". */
struct ht_response *rc_post(struct wb_proc *p, int fd, const char *json);

/* Fails the test unless GET /health still answers 200 on fd: after an
 * error, the same keep-alive connection must go on serving. */
void rc_expect_alive(struct wb_proc *p, int fd, const char *after);

#endif
