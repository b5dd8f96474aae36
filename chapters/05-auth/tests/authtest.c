/* authtest -- see authtest.h. */
#define _GNU_SOURCE /* memmem */
#include "authtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>

#include <cJSON.h>

const char *at_db_path(void)
{
    return db_tmp_path("auth.db");
}

char *at_creds(const char *name, const char *pw)
{
    cJSON *j = cJSON_CreateObject();
    char *s = NULL;
    if (j && cJSON_AddStringToObject(j, "username", name) &&
        cJSON_AddStringToObject(j, "password", pw))
        s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cr_assert(s != NULL, "test setup: out of memory");
    return s;
}

struct ht_response *at_post(struct wb_proc *p, int fd, const char *target, const char *json)
{
    return rc_send(p, fd, "POST", target, AT_JSON, json, strlen(json));
}

long long at_register(struct wb_proc *p, int fd, const char *name, const char *pw)
{
    char *body = at_creds(name, pw);
    struct ht_response *r = at_post(p, fd, "/users", body);
    free(body);
    char why[512];
    snprintf(why, sizeof why, "POST /users for the account \"%s\", which the test needs: 201 "
             "Created. auth.c post_user() reads the credentials, users.c users_create() hashes "
             "the password and INSERTs the row", name);
    ht_expect_status(p, r, 201, NULL, 0, why);
    cJSON *j = jt_body(p, r, why);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    int ok = cJSON_IsNumber(id) && id->valuedouble >= 1;
    long long v = ok ? (long long)id->valuedouble : 0;
    if (!ok) {
        const char *resp = ht_describe_response(r);
        cJSON_Delete(j);
        cr_fatal("%s\nexpected a body with \"id\", a number (the row's id)\nreceived: %s", why,
                 resp);
    }
    cJSON_Delete(j);
    ht_free(r);
    return v;
}

void at_login(struct wb_proc *p, int fd, const char *name, const char *pw,
              char token[AT_TOKEN_LEN + 1])
{
    char *body = at_creds(name, pw);
    struct ht_response *r = at_post(p, fd, "/sessions", body);
    free(body);
    char why[512];
    snprintf(why, sizeof why, "POST /sessions for \"%s\" with the right password, to have a "
             "token for the test: 201 and {\"token\": ...}. auth.c post_session() -> users.c "
             "users_login() -> sessions.c sessions_create()", name);
    ht_expect_status(p, r, 201, NULL, 0, why);
    cJSON *j = jt_body(p, r, why);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "token");
    int ok = cJSON_IsString(t) && strlen(t->valuestring) == AT_TOKEN_LEN;
    if (ok)
        memcpy(token, t->valuestring, AT_TOKEN_LEN + 1);
    cJSON_Delete(j);
    if (!ok)
        cr_fatal("%s\nexpected \"token\", a string of 43 characters (32 random bytes in "
                 "base64url without padding)\nreceived: %s", why, ht_describe_response(r));
    ht_free(r);
}

struct ht_response *at_me(struct wb_proc *p, int fd, const char *headers)
{
    return rc_send(p, fd, "GET", "/me", headers, NULL, 0);
}

const char *at_user_value(sqlite3 *db, const char *column, const char *name)
{
    char sql[160];
    snprintf(sql, sizeof sql, "SELECT %s FROM users WHERE username = ?1", column);
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        cr_fatal("the test's query %s failed: %s -- the users table needs the columns "
                 "username and %s", sql, sqlite3_errmsg(db), column);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    char *out = wb_msgbuf(1024);
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
        snprintf(out, 1024, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return out;
}

/* The whole of path, malloc'd, *len bytes; NULL when it does not exist. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, used = 0, n;
    char *buf = malloc(cap);
    cr_assert(buf != NULL, "test setup: out of memory");
    while ((n = fread(buf + used, 1, cap - used, f)) > 0) {
        used += n;
        if (used == cap) {
            char *more = realloc(buf, cap *= 2);
            cr_assert(more != NULL, "test setup: out of memory");
            buf = more;
        }
    }
    fclose(f);
    *len = used;
    return buf;
}

const char *at_file_holding(const char *path, const void *needle, size_t n)
{
    static const char *const suffixes[] = {"", "-wal", "-journal"};
    static char found[600];
    for (size_t i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(found, sizeof found, "%s%s", path, suffixes[i]);
        size_t len = 0;
        char *bytes = slurp(found, &len);
        int hit = bytes && memmem(bytes, len, needle, n) != NULL;
        free(bytes);
        if (hit) {
            const char *slash = strrchr(found, '/');
            return slash ? slash + 1 : found;
        }
    }
    return NULL;
}

int at_has_error_at(const cJSON *j, const char *pointer)
{
    const cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(j, "errors"))
    {
        const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
        if (cJSON_IsString(ptr) && strcmp(ptr->valuestring, pointer) == 0)
            return 1;
    }
    return 0;
}

const char *at_error_pointers(const cJSON *j)
{
    const cJSON *errors = cJSON_GetObjectItemCaseSensitive(j, "errors"), *e;
    char *out = wb_msgbuf(512);
    if (!cJSON_IsArray(errors))
        return strcpy(out, "(no \"errors\" member)");
    size_t n = (size_t)snprintf(out, 512, "[");
    cJSON_ArrayForEach(e, errors)
    {
        const cJSON *ptr = cJSON_GetObjectItemCaseSensitive(e, "pointer");
        if (n < 500)
            n += (size_t)snprintf(out + n, 512 - n, "%s\"%s\"", n > 1 ? ", " : "",
                                  cJSON_IsString(ptr) ? ptr->valuestring : "(no pointer)");
    }
    if (n < 510)
        snprintf(out + n, 512 - n, "]");
    return out;
}

char *at_without_date(const struct ht_response *r, size_t *len)
{
    char *out = malloc(r->raw_len + 1);
    cr_assert(out != NULL, "test setup: out of memory");
    size_t o = 0, i = 0;
    while (i < r->head_len) {
        const char *eol = memmem(r->raw + i, r->head_len - i, "\r\n", 2);
        size_t end = eol ? (size_t)(eol - r->raw) + 2 : r->head_len;
        if (!(end - i >= 5 && strncasecmp(r->raw + i, "Date:", 5) == 0)) {
            memcpy(out + o, r->raw + i, end - i);
            o += end - i;
        }
        i = end;
    }
    memcpy(out + o, r->raw + r->head_len, r->raw_len - r->head_len);
    o += r->raw_len - r->head_len;
    out[o] = '\0';
    *len = o;
    return out;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double at_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void at_stop(struct wb_proc *p)
{
    int status = wb_stop(p, 3000);
    int clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(clean, "restd did not exit 0 on SIGTERM: it must close the database and end "
              "cleanly\n%s", wb_describe(p));
}

/* ---- the session cookie (stage 5) ----------------------------------------- */

char *at_creds_transport(const char *name, const char *pw, const char *transport)
{
    cJSON *j = cJSON_CreateObject();
    char *s = NULL;
    if (j && cJSON_AddStringToObject(j, "username", name) &&
        cJSON_AddStringToObject(j, "password", pw) &&
        cJSON_AddStringToObject(j, "transport", transport))
        s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cr_assert(s != NULL, "test setup: out of memory");
    return s;
}

const char *at_cookie(const char *value, const char *more)
{
    size_t cap = strlen(value) + (more ? strlen(more) : 0) + 32;
    char *h = wb_msgbuf(cap);
    snprintf(h, cap, "Cookie: " AT_COOKIE "=%s\r\n%s", value, more ? more : "");
    return h;
}

/* s[0..n) without the spaces and tabs around it, into out[0..cap). */
static void trimmed(const char *s, size_t n, char *out, size_t cap)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    snprintf(out, cap, "%.*s", (int)n, s);
}

void at_cookie_pair(const char *set_cookie, char *name, size_t ncap, char *value, size_t vcap)
{
    size_t end = strcspn(set_cookie, ";");
    const char *eq = memchr(set_cookie, '=', end);
    name[0] = value[0] = '\0';
    if (!eq)
        return;
    trimmed(set_cookie, (size_t)(eq - set_cookie), name, ncap);
    trimmed(eq + 1, end - (size_t)(eq + 1 - set_cookie), value, vcap);
}

int at_cookie_attr(const char *set_cookie, const char *attr, char *out, size_t cap)
{
    const char *s = set_cookie + strcspn(set_cookie, ";");
    while (*s == ';') {
        s++;
        size_t len = strcspn(s, ";");
        const char *eq = memchr(s, '=', len);
        char key[64];
        trimmed(s, eq ? (size_t)(eq - s) : len, key, sizeof key);
        if (strcasecmp(key, attr) == 0) {
            if (out)
                trimmed(eq ? eq + 1 : s + len, eq ? len - (size_t)(eq + 1 - s) : 0, out, cap);
            return 1;
        }
        s += len;
    }
    return 0;
}

void at_cookie_login(struct wb_proc *p, int fd, const char *name, const char *pw,
                     const char *headers, char value[AT_TOKEN_LEN + 1])
{
    char *body = at_creds_transport(name, pw, "cookie");
    char h[1024];
    snprintf(h, sizeof h, "%s%s", headers ? headers : "", AT_JSON);
    struct ht_response *r = rc_send(p, fd, "POST", "/sessions", h, body, strlen(body));
    char why[768];
    snprintf(why, sizeof why, "POST /sessions %s%s%s, a browser's login, to have a session cookie "
             "for the test: 201 with Set-Cookie: " AT_COOKIE "=<43 characters>; Path=/; Secure; "
             "HttpOnly; SameSite=Strict. auth.c post_session() reads the optional \"transport\" "
             "(transport_check()) and, for \"cookie\", sets the token in the cookie", body,
             headers ? " with " : "", headers ? wb_esc(headers, strlen(headers), 300) : "");
    free(body);
    ht_expect_status(p, r, 201, NULL, 0, why);
    size_t n = ht_header_count(r, "Set-Cookie");
    const char *set = ht_header(r, "Set-Cookie");
    char cname[128] = "", cvalue[256] = "";
    if (set)
        at_cookie_pair(set, cname, sizeof cname, cvalue, sizeof cvalue);
    int ok = n == 1 && strcmp(cname, AT_COOKIE) == 0 && strlen(cvalue) == AT_TOKEN_LEN;
    const char *resp = ht_describe_response(r);
    ht_free(r);
    if (!ok)
        cr_fatal("%s\nexpected one Set-Cookie field (received %zu) setting the cookie "
                 AT_COOKIE " to the token, 43 characters (32 random bytes in base64url)"
                 "\nreceived: %s", why, n, resp);
    memcpy(value, cvalue, AT_TOKEN_LEN + 1);
}

const char *at_bearer(const char *token, const char *more)
{
    size_t cap = strlen(token) + (more ? strlen(more) : 0) + 32;
    char *h = wb_msgbuf(cap);
    snprintf(h, cap, "Authorization: Bearer %s\r\n%s", token, more ? more : "");
    return h;
}

long long at_create(struct wb_proc *p, int fd, const char *more, const char *json,
                    const char *why)
{
    size_t cap = (more ? strlen(more) : 0) + sizeof AT_JSON;
    char *h = wb_msgbuf(cap);
    snprintf(h, cap, "%s%s", more ? more : "", AT_JSON);
    struct ht_response *r = rc_send(p, fd, "POST", "/items", h, json, strlen(json));
    char msg[768];
    snprintf(msg, sizeof msg, "POST /items %s, %s: 201 Created", json, why);
    ht_expect_status(p, r, 201, NULL, 0, msg);
    cJSON *j = jt_body(p, r, msg);
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    long long v = cJSON_IsNumber(id) ? (long long)id->valuedouble : 0;
    cJSON_Delete(j);
    ht_free(r);
    if (v <= 0)
        cr_fatal("%s\nthe answer has no \"id\" above 0: %s", msg, "see the body above");
    return v;
}

void at_expect_challenge(struct wb_proc *p, const struct ht_response *r, const char *error,
                         const char *msg)
{
    if (!error) {
        ht_expect_header(p, r, "WWW-Authenticate", AT_REALM, msg);
        return;
    }
    const char *ch = ht_header(r, "WWW-Authenticate");
    char want[64];
    snprintf(want, sizeof want, "error=\"%s\"", error);
    int ok = ch && strncmp(ch, "Bearer ", 7) == 0 && strstr(ch, "realm=\"restd\"") &&
             strstr(ch, want);
    cr_expect(ok, "%s\nthe challenge must carry RFC 6750's error code: expected "
              "WWW-Authenticate: %s, %s\nreceived: %s", msg, AT_REALM, want,
              ht_describe_response(r));
}
