/* auth -- the HTTP side of users and sessions, in front of chapter 03's
 * API (stages 1 to 5):
 *
 *   POST   /users      {"username","password"}  -> 201 the account (stage 1)
 *   POST   /sessions   {"username","password"}  -> 201 a bearer token (stage 2);
 *                      a token sent with it ends (stage 4)
 *   GET    /me         Authorization: Bearer T  -> 200 the account (stage 3)
 *   DELETE /sessions/current                    -> 204, T ends (stage 4)
 *   DELETE /sessions                            -> 204, every session of the
 *                                                  account ends (stage 4)
 *   PUT    /me/password {"current_password","new_password"}
 *                                               -> 204, every other session
 *                                                  ends; 403 for a wrong
 *                                                  current password (stage 4)
 *
 * Browsers (stage 5): POST /sessions with "transport":"cookie" sets the
 * token in a cookie instead of the body --
 *   Set-Cookie: __Host-sid=T; Path=/; Secure; HttpOnly; SameSite=Strict
 * -- which then stands for Authorization: Bearer T (both at once: 400).
 * Logging out with it expires it (Max-Age=0). A change (POST, PUT, PATCH,
 * DELETE) that comes with the cookie, and a cookie login, must come from
 * this site: Sec-Fetch-Site same-origin or none, else an Origin that is
 * this server's; otherwise 403 (cross-site request forgery).
 *
 * Every other request goes to the items API (api_serve()). Errors are
 * problem documents (chapter 03's problem.h); every 401 says how to
 * authenticate in WWW-Authenticate (RFC 9110 section 11.6.1), with RFC
 * 6750's error codes:
 *
 *   no credentials, or another scheme    401  Bearer realm="restd"
 *   a token that opens no session        401  Bearer realm="restd", error="invalid_token"
 *   an empty or malformed token, two     400  Bearer realm="restd", error="invalid_request"
 *   Authorization fields
 *
 * A wrong password and an unknown username get the same 401, byte for
 * byte (but the Date), in the same time. */
#ifndef AUTH_H
#define AUTH_H

#include "api.h"
#include "conn.h"
#include "sessions.h"
#include "users.h"

struct auth {
    struct api *api;            /* the items */
    struct users *users;
    struct sessions *sessions;
};

/* struct http_handler's three callbacks, with ctx a struct auth. */
int auth_may_block(void *ctx, const struct http_request *req);
int auth_serve(void *ctx, const struct http_request *req, const struct buf *body,
               struct response *resp, const struct loop_job *job);
int auth_error(void *ctx, int status, struct response *resp);

#endif
