/* jsontest -- see jsontest.h. */
#define _GNU_SOURCE
#include "jsontest.h"

#include <stdio.h>
#include <string.h>

cJSON *jt_body(struct wb_proc *p, const struct ht_response *r, const char *why)
{
    const char *end = NULL;
    cJSON *j = cJSON_ParseWithLengthOpts(r->body ? r->body : "", r->body_len, &end, 0);
    if (j) {
        while (end < r->body + r->body_len && strchr(" \t\r\n", *end))
            end++;
        if (end == r->body + r->body_len)
            return j;
        cJSON_Delete(j);
    }
    cr_fatal("%s\n%s\nthe body is not one JSON value\nreceived: %s", why,
             ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
    return NULL;
}

/* A value, short, for a message. */
static const char *show(const cJSON *v)
{
    if (!v)
        return "nothing (the member is missing)";
    char *s = cJSON_PrintUnformatted(v);
    const char *out = s ? wb_esc(s, strlen(s), 120) : "?";
    cJSON_free(s);
    return out;
}

static const char *type_name(const cJSON *v)
{
    return cJSON_IsObject(v) ? "object" : cJSON_IsArray(v) ? "array"
           : cJSON_IsString(v) ? "string" : cJSON_IsNumber(v) ? "number"
           : cJSON_IsBool(v) ? "boolean" : cJSON_IsNull(v) ? "null" : "nothing";
}

/* Appends "/name" (RFC 6901: ~ as ~0, / as ~1) to path. */
static void push(char *path, size_t cap, const char *name)
{
    size_t len = strlen(path);
    if (len + 1 < cap)
        path[len++] = '/';
    for (; *name && len + 2 < cap; name++) {
        if (*name == '~' || *name == '/') {
            path[len++] = '~';
            path[len++] = *name == '~' ? '0' : '1';
        } else {
            path[len++] = *name;
        }
    }
    path[len] = '\0';
}

/* The first difference under path, written into out; 0 when equal. */
static int diff(const cJSON *want, const cJSON *got, char *path, size_t cap, char *out,
                size_t outcap)
{
    const char *at = *path ? path : "the top";
    if (!got || (want->type & 0xFF) != (got->type & 0xFF)) {
        snprintf(out, outcap, "at %s: expected %s %s, received %s %s", at, type_name(want),
                 show(want), got ? type_name(got) : "", show(got));
        return 1;
    }
    if (cJSON_IsNumber(want) && !(want->valuedouble == got->valuedouble)) {
        snprintf(out, outcap, "at %s: expected %s, received %s", at, show(want), show(got));
        return 1;
    }
    if (cJSON_IsString(want) && strcmp(want->valuestring, got->valuestring) != 0) {
        snprintf(out, outcap, "at %s: expected %s, received %s", at, show(want), show(got));
        return 1;
    }
    size_t len = strlen(path);
    if (cJSON_IsArray(want)) {
        int nw = cJSON_GetArraySize(want), ng = cJSON_GetArraySize(got), i = 0;
        const cJSON *w, *g = got->child;
        cJSON_ArrayForEach(w, want)
        {
            char idx[24];
            snprintf(idx, sizeof idx, "%d", i++);
            push(path, cap, idx);
            int d = diff(w, g, path, cap, out, outcap);
            path[len] = '\0';
            if (d)
                return 1;
            g = g ? g->next : NULL;
        }
        if (ng != nw) {
            snprintf(out, outcap, "at %s: expected %d elements, received %d: %s", at, nw, ng,
                     show(got));
            return 1;
        }
    }
    if (cJSON_IsObject(want)) {
        const cJSON *w, *g;
        cJSON_ArrayForEach(w, want)
        {
            push(path, cap, w->string);
            int d = diff(w, cJSON_GetObjectItemCaseSensitive(got, w->string), path, cap, out,
                         outcap);
            path[len] = '\0';
            if (d)
                return 1;
        }
        cJSON_ArrayForEach(g, got)
        {
            if (!cJSON_GetObjectItemCaseSensitive(want, g->string)) {
                push(path, cap, g->string);
                snprintf(out, outcap, "at %s: a member that should not be there: %s", path,
                         show(g));
                path[len] = '\0';
                return 1;
            }
        }
    }
    return 0;
}

const char *jt_diff(const cJSON *want, const cJSON *got)
{
    char path[512] = "";
    char *out = wb_msgbuf(1024);
    return diff(want, got, path, sizeof path, out, 1024) ? out : NULL;
}

void jt_expect_json(struct wb_proc *p, const struct ht_response *r, const char *want_json,
                    const char *why)
{
    cJSON *want = cJSON_Parse(want_json);
    if (!want)
        cr_fatal("test bug: the expected JSON does not parse: %s", want_json);
    cJSON *got = jt_body(p, r, why);
    const char *d = jt_diff(want, got);
    char msg[2048];
    if (d)
        snprintf(msg, sizeof msg, "%s\n%s\nexpected the JSON %s\n%s\nreceived: %s", why,
                 ht_describe_request(p, r->req, r->req_len), wb_esc(want_json,
                 strlen(want_json), 300), d, ht_describe_response(r));
    cJSON_Delete(want);
    cJSON_Delete(got);
    if (d)
        cr_fatal("%s", msg);
}

cJSON *jt_expect_problem(struct wb_proc *p, const struct ht_response *r, int status,
                         const char *why)
{
    ht_expect_status(p, r, status, NULL, 0, why);
    const char *ct = ht_header(r, "Content-Type");
    if (!ct || strncmp(ct, "application/problem+json", 24) != 0)
        cr_fatal("%s\n%s\nan error's body is a problem document (RFC 9457): expected "
                 "Content-Type: application/problem+json\nreceived: %s",
                 why, ht_describe_request(p, r->req, r->req_len), ht_describe_response(r));
    cJSON *j = jt_body(p, r, why);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
    const cJSON *title = cJSON_GetObjectItemCaseSensitive(j, "title");
    const cJSON *type = cJSON_GetObjectItemCaseSensitive(j, "type");
    const cJSON *detail = cJSON_GetObjectItemCaseSensitive(j, "detail");
    const char *wrong = !cJSON_IsObject(j) ? "the body must be a JSON object"
        : !cJSON_IsNumber(st) || st->valuedouble != status
            ? "\"status\" must be the HTTP status code, a number"
        : !cJSON_IsString(title) || !*title->valuestring
            ? "\"title\" must be a short text: the status's reason phrase"
        : type && !cJSON_IsString(type) ? "\"type\" must be a string (a URI)"
        : detail && !cJSON_IsString(detail) ? "\"detail\" must be a string"
                                            : NULL;
    if (wrong) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s\n%s\nin the problem document: %s (RFC 9457 section 3.1)\n"
                 "received: %s", why, ht_describe_request(p, r->req, r->req_len), wrong,
                 ht_describe_response(r));
        cJSON_Delete(j);
        cr_fatal("%s", msg);
    }
    return j;
}
