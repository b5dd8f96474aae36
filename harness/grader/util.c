/* util.c -- see util.h. */
#define _GNU_SOURCE
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int color;

void util_init_color(void)
{
    const char *nc = getenv("NO_COLOR");
    const char *term = getenv("TERM");
    color = isatty(STDOUT_FILENO) && !(nc && *nc) && term && strcmp(term, "dumb") != 0;
}

const char *c_on(const char *code)
{
    return color ? code : "";
}

void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "grade: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* Reads a whole file; NULL when it cannot. The caller frees. */
char *read_file(const char *path, size_t *len_out)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    size_t len = 0, cap = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (cap - len < 4096) {
            cap = cap ? cap * 2 : 8192;
            char *d = realloc(data, cap + 1);
            if (!d) {
                free(data);
                fclose(f);
                return NULL;
            }
            data = d;
        }
        size_t n = fread(data + len, 1, cap - len, f);
        len += n;
        if (n == 0)
            break;
    }
    fclose(f);
    data[len] = '\0';
    if (len_out)
        *len_out = len;
    return data;
}

cJSON *read_json(const char *path)
{
    char *text = read_file(path, NULL);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

int write_json(const char *path, const cJSON *j)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    char *s = cJSON_Print(j);
    FILE *f = s ? fopen(tmp, "w") : NULL;
    int ok = f && fputs(s, f) >= 0;
    if (f && fclose(f) != 0)
        ok = 0;
    free(s);
    if (!ok || rename(tmp, path) < 0)
        return -1;
    return 0;
}

void mkdirs(const char *path)
{
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s == '/') {
            *s = '\0';
            mkdir(p, 0755);
            *s = '/';
        }
    }
    mkdir(p, 0755);
}

const char *jstr(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

int jint(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* The workbook root: the folder holding harness/. */
char root[4096];

void find_root(const char *chapter_dir)
{
    char p[PATH_MAX];
    if (!realpath(chapter_dir ? chapter_dir : ".", p))
        die("cannot resolve %s: %s", chapter_dir, strerror(errno));
    for (;;) {
        char probe[PATH_MAX + 32];
        snprintf(probe, sizeof probe, "%s/harness/chapter.mk", p);
        if (access(probe, F_OK) == 0) {
            snprintf(root, sizeof root, "%s", p);
            return;
        }
        char *slash = strrchr(p, '/');
        if (!slash || slash == p)
            die("cannot find the workbook root (harness/chapter.mk) above %s", chapter_dir);
        *slash = '\0';
    }
}

/* Where progress and logs live: $WB_HOME (the harness's own tests point
 * it elsewhere), else .workbook/ at the workbook root; git ignores it. */
void home_dir(char *out, size_t cap)
{
    const char *s = getenv("WB_HOME");
    if (s && *s)
        snprintf(out, cap, "%s", s);
    else
        snprintf(out, cap, "%s/.workbook", root);
}

void print_indented(const char *text, const char *indent, int max_lines)
{
    int lines = 0;
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        if (++lines > max_lines) {
            printf("%s%s... (cut)%s\n", indent, DIM, RESET);
            return;
        }
        printf("%s%.*s\n", indent, (int)n, p);
        p += n + (nl ? 1 : 0);
    }
}

/* Prints text wrapped at width columns, each line after the first
 * starting with indent. Existing newlines are kept. */
void print_wrapped(const char *text, const char *indent, int width, int col)
{
    const char *p = text;
    int first = 1;
    while (*p) {
        if (*p == '\n') {
            printf("\n%s", indent);
            col = (int)strlen(indent);
            p++;
            first = 1;
            continue;
        }
        size_t w = strcspn(p, " \n");
        if (col > (int)strlen(indent) && col + 1 + (int)w > width) {
            printf("\n%s", indent);
            col = (int)strlen(indent);
        } else if (!first) {
            putchar(' ');
            col++;
        }
        first = 0;
        printf("%.*s", (int)w, p);
        col += (int)w;
        p += w;
        while (*p == ' ')
            p++;
    }
    putchar('\n');
}


uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ULL;
    return h;
}
