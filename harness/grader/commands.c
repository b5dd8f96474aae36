/* commands.c -- run, hint, files and summary: see commands.h. */
#define _GNU_SOURCE
#include "commands.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "board.h"
#include "cache.h"
#include "manifest.h"
#include "runner.h"
#include "util.h"

/* "01-sockets/net 01-sockets/loop" -> "your 01-sockets (net, loop)", and
 * whether each earlier chapter of the learner's passes every stage. */
static void describe_layers(const char *uses, const char *own, char *out, size_t cap)
{
    char list[1024], chapter[128] = "";
    size_t len = 0;
    snprintf(list, sizeof list, "%s", uses ? uses : "");
    out[0] = '\0';
    for (char *save = NULL, *u = strtok_r(list, " ", &save); u; u = strtok_r(NULL, " ", &save)) {
        char *slash = strchr(u, '/');
        if (!slash)
            continue;
        *slash = '\0';
        if (strcmp(chapter, u) != 0) {
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s %s (",
                                    *chapter ? "); " : "", own ? "your" : "the reference's", u);
            snprintf(chapter, sizeof chapter, "%s", u);
        } else {
            len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, ", ");
        }
        len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s", slash + 1);
    }
    if (*chapter)
        snprintf(out + len, len < cap ? cap - len : 0, ")%s",
                 own ? "" : "  (OWN=1 builds on yours)");
}

/* With OWN=1: warns when an earlier chapter of the learner's does not pass
 * every stage yet, since this chapter's failures may come from there. */
static void check_own_layers(const char *own, const char *uses)
{
    char list[1024], seen[1024] = " ";
    snprintf(list, sizeof list, "%s", uses ? uses : "");
    for (char *save = NULL, *u = strtok_r(list, " ", &save); u; u = strtok_r(NULL, " ", &save)) {
        char *slash = strchr(u, '/');
        if (!slash)
            continue;
        *slash = '\0';
        char key[160];
        snprintf(key, sizeof key, " %s ", u);
        if (strstr(seen, key))
            continue;
        snprintf(seen + strlen(seen), sizeof seen - strlen(seen), "%s ", u);
        char dir[PATH_MAX + 200];
        snprintf(dir, sizeof dir, "%s/%s", own, u);
        struct chapter earlier;
        chapter_load(&earlier, dir);
        struct cache c;
        cache_open(&c, earlier.name, "learner");
        cJSON *tests = cache_tests(&c, NULL);
        int open = board_first_open(&earlier, tests);
        if (open >= 0)
            printf("%sOWN=1:%s this chapter is built on your %s, whose stage %d does not pass "
                   "yet (make check CHAPTER=%s). A failure here may come from there; "
                   "OWN=0 builds on the reference instead.\n",
                   YELLOW, RESET, earlier.name, open + 1, chapter_short(&earlier));
        cJSON_Delete(tests);
        cache_close(&c);
        chapter_free(&earlier);
    }
}

/* Appends a copy of every test of from to to. */
static void append_tests(cJSON *to, const cJSON *from)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, from)
        cJSON_AddItemToArray(to, cJSON_Duplicate(t, 1));
}

/* The report of a whole run, for scripts (make test reads it). */
static void write_report(const char *logdir, const cJSON *tests)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/report.json", logdir);
    cJSON *r = cJSON_CreateObject();
    cJSON_AddItemToObject(r, "tests", cJSON_Duplicate(tests, 1));
    if (write_json(path, r) < 0)
        fprintf(stderr, "grade: cannot write %s\n", path);
    cJSON_Delete(r);
}

static void print_synthesis(const cJSON *tests)
{
    int n = 0, pass = 0, crash = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        n++;
        pass += strcmp(jstr(t, "status", ""), "PASSED") == 0;
        crash += strcmp(jstr(t, "status", ""), "CRASHED") == 0;
    }
    printf("[====] Synthesis: Tested: %d | Passing: %d | Failing: %d | Crashing: %d\n", n, pass,
           n - pass - crash, crash);
}

/* Workers for one stage's tests: one per test, up to six per core, brings
 * the stage's verdict sooner than the whole run's four per core. */
static int stage_jobs(const struct cache *c, const char *suite, int ncpu)
{
    cJSON *known = cache_tests(c, suite);
    int n = cJSON_GetArraySize(known), base = 4 * ncpu;
    cJSON_Delete(known);
    if (n > 6 * ncpu)
        n = 6 * ncpu;
    return n > base ? n : base < 2 ? 2 : base;
}

/* Runs the tests filter selects (NULL: all), reporting as tag; appends a
 * copy of what ran to into and returns it (the caller frees), or NULL with
 * why set. */
static cJSON *run_part(struct run *r, const char *filter, const char *tag, cJSON *into,
                       char *why, size_t whylen)
{
    r->filter = filter;
    r->tag = tag;
    cJSON *part = runner_run(r, why, whylen);
    if (part)
        append_tests(into, part);
    return part;
}

/* The verdict of the stage that ran first: its board and failures when it
 * fails (returns its id: the whole board then points up to them), one line
 * when it passes (returns 0). */
static int print_stage_verdict(const struct chapter *ch, const cJSON *st, int index,
                               const cJSON *tests, const struct board *whole)
{
    int id = stage_id(st, index + 1), n = cJSON_GetArraySize(tests), shown = 0;
    if (n == 0 || board_first_open(ch, tests) >= 0) {
        struct board sb = *whole;
        sb.only_stage = id;
        sb.layers = NULL;
        board_print(ch, tests, &sb);
        printf("\n");
        shown = id;
    } else {
        printf("\n%sStage %d passes%s (%d/%d). ", GREEN, id, RESET, n, n);
    }
    printf("%sNow the other stages...%s\n", DIM, RESET);
    fflush(stdout);
    return shown;
}

int cmd_run(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter || !o->tests)
        die("run needs --chapter and --tests");
    find_root(o->chapter);
    chapter_load(&ch, o->chapter);
    const char *impl = o->impl ? o->impl : "learner";

    const cJSON *stage = NULL;
    if (o->stage && !(stage = stage_by_id(&ch, o->stage))) {
        fprintf(stderr, "grade: %s has no stage %d; its stages are 1 to %d\n", ch.name,
                o->stage, chapter_nstages(&ch));
        chapter_free(&ch);
        return 2;
    }

    char layers[1024] = "";
    if (o->uses && *o->uses) {
        describe_layers(o->uses, o->own, layers, sizeof layers);
        if (o->own && !o->quiet)
            check_own_layers(o->own, o->uses);
    }

    if (o->build) {
        /* The compiler sees a terminal through our pipe only if told. */
        if (isatty(STDERR_FILENO))
            setenv("WB_COLOR", "1", 1);
        int st = runner_build(o->build);
        if (st != 0) {
            if (runner_interrupted())
                printf("\nStopped.\n");
            else
                printf("\n%sThe build failed:%s the compiler's messages are above. Fix the "
                       "first error (the later ones often follow from it), then run make "
                       "check CHAPTER=%s again.\n", RED, RESET, chapter_short(&ch));
            chapter_free(&ch);
            return runner_interrupted() ? 130 : 1;
        }
    }

    char home[PATH_MAX], logdir[PATH_MAX + 300];
    home_dir(home, sizeof home);
    snprintf(logdir, sizeof logdir, "%s/logs/%s-%s", home, ch.name, impl);
    mkdirs(logdir);

    char fp[256];
    cache_fingerprint(fp, sizeof fp, o->tests, o->program);
    struct cache c;
    cache_open(&c, ch.name, impl);

    const char *suite = stage ? jstr(stage, "suite", "") : NULL;
    int cached = !o->force && cache_fresh(&c, fp, suite);
    struct board b = {.only_stage = o->stage, .details = 1, .cached = cached, .logdir = logdir,
                      .target = board_rerun_target(impl), .layers = layers};
    /* The tests mostly wait -- on sockets, timeouts, the program -- not on
     * the CPU: four workers per core keep the cores busy (02's whole run:
     * 5.7 s with two per core, 4.3 s with four, on 2 cores). */
    int jobs = o->jobs > 0 ? o->jobs : 4 * (int)sysconf(_SC_NPROCESSORS_ONLN);
    struct run r = {.tests = o->tests, .program = o->program, .logdir = logdir,
                    .jobs = jobs < 2 ? 2 : jobs, .timeout_s = o->timeout > 0 ? o->timeout : 300};
    char why[PATH_MAX + 200], filter[512];
    cJSON *tests = NULL;
    int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

    if (cached) {
        tests = cache_tests(&c, suite);
    } else if (stage) {
        snprintf(filter, sizeof filter, "%s/*", suite);
        r.filter = filter;
        r.tag = "stage";
        if (o->jobs <= 0)
            r.jobs = stage_jobs(&c, suite, ncpu);
        tests = runner_run(&r, why, sizeof why);
        if (tests)
            cache_record(&c, fp, suite, tests, ch.dir);
    } else {
        runner_clear_logs(logdir);
        /* Feedback first: the stage the learner is on runs alone and its
         * verdict is printed at once; then the rest, to catch regressions. */
        cJSON *known = cache_tests(&c, NULL);
        int cur = o->quiet || chapter_nstages(&ch) < 2 ? -1 : board_first_open(&ch, known);
        cJSON_Delete(known);
        tests = cJSON_CreateArray();
        int ok = 0;
        if (cur >= 0) {
            const cJSON *cst = cJSON_GetArrayItem(ch.stages, cur);
            const char *csuite = jstr(cst, "suite", "");
            int rest_jobs = r.jobs;
            if (o->jobs <= 0)
                r.jobs = stage_jobs(&c, csuite, ncpu);
            snprintf(filter, sizeof filter, "%s/*", csuite);
            cJSON *first = run_part(&r, filter, "stage", tests, why, sizeof why);
            r.jobs = rest_jobs;
            if (first) {
                cache_record(&c, fp, csuite, first, ch.dir);
                cache_save(&c);
                b.shown_stage = print_stage_verdict(&ch, cst, cur, first, &b);
                snprintf(filter, sizeof filter, "!(%s)/*", csuite);
                r.append_log = 1;
                cJSON *rest = run_part(&r, filter, "rest", tests, why, sizeof why);
                ok = rest != NULL;
                cJSON_Delete(rest);
            }
            cJSON_Delete(first);
        } else {
            cJSON *all = run_part(&r, NULL, "all", tests, why, sizeof why);
            ok = all != NULL;
            cJSON_Delete(all);
        }
        if (!ok) {
            cJSON_Delete(tests);
            tests = NULL;
        }
        if (tests && cJSON_GetArraySize(tests) > 0) {
            cache_record(&c, fp, "*", tests, ch.dir);
            write_report(logdir, tests);
        }
    }

    if (!tests) {
        if (runner_interrupted()) {
            cache_save(&c);
            cache_close(&c);
            chapter_free(&ch);
            printf("\nStopped.\n");
            return 130;
        }
        fprintf(stderr, "%sgrade: %s%s\n", RED, why, RESET);
        cache_close(&c);
        chapter_free(&ch);
        return 2;
    }
    if (cJSON_GetArraySize(tests) == 0) {
        /* Criterion exits 0 when a filter matches nothing. */
        fprintf(stderr, "%sgrade: no test ran%s (filter %s)\n", RED, RESET,
                r.filter ? r.filter : "none");
        cJSON_Delete(tests);
        cache_close(&c);
        chapter_free(&ch);
        return 2;
    }
    if (!cached)
        cache_save(&c);

    int failed = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
        failed += strcmp(jstr(t, "status", ""), "PASSED") != 0;
    if (!o->quiet) {
        /* The whole board, from every result on record: a stage run shows
         * its stage only. */
        if (!stage) {
            cJSON_Delete(tests);
            tests = cache_tests(&c, NULL);
        }
        board_print(&ch, tests, &b);
    }
    if (o->synthesis && !cached)
        print_synthesis(tests);
    cJSON_Delete(tests);
    cache_close(&c);
    chapter_free(&ch);
    return failed ? 1 : 0;
}

/* The first stage of a chapter that does not pass yet (an index), by the
 * learner's last results; -1 when every stage passes. */
static int next_stage(const struct chapter *ch)
{
    struct cache c;
    cache_open(&c, ch->name, "learner");
    cJSON *tests = cache_tests(&c, NULL);
    int open = board_first_open(ch, tests);
    cJSON_Delete(tests);
    cache_close(&c);
    return open;
}

int cmd_hint(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter)
        die("hint needs --chapter");
    find_root(o->chapter);
    chapter_load(&ch, o->chapter);
    int id = o->stage;
    if (!id) {
        int open = next_stage(&ch);
        if (open < 0) {
            printf("%sEvery stage of %s passes:%s there is no hint left to give.\n", GREEN,
                   ch.name, RESET);
            board_print_next_chapter(&ch);
            chapter_free(&ch);
            return 0;
        }
        id = stage_id(cJSON_GetArrayItem(ch.stages, open), open + 1);
    }
    const cJSON *st = stage_by_id(&ch, id);
    if (!st) {
        fprintf(stderr, "grade: %s has no stage %d; its stages are 1 to %d\n", ch.name, id,
                chapter_nstages(&ch));
        chapter_free(&ch);
        return 2;
    }
    printf("%sStage %d: %s%s\n", BOLD, id, jstr(st, "title", "?"), RESET);
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(st, "files");
    if (cJSON_IsArray(files)) {
        printf("Edit:");
        const cJSON *f;
        cJSON_ArrayForEach(f, files)
            printf(" chapters/%s/%s", ch.name, cJSON_IsString(f) ? f->valuestring : "?");
        printf("  (look for TODO(stage %d))\n", id);
    }
    printf("\n");
    print_wrapped(jstr(st, "hint", "(none)"), "", 78, 0);
    printf("\nLesson: chapters/%s/README.md, section \"Stage %d\"\n", ch.name, id);
    printf("Test it: make check CHAPTER=%s STAGE=%d\n", chapter_short(&ch), id);
    chapter_free(&ch);
    return 0;
}

int cmd_files(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter || !o->stage)
        die("files needs --chapter and --stage");
    find_root(o->chapter);
    chapter_load(&ch, o->chapter);
    const cJSON *st = stage_by_id(&ch, o->stage);
    if (!st) {
        chapter_free(&ch);
        return 2;
    }
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(st, "files"))
        if (cJSON_IsString(f))
            printf("chapters/%s/%s\n", ch.name, f->valuestring);
    chapter_free(&ch);
    return 0;
}

int cmd_summary(struct opts *o)
{
    if (o->nchapters == 0)
        die("summary needs --chapters");
    find_root(o->chapters[0]);
    int json = o->format && strcmp(o->format, "json") == 0;
    cJSON *out = cJSON_CreateObject();
    cJSON *chs = cJSON_AddArrayToObject(out, "chapters");
    int all_pass = 1;

    for (int c = 0; c < o->nchapters; c++) {
        struct chapter ch;
        chapter_load(&ch, o->chapters[c]);
        struct cache c;
        cache_open(&c, ch.name, o->impl ? o->impl : "learner");
        cJSON *arr = cache_tests(&c, NULL);

        cJSON *jc = cJSON_CreateObject();
        cJSON_AddStringToObject(jc, "chapter", ch.name);
        cJSON_AddStringToObject(jc, "title", chapter_title(&ch));
        cJSON *jstages = cJSON_AddArrayToObject(jc, "stages");
        int cp = 0, ct = 0;
        const cJSON *st;
        cJSON_ArrayForEach(st, ch.stages)
        {
            cJSON *js = cJSON_CreateObject();
            int p = 0, n = 0;
            cJSON_AddNumberToObject(js, "id", jint(st, "id", 0));
            cJSON_AddStringToObject(js, "title", jstr(st, "title", ""));
            cJSON *jt = cJSON_AddArrayToObject(js, "tests");
            const cJSON *t;
            cJSON_ArrayForEach(t, arr)
            {
                if (strcmp(jstr(t, "suite", ""), jstr(st, "suite", "")) != 0)
                    continue;
                cJSON *x = cJSON_CreateObject();
                cJSON_AddStringToObject(x, "name", jstr(t, "name", ""));
                cJSON_AddStringToObject(x, "status", jstr(t, "status", ""));
                cJSON_AddItemToArray(jt, x);
                n++;
                p += strcmp(jstr(t, "status", ""), "PASSED") == 0;
            }
            cJSON_AddNumberToObject(js, "passed", p);
            cJSON_AddNumberToObject(js, "total", n);
            cJSON_AddStringToObject(js, "status", n == 0 ? "not run" : p == n ? "passed" : "failed");
            cJSON_AddItemToArray(jstages, js);
            cp += p;
            ct += n;
            if (n == 0 || p < n)
                all_pass = 0;
        }
        cJSON_AddNumberToObject(jc, "passed", cp);
        cJSON_AddNumberToObject(jc, "total", ct);
        cJSON_AddItemToArray(chs, jc);
        if (!json) {
            struct board b = {.logdir = "", .target = "check"};
            board_print(&ch, arr, &b);
        }
        cJSON_Delete(arr);
        cache_close(&c);
        chapter_free(&ch);
    }
    if (json) {
        char *s = cJSON_Print(out);
        puts(s);
        free(s);
    } else {
        printf("\n%s\n", all_pass ? "Every chapter passes." : "Details for a chapter: make check CHAPTER=<name>");
    }
    cJSON_Delete(out);
    return all_pass ? 0 : 1;
}

