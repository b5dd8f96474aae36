/* users -- accounts: a name, a password kept only as an Argon2id hash,
 * and a role (stages 1 and 2).
 *
 * A password is hashed with libsodium's crypto_pwhash_str(): Argon2id,
 * a random salt of its own for every hash, and costs -- passes over
 * memory (ops) and memory (mem) -- chosen by a profile. The string it
 * makes ("$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>") holds all of
 * it, so crypto_pwhash_str_verify() needs nothing else, and a hash made
 * with other costs can be recognised (crypto_pwhash_str_needs_rehash())
 * and made again at the next login. */
#ifndef USERS_H
#define USERS_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#include "authdb.h"

/* A cost profile for --pwhash. */
struct pwhash {
    const char *name;
    unsigned long long ops; /* passes */
    size_t mem;             /* bytes */
};

/* The profile called name: "interactive" (libsodium's INTERACTIVE, 2
 * passes over 64 MiB, the default: above OWASP's floor), "owasp" (2 over
 * 19 MiB, OWASP's floor), "moderate" (3 over 256 MiB), "test" (libsodium's
 * MIN, 1 over 8 KiB: for tests on loopback only, never for passwords
 * anyone uses). NULL for any other name. */
const struct pwhash *pwhash_find(const char *name);

#define USER_NAME_MIN 3
#define USER_NAME_MAX 32
#define USER_PASSWORD_MIN 8      /* characters (code points) */
#define USER_PASSWORD_MAX 1024   /* bytes */

struct user {
    int64_t id;
    char name[USER_NAME_MAX + 1];
    char role[8];                /* "user" or "admin" */
};

struct users {
    struct authdb *db;
    const struct pwhash *cost;
    /* The hash of a random password no one knows, made at start with the
     * same costs: a login for a name that has no account checks against
     * it, so that it takes as long as a wrong password (stage 2). */
    char dummy[crypto_pwhash_STRBYTES];
};

/* Sets u up: sodium_init() has run. 0, or -1 with err saying why. */
int users_init(struct users *u, struct authdb *db, const struct pwhash *cost, char *err,
               size_t errlen);

/* NULL when name (len bytes) may be a username -- 3 to 32 of a-z 0-9 _ .
 * - --, else why not, a phrase for the client. */
const char *users_check_name(const char *name, size_t len);

/* NULL when pw (len bytes of UTF-8) may be a password -- 8 characters or
 * more, 1024 bytes or fewer --, else why not. */
const char *users_check_password(const char *pw, size_t len);

/* Makes an account, role "user", of a name and a password that passed
 * the checks above; *out is it. AUTH_TAKEN when the name is someone's. */
enum auth_status users_create(struct users *u, const char *name, const char *pw, size_t pwlen,
                              struct user *out);

/* *out is the account of name when pw is its password. AUTH_DENIED when
 * there is no such account or pw is wrong -- in the same time, and the
 * caller cannot tell which. A hash made with less work than u->cost asks
 * (memory times passes) is made again with u->cost; one made with more
 * is kept. */
enum auth_status users_login(struct users *u, const char *name, const char *pw, size_t pwlen,
                             struct user *out);

/* Changes the password of the account id from current to next (which
 * passed users_check_password()), and ends every session of the account
 * but the one whose token has the SHA-256 keep (sessions_token_hash()),
 * and (stage 8) takes back its JWTs as users_revoke_tokens() does -- in
 * one transaction: all of it happens, or none. AUTH_DENIED when current is
 * not its password -- nothing changes then. */
enum auth_status users_change_password(struct users *u, int64_t id, const char *current,
                                       size_t current_len, const char *next, size_t next_len,
                                       const unsigned char keep[crypto_hash_sha256_BYTES]);

/* The account id into *out (stage 6). AUTH_MISSING when there is none. */
enum auth_status users_get(struct users *u, int64_t id, struct user *out);

/* Gives the account id the role "user" or "admin"; *out is the account
 * as it is then (stage 6). AUTH_MISSING when there is none. It takes
 * effect at the account's next request, on the sessions it has. */
enum auth_status users_set_role(struct users *u, int64_t id, const char *role, struct user *out);

/* Stage 8: the JWTs of an account. A token made (its "iat") before the
 * account's tokens_after, a time in seconds, does not count: logging out
 * everywhere and a new password move it to now. */

/* The account id into *out, when a JWT of it made at iat (seconds) still
 * counts. AUTH_DENIED when there is no such account, or iat is before
 * its tokens_after. */
enum auth_status users_token_user(struct users *u, int64_t id, long long iat, struct user *out);

/* The account id's tokens_after into *after_s: a new token's iat must
 * not be before it. AUTH_DENIED when there is no such account. */
enum auth_status users_tokens_after(struct users *u, int64_t id, long long *after_s);

/* Every JWT of the account id made up to now_ms (milliseconds) stops
 * counting: tokens_after becomes the next whole second after now_ms, or
 * one more than it was, whichever is later (a token made since the last
 * time has it as its iat). */
enum auth_status users_revoke_tokens(struct users *u, int64_t id, long long now_ms);

#endif
