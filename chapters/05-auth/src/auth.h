/* auth -- the HTTP side of users and sessions, in front of chapter 03's
 * API (stages 1 to 8):
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
 * Authorization (stage 6): every other request needs a session, but GET
 * and HEAD /health -- 401 before anything else is said about it. The items API
 * (api_serve()) then runs on a view of the store that reaches only the
 * user's own items (store_scope()): they own what they create, list only
 * their own, and another's item is 404, byte for byte the answer for an
 * id no item has, for every method. /admin/... is an admin's (the role is
 * read from the database at every request; a user gets 403 with
 * error="insufficient_scope", for every path under /admin/):
 *
 *   GET    /admin/users/{id}                     -> 200 the account
 *   PUT    /admin/users/{id}/role {"role":"user"|"admin"}
 *                                               -> 200 the account
 *
 * Throttling (stage 7): POST /sessions, and the current password of PUT
 * /me/password, count failed guesses by the client's address (the socket's peer -- never a header such as
 * X-Forwarded-For, which anyone can write) and the username as sent,
 * whether it has an account or not. Too many for one account from one
 * client, or for one client whatever the accounts, and the next login
 * from that client -- the right password too -- is 429 Too Many Requests
 * with Retry-After (seconds), before any hashing. Another client is not
 * locked out of its account. A right password clears its account's
 * count.
 *
 * JWTs (stage 8), the contrast to the sessions: with a session,
 *
 *   POST   /tokens                              -> 200 {"access_token": a JWT,
 *                                                  "token_type":"Bearer",
 *                                                  "expires_in"}
 *
 * -- HS256 (jwt.h), claims iss, aud, sub (the account's id), iat, nbf,
 * exp, jti. Authorization: Bearer <JWT> then stands for the account on
 * every route but the session's own: a JWT cannot make another (403
 * insufficient_scope), has no session to end (DELETE /sessions/current:
 * 400). Checked by its signature and claims, and against the account's
 * tokens_after: DELETE /sessions and a new password take back every JWT
 * of the account made before them. A token refused says why in the 401's
 * detail, never more than the client could read in it itself.
 *
 * Errors are
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
#include "jwt.h"
#include "sessions.h"
#include "throttle.h"
#include "users.h"

/* Slots of the table of failed logins: a slot is about 130 bytes. */
#define AUTH_THROTTLE_SLOTS 16384

struct auth {
    struct api *api;            /* the items */
    struct users *users;
    struct sessions *sessions;
    struct throttle *throttle;  /* failed logins, by key (stage 7) */
    struct throttle_rule per_account; /* one account from one client */
    struct throttle_rule per_client;  /* one client, whatever the accounts */
    const struct jwt_config *jwt;     /* the key and claims of JWTs (stage 8) */
};

/* struct http_handler's three callbacks, with ctx a struct auth. */
int auth_may_block(void *ctx, const struct http_request *req);
int auth_serve(void *ctx, const struct http_request *req, const struct buf *body,
               struct response *resp, const struct loop_job *job);
int auth_error(void *ctx, int status, struct response *resp);

#endif
