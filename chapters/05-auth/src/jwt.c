/* jwt -- see jwt.h for the contract of each function: it is the spec the
 * tests check (RFC 7515 appendix A.1's token among them). Given: the MAC,
 * strict base64url decoding, reading a part as one JSON object. Yours:
 * jwt_sign(), and the checks of jwt_verify() (stage 8). */
#define _POSIX_C_SOURCE 200809L
#include "jwt.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sodium.h>

#include "json_check.h"

#define VARIANT sodium_base64_VARIANT_URLSAFE_NO_PADDING

/* HMAC-SHA-256 of data under key (of any length: RFC 2104). */
static void mac(const unsigned char *key, size_t keylen, const char *data, size_t len,
                unsigned char out[crypto_auth_hmacsha256_BYTES])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, keylen);
    crypto_auth_hmacsha256_update(&st, (const unsigned char *)data, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof st);
}

char *jwt_sign(const unsigned char *key, size_t keylen, const char *header, size_t hlen,
               const char *payload, size_t plen)
{
    /* TODO(stage 8): one malloc'd text of the three parts --
     * sodium_bin2base64(..., VARIANT) of header, '.', of payload (room:
     * sodium_base64_ENCODED_LEN(n, VARIANT) each, which counts a NUL);
     * then mac() of those first two parts WITH the dot, exactly as they
     * stand in the text, and '.', and the base64url of the 32-byte MAC. */
    (void)key;
    (void)keylen;
    (void)header;
    (void)hlen;
    (void)payload;
    (void)plen;
    return NULL;
}

/* The bytes of the base64url part p[0..n) into out (room for n bytes),
 * their number into *outlen. 0, or -1 when p is not exactly one strict
 * spelling: padding, '+' or '/', or leftover bits that are not zero. */
static int decode(const char *p, size_t n, unsigned char *out, size_t *outlen)
{
    const char *end = NULL;
    if (n == 0 ||
        sodium_base642bin(out, n, p, n, NULL, outlen, &end, VARIANT) != 0 || end != p + n)
        return -1;
    return 0;
}

/* The object in text[0..n): strict JSON (json_check()), an object, no
 * member named twice -- cJSON would keep both and answer the first, and
 * another reader the last. NULL, with *why, when it is not one. */
static cJSON *object(const char *text, size_t n, const char **why)
{
    struct json_limits lim = {4, 64};
    struct json_result res;
    if (json_check(text, n, &lim, &res) < 0 || res.nul_escapes) {
        *why = "a part is not JSON";
        return NULL;
    }
    cJSON *j = cJSON_ParseWithLength(text, n);
    if (!cJSON_IsObject(j)) {
        *why = "a part is not a JSON object";
        cJSON_Delete(j);
        return NULL;
    }
    for (const cJSON *a = j->child; a; a = a->next)
        for (const cJSON *b = j->child; b != a; b = b->next)
            if (strcmp(a->string, b->string) == 0) {
                *why = "a member is named twice";
                cJSON_Delete(j);
                return NULL;
            }
    return j;
}

/* The number member name of j as whole seconds into *out: 1, 0 when it is
 * missing, -1 when it is not a finite number. */
static int seconds(const cJSON *j, const char *name, long long *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || fabs(v->valuedouble) > 1e15)
        return -1;
    *out = (long long)floor(v->valuedouble);
    return 1;
}

/* 1 when "aud" of j is aud, or an array of strings that holds it. */
static int for_us(const cJSON *j, const char *aud)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, "aud"), *e;
    if (cJSON_IsString(v))
        return strcmp(v->valuestring, aud) == 0;
    if (!cJSON_IsArray(v))
        return 0;
    cJSON_ArrayForEach(e, v) {
        if (cJSON_IsString(e) && strcmp(e->valuestring, aud) == 0)
            return 1;
    }
    return 0;
}

const char *jwt_verify(const char *token, size_t len, const unsigned char *key, size_t keylen,
                       const struct jwt_rules *r, struct jwt_claims *out)
{
    /* TODO(stage 8), in this order, each refusal a short phrase of your
     * own (it goes into the 401's detail) for one of jwt.h's rules:
     * len <= JWT_MAX; exactly two dots; decode() of the signature, 32
     * bytes; mac() of the text before the second dot, compared with
     * sodium_memcmp() -- the MAC before any JSON is read, and never
     * memcmp(), whose time tells where the first wrong byte is. Then
     * decode() and object() of the header and of the claims. The header:
     * "alg" exactly "HS256" (none, hs256, HS512, RS256: refused), no
     * "crit", "typ" "JWT" if there is one. The claims: seconds() of
     * "exp" and "iat" (needed) and "nbf"; "jti" a string that is not
     * empty; "iss" exactly r->iss; "aud" r->aud (for_us()); exp +
     * JWT_LEEWAY_S <= r->now_s: expired; nbf or iat > now_s +
     * JWT_LEEWAY_S: not yet; "sub" 1 to 18 digits, no leading zero ->
     * out->sub. */
    (void)token;
    (void)len;
    (void)key;
    (void)keylen;
    (void)r;
    (void)out;
    (void)mac;
    (void)decode;
    (void)object;
    (void)seconds;
    (void)for_us;
    return "jwt_verify() is not written yet";
}
