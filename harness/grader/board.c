/* board.c -- see board.h. */
#define _GNU_SOURCE
#include "board.h"

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

int board_tally(const struct chapter *ch, const cJSON *tests, struct stage_result *res)
{
    int n = chapter_nstages(ch), pass = 0;
    memset(res, 0, sizeof *res * (size_t)n);
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        const cJSON *st = stage_of_suite(ch, jstr(t, "suite", ""));
        if (!st)
            continue;
        int i = stage_id(st, 0) - 1;
        if (i < 0 || i >= n || strcmp(jstr(t, "status", ""), "SKIPPED") == 0)
            continue;
        res[i].total++;
        if (strcmp(jstr(t, "status", ""), "PASSED") == 0)
            res[i].passed++;
    }
    for (int i = 0; i < n; i++)
        pass += res[i].total && res[i].passed == res[i].total;
    return pass;
}

int board_first_open(const struct chapter *ch, const cJSON *tests)
{
    int n = chapter_nstages(ch), first = -1;
    struct stage_result *res = calloc((size_t)n, sizeof *res);
    if (!res)
        die("out of memory");
    board_tally(ch, tests, res);
    for (int i = 0; i < n && first < 0; i++)
        if (res[i].total == 0 || res[i].passed < res[i].total)
            first = i;
    free(res);
    return first;
}

static void bar(int done, int total, int width)
{
    int fill = total ? done * width / total : 0;
    printf("[%s", GREEN);
    for (int i = 0; i < width; i++)
        putchar(i < fill ? '#' : (i == fill && color ? ' ' : '.'));
    printf("%s]", RESET);
}

/* "sends_back_every_byte" -> "sends back every byte" */
static void pretty_name(const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s", name);
    for (char *s = out; *s; s++)
        if (*s == '_')
            *s = ' ';
}

/* The part of a test's log the learner needs: a sanitizer report or the
 * last lines of output. */
static void print_log_excerpt(const char *logdir, const cJSON *t)
{
    char path[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s--%s.log", logdir, jstr(t, "suite", ""),
             jstr(t, "name", ""));
    size_t len;
    char *text = read_file(path, &len);
    if (!text)
        return;
    if (len > 0) {
        const char *start = strstr(text, "==ERROR: ");
        if (!start)
            start = strstr(text, "runtime error: ");
        if (start) {
            while (start > text && start[-1] != '\n')
                start--;
        } else {
            start = len > 1500 ? text + len - 1500 : text;
        }
        printf("      %soutput of the test (%s):%s\n", DIM, path, RESET);
        print_indented(start, "        ", 25);
    }
    free(text);
}

static void print_failure(const cJSON *t, const char *logdir, int full)
{
    char pretty[256];
    const char *status = jstr(t, "status", "");
    pretty_name(jstr(t, "name", ""), pretty, sizeof pretty);
    printf("  %sx%s %s", RED, RESET, pretty);
    if (strcmp(status, "TIMEOUT") == 0)
        printf(" %s(timed out)%s", YELLOW, RESET);
    else if (strcmp(status, "CRASHED") == 0)
        printf(" %s(crashed: signal %d)%s", YELLOW, jint(t, "signal", 0), RESET);
    printf("\n");
    if (!full)
        return;
    const cJSON *fails = cJSON_GetObjectItemCaseSensitive(t, "failures");
    const cJSON *f;
    int shown = 0;
    cJSON_ArrayForEach(f, fails)
    {
        const char *msg = jstr(f, "message", "");
        const char *file = jstr(f, "file", "");
        size_t rl = strlen(root);
        if (strncmp(file, root, rl) == 0 && file[rl] == '/')
            file += rl + 1;
        /* an assertion inside the harness says nothing about the learner's code */
        if (strncmp(file, "harness/", 8) != 0)
            printf("      %s%s:%d%s\n", DIM, file, jint(f, "line", 0), RESET);
        print_indented(*msg ? msg : "(the assertion has no message)", "      ", 40);
        if (++shown == 2)
            break;
    }
    if (strcmp(status, "TIMEOUT") == 0)
        printf("      The test did not finish within its time limit. Something waits for\n"
               "      an event that never comes: a blocking call on the wrong socket, a\n"
               "      loop that never ends, or a reply that was never sent.\n");
    else if (strcmp(status, "CRASHED") == 0)
        printf("      Your code crashed inside the test process (a bad pointer, a\n"
               "      sanitizer report, abort()). The report below says where.\n");
    else if (!shown && strcmp(status, "FAILED") == 0)
        printf("      The test ended without an assertion message (exit code %d).\n",
               jint(t, "exit_code", 0));
    if (strcmp(status, "PASSED") != 0 && (strcmp(status, "FAILED") != 0 || !shown))
        print_log_excerpt(logdir, t);
}

/* The line of a test's first failure in a chapter's test file; tests that
 * failed elsewhere (in the harness, or by crashing) come after. */
static int failure_line(const cJSON *t)
{
    const cJSON *f = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(t, "failures"), 0);
    const char *file = jstr(f, "file", "");
    if (!f || strstr(file, "/harness/") || !strstr(file, "tests/"))
        return 1 << 20;
    return jint(f, "line", 1 << 20);
}

static int by_failure_line(const void *a, const void *b)
{
    int la = failure_line(*(const cJSON *const *)a), lb = failure_line(*(const cJSON *const *)b);
    return (la > lb) - (la < lb);
}

const char *board_rerun_target(const char *impl)
{
    size_t n = impl ? strlen(impl) : 0;
    return n >= 5 && strcmp(impl + n - 5, "-tsan") == 0 ? "tsan" : "check";
}

void board_print_next_chapter(const struct chapter *ch)
{
    /* The next chapter is the next folder with a manifest beside this one. */
    char parent[PATH_MAX], next[256] = "";
    snprintf(parent, sizeof parent, "%s", ch->dir);
    char *slash = strrchr(parent, '/');
    if (slash)
        *slash = '\0';
    int num = atoi(ch->name);
    DIR *d = opendir(parent);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (atoi(e->d_name) != num + 1 || !strchr(e->d_name, '-'))
            continue;
        char probe[PATH_MAX + 300];
        snprintf(probe, sizeof probe, "%s/%s/manifest.json", parent, e->d_name);
        if (access(probe, F_OK) == 0)
            snprintf(next, sizeof next, "%s", strchr(e->d_name, '-') + 1);
    }
    if (d)
        closedir(d);
    printf("Compare your code with the reference, stage by stage: make compare CHAPTER=%s STAGE=1\n",
           chapter_short(ch));
    if (*next)
        printf("Then go on to the next chapter: make check CHAPTER=%s  (its lesson: "
               "chapters/%02d-%s/README.md)\n", next, num + 1, next);
    else
        printf("This is the last chapter so far: ROADMAP.md says what comes next.\n");
}

void board_print(const struct chapter *ch, const cJSON *tests, const struct board *b)
{
    int n = chapter_nstages(ch);
    struct stage_result *res = calloc((size_t)n, sizeof *res);
    if (!res)
        die("out of memory");
    int sp = board_tally(ch, tests, res);
    const char *target = b->target ? b->target : "check";

    int tp = 0, tt = 0;
    for (int i = 0; i < n; i++) {
        if (b->only_stage && stage_id(cJSON_GetArrayItem(ch->stages, i), i + 1) != b->only_stage)
            continue;
        tp += res[i].passed;
        tt += res[i].total;
    }
    printf("\n%s%s -- %s%s  ", BOLD, ch->name, chapter_title(ch), RESET);
    bar(tp, tt, 24);
    if (b->only_stage)
        printf(" stage %d: %d/%d tests%s\n", b->only_stage, tp, tt,
               b->cached ? "  (unchanged since the last run)" : "");
    else
        printf(" %d/%d tests, %d/%d stages%s\n", tp, tt, sp, n,
               b->cached ? "  (unchanged since the last run)" : "");
    if (b->layers && *b->layers)
        printf("  %sbuilt on: %s%s\n", DIM, b->layers, RESET);

    int first_fail = -1, width = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(jstr(cJSON_GetArrayItem(ch->stages, i), "title", "?"));
        width = w > width ? w : width;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *st = cJSON_GetArrayItem(ch->stages, i);
        int id = stage_id(st, i + 1);
        if (b->only_stage && id != b->only_stage)
            continue;
        const char *mark;
        if (res[i].total == 0)
            mark = "  --";
        else if (res[i].passed == res[i].total)
            mark = "PASS";
        else
            mark = "FAIL";
        int failing = res[i].total && res[i].passed < res[i].total;
        if (failing && first_fail < 0)
            first_fail = i;
        printf("  %s%s%s  stage %d  %-*s %3d/%-3d%s\n",
               res[i].total == 0 ? DIM : failing ? RED : GREEN, mark, RESET, id,
               width, jstr(st, "title", "?"), res[i].passed, res[i].total,
               first_fail == i ? "  <- next" : "");
    }

    const cJSON *fst = first_fail >= 0 ? cJSON_GetArrayItem(ch->stages, first_fail) : NULL;
    if (b->details && fst && b->shown_stage == stage_id(fst, first_fail + 1)) {
        printf("\nStage %d's failures are above.\n", b->shown_stage);
    } else if (b->details && fst) {
        const cJSON *st = fst;
        int id = stage_id(st, first_fail + 1);
        printf("\n%sStage %d: %s%s -- %d of %d tests pass\n", BOLD, id,
               jstr(st, "title", "?"), RESET, res[first_fail].passed,
               res[first_fail].total);
        /* Criterion runs a suite's tests in name order; show the failures in
         * the order of the test file instead (by the line that failed), so
         * the first one is the most basic. */
        const cJSON *t, *failing[512];
        int nf = 0;
        cJSON_ArrayForEach(t, tests)
        {
            if (strcmp(jstr(t, "suite", ""), jstr(st, "suite", "")) != 0)
                continue;
            const char *status = jstr(t, "status", "");
            if (strcmp(status, "PASSED") == 0 || strcmp(status, "SKIPPED") == 0)
                continue;
            if (nf < 512)
                failing[nf++] = t;
        }
        qsort(failing, (size_t)nf, sizeof failing[0], by_failure_line);
        int shown = 0, hidden = 0;
        for (int k = 0; k < nf; k++) {
            t = failing[k];
            if (shown < 2)
                print_failure(t, b->logdir, 1);
            else if (shown < 8)
                print_failure(t, b->logdir, 0);
            else
                hidden++;
            shown++;
        }
        if (hidden)
            printf("  ... and %d more\n", hidden);
        printf("\n%sHint:%s ", BOLD, RESET);
        print_wrapped(jstr(st, "hint", "(none)"), "  ", 78, 6);
        printf("%sLesson:%s chapters/%s/README.md, section \"Stage %d\"\n", BOLD, RESET,
               ch->name, id);
        printf("%sRerun this stage:%s make %s CHAPTER=%s STAGE=%d\n", BOLD, RESET, target,
               chapter_short(ch), id);
        printf("%sOutput of the tests:%s %s/ (criterion.txt, and SUITE--TEST.log per test)\n",
               DIM, RESET, b->logdir);
    } else if (b->details && tt > 0 && tp == tt && (b->only_stage || sp == n)) {
        if (b->only_stage) {
            printf("\n%sStage %d passes.%s See how the reference did it: make compare CHAPTER=%s "
                   "STAGE=%d\n", GREEN, b->only_stage, RESET, chapter_short(ch), b->only_stage);
            printf("Run the whole chapter: make %s CHAPTER=%s\n", target, chapter_short(ch));
        } else {
            printf("\n%sEvery stage passes. Well done!%s\n", GREEN, RESET);
            board_print_next_chapter(ch);
        }
    }
    free(res);
}
