/* compare.c -- `grade compare`: after a stage passes, the learner's code for
 * that stage beside the reference's, as a diff, function by function, with
 * the manifest's note on what to look for. Before the stage passes it says
 * so and gives the hint instead: the reference must not spoil a stage.
 *
 * The functions of a stage are those whose body holds a TODO(stage N)
 * marker in the stub as committed in git (else in the learner's file). A
 * function is found the way the house style writes one: a header line at
 * column 0 with "name(", not ending in ';', and a body that ends at a "}"
 * at column 0. A marker outside any function compares the whole file. */
#define _GNU_SOURCE
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "board.h"
#include "cache.h"
#include "commands.h"
#include "manifest.h"
#include "util.h"

#define MAX_FUNCS 32

/* The function a header line starts, into name; 0 if it starts none. */
static int function_header(const char *line, size_t len, char *name, size_t cap)
{
    if (len == 0 || !(isalpha((unsigned char)line[0]) || line[0] == '_'))
        return 0;
    if (strncmp(line, "static ", 7) != 0 && memchr(line, '(', len) == NULL)
        return 0;
    const char *paren = memchr(line, '(', len);
    if (!paren)
        return 0;
    size_t end = len;
    while (end > 0 && isspace((unsigned char)line[end - 1]))
        end--;
    if (end > 0 && line[end - 1] == ';')
        return 0; /* a declaration */
    if (memchr(line, '=', (size_t)(paren - line)))
        return 0; /* an initialiser */
    const char *e = paren;
    while (e > line && isspace((unsigned char)e[-1]))
        e--;
    const char *s = e;
    while (s > line && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
        s--;
    if (s == e || (size_t)(e - s) >= cap)
        return 0;
    memcpy(name, s, (size_t)(e - s));
    name[e - s] = '\0';
    return 1;
}

struct span {
    const char *start, *end; /* the function's text, header to closing brace */
};

/* Finds function name in text; its span, or a zero span. */
static struct span find_function(const char *text, const char *name)
{
    struct span sp = {NULL, NULL};
    const char *p = text;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char got[128];
        if (!sp.start && function_header(p, len, got, sizeof got) && strcmp(got, name) == 0)
            sp.start = p;
        else if (sp.start && len >= 1 && p[0] == '}') {
            sp.end = p + len + (nl ? 1 : 0);
            return sp;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    sp.start = NULL;
    return sp;
}

static void add_name(char names[][128], int *n, int max, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp(names[i], name) == 0)
            return;
    if (*n < max)
        snprintf(names[(*n)++], 128, "%s", name);
}

/* The functions a marker outside every function speaks of: each "name("
 * in its comment that text defines. Returns how many it added. */
static int functions_named(const char *text, const char *comment, char names[][128], int *n,
                           int max)
{
    int added = 0;
    const char *end = strstr(comment, "*/");
    if (!end)
        end = comment + strlen(comment);
    for (const char *p = comment; p < end; p++) {
        if (*p != '(' || p == comment)
            continue;
        const char *s = p;
        while (s > comment && (isalnum((unsigned char)s[-1]) || s[-1] == '_'))
            s--;
        if (s == p || p - s >= 128)
            continue;
        char name[128];
        memcpy(name, s, (size_t)(p - s));
        name[p - s] = '\0';
        if (find_function(text, name).start) {
            int before = *n;
            add_name(names, n, max, name);
            added += *n > before;
        }
    }
    return added;
}

/* The functions of text a marker belongs to: those whose bodies hold it,
 * and those a marker outside every function names. *file_scope is set when
 * such an outside marker names none: then the whole file is compared.
 * Returns how many. */
static int functions_with(const char *text, const char *marker, char names[][128], int max,
                          int *file_scope)
{
    int n = 0;
    char cur[128] = "";
    const char *p = text;
    *file_scope = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        char got[128];
        if (!*cur && function_header(p, len, got, sizeof got))
            snprintf(cur, sizeof cur, "%s", got);
        const char *hit = memmem(p, len, marker, strlen(marker));
        if (hit && *cur)
            add_name(names, &n, max, cur);
        else if (hit && !functions_named(text, hit, names, &n, max))
            *file_scope = 1;
        if (*cur && len >= 1 && p[0] == '}')
            cur[0] = '\0';
        if (!nl)
            break;
        p = nl + 1;
    }
    return n;
}

/* Does a TODO(stage M) comment of text -- the marker's line to the end of
 * its comment -- name the function ("name(")? Or is the marker inside it? */
static int stage_touches(const char *text, int m, const char *name)
{
    char marker[32], call[160];
    snprintf(marker, sizeof marker, "TODO(stage %d)", m);
    snprintf(call, sizeof call, "%s(", name);
    struct span f = find_function(text, name);
    for (const char *p = strstr(text, marker); p; p = strstr(p + 1, marker)) {
        if (f.start && p >= f.start && p < f.end)
            return 1;
        const char *end = strstr(p, "*/");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char *block = strndup(p, n);
        int named = block && strstr(block, call) != NULL;
        free(block);
        if (named)
            return 1;
    }
    return 0;
}

/* The stub as committed: `git show HEAD:path`, or NULL. */
static char *committed_stub(const char *relpath)
{
    char cmd[PATH_MAX * 2];
    snprintf(cmd, sizeof cmd, "cd '%s' && git show 'HEAD:%s' 2>/dev/null", root, relpath);
    FILE *f = popen(cmd, "r");
    if (!f)
        return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&out, &len);
    char buf[8192];
    size_t n;
    while (m && (n = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, n, m);
    if (m)
        fclose(m);
    if (pclose(f) != 0 || len == 0) {
        free(out);
        return NULL;
    }
    return out;
}

static int write_text(const char *path, const char *start, const char *end)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fwrite(start, 1, (size_t)(end - start), f);
    return fclose(f);
}

/* diff -u of two files with labels; coloured on a terminal. what names
 * them when they are the same. */
static void show_diff(const char *a, const char *la, const char *b, const char *lb,
                      const char *what)
{
    char cmd[PATH_MAX * 3];
    int colour = color && system("diff --color=always /dev/null /dev/null >/dev/null 2>&1") == 0;
    snprintf(cmd, sizeof cmd, "diff -u %s --label '%s' --label '%s' '%s' '%s'",
             colour ? "--color=always" : "", la, lb, a, b);
    fflush(stdout);
    int st = system(cmd);
    if (st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0)
        printf("  %s: the same as the reference\n", what);
}

/* file is "src/net.c"; solution is the reference's src folder; res says
 * which stages pass. A function that a stage not passed yet also changes
 * (its TODO is inside, or its TODO comment names it) is not shown: the
 * reference's version would give that stage away. */
static void compare_file(const struct chapter *ch, const char *solution, const char *file, int id,
                         const struct stage_result *res, const char *tmp)
{
    char mine[PATH_MAX + 300], ref[PATH_MAX + 300], rel[PATH_MAX + 300];
    const char *base = strrchr(file, '/');
    size_t rl = strlen(root);
    snprintf(mine, sizeof mine, "%s/%s", ch->dir, file);
    snprintf(ref, sizeof ref, "%s/%s", solution, base ? base + 1 : file);
    /* the path in git: the chapter's folder below the root */
    snprintf(rel, sizeof rel, "%s/%s",
             strncmp(ch->dir, root, rl) == 0 && ch->dir[rl] == '/' ? ch->dir + rl + 1 : ch->dir,
             file);
    char *my = read_file(mine, NULL), *rf = read_file(ref, NULL);
    char *stub = committed_stub(rel);
    char marker[32], names[MAX_FUNCS][128];
    snprintf(marker, sizeof marker, "TODO(stage %d)", id);
    int file_scope = 0;
    int n = functions_with(stub ? stub : my ? my : "", marker, names, MAX_FUNCS, &file_scope);
    printf("\n%s== %s%s\n", BOLD, rel, RESET);
    if (!my || !rf) {
        printf("  cannot read %s\n", !my ? mine : ref);
    } else if (n == 0 || file_scope) {
        char la[PATH_MAX + 316], lb[PATH_MAX + 316];
        snprintf(la, sizeof la, "yours: %s", rel);
        snprintf(lb, sizeof lb, "reference: %s", ref);
        show_diff(mine, la, ref, lb, "the file");
    } else {
        const char *stub_text = stub ? stub : my;
        for (int i = 0; i < n; i++) {
            int later = 0;
            for (int m = 1; m <= chapter_nstages(ch) && !later; m++) {
                const struct stage_result *r = &res[m - 1];
                if (m != id && (!r->total || r->passed < r->total) &&
                    stage_touches(stub_text, m, names[i]))
                    later = m;
            }
            if (later) {
                printf("  %s(): stage %d changes it too, and does not pass yet -- "
                       "shown once it does.\n", names[i], later);
                continue;
            }
            struct span a = find_function(my, names[i]), b = find_function(rf, names[i]);
            char pa[PATH_MAX], pb[PATH_MAX], la[512], lb[512];
            snprintf(pa, sizeof pa, "%s/yours.c", tmp);
            snprintf(pb, sizeof pb, "%s/reference.c", tmp);
            if (!a.start)
                a.start = a.end = "";
            if (!b.start)
                b.start = b.end = "";
            write_text(pa, a.start, a.end);
            write_text(pb, b.start, b.end);
            snprintf(la, sizeof la, "yours: %s()", names[i]);
            snprintf(lb, sizeof lb, "reference: %s()", names[i]);
            char what[160];
            snprintf(what, sizeof what, "%s()", names[i]);
            show_diff(pa, la, pb, lb, what);
        }
    }
    free(my);
    free(rf);
    free(stub);
}

int cmd_compare(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter)
        die("compare needs --chapter");
    find_root(o->chapter);
    chapter_load(&ch, o->chapter);
    char solution[PATH_MAX + 300];
    if (o->solution)
        snprintf(solution, sizeof solution, "%s", o->solution);
    else
        snprintf(solution, sizeof solution, "%s/solutions/%s/src", root, ch.name);
    int n = chapter_nstages(&ch);

    struct cache c;
    cache_open(&c, ch.name, "learner");
    cJSON *tests = cache_tests(&c, NULL);
    struct stage_result *res = calloc((size_t)n, sizeof *res);
    if (!res)
        die("out of memory");
    board_tally(&ch, tests, res);
    cJSON_Delete(tests);
    cache_close(&c);

    int idx = -1;
    if (o->stage) {
        const cJSON *st = stage_by_id(&ch, o->stage);
        if (!st) {
            fprintf(stderr, "grade: %s has no stage %d; its stages are 1 to %d\n", ch.name,
                    o->stage, n);
            free(res);
            chapter_free(&ch);
            return 2;
        }
        for (int i = 0; i < n; i++)
            if (cJSON_GetArrayItem(ch.stages, i) == st)
                idx = i;
    } else {
        /* the last stage that passes before the first one that does not */
        for (int i = 0; i < n && res[i].total && res[i].passed == res[i].total; i++)
            idx = i;
        if (idx < 0) {
            printf("No stage of %s passes yet: make compare shows the reference for a stage "
                   "once it passes.\nThe next one: make hint CHAPTER=%s\n", ch.name,
                   chapter_short(&ch));
            free(res);
            chapter_free(&ch);
            return 1;
        }
    }
    const cJSON *st = cJSON_GetArrayItem(ch.stages, idx);
    int id = stage_id(st, idx + 1);
    if (!res[idx].total || res[idx].passed < res[idx].total) {
        if (res[idx].total)
            printf("Stage %d (%s) does not pass yet: %d of %d tests.\n", id,
                   jstr(st, "title", "?"), res[idx].passed, res[idx].total);
        else
            printf("Stage %d (%s) has not passed yet (make check CHAPTER=%s STAGE=%d runs it).\n",
                   id, jstr(st, "title", "?"), chapter_short(&ch), id);
        printf("make compare shows the reference once it passes, so that it does not give the "
               "stage away.\n\n%sHint:%s ", BOLD, RESET);
        print_wrapped(jstr(st, "hint", "(none)"), "  ", 78, 6);
        free(res);
        chapter_free(&ch);
        return 1;
    }

    printf("%sStage %d: %s%s -- your code (-) beside the reference (+)\n", BOLD, id,
           jstr(st, "title", "?"), RESET);
    const char *note = jstr(st, "compare", "");
    if (*note) {
        printf("%sWhat to look for:%s ", BOLD, RESET);
        print_wrapped(note, "  ", 78, 18);
    }
    char home[PATH_MAX], tmp[PATH_MAX + 16];
    home_dir(home, sizeof home);
    snprintf(tmp, sizeof tmp, "%s/compare", home);
    mkdirs(tmp);
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(st, "files"))
        if (cJSON_IsString(f))
            compare_file(&ch, solution, f->valuestring, id, res, tmp);
    printf("\nA different way that passes is fine. Where the reference does more, ask why: "
           "often it is a case the tests do not reach.\n");
    free(res);
    chapter_free(&ch);
    return 0;
}
