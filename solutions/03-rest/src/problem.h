/* problem -- JSON responses, and errors as problem details (stage 1).
 *
 * Every answer of the API has a JSON body. Success: the resource, with
 * "Content-Type: application/json". An error: an RFC 9457 problem
 * document, with "Content-Type: application/problem+json":
 *
 *   {"type":"about:blank","title":"Not Found","status":404,
 *    "detail":"no item has the id 42"}
 *
 * "type" is "about:blank": the status code says it all (RFC 9457 section
 * 4.2.1), so "title" is the status's reason phrase and "status" the status
 * code itself. "detail" tells the client what was wrong with this request.
 * Validation errors (stage 4) add "errors": a list of the members that
 * were wrong, as JSON Pointers (RFC 6901). */
#ifndef PROBLEM_H
#define PROBLEM_H

#include <cJSON.h>

#include "response.h"

/* Makes resp a status response whose body is json, printed without
 * whitespace, with "Content-Type: application/json". json stays the
 * caller's. Returns 0, or -1 when memory ran out. */
int json_respond(struct response *resp, int status, const cJSON *json);

/* Makes resp an RFC 9457 problem response: status, the body above with
 * the reason phrase of status (http_reason()) as the title, and detail
 * when it is not NULL; "Content-Type: application/problem+json". Returns
 * 0, or -1 when memory ran out. */
int problem_respond(struct response *resp, int status, const char *detail);

/* The same with an "errors" member: errors (an array of objects with a
 * "pointer" and a "detail") is added to the body, and becomes resp's: it
 * is freed in every case. */
int problem_respond_errors(struct response *resp, int status, const char *detail, cJSON *errors);

#endif
