/* users -- see users.h for the contract of each function: it is the spec
 * the tests check. Given: the cost profiles. Yours: the checks and
 * users_create() (stage 1), users_init()'s dummy hash and users_login()
 * (stage 2), users_change_password() (stage 4), users_get() and
 * users_set_role() (stage 6), the JWTs' tokens_after (stage 8). libsodium: https://doc.libsodium.org/password_hashing/default_phf */
#define _POSIX_C_SOURCE 200809L
#include "users.h"

#include <stdio.h>
#include <string.h>

#include "store.h" /* store_time_now() */

static const struct pwhash profiles[] = {
    {"interactive", crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE},
    {"owasp", 2, 19u * 1024 * 1024},
    {"moderate", crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE},
    {"test", crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN},
};

const struct pwhash *pwhash_find(const char *name)
{
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++)
        if (strcmp(profiles[i].name, name) == 0)
            return &profiles[i];
    return NULL;
}

int users_init(struct users *u, struct authdb *db, const struct pwhash *cost, char *err,
               size_t errlen)
{
    /* TODO(stage 2): the dummy hash -- crypto_pwhash_str() of 32 random
     * bytes (randombytes_buf()) with cost->ops and cost->mem into
     * u->dummy; a failure (-1: out of memory) says so in err and returns
     * -1. A login for a name with no account verifies against it. */
    (void)err;
    (void)errlen;
    memset(u, 0, sizeof *u);
    u->db = db;
    u->cost = cost;
    return 0;
}

const char *users_check_name(const char *name, size_t len)
{
    /* TODO(stage 1): NULL when len is 3 to 32 and every byte is one of
     * a-z 0-9 _ . - ; else a phrase saying which rule failed. */
    (void)name;
    (void)len;
    return "users_check_name() is not written yet";
}

const char *users_check_password(const char *pw, size_t len)
{
    /* TODO(stage 1): at least USER_PASSWORD_MIN characters -- count code
     * points, not bytes: a byte that is not a continuation byte (10xxxxxx)
     * starts one -- and at most USER_PASSWORD_MAX bytes. No other rules
     * (no "one digit, one capital": ASVS 5.0 6.2.5). NULL when it passes,
     * else why not. */
    (void)pw;
    (void)len;
    return "users_check_password() is not written yet";
}

enum auth_status users_create(struct users *u, const char *name, const char *pw, size_t pwlen,
                              struct user *out)
{
    /* TODO(stage 1):
     *  1. crypto_pwhash_str(hash, pw, pwlen, u->cost->ops, u->cost->mem)
     *     into char hash[crypto_pwhash_STRBYTES] -- before taking the
     *     connection: it is the slow part (65 ms at interactive), and no
     *     one should wait for the database meanwhile. -1 is out of
     *     memory: AUTH_ERROR.
     *  2. db = authdb_take(u->db) (NULL: AUTH_BUSY), then INSERT INTO users
     *     (username, password_hash, created_at) VALUES (?1, ?2, ?3) with
     *     bound values (store_time_now() gives created_at).
     *  3. SQLITE_DONE: out gets the id (sqlite3_last_insert_rowid()), the
     *     name and the role "user". A failed step whose
     *     sqlite3_extended_errcode() is SQLITE_CONSTRAINT_UNIQUE: AUTH_TAKEN;
     *     anything else authdb_failure(db).
     *  4. sqlite3_finalize(), authdb_release() on every path;
     *     sodium_memzero() the hash. */
    (void)u;
    (void)name;
    (void)pw;
    (void)pwlen;
    (void)out;
    return AUTH_ERROR;
}

enum auth_status users_login(struct users *u, const char *name, const char *pw, size_t pwlen,
                             struct user *out)
{
    /* TODO(stage 2):
     *  1. SELECT id, username, role, password_hash FROM users WHERE
     *     username = ?1 (the connection taken, then released before any
     *     hashing). Copy the hash into a zeroed char[crypto_pwhash_STRBYTES]
     *     after checking its length: libsodium reads that many bytes.
     *  2. crypto_pwhash_str_verify(hash, pw, pwlen) == 0 is the right
     *     password. No such account: verify against u->dummy all the same
     *     and answer AUTH_DENIED -- the same answer, in the same time.
     *  3. Right password: crypto_pwhash_str_needs_rehash(hash,
     *     u->cost->ops, u->cost->mem) != 0 means the hash was made with
     *     other costs. When they were lower -- read m= (KiB) and t= from
     *     the string ("$argon2id$v=19$m=%llu,t=%llu,"), and compare m *
     *     1024 * t with cost->mem * cost->ops; a string you cannot read
     *     counts as lower -- hash pw again with u->cost and UPDATE users
     *     SET password_hash = ?1 WHERE id = ?2 AND password_hash = ?3 (the
     *     old one: a change meanwhile wins). Higher costs stay: a server
     *     started with --pwhash test must not weaken the hashes it finds.
     *     A failure there still logs in. */
    (void)u;
    (void)name;
    (void)pw;
    (void)pwlen;
    memset(out, 0, sizeof *out);
    return AUTH_ERROR;
}

enum auth_status users_change_password(struct users *u, int64_t id, const char *current,
                                       size_t current_len, const char *next, size_t next_len,
                                       const unsigned char keep[crypto_hash_sha256_BYTES])
{
    /* TODO(stage 4): the row's hash by id (SELECT ... WHERE id = ?1);
     * crypto_pwhash_str_verify() of current against it, else AUTH_DENIED
     * (nothing changes); then crypto_pwhash_str() of next with u->cost --
     * both before the connection is taken. Then one transaction: BEGIN
     * IMMEDIATE; UPDATE users SET password_hash = ?1 WHERE id = ?2 AND
     * password_hash = ?3 (the old hash: 0 rows changed means someone
     * changed it meanwhile -> AUTH_DENIED); DELETE FROM sessions WHERE
     * user_id = ?1 AND token_hash != ?2 (keep, a 32-byte blob); COMMIT --
     * or ROLLBACK on any failure: the new password without the sessions'
     * end, or the end without the password, is a state no one asked
     * for. */
    /* TODO(stage 8): the same UPDATE takes back the account's JWTs too:
     * ..., tokens_after = max(tokens_after + 1, ?4), ?4 being
     * sessions_now_ms() / 1000 + 1 (include sessions.h) -- as
     * users_revoke_tokens() does, inside this transaction. */
    (void)keep;
    (void)u;
    (void)id;
    (void)current;
    (void)current_len;
    (void)next;
    (void)next_len;
    return AUTH_ERROR;
}

enum auth_status users_get(struct users *u, int64_t id, struct user *out)
{
    /* TODO(stage 6): SELECT id, username, role FROM users WHERE id = ?1,
     * on authdb_take()'s connection (released on every path): the row
     * into *out (snprintf() the texts into its arrays), AUTH_OK; no row
     * -> AUTH_MISSING; a failed step -> authdb_failure(). */
    (void)u;
    (void)id;
    memset(out, 0, sizeof *out);
    return AUTH_ERROR;
}

enum auth_status users_set_role(struct users *u, int64_t id, const char *role, struct user *out)
{
    /* TODO(stage 6): UPDATE users SET role = ?2 WHERE id = ?1 RETURNING
     * id, username, role -- the row as it is after the change, in one
     * statement. Step it to SQLITE_DONE even after its SQLITE_ROW: the
     * row changes at the first step, but the statement's automatic
     * transaction commits when it ends, and a failed commit (a busy lock)
     * shows as that last step's error. No row -> AUTH_MISSING. The users
     * table's CHECK allows only 'user' and 'admin'. */
    (void)u;
    (void)id;
    (void)role;
    memset(out, 0, sizeof *out);
    return AUTH_ERROR;
}

enum auth_status users_token_user(struct users *u, int64_t id, long long iat, struct user *out)
{
    /* TODO(stage 8): SELECT id, username, role, tokens_after FROM users
     * WHERE id = ?1: no row, or iat < tokens_after -> AUTH_DENIED (and
     * *out zeroed); else the account into *out, AUTH_OK. */
    (void)u;
    (void)id;
    (void)iat;
    memset(out, 0, sizeof *out);
    return AUTH_ERROR;
}

enum auth_status users_tokens_after(struct users *u, int64_t id, long long *after_s)
{
    /* TODO(stage 8): the same row's tokens_after into *after_s; no row ->
     * AUTH_DENIED. */
    (void)u;
    (void)id;
    *after_s = 0;
    return AUTH_ERROR;
}

enum auth_status users_revoke_tokens(struct users *u, int64_t id, long long now_ms)
{
    /* TODO(stage 8): UPDATE users SET tokens_after = max(tokens_after +
     * 1, ?2) WHERE id = ?1, with ?2 the next whole second: now_ms / 1000
     * + 1. A token made earlier in this very second has a smaller iat and
     * goes too; post_token() gives a new one an iat of at least
     * tokens_after, so the next taking back must pass that as well. */
    (void)u;
    (void)id;
    (void)now_ms;
    return AUTH_ERROR;
}
