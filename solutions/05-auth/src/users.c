/* users -- see users.h. */
#define _POSIX_C_SOURCE 200809L
#include "users.h"

#include <stdio.h>
#include <string.h>

#include "sessions.h" /* sessions_now_ms() */
#include "store.h"

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
    unsigned char secret[32];
    memset(u, 0, sizeof *u);
    u->db = db;
    u->cost = cost;
    randombytes_buf(secret, sizeof secret); /* a password no one knows */
    int rc = crypto_pwhash_str(u->dummy, (const char *)secret, sizeof secret, cost->ops,
                               cost->mem);
    sodium_memzero(secret, sizeof secret);
    if (rc != 0) {
        snprintf(err, errlen, "cannot hash with --pwhash %s: out of memory", cost->name);
        return -1;
    }
    return 0;
}

const char *users_check_name(const char *name, size_t len)
{
    if (len < USER_NAME_MIN || len > USER_NAME_MAX)
        return "a username has 3 to 32 characters";
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' ||
              ch == '-'))
            return "a username has only a-z, 0-9, '_', '.' and '-'";
    }
    return NULL;
}

const char *users_check_password(const char *pw, size_t len)
{
    size_t chars = 0;
    for (size_t i = 0; i < len; i++)
        chars += ((unsigned char)pw[i] & 0xC0) != 0x80; /* a character's first byte */
    if (chars < USER_PASSWORD_MIN)
        return "a password has at least 8 characters";
    if (len > USER_PASSWORD_MAX)
        return "a password has at most 1024 bytes";
    return NULL;
}

enum auth_status users_create(struct users *u, const char *name, const char *pw, size_t pwlen,
                              struct user *out)
{
    char hash[crypto_pwhash_STRBYTES], now[STORE_TIME_LEN + 1];
    /* the slow part first, while no one waits for the connection */
    if (crypto_pwhash_str(hash, pw, pwlen, u->cost->ops, u->cost->mem) != 0)
        return AUTH_ERROR; /* out of memory */
    store_time_now(now);

    sqlite3 *db = authdb_take(u->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO users (username, password_hash, created_at) "
                           "VALUES (?1, ?2, ?3)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_text(st, 3, now, -1, SQLITE_TRANSIENT) == SQLITE_OK) {
        if (sqlite3_step(st) == SQLITE_DONE) {
            out->id = sqlite3_last_insert_rowid(db);
            snprintf(out->name, sizeof out->name, "%s", name);
            snprintf(out->role, sizeof out->role, "user");
            rc = AUTH_OK;
        } else {
            rc = sqlite3_extended_errcode(db) == SQLITE_CONSTRAINT_UNIQUE ? AUTH_TAKEN
                                                                          : authdb_failure(db);
        }
    }
    sqlite3_finalize(st);
    authdb_release(u->db);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

/* The account of name (or, name NULL, of id) and its hash, zero-filled to
 * the size libsodium reads. AUTH_OK, AUTH_DENIED when there is none,
 * AUTH_BUSY, AUTH_ERROR. */
static enum auth_status find(struct users *u, const char *name, int64_t id, struct user *out,
                             char hash[crypto_pwhash_STRBYTES])
{
    sqlite3 *db = authdb_take(u->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    const char *sql = name ? "SELECT id, username, role, password_hash FROM users "
                             "WHERE username = ?1"
                           : "SELECT id, username, role, password_hash FROM users WHERE id = ?1";
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        (name ? sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT)
              : sqlite3_bind_int64(st, 1, id)) == SQLITE_OK) {
        int step = sqlite3_step(st);
        const char *h = step == SQLITE_ROW ? (const char *)sqlite3_column_text(st, 3) : NULL;
        if (step == SQLITE_DONE) {
            rc = AUTH_DENIED;
        } else if (h && strlen(h) < crypto_pwhash_STRBYTES) {
            out->id = sqlite3_column_int64(st, 0);
            snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
            snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 2));
            memset(hash, 0, crypto_pwhash_STRBYTES);
            memcpy(hash, h, strlen(h));
            rc = AUTH_OK;
        } else if (step != SQLITE_ROW) {
            rc = authdb_failure(db);
        }
    }
    sqlite3_finalize(st);
    authdb_release(u->db);
    return rc;
}

/* Runs sql, a statement without values, on db. 0, or -1. */
static int exec(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

/* Replaces id's hash old with one of pw at u's costs -- "AND
 * password_hash = old": a password changed meanwhile stays changed
 * (AUTH_DENIED then). With keep (a password change), every session of id
 * but the one whose token hash is keep ends in the same transaction, and
 * every JWT made before it is taken back in the same UPDATE (stage 8):
 * the new password and the end of what the old one opened are stored
 * together, or none of it. */
static enum auth_status replace_hash(struct users *u, int64_t id, const char *old, const char *pw,
                                     size_t pwlen, const unsigned char *keep)
{
    char hash[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(hash, pw, pwlen, u->cost->ops, u->cost->mem) != 0)
        return AUTH_ERROR;
    sqlite3 *db = authdb_take(u->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL, *end = NULL;
    enum auth_status rc = exec(db, "BEGIN IMMEDIATE") == 0 ? AUTH_ERROR : authdb_failure(db);
    if (rc == AUTH_ERROR &&
        sqlite3_prepare_v2(db,
                           keep ? "UPDATE users SET password_hash = ?1, "
                                  "tokens_after = max(tokens_after + 1, ?4) "
                                  "WHERE id = ?2 AND password_hash = ?3"
                                : "UPDATE users SET password_hash = ?1 WHERE id = ?2 "
                                  "AND password_hash = ?3",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_text(st, 1, hash, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, id) == SQLITE_OK &&
        sqlite3_bind_text(st, 3, old, -1, SQLITE_TRANSIENT) == SQLITE_OK &&
        (!keep || sqlite3_bind_int64(st, 4, sessions_now_ms() / 1000 + 1) == SQLITE_OK))
        rc = sqlite3_step(st) != SQLITE_DONE ? authdb_failure(db)
             : sqlite3_changes(db) == 1      ? AUTH_OK
                                             : AUTH_DENIED;
    if (rc == AUTH_OK && keep)
        rc = sqlite3_prepare_v2(db,
                                "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
                                -1, &end, NULL) == SQLITE_OK &&
                     sqlite3_bind_int64(end, 1, id) == SQLITE_OK &&
                     sqlite3_bind_blob(end, 2, keep, crypto_hash_sha256_BYTES,
                                       SQLITE_STATIC) == SQLITE_OK &&
                     sqlite3_step(end) == SQLITE_DONE
                 ? AUTH_OK
                 : authdb_failure(db);
    sqlite3_finalize(st);
    sqlite3_finalize(end);
    if (rc == AUTH_OK && exec(db, "COMMIT") != 0)
        rc = authdb_failure(db);
    if (rc != AUTH_OK)
        exec(db, "ROLLBACK"); /* nothing to undo when BEGIN failed: harmless */
    authdb_release(u->db);
    sodium_memzero(hash, sizeof hash);
    return rc;
}

/* 1 when hash was made with less work than u->cost asks -- fewer bytes
 * of memory times passes -- or in a form this code does not read: then
 * it is made again. A hash made with more is kept: a server started with
 * a cheaper profile (--pwhash test) must not weaken the hashes it finds. */
static int weaker(const struct users *u, const char *hash)
{
    unsigned long long m = 0, t = 0;
    if (crypto_pwhash_str_needs_rehash(hash, u->cost->ops, u->cost->mem) == 0)
        return 0; /* the very costs */
    if (sscanf(hash, "$argon2id$v=19$m=%llu,t=%llu,", &m, &t) != 2)
        return 1;
    return m * 1024 * t < (unsigned long long)u->cost->mem * u->cost->ops;
}

enum auth_status users_login(struct users *u, const char *name, const char *pw, size_t pwlen,
                             struct user *out)
{
    char hash[crypto_pwhash_STRBYTES];
    enum auth_status rc = strlen(name) <= USER_NAME_MAX ? find(u, name, 0, out, hash) : AUTH_DENIED;
    if (rc != AUTH_OK && rc != AUTH_DENIED)
        return rc;
    /* No such account: check against the dummy all the same -- the answer
     * is no, and it takes as long as a wrong password does. */
    int ok = crypto_pwhash_str_verify(rc == AUTH_OK ? hash : u->dummy, pw, pwlen) == 0;
    if (rc != AUTH_OK || !ok) {
        memset(out, 0, sizeof *out);
        return AUTH_DENIED;
    }
    if (weaker(u, hash))
        replace_hash(u, out->id, hash, pw, pwlen, NULL); /* a failure keeps the old one */
    return AUTH_OK;
}

enum auth_status users_change_password(struct users *u, int64_t id, const char *current,
                                       size_t current_len, const char *next, size_t next_len,
                                       const unsigned char keep[crypto_hash_sha256_BYTES])
{
    char hash[crypto_pwhash_STRBYTES];
    struct user who;
    enum auth_status rc = find(u, NULL, id, &who, hash);
    if (rc != AUTH_OK)
        return rc;
    if (crypto_pwhash_str_verify(hash, current, current_len) != 0)
        return AUTH_DENIED;
    return replace_hash(u, id, hash, next, next_len, keep);
}

/* Runs sql, which yields the row (id, username, role[, tokens_after]) of
 * the account ?1 or none, with ?2 role when there is one (an UPDATE ...
 * RETURNING); the fourth column into *after_s when after_s is not NULL. */
static enum auth_status account(struct users *u, const char *sql, int64_t id, const char *role,
                                struct user *out, long long *after_s)
{
    sqlite3 *db = authdb_take(u->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
        (!role || sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC) == SQLITE_OK)) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            out->id = sqlite3_column_int64(st, 0);
            snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
            snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 2));
            if (after_s)
                *after_s = sqlite3_column_int64(st, 3);
            rc = AUTH_OK;
        }
        /* an UPDATE ... RETURNING changes the row at its first step, and
         * its automatic transaction commits when the statement ends: at
         * SQLITE_DONE, where a failed commit (a busy lock) is the step's
         * error -- not at sqlite3_finalize(), where it would go unseen */
        if (step == SQLITE_ROW)
            step = sqlite3_step(st);
        if (step != SQLITE_DONE)
            rc = authdb_failure(db);
        else if (rc != AUTH_OK)
            rc = AUTH_MISSING;
    }
    sqlite3_finalize(st);
    authdb_release(u->db);
    return rc;
}

enum auth_status users_get(struct users *u, int64_t id, struct user *out)
{
    return account(u, "SELECT id, username, role FROM users WHERE id = ?1", id, NULL, out, NULL);
}

enum auth_status users_set_role(struct users *u, int64_t id, const char *role, struct user *out)
{
    return account(u, "UPDATE users SET role = ?2 WHERE id = ?1 RETURNING id, username, role",
                   id, role, out, NULL);
}

#define TOKEN_ROW "SELECT id, username, role, tokens_after FROM users WHERE id = ?1"

enum auth_status users_token_user(struct users *u, int64_t id, long long iat, struct user *out)
{
    long long after = 0;
    enum auth_status rc = account(u, TOKEN_ROW, id, NULL, out, &after);
    if (rc == AUTH_MISSING || (rc == AUTH_OK && iat < after))
        rc = AUTH_DENIED; /* no account, or taken back: made before the last logout everywhere */
    if (rc != AUTH_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

enum auth_status users_tokens_after(struct users *u, int64_t id, long long *after_s)
{
    struct user who;
    enum auth_status rc = account(u, TOKEN_ROW, id, NULL, &who, after_s);
    return rc == AUTH_MISSING ? AUTH_DENIED : rc;
}

enum auth_status users_revoke_tokens(struct users *u, int64_t id, long long now_ms)
{
    sqlite3 *db = authdb_take(u->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    /* past every iat made so far: the next whole second -- a token made
     * earlier in this one goes too --, and past the last tokens_after,
     * which a token made since may have as its iat (post_token()) */
    if (sqlite3_prepare_v2(db, "UPDATE users SET tokens_after = max(tokens_after + 1, ?2) "
                           "WHERE id = ?1", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, id) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, now_ms / 1000 + 1) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? AUTH_OK : authdb_failure(db);
    sqlite3_finalize(st);
    authdb_release(u->db);
    return rc;
}
