/* authtest -- what this chapter's tests share: accounts and logins made
 * through the API, the test's own look at the database (by a bound query,
 * and as the raw bytes of the file, where no password or token may ever
 * be found), and the small pieces of the messages.
 *
 * Every server a test starts with wb_start() gets "--db <the test's
 * folder>/auth.db --pwhash test" (WB_START_ARGS in the Makefile) unless
 * the test passes --db itself: at_db_path() is that file. Like httpc.h,
 * every function that can fail calls cr_fatal() with a message for the
 * learner. */
#ifndef AUTHTEST_H
#define AUTHTEST_H

#include <stddef.h>

#include <sqlite3.h>

#include "dbtest.h"
#include "restc.h"

#define AT_JSON "Content-Type: application/json\r\n"
#define AT_TOKEN_LEN 43                 /* base64url of 32 bytes, no padding */
#define AT_REALM "Bearer realm=\"restd\""

/* "<the test's folder>/auth.db": the file of every wb_start() that does
 * not pass --db. The same path as WB_START_ARGS's "{tmp}/auth.db". */
const char *at_db_path(void);

/* {"username":name,"password":pw} as JSON text, with cJSON's escaping
 * (UTF-8 stays as it is): malloc'd, free() it. */
char *at_creds(const char *name, const char *pw);

/* POST target with the JSON body json (NUL-terminated) on fd. */
struct ht_response *at_post(struct wb_proc *p, int fd, const char *target, const char *json);

/* POST /users for name and pw, which must be answered 201: the new
 * account's id. */
long long at_register(struct wb_proc *p, int fd, const char *name, const char *pw);

/* POST /sessions for name and pw, which must be answered 201 with a
 * token of 43 characters: it goes into token (NUL-terminated). */
void at_login(struct wb_proc *p, int fd, const char *name, const char *pw,
              char token[AT_TOKEN_LEN + 1]);

/* GET /me on fd with the header lines headers (each ending in \r\n; NULL
 * for none). */
struct ht_response *at_me(struct wb_proc *p, int fd, const char *headers);

/* The users column column (a name from the test, never a client's) of
 * the account called name, as text, "" when there is none: in a message
 * slot. */
const char *at_user_value(sqlite3 *db, const char *column, const char *name);

/* The name ("auth.db", "auth.db-wal", "auth.db-journal") of the first of
 * the database's files, beside path, that holds needle[0..n) anywhere in
 * its raw bytes; NULL when none does. Files that do not exist are
 * skipped. The name is valid until the next call. */
const char *at_file_holding(const char *path, const void *needle, size_t n);

/* 1 when the problem document j has an "errors" entry whose "pointer" is
 * pointer, else 0. */
int at_has_error_at(const cJSON *j, const char *pointer);

/* The pointers of j's "errors", for a message: "[\"/username\"]", or
 * "(no errors member)". In a message slot. */
const char *at_error_pointers(const cJSON *j);

/* r's raw bytes without its Date field (the one header that may differ
 * between two answers a second apart): malloc'd, *len bytes. */
char *at_without_date(const struct ht_response *r, size_t *len);

/* The median of v[0..n), n > 0 (v is sorted in place). */
double at_median(double *v, int n);

/* Stops p as wb_stop() does, and fails the test unless it exited 0. */
void at_stop(struct wb_proc *p);

/* ---- the session cookie (stage 5) ----------------------------------------- */

#define AT_COOKIE "__Host-sid"

/* {"username":name,"password":pw,"transport":transport} as JSON text:
 * malloc'd, free() it. */
char *at_creds_transport(const char *name, const char *pw, const char *transport);

/* "Cookie: __Host-sid=<value>\r\n", then the header lines more (NULL for
 * none), in a message slot. */
const char *at_cookie(const char *value, const char *more);

/* The cookie a Set-Cookie field's value sets, as a browser reads it (RFC
 * 6265 section 5.2): the name and the value of its first pair, without the
 * spaces around them, into name[0..ncap) and value[0..vcap) -- both ""
 * when the pair has no '='. */
void at_cookie_pair(const char *set_cookie, char *name, size_t ncap, char *value, size_t vcap);

/* 1 when the Set-Cookie field's value set_cookie has the attribute attr
 * (its name compared without case: "secure", "Max-Age"), with its value
 * (without the spaces around it; "" for none) into out[0..cap) when out
 * is not NULL; else 0. */
int at_cookie_attr(const char *set_cookie, const char *attr, char *out, size_t cap);

/* POST /sessions for name and pw with "transport":"cookie" and the header
 * lines headers besides Content-Type (NULL for none), which must be
 * answered 201 with one Set-Cookie that sets __Host-sid to 43 characters:
 * they go into value (NUL-terminated). */
void at_cookie_login(struct wb_proc *p, int fd, const char *name, const char *pw,
                     const char *headers, char value[AT_TOKEN_LEN + 1]);

/* r's WWW-Authenticate must be AT_REALM alone (error NULL), or carry
 * RFC 6750's error="<error>" after Bearer and the realm. msg says what
 * was asked, for the message. */
void at_expect_challenge(struct wb_proc *p, const struct ht_response *r, const char *error,
                         const char *msg);

/* POST /items with json, its Content-Type and more (credentials: at_bearer(),
 * at_cookie()): the new item's id, after a 201 (cr_fatal() otherwise).
 * why says what the test needs it for. */
long long at_create(struct wb_proc *p, int fd, const char *more, const char *json,
                    const char *why);

/* "Authorization: Bearer <token>\r\n" and more (NULL: nothing), in a
 * buffer of the test's. */
const char *at_bearer(const char *token, const char *more);

#endif
