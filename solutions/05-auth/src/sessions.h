/* sessions -- who a request is: opaque session tokens (stages 2 and 3).
 *
 * A login gets a token of 32 random bytes (libsodium's randombytes_buf(),
 * the kernel's CSPRNG), sent as base64url without padding: 43 characters
 * of A-Z a-z 0-9 - _. The database keeps only the SHA-256 of those 32
 * bytes: whoever reads a copy of the file finds no token that works, and
 * a hash is enough to find a session by, as the token has 256 bits no one
 * can guess. A session ends when it is idle too long or old enough
 * (session_valid()). */
#ifndef SESSIONS_H
#define SESSIONS_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "authdb.h"
#include "users.h"

#define SESSION_TOKEN_LEN 43                   /* characters */
#define SESSION_IDLE_MS (30LL * 60 * 1000)     /* defaults: OWASP's 15-30 min idle, */
#define SESSION_MAX_MS (12LL * 3600 * 1000)    /* ASVS's 12 hours in all */

struct sessions {
    struct authdb *db;
    long long idle_ms;  /* a session unused this long has ended */
    long long max_ms;   /* a session this old has ended, used or not */
};

/* 1 when a session made at created_ms and last used at seen_ms is still
 * open at now_ms: now - seen < idle_ms and now - created < max_ms. */
int session_valid(long long created_ms, long long seen_ms, long long now_ms, long long idle_ms,
                  long long max_ms);

/* Opens a session for user_id at now_ms: its token into token (NUL
 * ended). AUTH_OK, AUTH_BUSY or AUTH_ERROR. */
enum auth_status sessions_create(struct sessions *s, int64_t user_id, long long now_ms,
                                 char token[SESSION_TOKEN_LEN + 1]);

/* The user whose open session token (len bytes, as the client sent it)
 * is, into *out; the session counts as used at now_ms. AUTH_DENIED for a
 * token that is not one, or whose session is unknown or has ended. */
enum auth_status sessions_find(struct sessions *s, const char *token, size_t len,
                               long long now_ms, struct user *out);

/* The SHA-256 of the 32 bytes of token (len bytes): what the database
 * keeps of it. 0, or -1 when the token is not 43 characters of strict
 * base64url (no padding, no other alphabet, no leftover bits). */
int sessions_token_hash(const char *token, size_t len,
                        unsigned char hash[crypto_hash_sha256_BYTES]);

/* Ends the session of token (len bytes), if there is one: logout. A token
 * that is not one ends nothing. AUTH_OK, AUTH_BUSY or AUTH_ERROR. */
enum auth_status sessions_end(struct sessions *s, const char *token, size_t len);

/* Ends every session of user_id but the one of keep (NULL: all of them):
 * "log out everywhere", and a changed password. */
enum auth_status sessions_end_all(struct sessions *s, int64_t user_id, const char *keep,
                                  size_t keep_len);

/* The wall clock in ms: sessions outlive the process. */
long long sessions_now_ms(void);

#endif
