/* jwt -- JSON Web Tokens (RFC 7519), signed with HMAC-SHA-256 (JWS, RFC
 * 7515: "HS256"), read strictly (stage 8).
 *
 * A JWT is three base64url texts joined by dots: a header ({"alg":
 * "HS256","typ":"JWT"}), the claims ({"sub":"42","exp":...}), and the MAC
 * of the first two, with the dot, under a secret key. Whoever holds the
 * key can make one; whoever gets one can read it (it is signed, not
 * encrypted). The server checks a token by its MAC and its claims alone,
 * without a lookup: that is what JWTs are for, and what makes taking one
 * back need state again (users.h, tokens_after).
 *
 * Strict means: one spelling of each part (base64url without padding,
 * no leftover bits), the MAC compared in constant time before any JSON is
 * read, JSON that json_check() accepts with no member named twice, the
 * algorithm exactly "HS256" (never "none", never another, never what the
 * header asks for), no "crit", and every claim this server needs. */
#ifndef JWT_H
#define JWT_H

#include <stddef.h>
#include <stdint.h>

#define JWT_MAX 4096            /* bytes of a token read at most */
#define JWT_SECRET_MIN 32       /* bytes of key, at least: HS256's own size */
#define JWT_SECRET_MAX 1024
#define JWT_LEEWAY_S 60         /* clocks differ: exp, nbf and iat get this much */

/* The server's key and what its tokens say. */
struct jwt_config {
    unsigned char key[JWT_SECRET_MAX];
    size_t keylen;              /* JWT_SECRET_MIN to JWT_SECRET_MAX */
    const char *iss;            /* "iss": who made the token (--jwt-issuer) */
    const char *aud;            /* "aud": whom it is for (--jwt-audience) */
    long long ttl_s;            /* "exp" - "iat" (--jwt-ttl-s) */
};

/* BASE64URL(header) "." BASE64URL(payload) "." BASE64URL(HMAC-SHA-256
 * under key of the two before, with the dot): header and payload are the
 * exact bytes to sign (RFC 7515 appendix A.1 signs a header with a CR LF
 * in it). malloc'd, NUL-ended; NULL when memory ran out. */
char *jwt_sign(const unsigned char *key, size_t keylen, const char *header, size_t hlen,
               const char *payload, size_t plen);

/* What a token's claims must say, and when it is now. */
struct jwt_rules {
    const char *iss;            /* "iss" is exactly this */
    const char *aud;            /* "aud" is this, or an array that holds it */
    long long now_s;            /* seconds since 1970 (NumericDate) */
};

/* The claims a token holds that the server uses. */
struct jwt_claims {
    int64_t sub;                /* "sub": the account's id, as digits in a string */
    long long iat;              /* "iat": when it was made */
    long long exp;              /* "exp": when it ends */
};

/* NULL when token (len bytes) is a JWT made with key that holds right
 * now, its claims into *out; else why not, a short phrase. Refused: more
 * than JWT_MAX bytes; not three parts; a part that is not strict
 * base64url; a MAC that is not HMAC-SHA-256 under key (compared in
 * constant time, first); a header or claims that are not one JSON object
 * (json_check()) or name a member twice; "alg" other than "HS256"; a
 * "crit"; "typ" other than "JWT"; no "exp", "iat" or "jti"; "iss" or
 * "aud" not r's; "sub" not the digits of an id; exp + JWT_LEEWAY_S <=
 * now; nbf or iat later than now + JWT_LEEWAY_S. */
const char *jwt_verify(const char *token, size_t len, const unsigned char *key, size_t keylen,
                       const struct jwt_rules *r, struct jwt_claims *out);

#endif
