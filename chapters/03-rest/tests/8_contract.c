/* Stage 8, and the chapter as a whole: the contract sweep.
 *
 * openapi.json, in the chapter's folder, is the job description: every
 * path, method, status, header field and body of the API. These tests
 * read it and hold the server to it, answer by answer:
 *
 *   1. no answer is 5xx: nothing a client sends may make the server fail;
 *   2. its status is one the document lists for that operation;
 *   3. its Content-Type is the one the document gives for that status,
 *      and there is no body where it gives none;
 *   4. its body validates against the schema given (harness/lib/schema.h);
 *   5. every header field the document marks required is there, and
 *      every documented field's value matches its schema.
 *
 * The requests come from the document too: every operation on every path,
 * then bodies and queries generated from its schemas, valid ones and
 * broken ones, with seeded randomness: a failure prints WB_SEED=N, and
 * the same N sends the same requests again. A failure says which rule of
 * openapi.json was broken and where it is (a JSON Pointer into the file,
 * #/paths/~1items/post/responses/201 ...), what was sent (and the curl
 * command that sends it again), and what came back. */
#define _GNU_SOURCE /* strcasestr */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restc.h"
#include "schema.h"

/* The suite idempotency is declared in 8_idempotency.c: these tests are
 * stage 8's too. */

/* Distinct broken rules reported per test before it stops: the first few
 * say enough, and a sweep would otherwise repeat one bug a hundred times. */
#ifndef MAX_REPORTS
#define MAX_REPORTS 4
#endif

/* The methods of the API, in the order Allow lists them. */
static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
#define NMETHODS (sizeof methods / sizeof methods[0])

/* ---- the document ---------------------------------------------------------- */

/* openapi.json, beside tests/ (rc_test_path()), read whole. */
static char *read_spec_text(char *found, size_t cap)
{
    snprintf(found, cap, "%s", rc_test_path("../openapi.json"));
    FILE *f = fopen(found, "rb");
    cr_assert(f != NULL, "cannot open %s", found);
    size_t len = 0, size = 1 << 16, n;
    char *text = malloc(size);
    while (text && (n = fread(text + len, 1, size - len - 1, f)) > 0) {
        len += n;
        if (len + 1 == size) {
            char *bigger = realloc(text, size *= 2);
            if (!bigger)
                free(text);
            text = bigger;
        }
    }
    fclose(f);
    cr_assert(text != NULL, "out of memory reading %s", found);
    text[len] = '\0';
    return text;
}

/* Every "$ref" under node must name something in root. */
static void check_refs(const cJSON *root, const cJSON *node, const char *path)
{
    const cJSON *m;
    cJSON_ArrayForEach(m, node)
    {
        if (m->string && strcmp(m->string, "$ref") == 0) {
            cr_assert(cJSON_IsString(m) && schema_resolve(root, m->valuestring) != NULL,
                      "openapi.json is broken: the $ref at %s names nothing in the file",
                      path);
            continue;
        }
        if (cJSON_IsObject(m) || cJSON_IsArray(m)) {
            char sub[512];
            snprintf(sub, sizeof sub, "%s/%s", path, m->string ? m->string : "[]");
            check_refs(root, m, sub);
        }
    }
}

/* openapi.json parsed, after the checks every sweep relies on: OpenAPI
 * 3.1, the paths and schemas this chapter has, every operation with
 * responses, every $ref resolving. (The full check of the document is a
 * standard validator's job: tests/validate-openapi.sh.) */
static cJSON *spec_load(void)
{
    char path[PATH_MAX];
    char *text = read_spec_text(path, sizeof path);
    cJSON *spec = cJSON_Parse(text);
    if (!spec) {
        const char *at = cJSON_GetErrorPtr();
        cr_fatal("%s is not JSON: the error is near byte %ld: %s", path,
                 at ? (long)(at - text) : -1L, at ? wb_esc(at, strnlen(at, 40), 40) : "");
    }
    free(text);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, "openapi");
    cr_assert(cJSON_IsString(v) && strncmp(v->valuestring, "3.1.", 4) == 0,
              "%s: \"openapi\" must be \"3.1.x\" (the schemas are JSON Schema 2020-12)", path);
    static const char *const paths[] = {"/health", "/items", "/items/{id}"};
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(spec, "paths");
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        cr_assert(cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(ps, paths[i])),
                  "%s is incomplete: the path %s is missing from \"paths\"", path, paths[i]);
    static const char *const schemas[] = {"Item", "ItemInput", "ItemPatch", "Page", "Problem"};
    for (size_t i = 0; i < sizeof schemas / sizeof schemas[0]; i++) {
        char ref[128];
        snprintf(ref, sizeof ref, "#/components/schemas/%s", schemas[i]);
        cr_assert(schema_resolve(spec, ref) != NULL, "%s is incomplete: %s is missing", path, ref);
    }
    const cJSON *pi;
    cJSON_ArrayForEach(pi, ps)
    {
        for (size_t k = 0; k < NMETHODS; k++) {
            char lc[16];
            for (size_t j = 0; j <= strlen(methods[k]); j++)
                lc[j] = (char)(methods[k][j] >= 'A' && methods[k][j] <= 'Z' ? methods[k][j] + 32
                                                                              : methods[k][j]);
            const cJSON *op = cJSON_GetObjectItemCaseSensitive(pi, lc);
            const cJSON *rs = cJSON_GetObjectItemCaseSensitive(op, "responses");
            cr_assert(op == NULL || cJSON_IsObject(rs), "%s is incomplete: %s %s has no "
                      "\"responses\"", path, methods[k], pi->string);
        }
    }
    check_refs(spec, spec, "#");
    return spec;
}

/* The node $ref leads to (following $refs in turn), and its pointer. */
static const cJSON *deref(const cJSON *spec, const cJSON *node, char *where, size_t cap)
{
    for (int i = 0; i < 16 && node; i++) {
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(node, "$ref");
        if (!cJSON_IsString(r))
            return node;
        if (where)
            snprintf(where, cap, "%s", r->valuestring);
        node = schema_resolve(spec, r->valuestring);
    }
    return node;
}

static void lower(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] + 32 : in[i]);
    out[i] = '\0';
}

static const cJSON *path_item(const cJSON *spec, const char *tmpl)
{
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(spec, "paths"),
                                            tmpl);
}

/* The operation METHOD on tmpl, or NULL. */
static const cJSON *operation(const cJSON *spec, const char *tmpl, const char *method)
{
    char lc[16];
    lower(method, lc, sizeof lc);
    return cJSON_GetObjectItemCaseSensitive(path_item(spec, tmpl), lc);
}

/* "#/paths/~1items~1{id}/get": where an operation is, for messages. */
static const char *op_where(const char *tmpl, const char *method)
{
    char *out = wb_msgbuf(160), lc[16];
    size_t n = (size_t)snprintf(out, 160, "#/paths/");
    for (const char *s = tmpl; *s && n + 3 < 150; s++)
        n += (size_t)(*s == '/' ? snprintf(out + n, 160 - n, "~1")
                                : snprintf(out + n, 160 - n, "%c", *s));
    lower(method, lc, sizeof lc);
    snprintf(out + n, 160 - n, "/%s", lc);
    return out;
}

/* s as a JSON Pointer token (RFC 6901: ~ as ~0, / as ~1), for messages:
 * "application/json" is "application~1json" in a pointer. */
static const char *token(const char *s)
{
    char *out = wb_msgbuf(256);
    size_t n = 0;
    for (; *s && n + 3 < 256; s++) {
        if (*s == '~' || *s == '/') {
            out[n++] = '~';
            out[n++] = *s == '~' ? '0' : '1';
        } else {
            out[n++] = *s;
        }
    }
    out[n] = '\0';
    return out;
}

/* The status codes an operation documents, "200, 404, ..." for messages. */
static const char *statuses_of(const cJSON *op)
{
    char *out = wb_msgbuf(256);
    size_t n = 0;
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(op, "responses"))
        if (n + 8 < 256)
            n += (size_t)snprintf(out + n, 256 - n, "%s%s", n ? ", " : "", r->string);
    return out;
}

/* The Allow value the document implies for a path: its operations, in
 * the order of methods[]. */
static void allow_of(const cJSON *spec, const char *tmpl, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t k = 0; k < NMETHODS; k++)
        if (operation(spec, tmpl, methods[k]))
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? ", " : "", methods[k]);
}

/* ---- a sweep: requests, and the answers judged against the document ------ */

struct sweep {
    struct wb_proc *p;
    cJSON *spec;
    int fd;                 /* keep-alive connection; -1 until needed again */
    const char *what;       /* what the test sweeps: the first line of a message */
    int reports;
    char seen[MAX_REPORTS][200]; /* the broken rules already reported */
    int requests;
};

static void sweep_start(struct sweep *sw, const char *what)
{
    memset(sw, 0, sizeof *sw);
    sw->spec = spec_load();
    sw->p = wb_start(NULL);
    sw->fd = -1;
    sw->what = what;
    wb_seed();
}

static void sweep_end(struct sweep *sw)
{
    cr_log_info("%s: %d requests, seed %llu", sw->what, sw->requests,
                (unsigned long long)wb_seed());
    if (sw->fd >= 0)
        close(sw->fd);
    cJSON_Delete(sw->spec);
}

/* Reports a broken rule -- once per key (the method, the path, the status
 * and the rule) --, and stops the test after MAX_REPORTS of them. */
static void report(struct sweep *sw, const char *key, const struct ht_response *r,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(struct sweep *sw, const char *key, const struct ht_response *r,
                   const char *fmt, ...)
{
    for (int i = 0; i < sw->reports; i++)
        if (strcmp(sw->seen[i], key) == 0)
            return;
    char rule[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rule, sizeof rule, fmt, ap);
    va_end(ap);
    snprintf(sw->seen[sw->reports++], sizeof sw->seen[0], "%s", key);
    const char *req = r ? ht_describe_request(sw->p, r->req, r->req_len) : "";
    const char *resp = r ? ht_describe_response(r) : "";
    if (sw->reports < MAX_REPORTS) {
        cr_fail("%s\n%s\nanswer received:\n%s\nbroken: %s\n(random requests: WB_SEED=%llu "
                "sends the same ones again)", sw->what, req, resp, rule,
                (unsigned long long)wb_seed());
        return;
    }
    cr_fatal("%s\n%s\nanswer received:\n%s\nbroken: %s\n(random requests: WB_SEED=%llu sends "
             "the same ones again)\n%d answers broke openapi.json: the sweep stops here; fix "
             "these first.", sw->what, req, resp, rule, (unsigned long long)wb_seed(),
             MAX_REPORTS);
}

/* Sends METHOD target with the header lines headers (each ending in
 * \r\n, may be NULL) and body (NULL: none) on the sweep's connection, a
 * new one when the last answer closed it. */
static struct ht_response *send_req(struct sweep *sw, const char *method, const char *target,
                                    const char *headers, const char *body, size_t body_len)
{
    if (sw->fd < 0)
        sw->fd = wb_connect(sw->p);
    size_t len;
    char *raw = rc_request(method, target, headers, body, body_len, &len);
    wb_send(sw->p, sw->fd, raw, len);
    char ctx[300];
    snprintf(ctx, sizeof ctx, "%s\nthe answer to %s %.150s", sw->what, method, target);
    struct ht_response *r = ht_must_read(sw->p, sw->fd, raw, len, strcmp(method, "HEAD") == 0,
                                         5000, ctx);
    free(raw);
    sw->requests++;
    const char *conn = ht_header(r, "Connection");
    if (conn && strcasestr(conn, "close")) {
        close(sw->fd);
        sw->fd = -1;
    }
    return r;
}

/* The media type of a Content-Type value, lower case, without parameters. */
static void media_type(const char *v, char *out, size_t cap)
{
    size_t n = 0;
    while (*v == ' ' || *v == '\t')
        v++;
    for (; *v && *v != ';' && *v != ' ' && *v != '\t' && n + 1 < cap; v++)
        out[n++] = (char)(*v >= 'A' && *v <= 'Z' ? *v + 32 : *v);
    out[n] = '\0';
}

/* A problem+json "status" must be the answer's own (Problem.status). */
static void check_problem_status(struct sweep *sw, const char *key, const struct ht_response *r,
                                 const cJSON *body)
{
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(body, "status");
    if (cJSON_IsNumber(st) && st->valuedouble != r->status)
        report(sw, key, r, "the problem's \"status\" is %g, the answer's status %d: "
               "#/components/schemas/Problem/properties/status is \"the status code of the "
               "answer itself\"", st->valuedouble, r->status);
}

/* Judges one answer to METHOD on the document's path tmpl by rules 1 to 5
 * above, plus: an item's ETag is its version in quotes. want is the
 * status the request was made for (0: any): a 5xx is fine only when it is
 * that (a probe of the HTTP layer's 501 and 505). Returns the body parsed
 * when it is JSON (the caller deletes it), else NULL. */
static cJSON *judge_for(struct sweep *sw, const char *method, const char *tmpl,
                        const struct ht_response *r, int want)
{
    char key[200], where[256], ct[128], why[2048];
    const cJSON *op = operation(sw->spec, tmpl, method);
    const char *opw = op_where(tmpl, method);
    int head = strcmp(method, "HEAD") == 0;
    cJSON *body = NULL;

    snprintf(key, sizeof key, "%s %s %d", method, tmpl, r->status);
    if (r->status >= 500 && r->status != want) {
        snprintf(key + strlen(key), sizeof key - strlen(key), " 5xx");
        report(sw, key, r, "no answer may be 5xx: a 5xx says that the server failed, and "
               "nothing a client sends may make it fail. (openapi.json lists 500, 501, 503 "
               "and 505 for every operation only for what the HTTP layer answers itself: "
               "running out of memory, a Transfer-Encoding it does not know, a stop, another "
               "HTTP version.)");
    }
    /* Rule 2: a documented status. An undocumented method is the path's
     * x-other-methods (405). */
    const cJSON *resp = NULL;
    char code[16];
    snprintf(code, sizeof code, "%d", r->status);
    if (op) {
        resp = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(op, "responses"),
                                                code);
        snprintf(where, sizeof where, "%s/responses/%s", opw, code);
    } else {
        resp = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(path_item(sw->spec, tmpl), "x-other-methods"), code);
        snprintf(where, sizeof where, "%.*s/x-other-methods/%s", (int)(strrchr(opw, '/') - opw),
                 opw, code);
    }
    if (!resp) {
        if (op)
            report(sw, key, r, "%s %s answered %d, which %s/responses does not list: the "
                   "statuses of this operation are %s", method, tmpl, r->status, opw,
                   statuses_of(op));
        else
            report(sw, key, r, "%s %s: the path has no %s operation, so the answer is the "
                   "path's x-other-methods, 405; received %d", method, tmpl, method, r->status);
        return NULL;
    }
    char target_where[256];
    snprintf(target_where, sizeof target_where, "%s", where);
    resp = deref(sw->spec, resp, target_where, sizeof target_where);
    /* "#/paths/~1items/post/responses/415 (-> #/components/responses/X)"
     * for the status; pointers into the response start at its target. */
    char shown_where[600], via[300] = "";
    if (strcmp(target_where, where) == 0) {
        snprintf(shown_where, sizeof shown_where, "%s", where);
    } else {
        snprintf(shown_where, sizeof shown_where, "%s (-> %s)", where, target_where);
        snprintf(via, sizeof via, " (the answer %s refers to)", where);
    }

    /* Rule 3: the Content-Type of that status, or no body. */
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(resp, "content");
    const char *ctv = ht_header(r, "Content-Type");
    media_type(ctv ? ctv : "", ct, sizeof ct);
    const cJSON *media = NULL;
    if (content && content->child) {
        media = cJSON_GetObjectItemCaseSensitive(content, ct);
        if (!media) {
            char ck[240];
            snprintf(ck, sizeof ck, "%s content-type", key);
            report(sw, ck, r, "the answer's Content-Type is %s; %s gives %s%s",
                   ctv ? ct : "missing", shown_where, content->child->string,
                   content->child->next ? " (or another of its content)" : "");
        }
    } else if (r->body_len > 0) {
        char ck[240];
        snprintf(ck, sizeof ck, "%s body", key);
        report(sw, ck, r, "%s has no content: the answer has no body, and it has %zu bytes",
               shown_where, r->body_len);
    }

    /* Rule 4: the body against the schema. */
    const cJSON *schema = cJSON_GetObjectItemCaseSensitive(media, "schema");
    if (schema && !head) {
        const char *end = NULL;
        body = cJSON_ParseWithLengthOpts(r->body ? r->body : "", r->body_len, &end, 0);
        if (!body) {
            char ck[240];
            snprintf(ck, sizeof ck, "%s json", key);
            report(sw, ck, r, "the body is not JSON, and %s/content/%s/schema%s is a schema "
                   "for it", target_where, token(ct), via);
        } else {
            int rc = schema_check(sw->spec, schema, body, why, sizeof why);
            if (rc == SCHEMA_BAD)
                cr_fatal("openapi.json is broken: %s", why);
            if (rc != SCHEMA_OK) {
                char ck[240];
                snprintf(ck, sizeof ck, "%s schema", key);
                report(sw, ck, r, "the body breaks the schema %s/content/%s/schema%s:\n  %s",
                       target_where, token(ct), via, why);
            }
            if (strcmp(ct, "application/problem+json") == 0)
                check_problem_status(sw, key, r, body);
        }
    }

    /* Rule 5: the header fields. */
    const cJSON *h;
    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(resp, "headers"))
    {
        char hw[256];
        snprintf(hw, sizeof hw, "%s/headers/%s", target_where, token(h->string));
        const cJSON *hd = deref(sw->spec, h, hw, sizeof hw);
        const char *value = ht_header(r, h->string);
        char hk[240];
        snprintf(hk, sizeof hk, "%s header %s", key, h->string);
        if (!value) {
            if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hd, "required")))
                report(sw, hk, r, "the answer has no %s field, and %s is \"required\": true "
                       "for %s", h->string, hw, shown_where);
            continue;
        }
        cJSON *v = cJSON_CreateString(value);
        int rc = schema_check(sw->spec, cJSON_GetObjectItemCaseSensitive(hd, "schema"), v, why,
                              sizeof why);
        cJSON_Delete(v);
        if (rc == SCHEMA_BAD)
            cr_fatal("openapi.json is broken: %s", why);
        if (rc != SCHEMA_OK)
            report(sw, hk, r, "the value of %s breaks the schema of %s/schema:\n  %s", h->string,
                   hw, why);
    }

    /* An item's ETag is its version, in quotes (#/components/headers/ETag). */
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(body, "version");
    const char *etag = ht_header(r, "ETag");
    if (etag && cJSON_IsNumber(ver) && cJSON_GetObjectItemCaseSensitive(body, "id")) {
        char want[40];
        snprintf(want, sizeof want, "\"%.0f\"", ver->valuedouble);
        if (strcmp(etag, want) != 0) {
            char ek[240];
            snprintf(ek, sizeof ek, "%s etag-version", key);
            report(sw, ek, r, "the ETag is %s and the item's version %.0f: "
                   "#/components/headers/ETag is \"the item's version as a strong entity "
                   "tag\", so %s", etag, ver->valuedouble, want);
        }
    }
    return body;
}

static cJSON *judge(struct sweep *sw, const char *method, const char *tmpl,
                    const struct ht_response *r)
{
    return judge_for(sw, method, tmpl, r, 0);
}

/* Judges r, then requires the status want: what the document says this
 * request gets (the rule is why). Returns the body as judge() does. */
static cJSON *expect_status(struct sweep *sw, const char *method, const char *tmpl,
                            const struct ht_response *r, int want, const char *why)
{
    cJSON *body = judge_for(sw, method, tmpl, r, want);
    if (r->status != want) {
        char key[240];
        snprintf(key, sizeof key, "%s %s %d expected %d", method, tmpl, r->status, want);
        report(sw, key, r, "expected %d %s, received %d: %s", want, ht_reason(want), r->status,
               why);
    }
    return body;
}

/* The operation's success status: the 2xx it documents. */
static int success_of(const cJSON *spec, const char *tmpl, const char *method)
{
    const cJSON *rs;
    cJSON_ArrayForEach(rs, cJSON_GetObjectItemCaseSensitive(operation(spec, tmpl, method),
                                                            "responses"))
        if (rs->string[0] == '2')
            return atoi(rs->string);
    cr_fatal("openapi.json is incomplete: %s has no 2xx response", op_where(tmpl, method));
    return 0;
}

/* ---- values from the schemas ------------------------------------------------ */

static uint32_t rnd(uint32_t n)
{
    return n ? wb_random_u32() % n : 0;
}

/* Characters for generated strings: ASCII that JSON and URLs escape,
 * and UTF-8 of 2, 3 and 4 bytes, so lengths are counted in code points. */
static const char *const pool[] = {
    "a", "b", "k", "z", "Q", "X", "0", "7", " ", "-", "_", "%", "~", "/", "\\", "\"", "'",
    "+", "&", "=", "?", "#", ".", "<", "\t", "\xc3\xa9", "\xc3\x9f", "\xe2\x82\xac",
    "\xe4\xb8\xad", "\xf0\x9d\x84\x9e",
};

/* A string of n code points. */
static cJSON *gen_string(size_t n)
{
    char *s = malloc(n * 4 + 1);
    cr_assert(s != NULL, "out of memory");
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        const char *c = pool[rnd(sizeof pool / sizeof pool[0])];
        memcpy(s + len, c, strlen(c));
        len += strlen(c);
    }
    s[len] = '\0';
    cJSON *v = cJSON_CreateString(s);
    free(s);
    return v;
}

static double num_kw(const cJSON *s, const char *kw, double dflt)
{
    const cJSON *k = cJSON_GetObjectItemCaseSensitive(s, kw);
    return cJSON_IsNumber(k) ? k->valuedouble : dflt;
}

/* The schema s resolved, and for anyOf/oneOf the first branch that is not
 * "type": "null" (the one with the bounds). */
static const cJSON *main_schema(const cJSON *spec, const cJSON *s)
{
    s = deref(spec, s, NULL, 0);
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(s, "anyOf");
    if (!any)
        any = cJSON_GetObjectItemCaseSensitive(s, "oneOf");
    const cJSON *b;
    cJSON_ArrayForEach(b, any)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(deref(spec, b, NULL, 0), "type");
        if (!cJSON_IsString(t) || strcmp(t->valuestring, "null") != 0)
            return deref(spec, b, NULL, 0);
    }
    return s;
}

static const char *type_name(const cJSON *s)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s, "type");
    if (cJSON_IsString(t))
        return t->valuestring;
    if (cJSON_IsArray(t) && cJSON_GetArraySize(t) > 0)
        return cJSON_GetArrayItem(t, (int)rnd((uint32_t)cJSON_GetArraySize(t)))->valuestring;
    return cJSON_GetObjectItemCaseSensitive(s, "properties") ? "object" : "null";
}

/* A value the schema s accepts, near its bounds often; NULL for a string
 * with a pattern (this generator does not invert regular expressions). */
static cJSON *gen_valid(const cJSON *spec, const cJSON *s, int depth)
{
    s = main_schema(spec, s);
    cr_assert(depth < 16 && s != NULL, "the schemas of openapi.json nest too deep to generate");
    const cJSON *k;
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "const")))
        return cJSON_Duplicate(k, 1);
    if ((k = cJSON_GetObjectItemCaseSensitive(s, "enum")))
        return cJSON_Duplicate(cJSON_GetArrayItem(k, (int)rnd((uint32_t)cJSON_GetArraySize(k))),
                               1);
    const char *t = type_name(s);
    if (strcmp(t, "object") == 0) {
        cJSON *o = cJSON_CreateObject();
        const cJSON *req = cJSON_GetObjectItemCaseSensitive(s, "required"), *p;
        cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(s, "properties"))
        {
            int required = 0;
            const cJSON *r;
            cJSON_ArrayForEach(r, req)
                required |= strcmp(r->valuestring, p->string) == 0;
            if (!required && rnd(2))
                continue;
            cJSON *v = gen_valid(spec, p, depth + 1);
            if (!v) {
                cJSON_Delete(o);
                return NULL;
            }
            cJSON_AddItemToObject(o, p->string, v);
        }
        return o;
    }
    if (strcmp(t, "array") == 0) {
        int min = (int)num_kw(s, "minItems", 0), max = (int)num_kw(s, "maxItems", min + 8);
        int n = rnd(8) == 0 ? max : min + (int)rnd((uint32_t)((max - min < 6 ? max - min : 6) + 1));
        cJSON *a = cJSON_CreateArray();
        for (int i = 0; i < n; i++) {
            cJSON *v = gen_valid(spec, cJSON_GetObjectItemCaseSensitive(s, "items"), depth + 1);
            if (!v) {
                cJSON_Delete(a);
                return NULL;
            }
            cJSON_AddItemToArray(a, v);
        }
        return a;
    }
    if (strcmp(t, "string") == 0) {
        if (cJSON_GetObjectItemCaseSensitive(s, "pattern"))
            return NULL;
        size_t min = (size_t)num_kw(s, "minLength", 0), max = (size_t)num_kw(s, "maxLength", 40);
        uint32_t pick = rnd(8);
        size_t span = max - min < 24 ? max - min : 24;
        size_t n = pick == 0 ? min : pick == 1 ? max : min + rnd((uint32_t)span + 1);
        return gen_string(n);
    }
    if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
        double min = num_kw(s, "minimum", -1e6), max = num_kw(s, "maximum", 1e6);
        uint32_t pick = rnd(8);
        double d = pick == 0 ? min : pick == 1 ? max : min + (max - min) * (rnd(1000001) / 1e6);
        if (strcmp(t, "integer") == 0)
            d = (double)(long long)d;
        else if (pick > 1 && rnd(2))
            d = (double)(long long)(d * 100) / 100; /* cents, as prices are */
        return cJSON_CreateNumber(d < min ? min : d > max ? max : d);
    }
    if (strcmp(t, "boolean") == 0)
        return cJSON_CreateBool(rnd(2));
    return cJSON_CreateNull();
}

/* gen_valid(), checked against the schema (and tried again for the
 * rare value a oneOf takes twice). */
static cJSON *gen_checked(const cJSON *spec, const char *ref)
{
    const cJSON *s = schema_resolve(spec, ref);
    char why[1024];
    cr_assert(s != NULL, "openapi.json is incomplete: %s is missing", ref);
    for (int i = 0; i < 20; i++) {
        cJSON *v = gen_valid(spec, s, 0);
        if (v && schema_check(spec, s, v, why, sizeof why) == SCHEMA_OK)
            return v;
        cJSON_Delete(v);
    }
    cr_fatal("cannot generate a value for %s from openapi.json: %s", ref, why);
    return NULL;
}

/* v as JSON text, in a malloc'd string the caller frees. */
static char *print(const cJSON *v)
{
    char *s = cJSON_PrintUnformatted(v);
    char *copy = s ? strdup(s) : NULL;
    cJSON_free(s);
    cr_assert(copy != NULL, "out of memory");
    return copy;
}

/* ---- broken values: one rule of a schema broken at a time ----------------- */

/* A request body with one thing wrong, and where: the JSON Pointer the
 * problem's errors must name. */
struct broken {
    char *text;             /* the body */
    char pointer[128];      /* "/qty", "/tags/2", "" for the whole body */
    char rule[200];         /* the rule broken, for messages */
};

/* Values of every JSON type, for "type" mutations. */
static const char *const any_type[] = {"null", "true", "\"x\"", "7", "1.5", "[]", "{}"};

/* Adds to out[*n] (up to cap) values that break schema s (at pointer ptr
 * inside the body whole, where *slot is the value), one rule at a time:
 * a type it does not take, a length, bound or count one past the limit,
 * and for arrays one broken element. Each is checked to be invalid. */
static void break_value(const cJSON *spec, const cJSON *root_schema, cJSON *whole, cJSON *parent,
                        const char *name, int index, const cJSON *s, const char *ptr,
                        struct broken *out, int *n, int cap)
{
    const cJSON *m = main_schema(spec, s);
    const char *t = type_name(m);
    cJSON *cands[16];
    char rules[16][200];
    int nc = 0;
    for (size_t i = 0; i < sizeof any_type / sizeof any_type[0] && nc < 8; i++) {
        cands[nc] = cJSON_Parse(any_type[i]);
        snprintf(rules[nc++], 200, "%s as %s", ptr, any_type[i]);
    }
    if (strcmp(t, "string") == 0) {
        double min = num_kw(m, "minLength", 0), max = num_kw(m, "maxLength", -1);
        if (min > 0) {
            cands[nc] = gen_string((size_t)min - 1);
            snprintf(rules[nc++], 200, "%s with %g characters (minLength %g)", ptr, min - 1, min);
        }
        if (max >= 0) {
            cands[nc] = gen_string((size_t)max + 1);
            snprintf(rules[nc++], 200, "%s with %g characters (maxLength %g)", ptr, max + 1, max);
        }
    } else if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0) {
        const cJSON *lo = cJSON_GetObjectItemCaseSensitive(m, "minimum");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(m, "maximum");
        double step = strcmp(t, "integer") == 0 ? 1 : 0.01;
        if (lo) {
            cands[nc] = cJSON_CreateNumber(lo->valuedouble - step);
            snprintf(rules[nc++], 200, "%s below its minimum %g", ptr, lo->valuedouble);
        }
        if (hi) {
            /* past 1e8, 0.01 more may print as the bound itself: a larger step */
            double over = hi->valuedouble + step * (hi->valuedouble > 1e8 ? 1e3 : 1);
            cands[nc] = cJSON_CreateNumber(over);
            snprintf(rules[nc++], 200, "%s above its maximum %g", ptr, hi->valuedouble);
        }
        if (strcmp(t, "integer") == 0) {
            cands[nc] = cJSON_CreateNumber((lo ? lo->valuedouble : 0) + 1.5);
            snprintf(rules[nc++], 200, "%s with a fraction (an integer)", ptr);
        }
    } else if (strcmp(t, "array") == 0) {
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(m, "items");
        const cJSON *hi = cJSON_GetObjectItemCaseSensitive(m, "maxItems");
        if (hi && items) {
            cJSON *a = cJSON_CreateArray();
            for (int i = 0; i <= (int)hi->valuedouble; i++)
                cJSON_AddItemToArray(a, gen_valid(spec, items, 1));
            cands[nc] = a;
            snprintf(rules[nc++], 200, "%s with %d elements (maxItems %g)", ptr,
                     (int)hi->valuedouble + 1, hi->valuedouble);
        }
        if (items && *n < cap) {
            /* one broken element, in the middle of good ones */
            cJSON *a = cJSON_CreateArray();
            int len = 1 + (int)rnd(3);
            for (int i = 0; i < len; i++)
                cJSON_AddItemToArray(a, gen_valid(spec, items, 1));
            cJSON *old = index >= 0 ? cJSON_DetachItemFromArray(parent, index)
                                    : cJSON_DetachItemFromObjectCaseSensitive(parent, name);
            if (index >= 0)
                cJSON_InsertItemInArray(parent, index, a);
            else
                cJSON_AddItemToObject(parent, name, a);
            int at = (int)rnd((uint32_t)len);
            char sub[128];
            snprintf(sub, sizeof sub, "%s/%d", ptr, at);
            break_value(spec, root_schema, whole, a, NULL, at, items, sub, out, n, cap);
            if (index >= 0) {
                cJSON_DeleteItemFromArray(parent, index);
                cJSON_InsertItemInArray(parent, index, old);
            } else {
                cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
                cJSON_AddItemToObject(parent, name, old);
            }
        }
    }
    /* Each candidate in place of the value; kept when the whole is invalid. */
    for (int i = 0; i < nc; i++) {
        if (!cands[i] || *n >= cap) {
            cJSON_Delete(cands[i]);
            continue;
        }
        cJSON *old = index >= 0 ? cJSON_DetachItemFromArray(parent, index)
                                : cJSON_DetachItemFromObjectCaseSensitive(parent, name);
        if (index >= 0)
            cJSON_InsertItemInArray(parent, index, cands[i]);
        else
            cJSON_AddItemToObject(parent, name, cands[i]);
        char why[1024];
        if (schema_check(spec, root_schema, whole, why, sizeof why) == SCHEMA_INVALID) {
            out[*n].text = print(whole);
            snprintf(out[*n].pointer, sizeof out[*n].pointer, "%s", ptr);
            snprintf(out[*n].rule, sizeof out[*n].rule, "%s", rules[i]);
            (*n)++;
        }
        if (index >= 0) {
            cJSON_DeleteItemFromArray(parent, index);
            cJSON_InsertItemInArray(parent, index, old);
        } else {
            cJSON_DeleteItemFromObjectCaseSensitive(parent, name);
            cJSON_AddItemToObject(parent, name, old);
        }
    }
}

/* Broken versions of the valid object good (of the schema at ref): each
 * member broken in turn, a required member left out, a member the schema
 * does not have added, and a body that is no object at all. Returns how
 * many went into out. */
static int break_object(const cJSON *spec, const char *ref, const cJSON *good, struct broken *out,
                        int cap)
{
    const cJSON *s = schema_resolve(spec, ref);
    const cJSON *props = cJSON_GetObjectItemCaseSensitive(s, "properties"), *p;
    cJSON *whole = cJSON_Duplicate(good, 1);
    int n = 0;
    char why[1024];
    /* every member, present or not, broken */
    cJSON_ArrayForEach(p, props)
    {
        char ptr[128];
        snprintf(ptr, sizeof ptr, "/%s", p->string);
        int added = !cJSON_GetObjectItemCaseSensitive(whole, p->string);
        if (added) {
            cJSON *v = gen_valid(spec, p, 1);
            if (!v)
                continue;
            cJSON_AddItemToObject(whole, p->string, v);
        }
        break_value(spec, s, whole, whole, p->string, -1, p, ptr, out, &n, cap);
        if (added)
            cJSON_DeleteItemFromObjectCaseSensitive(whole, p->string);
    }
    /* required members left out */
    const cJSON *r;
    cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(s, "required"))
    {
        cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(whole, r->valuestring);
        if (n < cap && schema_check(spec, s, whole, why, sizeof why) == SCHEMA_INVALID) {
            out[n].text = print(whole);
            snprintf(out[n].pointer, sizeof out[n].pointer, "/%s", r->valuestring);
            snprintf(out[n++].rule, sizeof out[0].rule, "no %s (required)", r->valuestring);
        }
        if (v)
            cJSON_AddItemToObject(whole, r->valuestring, v);
    }
    /* members the schema does not have: the server's own, and others */
    static const char *const extra[] = {"id", "version", "created_at", "updated_at", "is_admin",
                                        "Name", "tags "};
    for (size_t i = 0; i < sizeof extra / sizeof extra[0] && n < cap; i++) {
        if (cJSON_GetObjectItemCaseSensitive(props, extra[i]))
            continue;
        cJSON_AddItemToObject(whole, extra[i], cJSON_CreateNumber(1));
        out[n].text = print(whole);
        snprintf(out[n].pointer, sizeof out[n].pointer, "/%s", extra[i]);
        snprintf(out[n++].rule, sizeof out[0].rule, "an extra member %s (additionalProperties: "
                 "false)", extra[i]);
        cJSON_DeleteItemFromObjectCaseSensitive(whole, extra[i]);
    }
    /* no object at all */
    for (size_t i = 0; i < sizeof any_type / sizeof any_type[0] && n < cap; i++) {
        if (strcmp(any_type[i], "{}") == 0)
            continue;
        out[n].text = strdup(any_type[i]);
        out[n].pointer[0] = '\0';
        snprintf(out[n++].rule, sizeof out[0].rule, "a body that is %s, no object", any_type[i]);
    }
    cJSON_Delete(whole);
    return n;
}

/* Does an object of the problem's errors array have member = value
 * ("pointer": "/qty", "parameter": "limit")? */
static int names_in_errors(const cJSON *problem, const char *member, const char *value)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(problem, "errors"))
    {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, member);
        if (cJSON_IsString(v) && strcmp(v->valuestring, value) == 0)
            return 1;
    }
    return 0;
}

/* ---- requests the sweeps share --------------------------------------------- */

/* An idempotency key the document's pattern takes: "<random>". */
static void gen_key(const cJSON *spec, char *out, size_t cap)
{
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789-_.:!#[]~ ";
    size_t len = 1 + rnd(40);
    size_t n = 0;
    out[n++] = '"';
    for (size_t i = 0; i < len && n + 4 < cap; i++) {
        uint32_t c = rnd(sizeof alphabet + 1);
        if (c == sizeof alphabet - 1) {
            out[n++] = '\\';
            out[n++] = '"';
        } else if (c == sizeof alphabet) {
            out[n++] = '\\';
            out[n++] = '\\';
        } else {
            out[n++] = alphabet[c];
        }
    }
    out[n++] = '"';
    out[n] = '\0';
    cJSON *v = cJSON_CreateString(out);
    char why[512];
    const cJSON *s = schema_resolve(spec, "#/components/parameters/Idempotency-Key/schema");
    int rc = schema_check(spec, s, v, why, sizeof why);
    cJSON_Delete(v);
    cr_assert(eq(int, rc, SCHEMA_OK), "the test's idempotency key %s breaks openapi.json: %s",
              out, why);
}

/* POST /items with a generated valid item; returns its id (0 when the
 * server did not create it: reported already). */
static long long create_item(struct sweep *sw, cJSON **item_out)
{
    cJSON *item = gen_checked(sw->spec, "#/components/schemas/ItemInput");
    char *text = print(item);
    struct ht_response *r = send_req(sw, "POST", "/items", "Content-Type: application/json\r\n",
                                     text, strlen(text));
    cJSON *body = expect_status(sw, "POST", "/items", r, 201,
                                "a valid ItemInput creates an item (to have one to work on)");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(body, "id");
    long long v = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    cJSON_Delete(body);
    ht_free(r);
    free(text);
    if (item_out)
        *item_out = item;
    else
        cJSON_Delete(item);
    return v;
}

/* Sends raw[0..len) on a connection of its own and reads one answer. */
static struct ht_response *send_raw(struct sweep *sw, const char *raw, size_t len, int head)
{
    int fd = wb_connect(sw->p);
    wb_send(sw->p, fd, raw, len);
    char ctx[300];
    snprintf(ctx, sizeof ctx, "%s\nthe answer to a request the HTTP layer refuses", sw->what);
    struct ht_response *r = ht_must_read(sw->p, fd, raw, len, head, 5000, ctx);
    r->fd = fd;
    r->own_fd = 1; /* ht_free() closes it */
    sw->requests++;
    return r;
}

/* Every operation, sent the way the HTTP layer refuses before the API
 * sees it: a request line over 8192 bytes (414), a header line over 8192
 * bytes (431), HTTP/2.0 (505), a Transfer-Encoding it does not know (501),
 * a header line without a colon (400). Each status is one that every
 * operation documents, with a problem document. item is an existing
 * item's path, for {id}. */
static void probe_http_layer(struct sweep *sw, const char *item)
{
    static const struct {
        int status;
        const char *what;
    } probes[] = {
        {414, "a request line longer than 8192 bytes (#/components/responses/UriTooLong)"},
        {431, "a header field line longer than 8192 bytes "
              "(#/components/responses/HeaderFieldsTooLarge)"},
        {505, "HTTP/2.0 in the request line (#/components/responses/HttpVersionNotSupported)"},
        {501, "Transfer-Encoding: gzip, chunked (#/components/responses/NotImplemented)"},
        {400, "a header line without a colon: not HTTP/1.1 (#/components/responses/BadRequest)"},
    };
    char *raw = malloc(20000), *fill = malloc(9001);
    cr_assert(raw != NULL && fill != NULL, "out of memory");
    memset(fill, 'a', 9000);
    fill[9000] = '\0';
    const cJSON *pi;
    cJSON_ArrayForEach(pi, cJSON_GetObjectItemCaseSensitive(sw->spec, "paths"))
    {
        const char *target = strstr(pi->string, "{id}") ? item : pi->string;
        for (size_t k = 0; k < NMETHODS; k++) {
            if (!operation(sw->spec, pi->string, methods[k]))
                continue;
            for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
                const char *m = methods[k];
                int n = probes[i].status == 414
                            ? snprintf(raw, 20000, "%s %s?%s HTTP/1.1\r\nHost: localhost\r\n\r\n",
                                       m, target, fill)
                        : probes[i].status == 431
                            ? snprintf(raw, 20000, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                                       "X-Filler: %s\r\n\r\n", m, target, fill)
                        : probes[i].status == 505
                            ? snprintf(raw, 20000, "%s %s HTTP/2.0\r\nHost: localhost\r\n\r\n", m,
                                       target)
                        : probes[i].status == 501
                            ? snprintf(raw, 20000, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                                       "Transfer-Encoding: gzip, chunked\r\n\r\n", m, target)
                            : snprintf(raw, 20000, "%s %s HTTP/1.1\r\nHost: localhost\r\n"
                                       "Bad Header\r\n\r\n", m, target);
                struct ht_response *r = send_raw(sw, raw, (size_t)n, strcmp(m, "HEAD") == 0);
                cJSON_Delete(expect_status(sw, m, pi->string, r, probes[i].status,
                                           probes[i].what));
                ht_free(r);
            }
        }
    }
    free(fill);
    free(raw);
}

/* ---- the tests ---------------------------------------------------------------- */

/* Every path x method of the document, on an item that exists, one that
 * does not and a segment that is no id; with Accept: text/html (406);
 * with the conditional headers each operation documents, well-formed and
 * not; the HTTP layer's own refusals (414, 431, 505, 501, 400) for each;
 * then after a DELETE, every method on the deleted item (404). */
Test(idempotency, every_documented_operation_answers_as_documented)
{
    struct sweep sw;
    sweep_start(&sw, "the sweep of every operation in openapi.json (stages 1 to 8)");
    long long id = create_item(&sw, NULL);
    if (!id)
        cr_fatal("POST /items with a valid item did not create one: every later request of "
                 "this sweep needs it");
    const cJSON *pi;
    cJSON_ArrayForEach(pi, cJSON_GetObjectItemCaseSensitive(sw.spec, "paths"))
    {
        const char *tmpl = pi->string;
        int has_id = strstr(tmpl, "{id}") != NULL;
        char targets[3][64];
        int ntargets = 1;
        if (has_id) {
            snprintf(targets[0], sizeof targets[0], "/items/%lld", id);
            snprintf(targets[1], sizeof targets[1], "/items/999999999999999");
            snprintf(targets[2], sizeof targets[2], "/items/abc");
            ntargets = 3;
        } else {
            snprintf(targets[0], sizeof targets[0], "%s", tmpl);
        }
        for (size_t k = 0; k < NMETHODS; k++) {
            const char *m = methods[k];
            const cJSON *op = operation(sw.spec, tmpl, m);
            if (!op || strcmp(m, "DELETE") == 0)
                continue; /* DELETE at the end: the item is needed until then */
            /* a valid body of the operation's media type */
            const cJSON *rb = cJSON_GetObjectItemCaseSensitive(
                cJSON_GetObjectItemCaseSensitive(op, "requestBody"), "content");
            char *text = NULL, ctype[160] = "";
            if (rb && rb->child) {
                const cJSON *sch = cJSON_GetObjectItemCaseSensitive(rb->child, "schema");
                char ref[256] = "";
                deref(sw.spec, sch, ref, sizeof ref);
                cJSON *v = gen_checked(sw.spec, ref);
                text = print(v);
                cJSON_Delete(v);
                snprintf(ctype, sizeof ctype, "Content-Type: %s\r\n", rb->child->string);
            }
            for (int t = 0; t < ntargets; t++) {
                int want = t == 0 ? success_of(sw.spec, tmpl, m)
                           : strcmp(m, "OPTIONS") == 0 ? 204 : 404;
                char why[256];
                snprintf(why, sizeof why, "%s", t == 0 ? "a valid request gets the operation's 2xx"
                         : want == 204 ? "OPTIONS answers for any id"
                         : "no item has this id: 404 (#/components/responses/NotFound)");
                struct ht_response *r = send_req(&sw, m, targets[t], ctype, text,
                                                 text ? strlen(text) : 0);
                cJSON_Delete(expect_status(&sw, m, tmpl, r, want, why));
                ht_free(r);
                if (t > 0)
                    continue;
                if (strcmp(m, "OPTIONS") == 0) {
                    r = send_req(&sw, m, targets[t], "Accept: text/html\r\n", NULL, 0);
                    cJSON_Delete(expect_status(&sw, m, tmpl, r, 204, "OPTIONS answers 204 "
                                               "whatever the Accept field (#/paths/..."
                                               "/options)"));
                    ht_free(r);
                    continue;
                }
                /* 406: whatever the client accepts must include JSON */
                char hdrs[320];
                snprintf(hdrs, sizeof hdrs, "%sAccept: text/html\r\n", ctype);
                r = send_req(&sw, m, targets[t], hdrs, text, text ? strlen(text) : 0);
                cJSON_Delete(expect_status(&sw, m, tmpl, r, 406, "Accept: text/html excludes "
                                           "application/json (#/components/responses/"
                                           "NotAcceptable)"));
                ht_free(r);
            }
            free(text);
        }
    }

    /* Conditional requests (stage 7): the ETag of the item now. */
    char target[64], hdrs[256], etag[64] = "\"1\"";
    snprintf(target, sizeof target, "/items/%lld", id);
    struct ht_response *r = send_req(&sw, "GET", target, NULL, NULL, 0);
    cJSON_Delete(judge(&sw, "GET", "/items/{id}", r));
    if (ht_header(r, "ETag"))
        snprintf(etag, sizeof etag, "%s", ht_header(r, "ETag"));
    ht_free(r);
    char weak[80];
    snprintf(weak, sizeof weak, "W/%s", etag);
    const char *inm[][2] = {{etag, "304"}, {"*", "304"}, {weak, "304"}, {"\"999999\"", "200"}};
    for (size_t i = 0; i < 4; i++) {
        for (int head = 0; head < 2; head++) {
            const char *m = head ? "HEAD" : "GET";
            snprintf(hdrs, sizeof hdrs, "If-None-Match: %s\r\n", inm[i][0]);
            r = send_req(&sw, m, target, hdrs, NULL, 0);
            cJSON_Delete(expect_status(&sw, m, "/items/{id}", r, atoi(inm[i][1]),
                                       "If-None-Match with the item's ETag (weak comparison: "
                                       "W/ matches too) or * is 304, with another tag 200 "
                                       "(#/components/parameters/If-None-Match)"));
            ht_free(r);
        }
    }
    static const char *const changers[] = {"PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 3; i++) {
        const char *ct = i == 0 ? "Content-Type: application/json\r\n"
                         : i == 1 ? "Content-Type: application/merge-patch+json\r\n" : "";
        const char *body = i == 0 ? "{\"name\":\"if-match\"}" : i == 1 ? "{\"qty\":1}" : NULL;
        snprintf(hdrs, sizeof hdrs, "%sIf-Match: \"999999\"\r\n", ct);
        r = send_req(&sw, changers[i], target, hdrs, body, body ? strlen(body) : 0);
        cJSON_Delete(expect_status(&sw, changers[i], "/items/{id}", r, 412,
                                   "If-Match with a tag the item does not have is 412, and "
                                   "nothing changes (#/components/responses/PreconditionFailed)"));
        ht_free(r);
    }
    /* If-Match compares strongly: the item's own tag, made weak, is no match */
    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nIf-Match: %s\r\n", weak);
    r = send_req(&sw, "PUT", target, hdrs, "{\"name\":\"weak\"}", 15);
    cJSON_Delete(expect_status(&sw, "PUT", "/items/{id}", r, 412, "If-Match compares strongly: "
                               "a weak tag never matches (#/components/parameters/If-Match)"));
    ht_free(r);
    r = send_req(&sw, "DELETE", "/items/999999999999999", "If-Match: \"1\"\r\n", NULL, 0);
    cJSON_Delete(expect_status(&sw, "DELETE", "/items/{id}", r, 404, "no item has this id: 404, "
                               "not 412, with or without If-Match"));
    ht_free(r);

    snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nIdempotency-Key: abc\r\n");
    r = send_req(&sw, "POST", "/items", hdrs, "{\"name\":\"k\"}", 11);
    cJSON_Delete(expect_status(&sw, "POST", "/items", r, 400, "an Idempotency-Key without its "
                               "double quotes is no RFC 8941 string "
                               "(#/components/parameters/Idempotency-Key)"));
    ht_free(r);

    /* Conditions that are no list of entity tags: 400. */
    static const struct {
        const char *method, *headers, *body;
    } malformed[] = {
        {"GET", "If-None-Match: abc\r\n", NULL},
        {"HEAD", "If-None-Match: \"1\" x\r\n", NULL},
        {"PUT", "Content-Type: application/json\r\nIf-Match: abc\r\n", "{\"name\":\"m\"}"},
        {"PATCH", "Content-Type: application/merge-patch+json\r\nIf-Match: 1\r\n", "{}"},
        {"DELETE", "If-Match: W/\r\n", NULL},
    };
    for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
        r = send_req(&sw, malformed[i].method, target, malformed[i].headers, malformed[i].body,
                     malformed[i].body ? strlen(malformed[i].body) : 0);
        cJSON_Delete(expect_status(&sw, malformed[i].method, "/items/{id}", r, 400,
                                   "a condition that is neither * nor a list of entity tags "
                                   "(#/components/parameters/If-Match, If-None-Match)"));
        ht_free(r);
    }

    /* What the HTTP layer answers itself, for every operation. */
    probe_http_layer(&sw, target);

    /* DELETE, then every method on the deleted item is 404. */
    r = send_req(&sw, "DELETE", target, NULL, NULL, 0);
    cJSON_Delete(expect_status(&sw, "DELETE", "/items/{id}", r, 204, "DELETE of an item"));
    ht_free(r);
    for (size_t k = 0; k < NMETHODS; k++) {
        if (!operation(sw.spec, "/items/{id}", methods[k]) || strcmp(methods[k], "OPTIONS") == 0)
            continue;
        int put = strcmp(methods[k], "PUT") == 0, patch = strcmp(methods[k], "PATCH") == 0;
        const char *body = put ? "{\"name\":\"again\"}" : patch ? "{\"qty\":2}" : NULL;
        r = send_req(&sw, methods[k], target,
                     put ? "Content-Type: application/json\r\n"
                     : patch ? "Content-Type: application/merge-patch+json\r\n" : NULL,
                     body, body ? strlen(body) : 0);
        cJSON_Delete(expect_status(&sw, methods[k], "/items/{id}", r, 404,
                                   "the item was deleted: every method on it is 404, and its "
                                   "id is never given out again"));
        ht_free(r);
    }
    sweep_end(&sw);
}

/* Valid items generated from ItemInput (names of 1 and 200 characters,
 * 2-, 3- and 4-byte UTF-8, qty and price at their bounds, 0 to 100 tags):
 * POST creates each (some with an Idempotency-Key, sent twice), GET reads
 * it back, PUT replaces some with another, PATCH changes some with a
 * generated ItemPatch. Each answer as documented, and the item holds what
 * was sent. */
Test(idempotency, generated_valid_items_are_stored_as_documented)
{
    struct sweep sw;
    sweep_start(&sw, "the sweep of valid items generated from openapi.json's ItemInput and "
                     "ItemPatch");
    static const char *const client[] = {"name", "qty", "price", "tags"};
    for (int i = 0; i < 60; i++) {
        cJSON *item = gen_checked(sw.spec, "#/components/schemas/ItemInput");
        char *text = print(item), hdrs[400] = "Content-Type: application/json\r\n";
        if (rnd(3) == 0) {
            char key[300];
            gen_key(sw.spec, key, sizeof key);
            snprintf(hdrs, sizeof hdrs, "Content-Type: application/json\r\nIdempotency-Key: %s\r\n",
                     key);
        }
        struct ht_response *r = send_req(&sw, "POST", "/items", hdrs, text, strlen(text));
        cJSON *body = expect_status(&sw, "POST", "/items", r, 201,
                                    "a body that ItemInput accepts is created");
        /* what was sent is what is stored: defaults for what was left out
         * (parsed from the text sent: a double printed and read again may
         * be a neighbour of the one generated) */
        cJSON *want = cJSON_Parse(text);
        cr_assert(want != NULL, "out of memory");
        if (!cJSON_GetObjectItemCaseSensitive(want, "qty"))
            cJSON_AddNumberToObject(want, "qty", 0);
        if (!cJSON_GetObjectItemCaseSensitive(want, "price"))
            cJSON_AddNumberToObject(want, "price", 0);
        if (!cJSON_GetObjectItemCaseSensitive(want, "tags"))
            cJSON_AddArrayToObject(want, "tags");
        if (body && r->status == 201) {
            cJSON *got = cJSON_CreateObject();
            for (size_t k = 0; k < 4; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, client[k]);
                if (v)
                    cJSON_AddItemToObject(got, client[k], cJSON_Duplicate(v, 1));
            }
            const char *d = jt_diff(want, got);
            if (d)
                report(&sw, "POST echo", r, "the item created is not the one sent (ItemInput: "
                       "the members left out get their defaults, qty 0, price 0, tags []): %s",
                       d);
            cJSON_Delete(got);
            /* the same key and item again: the first answer again */
            const char *key = strstr(hdrs, "Idempotency-Key");
            if (key) {
                struct ht_response *again = send_req(&sw, "POST", "/items", hdrs, text,
                                                     strlen(text));
                cJSON *b2 = expect_status(&sw, "POST", "/items", again, 201,
                                          "a retry with the same Idempotency-Key and item gets "
                                          "the first answer again (#/paths/~1items/post)");
                const char *l1 = ht_header(r, "Location"), *l2 = ht_header(again, "Location");
                const char *e1 = ht_header(r, "ETag"), *e2 = ht_header(again, "ETag");
                const char *d2 = b2 ? jt_diff(body, b2) : NULL;
                if (d2 || !l1 || !l2 || strcmp(l1, l2) != 0 || (e1 && (!e2 || strcmp(e1, e2))))
                    report(&sw, "POST retry", again, "a retry with the same Idempotency-Key and "
                           "the same item must get the first answer again -- the same body, "
                           "Location and ETag -- and create nothing (#/paths/~1items/post); "
                           "first Location %s, this one %s; first ETag %s, this one %s%s%s",
                           l1 ? l1 : "(none)", l2 ? l2 : "(none)", e1 ? e1 : "(none)",
                           e2 ? e2 : "(none)", d2 ? "; the bodies differ " : "", d2 ? d2 : "");
                cJSON_Delete(b2);
                ht_free(again);
            }
        }
        /* read it back */
        const char *loc = ht_header(r, "Location");
        if (loc && r->status == 201) {
            char target[128];
            snprintf(target, sizeof target, "%s", loc);
            struct ht_response *g = send_req(&sw, "GET", target, NULL, NULL, 0);
            cJSON *gb = expect_status(&sw, "GET", "/items/{id}", g, 200,
                                      "the Location of a new item answers GET");
            const char *d = gb ? jt_diff(body, gb) : NULL;
            if (d)
                report(&sw, "GET after POST", g, "GET of the Location must give the item the "
                       "POST answered with: %s", d);
            cJSON_Delete(gb);
            ht_free(g);
            /* replace or patch it with another valid body */
            if (i % 3 == 1) {
                cJSON *other = gen_checked(sw.spec, "#/components/schemas/ItemInput");
                char *ot = print(other);
                struct ht_response *p = send_req(&sw, "PUT", target,
                                                 "Content-Type: application/json\r\n", ot,
                                                 strlen(ot));
                cJSON_Delete(expect_status(&sw, "PUT", "/items/{id}", p, 200,
                                           "a body that ItemInput accepts replaces the item"));
                ht_free(p);
                free(ot);
                cJSON_Delete(other);
            } else if (i % 3 == 2) {
                cJSON *patch = gen_checked(sw.spec, "#/components/schemas/ItemPatch");
                char *pt = print(patch);
                struct ht_response *p = send_req(&sw, "PATCH", target,
                                                 "Content-Type: application/merge-patch+json\r\n",
                                                 pt, strlen(pt));
                cJSON_Delete(expect_status(&sw, "PATCH", "/items/{id}", p, 200,
                                           "a merge patch that ItemPatch accepts changes the "
                                           "item"));
                ht_free(p);
                free(pt);
                cJSON_Delete(patch);
            }
        }
        cJSON_Delete(want);
        cJSON_Delete(body);
        ht_free(r);
        free(text);
        cJSON_Delete(item);
    }
    sweep_end(&sw);
}

/* Bodies that break ItemInput (POST, PUT) and ItemPatch (PATCH) one rule
 * at a time -- each member as every other type, one past each bound, a
 * required member missing, a member the schema does not have, no object
 * at all -- then bodies that are no JSON, too deep, named twice, holding
 * U+0000, of the wrong media type, too large. Each is refused with the
 * documented 4xx; a 422 names the broken place in errors. */
Test(idempotency, generated_invalid_items_are_refused_as_documented)
{
    struct sweep sw;
    sweep_start(&sw, "the sweep of broken bodies generated from openapi.json's ItemInput and "
                     "ItemPatch");
    long long id = create_item(&sw, NULL);
    char target[64];
    snprintf(target, sizeof target, "/items/%lld", id ? id : 1);
    static const struct {
        const char *method, *tmpl, *ref, *ctype;
    } ops[] = {
        {"POST", "/items", "#/components/schemas/ItemInput", "application/json"},
        {"PUT", "/items/{id}", "#/components/schemas/ItemInput", "application/json"},
        {"PATCH", "/items/{id}", "#/components/schemas/ItemPatch", "application/merge-patch+json"},
    };
    struct broken b[160];
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const char *t = strcmp(ops[o].tmpl, "/items") == 0 ? "/items" : target;
        char ct[128], key[300], hdrs[512];
        snprintf(ct, sizeof ct, "Content-Type: %s\r\n", ops[o].ctype);
        cJSON *good = gen_checked(sw.spec, ops[o].ref);
        int n = break_object(sw.spec, ops[o].ref, good, b, (int)(sizeof b / sizeof b[0]));
        cJSON_Delete(good);
        for (int i = 0; i < n; i++) {
            snprintf(hdrs, sizeof hdrs, "%s", ct);
            if (o == 0 && rnd(2)) {
                gen_key(sw.spec, key, sizeof key);
                snprintf(hdrs, sizeof hdrs, "%sIdempotency-Key: %s\r\n", ct, key);
            }
            struct ht_response *r = send_req(&sw, ops[o].method, t, hdrs, b[i].text,
                                             strlen(b[i].text));
            char why[400];
            snprintf(why, sizeof why, "the body has %s, which %s does not allow: 422 with the "
                     "place in errors", b[i].rule, ops[o].ref);
            cJSON *body = expect_status(&sw, ops[o].method, ops[o].tmpl, r, 422, why);
            if (r->status == 422 && body && !names_in_errors(body, "pointer", b[i].pointer)) {
                char k[200];
                snprintf(k, sizeof k, "%s %s pointer", ops[o].method, ops[o].tmpl);
                report(&sw, k, r, "the body has %s; the problem's errors must name the place "
                       "with {\"pointer\": \"%s\", ...} (#/paths/~1items/post/responses/422: "
                       "one error per thing wrong)", b[i].rule, b[i].pointer);
            }
            cJSON_Delete(body);
            ht_free(r);
            free(b[i].text);
        }
    }

    /* Not schema rules, but the limits of info.description. */
    char deep[200] = "{\"name\":\"deep\",\"tags\":";
    size_t dl = strlen(deep);
    for (int i = 0; i < 32; i++)
        deep[dl++] = '[';
    for (int i = 0; i < 32; i++)
        deep[dl++] = ']';
    deep[dl++] = '}';
    deep[dl] = '\0';
    static const struct {
        const char *body, *ctype, *pointer, *why;
        int status;
    } odd[] = {
        {"{\"name\":\"a\",", "application/json", NULL, "a body that is no JSON", 400},
        {"{\"name\":\"a\",}", "application/json", NULL, "a trailing comma (RFC 8259)", 400},
        {"{\"name\":'a'}", "application/json", NULL, "single quotes (RFC 8259)", 400},
        {"", "application/json", NULL, "an empty body", 400},
        {NULL, "application/json", NULL, "JSON nested 33 deep (the limit is 32)", 400},
        {"{\"name\":\"a\",\"name\":\"b\"}", "application/json", "/name",
         "a member named twice (422, info.description)", 422},
        {"{\"name\":\"a\\u0000b\"}", "application/json", "", "a string holding U+0000 (422)", 422},
        {NULL, "application/json", "", "an object of 33 members (at most 32: one error at \"\")",
         422},
        {"{\"name\":\"a\"}", "text/plain", NULL, "Content-Type: text/plain (415)", 415},
        {"{\"name\":\"a\"}", "application/json; charset=latin1", NULL,
         "a charset other than utf-8 (415)", 415},
    };
    char wide[400] = "{\"name\":\"wide\"";
    for (int i = 1; i < 33; i++)
        snprintf(wide + strlen(wide), sizeof wide - strlen(wide), ",\"m%d\":%d", i, i);
    strcat(wide, "}");
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const char *t = strcmp(ops[o].tmpl, "/items") == 0 ? "/items" : target;
        for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
            const char *text = odd[i].body                ? odd[i].body
                               : odd[i].status == 400 ? deep
                                                      : wide;
            char hdrs[200], ctype[64];
            snprintf(ctype, sizeof ctype, "%s", odd[i].ctype);
            if (strcmp(ops[o].method, "PATCH") == 0 && strcmp(ctype, "application/json") == 0)
                snprintf(ctype, sizeof ctype, "application/merge-patch+json");
            snprintf(hdrs, sizeof hdrs, "Content-Type: %s\r\n", ctype);
            struct ht_response *r = send_req(&sw, ops[o].method, t, hdrs, text, strlen(text));
            cJSON *body = expect_status(&sw, ops[o].method, ops[o].tmpl, r, odd[i].status,
                                        odd[i].why);
            if (odd[i].pointer && r->status == 422 && body &&
                !names_in_errors(body, "pointer", odd[i].pointer)) {
                char k[200];
                snprintf(k, sizeof k, "%s %s odd pointer", ops[o].method, ops[o].tmpl);
                report(&sw, k, r, "%s: the problem's errors must name {\"pointer\": \"%s\", "
                       "...}", odd[i].why, odd[i].pointer);
            }
            cJSON_Delete(body);
            ht_free(r);
        }
        /* PATCH with application/json: 415 with Accept-Patch (judged) */
        if (strcmp(ops[o].method, "PATCH") == 0) {
            struct ht_response *r = send_req(&sw, "PATCH", t, "Content-Type: application/json\r\n",
                                             "{\"qty\":1}", 9);
            cJSON_Delete(expect_status(&sw, "PATCH", "/items/{id}", r, 415, "a PATCH body must "
                                       "be application/merge-patch+json"));
            ht_free(r);
        }
        /* larger than the server takes: 413 before any of it is read */
        char big[200];
        snprintf(big, sizeof big, "%s %s HTTP/1.1\r\nHost: localhost\r\nContent-Type: %s\r\n"
                 "Content-Length: 1048577\r\n\r\n", ops[o].method, t, ops[o].ctype);
        if (sw.fd >= 0)
            close(sw.fd);
        sw.fd = wb_connect(sw.p);
        wb_send(sw.p, sw.fd, big, strlen(big));
        struct ht_response *r = ht_must_read(sw.p, sw.fd, big, strlen(big), 0, 5000,
                                             "the answer to a body of 1 MiB + 1 byte");
        cJSON_Delete(expect_status(&sw, ops[o].method, ops[o].tmpl, r, 413, "a body larger "
                                   "than 1 MiB (--max-body) is 413 before any of it is read"));
        ht_free(r);
        close(sw.fd);
        sw.fd = -1;
    }
    sweep_end(&sw);
}

/* ---- queries ------------------------------------------------------------------- */

/* Appends name=value to a query, form-encoded: unreserved bytes as they
 * are, a space as + or %20, every other byte %XX. */
static void add_param(char *q, size_t cap, const char *name, const char *value)
{
    size_t n = strlen(q);
    n += (size_t)snprintf(q + n, cap - n, "%s%s=", n ? "&" : "", name);
    for (const unsigned char *s = (const unsigned char *)value; *s && n + 4 < cap; s++) {
        if ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
            strchr("-._~", *s))
            q[n++] = (char)*s;
        else if (*s == ' ' && rnd(2))
            q[n++] = '+';
        else
            n += (size_t)snprintf(q + n, cap - n, "%%%02X", *s);
    }
    q[n] = '\0';
}

static int ascii_contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i]) {
            char a = hay[i], b = needle[i];
            if (a >= 'A' && a <= 'Z')
                a = (char)(a + 32);
            if (b >= 'A' && b <= 'Z')
                b = (char)(b + 32);
            if (a != b)
                break;
            i++;
        }
        if (i == n)
            return 1;
    }
    return n == 0;
}

/* a before b in sort order (asc), ties by id: <0, 0, >0. */
static int compare(const cJSON *a, const cJSON *b, const char *sort)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(a, sort);
    const cJSON *y = cJSON_GetObjectItemCaseSensitive(b, sort);
    int c = 0;
    if (cJSON_IsString(x) && cJSON_IsString(y))
        c = strcmp(x->valuestring, y->valuestring);
    else if (cJSON_IsNumber(x) && cJSON_IsNumber(y))
        c = (x->valuedouble > y->valuedouble) - (x->valuedouble < y->valuedouble);
    if (c)
        return c;
    x = cJSON_GetObjectItemCaseSensitive(a, "id");
    y = cJSON_GetObjectItemCaseSensitive(b, "id");
    return cJSON_IsNumber(x) && cJSON_IsNumber(y)
               ? (x->valuedouble > y->valuedouble) - (x->valuedouble < y->valuedouble)
               : 0;
}

/* What a page must be, beyond its schema: at most limit items, in order,
 * each matching the name filter; Link exactly when next, with its URI. */
static void check_page(struct sweep *sw, const struct ht_response *r, const cJSON *page,
                       int limit, const char *sort, int desc, const char *name)
{
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(page, "next");
    if (cJSON_GetArraySize(items) > limit)
        report(sw, "page limit", r, "the page has %d items; the limit is %d "
               "(#/components/parameters/limit)", cJSON_GetArraySize(items), limit);
    const cJSON *prev = NULL, *it;
    int i = 0;
    cJSON_ArrayForEach(it, items)
    {
        if (prev && (desc ? -1 : 1) * compare(prev, it, sort) >= 0)
            report(sw, "page order", r, "items %d and %d are not in %s order of %s, ties by id "
                   "(#/paths/~1items/get)", i - 1, i, desc ? "desc" : "asc", sort);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(it, "name");
        if (name && cJSON_IsString(nm) && !ascii_contains_nocase(nm->valuestring, name))
            report(sw, "page filter", r, "item %d's name %s does not contain %s (ASCII letters "
                   "compared without case: #/components/parameters/name)", i,
                   wb_esc(nm->valuestring, strlen(nm->valuestring), 60),
                   wb_esc(name, strlen(name), 60));
        prev = it;
        i++;
    }
    const char *link = ht_header(r, "Link");
    if (cJSON_IsString(next)) {
        char want[2400];
        snprintf(want, sizeof want, "<%s>; rel=\"next\"", next->valuestring);
        if (!link || strcmp(link, want) != 0)
            report(sw, "page link", r, "next is %s, so Link must be %s "
                   "(#/components/headers/Link)", next->valuestring, want);
    } else if (link) {
        report(sw, "page link last", r, "the last page (next null) has no Link field "
               "(#/components/headers/Link: only when there is a next page)");
    }
}

/* GET and HEAD /items with queries generated from the document's query
 * parameters: valid ones (200, a page that keeps its promises, whose next
 * links are followed), and each parameter broken in turn (400 naming it). */
Test(idempotency, every_query_of_the_collection_is_answered_as_documented)
{
    struct sweep sw;
    sweep_start(&sw, "the sweep of GET /items queries generated from openapi.json's "
                     "parameters (stage 6)");
    cJSON *names = cJSON_CreateArray();
    for (int i = 0; i < 25; i++) {
        cJSON *item = NULL;
        if (create_item(&sw, &item))
            cJSON_AddItemToArray(names, cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(item,
                                                                                          "name"),
                                                        1));
        cJSON_Delete(item);
    }
    const cJSON *params = cJSON_GetObjectItemCaseSensitive(operation(sw.spec, "/items", "GET"),
                                                           "parameters");
    for (int i = 0; i < 40; i++) {
        char q[2048] = "", sort[16] = "id", name[1024] = "";
        int limit = 20, desc = 0, has_name = 0;
        const cJSON *pr;
        cJSON_ArrayForEach(pr, params)
        {
            const cJSON *p = deref(sw.spec, pr, NULL, 0);
            const char *pn = cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
            /* cursor is the server's: only ever copied from a next link */
            if (strcmp(pn, "cursor") == 0 || rnd(2))
                continue;
            char value[1024];
            if (strcmp(pn, "name") == 0 && cJSON_GetArraySize(names) > 0 && rnd(2)) {
                /* a piece of a name that exists, so the page is not empty */
                const char *nm = cJSON_GetArrayItem(names, (int)rnd(
                    (uint32_t)cJSON_GetArraySize(names)))->valuestring;
                size_t len = strlen(nm), from = rnd((uint32_t)len), n = 1 + rnd(3);
                while (from > 0 && ((unsigned char)nm[from] & 0xC0) == 0x80)
                    from--;
                size_t to = from + n > len ? len : from + n;
                while (to < len && ((unsigned char)nm[to] & 0xC0) == 0x80)
                    to++;
                snprintf(value, sizeof value, "%.*s", (int)(to - from), nm + from);
            } else {
                cJSON *v = gen_valid(sw.spec, cJSON_GetObjectItemCaseSensitive(p, "schema"), 0);
                if (cJSON_IsString(v))
                    snprintf(value, sizeof value, "%s", v->valuestring);
                else
                    snprintf(value, sizeof value, "%.0f", v ? v->valuedouble : 1);
                cJSON_Delete(v);
            }
            if (strcmp(pn, "limit") == 0)
                limit = atoi(value);
            else if (strcmp(pn, "sort") == 0)
                snprintf(sort, sizeof sort, "%s", value);
            else if (strcmp(pn, "order") == 0)
                desc = strcmp(value, "desc") == 0;
            else if (strcmp(pn, "name") == 0) {
                snprintf(name, sizeof name, "%s", value);
                has_name = 1;
            }
            add_param(q, sizeof q, pn, value);
        }
        char target[2100];
        snprintf(target, sizeof target, "/items%s%s", q[0] ? "?" : "", q);
        const char *m = rnd(4) == 0 ? "HEAD" : "GET";
        /* a few pages: the first, then its next links */
        for (int page = 0; page < 3; page++) {
            struct ht_response *r = send_req(&sw, m, target, NULL, NULL, 0);
            cJSON *body = expect_status(&sw, m, "/items", r, 200, "every parameter is within "
                                        "its schema: a page of the collection");
            if (body && r->status == 200)
                check_page(&sw, r, body, limit, sort, desc, has_name ? name : NULL);
            const cJSON *next = cJSON_GetObjectItemCaseSensitive(body, "next");
            int more = cJSON_IsString(next) && strlen(next->valuestring) < sizeof target;
            if (more)
                snprintf(target, sizeof target, "%s", next->valuestring);
            else if (strcmp(m, "HEAD") == 0 && ht_header(r, "Link")) {
                /* HEAD: the next page is in Link, "</items?...>; rel=..." */
                const char *l = ht_header(r, "Link"), *end = strchr(l, '>');
                more = l[0] == '<' && end && (size_t)(end - l) < sizeof target;
                if (more)
                    snprintf(target, sizeof target, "%.*s", (int)(end - l - 1), l + 1);
            }
            cJSON_Delete(body);
            ht_free(r);
            if (!more)
                break;
        }
    }

    /* each parameter broken in turn */
    static const struct {
        const char *query, *param, *why;
    } bad[] = {
        {"limit=0", "limit", "limit below its minimum 1"},
        {"limit=101", "limit", "limit above its maximum 100"},
        {"limit=abc", "limit", "limit that is no integer"},
        {"limit=1.5", "limit", "limit with a fraction"},
        {"limit=-1", "limit", "limit with a sign"},
        {"limit=01", "limit", "limit with a leading zero"},
        {"limit=", "limit", "an empty limit"},
        {"limit=99999999999999999999", "limit", "limit far above 100"},
        {"sort=colour", "sort", "sort by a member that is not in its enum"},
        {"sort=ID", "sort", "sort in the wrong case (enum values are exact)"},
        {"order=up", "order", "order that is not asc or desc"},
        {"name=", "name", "an empty name (minLength 1)"},
        {"name=%zz", "name", "a bad %-escape"},
        {"name=%C3", "name", "%-escapes that are not UTF-8"},
        {"name=a%00b", "name", "a NUL after decoding"},
        {"cursor=not-a-cursor", "cursor", "a cursor the server never gave"},
        {"limit=5&limit=5", "limit", "a parameter given twice"},
        {"colour=red", "colour", "a parameter the operation does not have"},
        {"Limit=5", "Limit", "a parameter in the wrong case (names are exact)"},
    };
    char longname[700] = "name=";
    for (int i = 0; i < 201; i++)
        strcat(longname, "a");
    for (size_t i = 0; i <= sizeof bad / sizeof bad[0]; i++) {
        const char *query = i < sizeof bad / sizeof bad[0] ? bad[i].query : longname;
        const char *param = i < sizeof bad / sizeof bad[0] ? bad[i].param : "name";
        const char *why = i < sizeof bad / sizeof bad[0] ? bad[i].why : "a name of 201 characters";
        char target[800], rule[300];
        snprintf(target, sizeof target, "/items?%s", query);
        snprintf(rule, sizeof rule, "%s: 400 with {\"parameter\": \"%s\", ...} in errors "
                 "(#/components/responses/BadQuery)", why, param);
        for (int head = 0; head < 2; head++) {
            const char *m = head ? "HEAD" : "GET";
            struct ht_response *r = send_req(&sw, m, target, NULL, NULL, 0);
            cJSON *body = expect_status(&sw, m, "/items", r, 400, rule);
            if (!head && r->status == 400 && body && !names_in_errors(body, "parameter", param)) {
                char k[200];
                snprintf(k, sizeof k, "GET /items parameter %s", param);
                report(&sw, k, r, "%s", rule);
            }
            cJSON_Delete(body);
            ht_free(r);
        }
    }
    /* a cursor used with another sort than the one it was made for */
    struct ht_response *r = send_req(&sw, "GET", "/items?limit=2&sort=qty", NULL, NULL, 0);
    cJSON *body = judge(&sw, "GET", "/items", r);
    const cJSON *next = cJSON_GetObjectItemCaseSensitive(body, "next");
    const char *cur = cJSON_IsString(next) ? strstr(next->valuestring, "cursor=") : NULL;
    if (cur) {
        char target[600];
        snprintf(target, sizeof target, "/items?limit=2&sort=name&%.*s", (int)strcspn(cur, "&"),
                 cur);
        struct ht_response *r2 = send_req(&sw, "GET", target, NULL, NULL, 0);
        cJSON_Delete(expect_status(&sw, "GET", "/items", r2, 400, "a cursor is only valid with "
                                   "the sort and order it was made for "
                                   "(#/components/parameters/cursor)"));
        ht_free(r2);
    }
    cJSON_Delete(body);
    ht_free(r);
    cJSON_Delete(names);
    sweep_end(&sw);
}

/* Every method of the API that a path has no operation for: 405, a
 * problem document, and Allow listing exactly the path's operations --
 * also with an Accept that excludes JSON (405 comes before 406). */
Test(idempotency, methods_a_path_does_not_have_get_405_with_the_documented_allow)
{
    struct sweep sw;
    sweep_start(&sw, "the sweep of the methods each path of openapi.json does not have");
    long long id = create_item(&sw, NULL);
    const cJSON *pi;
    int tried = 0;
    cJSON_ArrayForEach(pi, cJSON_GetObjectItemCaseSensitive(sw.spec, "paths"))
    {
        const char *tmpl = pi->string;
        char target[64], allow[128];
        if (strstr(tmpl, "{id}"))
            snprintf(target, sizeof target, "/items/%lld", id ? id : 1);
        else
            snprintf(target, sizeof target, "%s", tmpl);
        allow_of(sw.spec, tmpl, allow, sizeof allow);
        cr_assert(cJSON_GetObjectItemCaseSensitive(pi, "x-other-methods") != NULL,
                  "openapi.json is incomplete: the path %s has no x-other-methods (its 405)",
                  tmpl);
        for (size_t k = 0; k < NMETHODS; k++) {
            if (operation(sw.spec, tmpl, methods[k]))
                continue;
            for (int accept = 0; accept < 2; accept++) {
                struct ht_response *r = send_req(&sw, methods[k], target,
                                                 accept ? "Accept: text/html\r\n" : NULL, NULL, 0);
                char why[300];
                snprintf(why, sizeof why, "%s has no %s operation in openapi.json%s", tmpl,
                         methods[k], accept ? ", and 405 comes before 406" : "");
                cJSON_Delete(expect_status(&sw, methods[k], tmpl, r, 405, why));
                const char *got = ht_header(r, "Allow");
                if (r->status == 405 && (!got || strcmp(got, allow) != 0)) {
                    char key[200];
                    snprintf(key, sizeof key, "%s %s allow", methods[k], tmpl);
                    report(&sw, key, r, "Allow must list exactly the operations of %s in "
                           "openapi.json, in the order GET, HEAD, POST, PUT, PATCH, DELETE, "
                           "OPTIONS: \"%s\"", tmpl, allow);
                }
                ht_free(r);
                tried++;
            }
        }
    }
    cr_assert(tried > 0, "openapi.json: every path has every method? Then nothing is 405.");
    sweep_end(&sw);
}
