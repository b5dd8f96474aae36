/* jwt -- a libFuzzer target for jwt_verify() (and jwt_sign()).
 *
 *   make fuzz CHAPTER=auth                  the reference, FUZZ_TIME seconds
 *   make fuzz CHAPTER=auth IMPL=learner     your own jwt.c
 *
 * The input is used twice. As it is, as a token someone sent: it must be
 * refused (no one without the key can sign), without a crash or a
 * sanitizer report (jwt_verify() gets an exactly-sized copy: a read past
 * len is one). And as the bytes of a header and claims -- split at the
 * first 0xFF byte, or in the middle -- that the test signs with the key,
 * the way an attacker who had the key, or a bug, would: then whatever
 * jwt_verify() accepts must be what this server makes --
 *  - the header a JSON object whose "alg" is exactly "HS256", without
 *    "crit", and no member named twice (cJSON as a second reader);
 *  - the claims an object with iss "fuzz", an "exp" after now minus the
 *    leeway, a "jti", a "sub" of digits equal to the claims' sub;
 * and the accepted token changed anywhere -- one byte of any part,
 * cut short, one more byte -- is refused.
 * A failed check prints what failed and aborts: libFuzzer keeps the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>
#include <sodium.h>

#include "jwt.h"

static const unsigned char key[32] = "fuzz-key-fuzz-key-fuzz-key-fuzz";
static const struct jwt_rules rules = {"fuzz", "fuzz", 1700000000};

static void fail(const char *what, const char *token)
{
    fprintf(stderr, "jwt fuzz: %s\n  token: %.300s\n", what, token);
    abort();
}

/* 1 when the JSON object text[0..n) names no member twice. */
static int no_twice(const cJSON *j)
{
    for (const cJSON *a = j->child; a; a = a->next)
        for (const cJSON *b = j->child; b != a; b = b->next)
            if (strcmp(a->string, b->string) == 0)
                return 0;
    return 1;
}

/* What an accepted token's parts must say, read again with cJSON. */
static void check_accepted(const char *header, size_t hlen, const char *payload, size_t plen,
                           const struct jwt_claims *c, const char *token)
{
    cJSON *h = cJSON_ParseWithLength(header, hlen), *p = cJSON_ParseWithLength(payload, plen);
    const cJSON *alg = cJSON_GetObjectItemCaseSensitive(h, "alg");
    if (!cJSON_IsObject(h) || !cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0 ||
        cJSON_GetObjectItemCaseSensitive(h, "crit") || !no_twice(h))
        fail("accepted a header that is not {\"alg\":\"HS256\"} without crit, once each", token);
    const cJSON *iss = cJSON_GetObjectItemCaseSensitive(p, "iss");
    const cJSON *exp = cJSON_GetObjectItemCaseSensitive(p, "exp");
    const cJSON *sub = cJSON_GetObjectItemCaseSensitive(p, "sub");
    const cJSON *jti = cJSON_GetObjectItemCaseSensitive(p, "jti");
    if (!cJSON_IsObject(p) || !no_twice(p) || !cJSON_IsString(iss) ||
        strcmp(iss->valuestring, "fuzz") != 0 || !cJSON_IsNumber(exp) ||
        exp->valuedouble + JWT_LEEWAY_S <= (double)rules.now_s || !cJSON_IsString(jti) ||
        !cJSON_IsString(sub) || strtoll(sub->valuestring, NULL, 10) != c->sub || c->sub <= 0)
        fail("accepted claims this server would not make", token);
    cJSON_Delete(h);
    cJSON_Delete(p);
}

/* jwt_verify() of token[0..n) on an exactly-sized copy. */
static const char *verify(const char *token, size_t n, struct jwt_claims *c)
{
    char *copy = malloc(n ? n : 1);
    memcpy(copy, token, n);
    const char *why = jwt_verify(copy, n, key, sizeof key, &rules, c);
    free(copy);
    return why;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct jwt_claims c;
    if (!verify((const char *)data, size, &c))
        fail("accepted a token the fuzzer made without the key", "(the input)");

    const uint8_t *cut = memchr(data, 0xFF, size);
    size_t hlen = cut ? (size_t)(cut - data) : size / 2;
    const char *header = (const char *)data, *payload = (const char *)data + hlen + (cut != NULL);
    size_t plen = size - hlen - (cut != NULL);
    char *token = jwt_sign(key, sizeof key, header, hlen, payload, plen);
    if (!token)
        return 0;
    size_t n = strlen(token);
    if (n <= JWT_MAX && !verify(token, n, &c)) {
        check_accepted(header, hlen, payload, plen, &c, token);
        for (size_t i = 0; i < n; i += 1 + n / 64) { /* one byte changed anywhere */
            char was = token[i];
            token[i] = (char)(was == 'A' ? 'B' : 'A');
            if (was != token[i] && !verify(token, n, &c))
                fail("accepted the token with one byte changed", token);
            token[i] = was;
        }
        if (!verify(token, n - 1, &c))
            fail("accepted the token cut short by one byte", token);
    }
    free(token);
    return 0;
}
