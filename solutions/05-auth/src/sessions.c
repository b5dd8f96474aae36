/* sessions -- see sessions.h. */
#define _POSIX_C_SOURCE 200809L
#include "sessions.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define RAW_LEN 32

int session_valid(long long created_ms, long long seen_ms, long long now_ms, long long idle_ms,
                  long long max_ms)
{
    return now_ms - seen_ms < idle_ms && now_ms - created_ms < max_ms;
}

long long sessions_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

enum auth_status sessions_create(struct sessions *s, int64_t user_id, long long now_ms,
                                 char token[SESSION_TOKEN_LEN + 1])
{
    unsigned char raw[RAW_LEN], hash[crypto_hash_sha256_BYTES];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2base64(token, SESSION_TOKEN_LEN + 1, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_hash_sha256(hash, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);

    sqlite3 *db = authdb_take(s->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    /* The user's ended sessions go first: a token that is never shown
     * again would otherwise keep its row for ever. */
    if (sqlite3_prepare_v2(db,
                           "DELETE FROM sessions WHERE user_id = ?1 "
                           "AND (seen_ms <= ?2 - ?3 OR created_ms <= ?2 - ?4)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, user_id) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, now_ms) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, s->idle_ms) == SQLITE_OK &&
        sqlite3_bind_int64(st, 4, s->max_ms) == SQLITE_OK)
        sqlite3_step(st); /* a failure leaves them for the next login */
    sqlite3_finalize(st);
    st = NULL;
    if (sqlite3_prepare_v2(db,
                           "INSERT INTO sessions (token_hash, user_id, created_ms, seen_ms) "
                           "VALUES (?1, ?2, ?3, ?3)",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_TRANSIENT) == SQLITE_OK &&
        sqlite3_bind_int64(st, 2, user_id) == SQLITE_OK &&
        sqlite3_bind_int64(st, 3, now_ms) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? AUTH_OK : authdb_failure(db);
    sqlite3_finalize(st);
    authdb_release(s->db);
    if (rc != AUTH_OK)
        sodium_memzero(token, SESSION_TOKEN_LEN + 1);
    return rc;
}

int sessions_token_hash(const char *token, size_t len,
                        unsigned char hash[crypto_hash_sha256_BYTES])
{
    unsigned char raw[RAW_LEN];
    size_t n = 0;
    const char *end = NULL;
    if (len != SESSION_TOKEN_LEN ||
        sodium_base642bin(raw, sizeof raw, token, len, NULL, &n, &end,
                          sodium_base64_VARIANT_URLSAFE_NO_PADDING) != 0 ||
        n != RAW_LEN || end != token + len)
        return -1;
    crypto_hash_sha256(hash, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
    return 0;
}

enum auth_status sessions_find(struct sessions *s, const char *token, size_t len,
                               long long now_ms, struct user *out)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    if (sessions_token_hash(token, len, hash) < 0)
        return AUTH_DENIED;
    sqlite3 *db = authdb_take(s->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    long long created = 0, seen = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT u.id, u.username, u.role, s.created_ms, s.seen_ms "
                           "FROM sessions AS s JOIN users AS u ON u.id = s.user_id "
                           "WHERE s.token_hash = ?1",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC) == SQLITE_OK) {
        int step = sqlite3_step(st);
        if (step == SQLITE_ROW) {
            out->id = sqlite3_column_int64(st, 0);
            snprintf(out->name, sizeof out->name, "%s", (const char *)sqlite3_column_text(st, 1));
            snprintf(out->role, sizeof out->role, "%s", (const char *)sqlite3_column_text(st, 2));
            created = sqlite3_column_int64(st, 3);
            seen = sqlite3_column_int64(st, 4);
            rc = session_valid(created, seen, now_ms, s->idle_ms, s->max_ms) ? AUTH_OK
                                                                            : AUTH_DENIED;
        } else {
            rc = step == SQLITE_DONE ? AUTH_DENIED : authdb_failure(db);
        }
    }
    sqlite3_finalize(st);
    st = NULL;
    /* An ended session is deleted; a used one says so -- not at every
     * request, a write each time would cost more than the read: when a
     * sixteenth of the idle time has gone by. */
    const char *sql = rc == AUTH_DENIED && seen ? "DELETE FROM sessions WHERE token_hash = ?1"
                      : rc == AUTH_OK && now_ms - seen >= s->idle_ms / 16
                          ? "UPDATE sessions SET seen_ms = ?2 WHERE token_hash = ?1"
                          : NULL;
    if (sql && sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC) == SQLITE_OK &&
        (rc != AUTH_OK || sqlite3_bind_int64(st, 2, now_ms) == SQLITE_OK))
        sqlite3_step(st); /* a failure here changes nothing for this request */
    sqlite3_finalize(st);
    authdb_release(s->db);
    if (rc != AUTH_OK)
        memset(out, 0, sizeof *out);
    return rc;
}

enum auth_status sessions_end(struct sessions *s, const char *token, size_t len)
{
    unsigned char hash[crypto_hash_sha256_BYTES];
    if (sessions_token_hash(token, len, hash) < 0)
        return AUTH_OK; /* no such session to end */
    sqlite3 *db = authdb_take(s->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    if (sqlite3_prepare_v2(db, "DELETE FROM sessions WHERE token_hash = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_blob(st, 1, hash, sizeof hash, SQLITE_STATIC) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? AUTH_OK : authdb_failure(db);
    sqlite3_finalize(st);
    authdb_release(s->db);
    return rc;
}

enum auth_status sessions_end_all(struct sessions *s, int64_t user_id, const char *keep,
                                  size_t keep_len)
{
    /* a hash no session has (all zero) when none is kept */
    unsigned char hash[crypto_hash_sha256_BYTES] = {0};
    if (keep && sessions_token_hash(keep, keep_len, hash) < 0)
        memset(hash, 0, sizeof hash);
    sqlite3 *db = authdb_take(s->db);
    if (!db)
        return AUTH_BUSY;
    sqlite3_stmt *st = NULL;
    enum auth_status rc = AUTH_ERROR;
    if (sqlite3_prepare_v2(db, "DELETE FROM sessions WHERE user_id = ?1 AND token_hash != ?2",
                           -1, &st, NULL) == SQLITE_OK &&
        sqlite3_bind_int64(st, 1, user_id) == SQLITE_OK &&
        sqlite3_bind_blob(st, 2, hash, sizeof hash, SQLITE_STATIC) == SQLITE_OK)
        rc = sqlite3_step(st) == SQLITE_DONE ? AUTH_OK : authdb_failure(db);
    sqlite3_finalize(st);
    authdb_release(s->db);
    return rc;
}
