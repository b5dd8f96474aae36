/* jwt -- see jwt.h. */
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
    size_t h64 = sodium_base64_ENCODED_LEN(hlen, VARIANT),
           p64 = sodium_base64_ENCODED_LEN(plen, VARIANT),
           s64 = sodium_base64_ENCODED_LEN(crypto_auth_hmacsha256_BYTES, VARIANT);
    char *out = malloc(h64 + p64 + s64); /* each counts its NUL: room for the two dots */
    if (!out)
        return NULL;
    unsigned char sig[crypto_auth_hmacsha256_BYTES];
    sodium_bin2base64(out, h64, (const unsigned char *)header, hlen, VARIANT);
    size_t n = strlen(out);
    out[n++] = '.';
    sodium_bin2base64(out + n, p64, (const unsigned char *)payload, plen, VARIANT);
    n += strlen(out + n);
    mac(key, keylen, out, n, sig); /* what is signed: the two parts as sent, with the dot */
    out[n++] = '.';
    sodium_bin2base64(out + n, s64, sig, sizeof sig, VARIANT);
    return out;
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

/* The header's verdict: NULL when it is {"alg":"HS256"} and maybe
 * "typ":"JWT" and members no one must understand. */
static const char *header_ok(const cJSON *h)
{
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    const cJSON *typ = cJSON_GetObjectItemCaseSensitive(h, "typ");
    if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
        return "the algorithm is not HS256"; /* "none", "hs256", HS512, RS256: no */
    if (cJSON_GetObjectItemCaseSensitive(h, "crit"))
        return "the header has crit"; /* an extension this server must understand: none is */
    if (typ && (!cJSON_IsString(typ) || strcmp(typ->valuestring, "JWT") != 0))
        return "the type is not JWT";
    return NULL;
}

/* The claims' verdict under r, *out filled: NULL when they hold now. */
static const char *claims_ok(const cJSON *c, const struct jwt_rules *r, struct jwt_claims *out)
{
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(c, "iss");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(c, "sub");
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(c, "jti");
    long long nbf = 0;
    int has_exp = seconds(c, "exp", &out->exp), has_iat = seconds(c, "iat", &out->iat),
        has_nbf = seconds(c, "nbf", &nbf);
    if (has_exp < 0 || has_iat < 0 || has_nbf < 0)
        return "a time is not a number";
    if (!has_exp || !has_iat || !cJSON_IsString(jti) || !*jti->valuestring)
        return "exp, iat or jti is missing";
    if (!cJSON_IsString(iss) || strcmp(iss->valuestring, r->iss) != 0)
        return "another issuer made it";
    if (!for_us(c, r->aud))
        return "it is for another audience";
    if (out->exp + JWT_LEEWAY_S <= r->now_s)
        return "it has expired";
    if ((has_nbf && nbf > r->now_s + JWT_LEEWAY_S) || out->iat > r->now_s + JWT_LEEWAY_S)
        return "it is not valid yet";
    const char *d = cJSON_IsString(sub) ? sub->valuestring : "";
    size_t n = strlen(d);
    if (n == 0 || n > 18 || d[0] == '0' || strspn(d, "0123456789") != n)
        return "the subject is not an account";
    out->sub = strtoll(d, NULL, 10);
    return NULL;
}

const char *jwt_verify(const char *token, size_t len, const unsigned char *key, size_t keylen,
                       const struct jwt_rules *r, struct jwt_claims *out)
{
    if (len > JWT_MAX)
        return "the token is too long";
    const char *dot1 = memchr(token, '.', len);
    const char *dot2 = dot1 ? memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token)) : NULL;
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return "a JWT has three parts";
    unsigned char sig[JWT_MAX], want[crypto_auth_hmacsha256_BYTES];
    size_t siglen = 0;
    if (decode(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig, &siglen) < 0 ||
        siglen != sizeof want)
        return "the signature is not one";
    /* the MAC first, in constant time: nothing of an unsigned token is
     * read -- no JSON parsed, no header believed */
    mac(key, keylen, token, (size_t)(dot2 - token), want);
    if (sodium_memcmp(sig, want, sizeof want) != 0)
        return "the signature is wrong";
    char *text = malloc(len);
    if (!text)
        return "out of memory";
    size_t hlen, plen;
    const char *why = NULL;
    cJSON *h = NULL, *c = NULL;
    if (decode(token, (size_t)(dot1 - token), (unsigned char *)text, &hlen) < 0 ||
        !(h = object(text, hlen, &why)))
        why = why ? why : "the header is not base64url";
    else if (decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), (unsigned char *)text, &plen) < 0 ||
             !(c = object(text, plen, &why)))
        why = why ? why : "the claims are not base64url";
    else if (!(why = header_ok(h)))
        why = claims_ok(c, r, out);
    cJSON_Delete(h);
    cJSON_Delete(c);
    free(text);
    return why;
}
