/* sessions -- see sessions.h for the contract. Given: the clock. Yours:
 * sessions_create() (stage 2), sessions_find() (stage 3), the timeouts and
 * ending sessions (stage 4).
 * https://doc.libsodium.org/helpers (sodium_bin2base64, sodium_base642bin),
 * https://doc.libsodium.org/generating_random_data,
 * https://doc.libsodium.org/advanced/sha-2_hash_function */
#define _POSIX_C_SOURCE 200809L
#include "sessions.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#define RAW_LEN 32 /* bytes of a token */

int session_valid(long long created_ms, long long seen_ms, long long now_ms, long long idle_ms,
                  long long max_ms)
{
    /* TODO(stage 4): open while now_ms - seen_ms < idle_ms AND now_ms -
     * created_ms < max_ms: at exactly idle_ms of silence it has ended.
     * A pure function -- the clock comes in as an argument -- so the
     * tests try its edges without waiting. Until then every session
     * stays open. */
    (void)created_ms;
    (void)seen_ms;
    (void)now_ms;
    (void)idle_ms;
    (void)max_ms;
    return 1;
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
    /* TODO(stage 2):
     *  1. 32 bytes from randombytes_buf(): 256 bits no one can guess;
     *  2. the token: sodium_bin2base64(token, SESSION_TOKEN_LEN + 1, raw,
     *     32, sodium_base64_VARIANT_URLSAFE_NO_PADDING) -- 43 characters
     *     that need no escaping in a header, a cookie or a URL;
     *  3. crypto_hash_sha256() of the 32 raw bytes: the only thing stored;
     *     sodium_memzero() the raw bytes;
     *  4. authdb_take() (NULL: AUTH_BUSY); first (stage 4 -- until
     *     then, skip it) DELETE FROM sessions WHERE user_id = ?1 AND
     *     (seen_ms <= now - idle_ms OR created_ms <= now - max_ms): the
     *     user's ended sessions, which no one may show again; then INSERT INTO sessions
     *     (token_hash, user_id, created_ms, seen_ms) VALUES (?1, ?2, ?3,
     *     ?3) with sqlite3_bind_blob() for the hash; SQLITE_DONE is
     *     AUTH_OK, else authdb_failure(); finalize, authdb_release(). */
    (void)s;
    (void)user_id;
    (void)now_ms;
    token[0] = '\0';
    return AUTH_ERROR;
}

int sessions_token_hash(const char *token, size_t len,
                        unsigned char hash[crypto_hash_sha256_BYTES])
{
    /* TODO(stage 3): decode the token strictly: len must be
     * SESSION_TOKEN_LEN; sodium_base642bin(raw, 32, token, len, NULL, &n,
     * &end, sodium_base64_VARIANT_URLSAFE_NO_PADDING) == 0, n == 32 and end
     * == token + len (else it stopped early) -- anything else: -1. Then
     * crypto_hash_sha256(hash, raw, 32), sodium_memzero() the raw bytes,
     * 0. */
    (void)token;
    (void)len;
    (void)hash;
    return -1;
}

enum auth_status sessions_find(struct sessions *s, const char *token, size_t len,
                               long long now_ms, struct user *out)
{
    /* TODO(stage 3):
     *  1. sessions_token_hash(): -1 is not a token, AUTH_DENIED.
     *  2. Then SELECT u.id,
     *     u.username, u.role, s.created_ms, s.seen_ms FROM sessions AS s
     *     JOIN users AS u ON u.id = s.user_id WHERE s.token_hash = ?1.
     *     No row: AUTH_DENIED. A row: *out, if session_valid() at now_ms.
     *  3. An ended session: DELETE it. An open one: UPDATE its seen_ms to
     *     now_ms -- not at every request (a write costs more than the
     *     read): when now_ms - seen_ms >= s->idle_ms / 16.
     *  4. On anything but AUTH_OK, memset(out, 0, ...). */
    (void)s;
    (void)token;
    (void)len;
    (void)now_ms;
    memset(out, 0, sizeof *out);
    return AUTH_ERROR;
}

enum auth_status sessions_end(struct sessions *s, const char *token, size_t len)
{
    /* TODO(stage 4): sessions_token_hash() (a token that is not one ends
     * nothing: AUTH_OK), then DELETE FROM sessions WHERE token_hash = ?1. */
    (void)s;
    (void)token;
    (void)len;
    return AUTH_ERROR;
}

enum auth_status sessions_end_all(struct sessions *s, int64_t user_id, const char *keep,
                                  size_t keep_len)
{
    /* TODO(stage 4): DELETE FROM sessions WHERE user_id = ?1 AND
     * token_hash != ?2 -- ?2 the hash of keep, or 32 zero bytes (no
     * session has them) when keep is NULL. */
    (void)s;
    (void)user_id;
    (void)keep;
    (void)keep_len;
    return AUTH_ERROR;
}
