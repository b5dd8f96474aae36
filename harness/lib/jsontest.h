/* jsontest -- JSON in the tests of chapters 03 to 05: answers read as
 * JSON, compared parsed (never as strings: member order and number
 * spelling do not matter), with the first difference named by its JSON
 * Pointer, and problem documents (RFC 9457) checked as a whole.
 *
 * Like httpc.h, every expectation fails the test with what was sent,
 * what was expected and what came back. */
#ifndef JSONTEST_H
#define JSONTEST_H

#include <cJSON.h>

#include "httpc.h"
#include "wbtest.h"

/* The body of r parsed as JSON; fails the test (why, the request, the
 * response) when it is not JSON. The caller cJSON_Delete()s it. */
cJSON *jt_body(struct wb_proc *p, const struct ht_response *r, const char *why);

/* Where want and got first differ, as "at /tags/1: expected \"a\",
 * received 3", or NULL when they are equal. Objects are equal when they
 * have the same members with equal values, in any order; numbers when
 * their doubles are. The string lives in a wb_msgbuf() slot. */
const char *jt_diff(const cJSON *want, const cJSON *got);

/* Fails the test unless r's body, parsed, equals want_json (JSON text,
 * parsed too), naming the first difference. */
void jt_expect_json(struct wb_proc *p, const struct ht_response *r, const char *want_json,
                    const char *why);

/* Fails the test unless r is a problem document for status: that status,
 * "Content-Type: application/problem+json", and a JSON object body whose
 * "status" is the same number, whose "title" is a non-empty string, and
 * whose "type" and "detail", when present, are strings. Returns the body
 * (the caller deletes it), for further checks. */
cJSON *jt_expect_problem(struct wb_proc *p, const struct ht_response *r, int status,
                         const char *why);

#endif
