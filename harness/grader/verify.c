/* verify.c -- `grade verify`, the workbook's own checks on a chapter
 * (make test): the manifest, the TODO markers, the solution passing every
 * test and the stubs failing every test. */
#define _GNU_SOURCE
#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "manifest.h"
#include "util.h"

static int problems;

static void problem(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("  %sPROBLEM%s ", RED, RESET);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    problems++;
}

/* Does any file in dir contain needle? */
static int dir_contains(const char *dir, const char *needle, char *where, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    if (!d)
        return 0;
    while (!found && (e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[PATH_MAX + 300];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        char *text = read_file(p, NULL);
        if (text && strstr(text, needle)) {
            found = 1;
            if (where)
                snprintf(where, cap, "%s", p);
        }
        free(text);
    }
    closedir(d);
    return found;
}

int cmd_verify(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter || !o->solution || !o->stub_report || !o->solution_report)
        die("verify needs --chapter, --solution, --stub-report and --solution-report");
    find_root(o->chapter);
    chapter_load(&ch, o->chapter);
    printf("verify %s\n", ch.name);

    cJSON *stub = read_json(o->stub_report), *sol = read_json(o->solution_report);
    const cJSON *stub_tests = cJSON_GetObjectItemCaseSensitive(stub, "tests");
    const cJSON *sol_tests = cJSON_GetObjectItemCaseSensitive(sol, "tests");
    if (!cJSON_IsArray(stub_tests))
        problem("no valid report of the stub run at %s", o->stub_report);
    if (!cJSON_IsArray(sol_tests))
        problem("no valid report of the solution run at %s", o->solution_report);

    /* The manifest: ids 1..n in order, a title, a suite and a hint each. */
    char src[PATH_MAX + 16], where[PATH_MAX + 300];
    snprintf(src, sizeof src, "%s/src", ch.dir);
    int i = 0;
    const cJSON *st;
    cJSON_ArrayForEach(st, ch.stages)
    {
        i++;
        if (jint(st, "id", -1) != i)
            problem("stage %d: \"id\" should be %d", i, i);
        if (!*jstr(st, "title", ""))
            problem("stage %d has no title", i);
        if (!*jstr(st, "suite", ""))
            problem("stage %d has no suite", i);
        if (strlen(jstr(st, "hint", "")) < 40)
            problem("stage %d has no real hint", i);
        if (strlen(jstr(st, "compare", "")) < 40)
            problem("stage %d has no \"compare\" note (what to look for in the reference)", i);
        char marker[64];
        snprintf(marker, sizeof marker, "TODO(stage %d)", i);
        if (!dir_contains(src, marker, NULL, 0))
            problem("stage %d: no %s marker in %s", i, marker, src);
        int n = 0;
        const cJSON *t;
        cJSON_ArrayForEach(t, stub_tests)
            n += strcmp(jstr(t, "suite", ""), jstr(st, "suite", "")) == 0;
        if (n == 0)
            problem("stage %d (suite %s) has no tests", i, jstr(st, "suite", ""));
    }
    if (dir_contains(o->solution, "TODO", where, sizeof where))
        problem("the solution has a TODO: %s", where);

    /* Every test belongs to a stage. */
    const cJSON *t;
    cJSON_ArrayForEach(t, stub_tests)
        if (!stage_of_suite(&ch, jstr(t, "suite", "")))
            problem("test %s/%s is in no stage's suite", jstr(t, "suite", ""), jstr(t, "name", ""));

    /* The solution passes everything. */
    int sol_n = 0;
    cJSON_ArrayForEach(t, sol_tests)
    {
        sol_n++;
        if (strcmp(jstr(t, "status", ""), "PASSED") != 0)
            problem("the solution fails %s/%s (%s)", jstr(t, "suite", ""), jstr(t, "name", ""),
                    jstr(t, "status", ""));
    }
    /* The stubs fail everything, but for the listed exceptions. */
    const cJSON *exc = cJSON_GetObjectItemCaseSensitive(ch.manifest, "passes_on_stub");
    int stub_n = 0;
    cJSON_ArrayForEach(t, stub_tests)
    {
        char key[512];
        stub_n++;
        snprintf(key, sizeof key, "%s/%s", jstr(t, "suite", ""), jstr(t, "name", ""));
        int excused = 0;
        const cJSON *e;
        cJSON_ArrayForEach(e, exc)
            if (strcmp(jstr(e, "test", ""), key) == 0 && *jstr(e, "why", ""))
                excused = 1;
        if (strcmp(jstr(t, "status", ""), "PASSED") == 0 && !excused)
            problem("%s passes on the untouched stubs: a test that cannot fail", key);
    }
    if (sol_n != stub_n)
        problem("the solution ran %d tests, the stubs %d", sol_n, stub_n);
    printf("  %d stages, %d tests: solution %s, stubs %s\n", i, sol_n,
           problems ? "checked" : "passes all", problems ? "checked" : "fail all");
    cJSON_Delete(stub);
    cJSON_Delete(sol);
    chapter_free(&ch);
    return problems ? 1 : 0;
}

