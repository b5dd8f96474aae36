/* grade -- runs a chapter's tests and turns the results into a per-stage
 * scoreboard that tells the learner what to do next.
 *
 *   grade run     --chapter DIR --tests BIN --program BIN [--stage N]
 *                 [--impl NAME]
 *                 [--jobs N] [--timeout S] [--force] [--quiet] [--synthesis]
 *   grade hint    --chapter DIR [--stage N]
 *   grade summary --chapters DIR... [--format text|json]
 *   grade verify  --chapter DIR --solution DIR --stub-report F --solution-report F
 *
 * It reads the manifest (DIR/manifest.json) for the stages and the test
 * results from the report the harness's Criterion hook writes (valid JSON,
 * harness/lib/report.c); it never parses Criterion's human output.
 * State (last results per chapter) and logs live in $WB_HOME (default
 * .workbook/ under the workbook root), which git ignores.
 *
 * Exit status: 0 when every selected test passed (run), or the check held
 * (verify); 1 when a test failed; 2 on a usage or setup error. */
#define _GNU_SOURCE
#include <cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"

/* ---- small helpers ------------------------------------------------------ */

static int color;

static const char *c_on(const char *code)
{
    return color ? code : "";
}
#define RED c_on("\033[31m")
#define GREEN c_on("\033[32m")
#define YELLOW c_on("\033[33m")
#define BOLD c_on("\033[1m")
#define DIM c_on("\033[2m")
#define RESET c_on("\033[0m")

static void die(const char *fmt, ...)
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
static char *read_file(const char *path, size_t *len_out)
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

static cJSON *read_json(const char *path)
{
    char *text = read_file(path, NULL);
    if (!text)
        return NULL;
    cJSON *j = cJSON_Parse(text);
    free(text);
    return j;
}

static int write_json(const char *path, const cJSON *j)
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

static void mkdirs(const char *path)
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

static const char *jstr(const cJSON *o, const char *key, const char *dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) && v->valuestring ? v->valuestring : dflt;
}

static int jint(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* The workbook root: the folder holding harness/. */
static char root[PATH_MAX];

static void find_root(const char *chapter_dir)
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
static void home_dir(char *out, size_t cap)
{
    const char *s = getenv("WB_HOME");
    if (s && *s)
        snprintf(out, cap, "%s", s);
    else
        snprintf(out, cap, "%s/.workbook", root);
}

static void state_dir(char *out, size_t cap)
{
    char home[PATH_MAX];
    home_dir(home, sizeof home);
    snprintf(out, cap, "%s/state", home);
}

/* ---- the manifest ------------------------------------------------------- */

struct chapter {
    char dir[PATH_MAX];
    char name[128];     /* "01-sockets" */
    cJSON *manifest;
    cJSON *stages;      /* the manifest's array */
};

static void load_chapter(struct chapter *ch, const char *dir)
{
    char path[PATH_MAX + 32];
    if (!realpath(dir, ch->dir))
        die("no chapter at %s", dir);
    const char *base = strrchr(ch->dir, '/');
    snprintf(ch->name, sizeof ch->name, "%s", base ? base + 1 : ch->dir);
    snprintf(path, sizeof path, "%s/manifest.json", ch->dir);
    ch->manifest = read_json(path);
    if (!ch->manifest)
        die("%s is missing or is not valid JSON", path);
    ch->stages = cJSON_GetObjectItemCaseSensitive(ch->manifest, "stages");
    if (!cJSON_IsArray(ch->stages) || cJSON_GetArraySize(ch->stages) == 0)
        die("%s has no \"stages\" array", path);
}

/* The short name learners type: "sockets" for "01-sockets". */
static const char *short_name(const struct chapter *ch)
{
    const char *dash = strchr(ch->name, '-');
    return jstr(ch->manifest, "short", dash ? dash + 1 : ch->name);
}

static cJSON *stage_by_id(const struct chapter *ch, int id)
{
    cJSON *st;
    cJSON_ArrayForEach(st, ch->stages)
        if (jint(st, "id", -1) == id)
            return st;
    return NULL;
}

static cJSON *stage_of_suite(const struct chapter *ch, const char *suite)
{
    cJSON *st;
    cJSON_ArrayForEach(st, ch->stages)
        if (strcmp(jstr(st, "suite", ""), suite) == 0)
            return st;
    return NULL;
}

/* ---- running the tests -------------------------------------------------- */

/* "size:mtime" of a file, to tell whether it changed since the last run. */
static void fingerprint_file(const char *path, char *out, size_t cap)
{
    struct stat st;
    if (stat(path, &st) < 0)
        snprintf(out, cap, "missing");
    else
        snprintf(out, cap, "%lld:%lld.%09ld", (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

static void clear_logs(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d)
        return;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".log") == 0) {
            char p[PATH_MAX + 300];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    }
    closedir(d);
}

/* Runs the test binary; returns its report (cJSON) or NULL with why set. */
static cJSON *run_tests(const char *tests, const char *program, const char *filter, int jobs,
                        int timeout_s, const char *logdir, char *why, size_t whylen)
{
    char report[PATH_MAX + 32], log[PATH_MAX + 32];
    snprintf(report, sizeof report, "%s/report.json", logdir);
    snprintf(log, sizeof log, "%s/criterion.txt", logdir);
    unlink(report);

    if (access(tests, X_OK) != 0) {
        snprintf(why, whylen, "no test program at %s (did the build fail?)", tests);
        return NULL;
    }

    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        return NULL;
    }
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, STDOUT_FILENO);
            dup2(fd, STDERR_FILENO);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, STDIN_FILENO);
        setenv("CR_REPORT", report, 1);
        setenv("WB_LOGDIR", logdir, 1);
        if (!getenv("ASAN_OPTIONS"))
            /* Leak checks stay off: LeakSanitizer runs when a process
             * exits, after its test has been decided, and a server that
             * leaks would fail its shutdown tests with a puzzling status. */
            setenv("ASAN_OPTIONS", "abort_on_error=1:detect_leaks=0", 1);
        if (!getenv("UBSAN_OPTIONS"))
            setenv("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1:abort_on_error=1", 1);
        /* make tsan: the first data race stops the program, and its
         * report is in the program's stderr, which the test shows. */
        if (!getenv("TSAN_OPTIONS"))
            setenv("TSAN_OPTIONS", "halt_on_error=1:abort_on_error=1:second_deadlock_stack=1", 1);
        if (program)
            setenv("WB_PROGRAM", program, 1);
        char jarg[32], farg[300];
        snprintf(jarg, sizeof jarg, "-j%d", jobs);
        char *argv[5];
        int argc = 0;
        argv[argc++] = (char *)tests;
        argv[argc++] = jarg;
        if (filter) {
            snprintf(farg, sizeof farg, "--filter=%s", filter);
            argv[argc++] = farg;
        }
        argv[argc] = NULL;
        execv(tests, argv);
        fprintf(stderr, "cannot run %s: %s\n", tests, strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);

    /* An outer deadline: Criterion's per-test timeouts can be lost (its
     * BoxFort sandbox drops deadlines when tests with different timeouts
     * run in parallel), and a hung harness teaches nothing. */
    long long deadline = measure_now_ms() + (long long)timeout_s * 1000;
    int status = 0, timed_out = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (measure_now_ms() >= deadline) {
            timed_out = 1;
            kill(-pid, SIGTERM);
            poll(NULL, 0, 500);
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            break;
        }
        poll(NULL, 0, 20);
    }
    if (timed_out) {
        snprintf(why, whylen,
                 "the tests did not finish within %d s and were stopped; see %s", timeout_s, log);
        return NULL;
    }
    cJSON *j = read_json(report);
    if (!j) {
        snprintf(why, whylen, "the test program ended (%s %d) without a report; its output is in %s",
                 WIFSIGNALED(status) ? "signal" : "status",
                 WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), log);
        return NULL;
    }
    return j;
}

/* ---- the scoreboard ----------------------------------------------------- */

struct stage_result {
    int passed, total;
};

static void tally(const struct chapter *ch, const cJSON *tests, int nstages,
                  struct stage_result *res)
{
    memset(res, 0, sizeof *res * (size_t)nstages);
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        const cJSON *st = stage_of_suite(ch, jstr(t, "suite", ""));
        if (!st)
            continue;
        int i = jint(st, "id", 0) - 1;
        if (i < 0 || i >= nstages)
            continue;
        if (strcmp(jstr(t, "status", ""), "SKIPPED") == 0)
            continue;
        res[i].total++;
        if (strcmp(jstr(t, "status", ""), "PASSED") == 0)
            res[i].passed++;
    }
}

static void bar(int done, int total, int width)
{
    int fill = total ? done * width / total : 0;
    printf("[%s", GREEN);
    for (int i = 0; i < width; i++)
        putchar(i < fill ? '#' : (i == fill && color ? ' ' : '.'));
    printf("%s]", RESET);
}

/* Prints "indent" before every line of text. */
static void print_indented(const char *text, const char *indent, int max_lines)
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
static void print_wrapped(const char *text, const char *indent, int width, int col)
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

static const char *chapter_title(const struct chapter *ch)
{
    return jstr(ch->manifest, "title", ch->name);
}

/* Prints the scoreboard; details for the first failing stage when
 * details is set. only_stage > 0 limits it to that stage. */
/* The make target that reruns what is shown: "check", or "tsan" for the
 * results of a ThreadSanitizer run (an implementation named NAME-tsan). */
static const char *rerun_target(const char *impl)
{
    size_t n = impl ? strlen(impl) : 0;
    return n >= 5 && strcmp(impl + n - 5, "-tsan") == 0 ? "tsan" : "check";
}

static void print_board(const struct chapter *ch, const cJSON *tests,
                        int only_stage, const char *logdir, int details,
                        int cached, const char *target)
{
    int n = cJSON_GetArraySize(ch->stages);
    struct stage_result *res = calloc((size_t)n, sizeof *res);
    if (!res)
        die("out of memory");
    tally(ch, tests, n, res);

    int tp = 0, tt = 0, sp = 0;
    for (int i = 0; i < n; i++) {
        tp += res[i].passed;
        tt += res[i].total;
        sp += res[i].total && res[i].passed == res[i].total;
    }
    printf("\n%s%s -- %s%s  ", BOLD, ch->name, chapter_title(ch), RESET);
    bar(tp, tt, 24);
    if (only_stage)
        printf(" stage %d: %d/%d tests%s\n", only_stage, tp, tt,
               cached ? "  (unchanged since the last run)" : "");
    else
        printf(" %d/%d tests, %d/%d stages%s\n", tp, tt, sp, n,
               cached ? "  (unchanged since the last run)" : "");

    int first_fail = -1, width = 0;
    for (int i = 0; i < n; i++) {
        int w = (int)strlen(jstr(cJSON_GetArrayItem(ch->stages, i), "title", "?"));
        width = w > width ? w : width;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *st = cJSON_GetArrayItem(ch->stages, i);
        int id = jint(st, "id", i + 1);
        if (only_stage && id != only_stage)
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

    if (details && first_fail >= 0) {
        const cJSON *st = cJSON_GetArrayItem(ch->stages, first_fail);
        int id = jint(st, "id", first_fail + 1);
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
                print_failure(t, logdir, 1);
            else if (shown < 8)
                print_failure(t, logdir, 0);
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
               short_name(ch), id);
        printf("%sAll output of the tests:%s %s/\n", DIM, RESET, logdir);
    } else if (details && tt > 0 && tp == tt && (only_stage || sp == n)) {
        if (only_stage)
            printf("\n%sStage %d passes.%s Run the whole chapter: make %s CHAPTER=%s\n",
                   GREEN, only_stage, RESET, target, short_name(ch));
        else
            printf("\n%sEvery stage passes. Well done!%s Compare your code with solutions/%s/src, "
                   "then go on to the next chapter (see ROADMAP.md).\n",
                   GREEN, RESET, ch->name);
    }
    free(res);
}

/* ---- commands ----------------------------------------------------------- */

struct opts {
    const char *chapter, *tests, *program, *impl, *format, *solution;
    const char *stub_report, *solution_report;
    const char *chapters[64];
    int nchapters;
    int stage, jobs, timeout, force, quiet, synthesis;
};

/* Copies "status" of each test into the state's map, keyed suite/name. */
static void merge_results(cJSON *state_tests, const cJSON *tests)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        char key[512];
        snprintf(key, sizeof key, "%s/%s", jstr(t, "suite", ""), jstr(t, "name", ""));
        if (strcmp(jstr(t, "status", ""), "SKIPPED") == 0)
            continue; /* filtered out: keep what an earlier run said */
        cJSON_DeleteItemFromObjectCaseSensitive(state_tests, key);
        cJSON_AddItemToObject(state_tests, key, cJSON_Duplicate(t, 1));
    }
}

/* The state's map back as an array of tests. */
static cJSON *state_as_array(const cJSON *state_tests)
{
    cJSON *arr = cJSON_CreateArray();
    const cJSON *t;
    cJSON_ArrayForEach(t, state_tests)
        cJSON_AddItemToArray(arr, cJSON_Duplicate(t, 1));
    return arr;
}

static void print_synthesis(const char *logdir)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/criterion.txt", logdir);
    char *text = read_file(path, NULL);
    if (!text)
        return;
    const char *s = strstr(text, "[====] Synthesis:");
    if (s) {
        const char *nl = strchr(s, '\n');
        printf("%.*s\n", (int)(nl ? nl - s : (long)strlen(s)), s);
    }
    free(text);
}

static int cmd_run(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter || !o->tests)
        die("run needs --chapter and --tests");
    find_root(o->chapter);
    load_chapter(&ch, o->chapter);
    const char *impl = o->impl ? o->impl : "learner";

    const cJSON *stage = NULL;
    char filter[256];
    if (o->stage) {
        stage = stage_by_id(&ch, o->stage);
        if (!stage) {
            fprintf(stderr, "grade: %s has no stage %d; its stages are 1 to %d\n", ch.name,
                    o->stage, cJSON_GetArraySize(ch.stages));
            return 2;
        }
        snprintf(filter, sizeof filter, "%s/*", jstr(stage, "suite", ""));
    }

    char sdir[PATH_MAX], logdir[PATH_MAX + 300], spath[PATH_MAX + 300];
    state_dir(sdir, sizeof sdir);
    char home[PATH_MAX];
    home_dir(home, sizeof home);
    snprintf(logdir, sizeof logdir, "%s/logs/%s-%s", home, ch.name, impl);
    snprintf(spath, sizeof spath, "%s/%s-%s.json", sdir, ch.name, impl);
    mkdirs(sdir);
    mkdirs(logdir);

    /* What the results depend on: the two programs and the selection. */
    char fp[1024], f1[128], f2[128];
    fingerprint_file(o->tests, f1, sizeof f1);
    fingerprint_file(o->program ? o->program : "", f2, sizeof f2);
    snprintf(fp, sizeof fp, "%s|%s|%s", f1, f2, o->stage ? filter : "*");

    cJSON *state = read_json(spath);
    if (!cJSON_IsObject(state)) {
        cJSON_Delete(state);
        state = cJSON_CreateObject();
    }
    cJSON *stests = cJSON_GetObjectItemCaseSensitive(state, "tests");
    if (!cJSON_IsObject(stests)) {
        cJSON_DeleteItemFromObjectCaseSensitive(state, "tests");
        stests = cJSON_AddObjectToObject(state, "tests");
    }

    int cached = !o->force && strcmp(jstr(state, "fingerprint", ""), fp) == 0;
    cJSON *tests = NULL;
    if (cached) {
        cJSON *all = state_as_array(stests);
        tests = cJSON_CreateArray();
        const cJSON *t;
        cJSON_ArrayForEach(t, all)
            if (!stage || strcmp(jstr(t, "suite", ""), jstr(stage, "suite", "")) == 0)
                cJSON_AddItemToArray(tests, cJSON_Duplicate(t, 1));
        cJSON_Delete(all);
    } else {
        char why[PATH_MAX + 200];
        clear_logs(logdir);
        /* The tests mostly wait on sockets, not on the CPU: twice as many
         * workers as cores keeps the cores busy. */
        int jobs = o->jobs > 0 ? o->jobs : 2 * (int)sysconf(_SC_NPROCESSORS_ONLN);
        if (jobs < 2)
            jobs = 2;
        cJSON *report = run_tests(o->tests, o->program, o->stage ? filter : NULL, jobs,
                                  o->timeout > 0 ? o->timeout : 300, logdir, why, sizeof why);
        if (!report) {
            fprintf(stderr, "%sgrade: %s%s\n", RED, why, RESET);
            cJSON_Delete(state);
            return 2;
        }
        /* Criterion reports suites and tests in reverse order: turn them
         * back into the order of the test files. */
        cJSON *rev = cJSON_DetachItemFromObjectCaseSensitive(report, "tests");
        cJSON_Delete(report);
        cJSON *rtests = cJSON_CreateArray();
        for (int k = cJSON_GetArraySize(rev) - 1; k >= 0; k--)
            cJSON_AddItemToArray(rtests, cJSON_DetachItemFromArray(rev, k));
        cJSON_Delete(rev);
        tests = cJSON_CreateArray();
        const cJSON *t;
        int ran = 0;
        cJSON_ArrayForEach(t, rtests)
        {
            if (strcmp(jstr(t, "status", ""), "SKIPPED") == 0)
                continue;
            ran++;
            cJSON_AddItemToArray(tests, cJSON_Duplicate(t, 1));
        }
        if (ran == 0) {
            /* Criterion exits 0 when a filter matches nothing (P14). */
            fprintf(stderr, "%sgrade: no test ran%s (filter %s)\n", RED, RESET,
                    o->stage ? filter : "none");
            cJSON_Delete(rtests);
            cJSON_Delete(tests);
            cJSON_Delete(state);
            return 2;
        }
        if (!o->stage) {
            /* a full run replaces everything: tests may have been renamed */
            cJSON_DeleteItemFromObjectCaseSensitive(state, "tests");
            stests = cJSON_AddObjectToObject(state, "tests");
        }
        merge_results(stests, rtests);
        cJSON_Delete(rtests);
        cJSON_DeleteItemFromObjectCaseSensitive(state, "fingerprint");
        cJSON_AddStringToObject(state, "fingerprint", fp);
        cJSON_DeleteItemFromObjectCaseSensitive(state, "chapter");
        cJSON_AddStringToObject(state, "chapter", ch.dir);
        cJSON_DeleteItemFromObjectCaseSensitive(state, "finished");
        cJSON_AddNumberToObject(state, "finished", (double)time(NULL));
        /* a run of one stage says nothing about the whole chapter */
        if (o->stage) {
            cJSON_DeleteItemFromObjectCaseSensitive(state, "fingerprint");
            cJSON_AddStringToObject(state, "fingerprint", "partial");
        }
        if (write_json(spath, state) < 0)
            fprintf(stderr, "grade: cannot save %s\n", spath);
    }

    int failed = 0, total = 0;
    const cJSON *t;
    cJSON_ArrayForEach(t, tests)
    {
        total++;
        if (strcmp(jstr(t, "status", ""), "PASSED") != 0)
            failed++;
    }
    if (!o->quiet)
        print_board(&ch, tests, o->stage, logdir, 1, cached, rerun_target(impl));
    if (o->synthesis && !cached)
        print_synthesis(logdir);
    cJSON_Delete(tests);
    cJSON_Delete(state);
    return failed || total == 0 ? 1 : 0;
}

static int cmd_hint(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter)
        die("hint needs --chapter");
    find_root(o->chapter);
    load_chapter(&ch, o->chapter);
    int id = o->stage;
    if (!id) {
        /* the first stage that is not passing according to the state */
        char sdir[PATH_MAX], spath[PATH_MAX + 300];
        state_dir(sdir, sizeof sdir);
        snprintf(spath, sizeof spath, "%s/%s-learner.json", sdir, ch.name);
        cJSON *state = read_json(spath);
        cJSON *arr = state_as_array(cJSON_GetObjectItemCaseSensitive(state, "tests"));
        int n = cJSON_GetArraySize(ch.stages);
        struct stage_result *res = calloc((size_t)n, sizeof *res);
        if (!res)
            die("out of memory");
        tally(&ch, arr, n, res);
        id = 1;
        for (int i = 0; i < n; i++) {
            if (res[i].total == 0 || res[i].passed < res[i].total) {
                id = jint(cJSON_GetArrayItem(ch.stages, i), "id", i + 1);
                break;
            }
        }
        free(res);
        cJSON_Delete(arr);
        cJSON_Delete(state);
    }
    const cJSON *st = stage_by_id(&ch, id);
    if (!st) {
        fprintf(stderr, "grade: %s has no stage %d\n", ch.name, id);
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
    printf("Test it: make check CHAPTER=%s STAGE=%d\n", short_name(&ch), id);
    return 0;
}

static int cmd_summary(struct opts *o)
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
        load_chapter(&ch, o->chapters[c]);
        char sdir[PATH_MAX], spath[PATH_MAX + 300];
        state_dir(sdir, sizeof sdir);
        snprintf(spath, sizeof spath, "%s/%s-%s.json", sdir, ch.name,
                 o->impl ? o->impl : "learner");
        cJSON *state = read_json(spath);
        cJSON *arr = state_as_array(cJSON_GetObjectItemCaseSensitive(state, "tests"));

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
        if (!json)
            print_board(&ch, arr, 0, "", 0, 0, "check");
        cJSON_Delete(arr);
        cJSON_Delete(state);
        cJSON_Delete(ch.manifest);
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

/* ---- verify: the workbook's own checks --------------------------------- */

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

static int cmd_verify(struct opts *o)
{
    struct chapter ch;
    if (!o->chapter || !o->solution || !o->stub_report || !o->solution_report)
        die("verify needs --chapter, --solution, --stub-report and --solution-report");
    find_root(o->chapter);
    load_chapter(&ch, o->chapter);
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
    return problems ? 1 : 0;
}

/* ---- main --------------------------------------------------------------- */

static int usage(void)
{
    fprintf(stderr,
            "usage: grade run --chapter DIR --tests BIN --program BIN [--stage N] [--impl NAME]\n"
            "                 [--jobs N] [--timeout S] [--force] [--quiet] [--synthesis]\n"
            "       grade hint --chapter DIR [--stage N]\n"
            "       grade summary --chapters DIR... [--format text|json]\n"
            "       grade verify --chapter DIR --solution DIR --stub-report F --solution-report F\n");
    return 2;
}

static int to_int(const char *s, const char *what)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 100000)
        die("%s must be a number, not \"%s\"", what, s);
    return (int)v;
}

int main(int argc, char **argv)
{
    struct opts o;
    memset(&o, 0, sizeof o);
    if (argc < 2)
        return usage();
    const char *nc = getenv("NO_COLOR");
    color = isatty(STDOUT_FILENO) && !(nc && *nc) && getenv("TERM") &&
            strcmp(getenv("TERM"), "dumb") != 0;

    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(name, field)                                                   \
    if (strcmp(a, name) == 0) {                                             \
        if (!v)                                                             \
            return usage();                                                 \
        field = v;                                                          \
        i++;                                                                \
        continue;                                                           \
    }
        TAKE("--chapter", o.chapter)
        TAKE("--tests", o.tests)
        TAKE("--program", o.program)
        TAKE("--impl", o.impl)
        TAKE("--format", o.format)
        TAKE("--solution", o.solution)
        TAKE("--stub-report", o.stub_report)
        TAKE("--solution-report", o.solution_report)
        if (strcmp(a, "--stage") == 0 || strcmp(a, "--jobs") == 0 ||
            strcmp(a, "--timeout") == 0) {
            if (!v)
                return usage();
            i++; /* parsed below */
            continue;
        }
        if (strcmp(a, "--force") == 0) {
            o.force = 1;
            continue;
        }
        if (strcmp(a, "--quiet") == 0) {
            o.quiet = 1;
            continue;
        }
        if (strcmp(a, "--synthesis") == 0) {
            o.synthesis = 1;
            continue;
        }
        if (strcmp(a, "--chapters") == 0) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) != 0 && o.nchapters < 64)
                o.chapters[o.nchapters++] = argv[++i];
            continue;
        }
        fprintf(stderr, "grade: unknown option %s\n", a);
        return usage();
    }
    /* the numbers */
    for (int i = 2; i + 1 < argc; i++) {
        if (strcmp(argv[i], "--stage") == 0 && *argv[i + 1])
            o.stage = to_int(argv[i + 1], "STAGE");
        else if (strcmp(argv[i], "--jobs") == 0)
            o.jobs = to_int(argv[i + 1], "JOBS");
        else if (strcmp(argv[i], "--timeout") == 0)
            o.timeout = to_int(argv[i + 1], "TIMEOUT");
    }

    if (strcmp(argv[1], "run") == 0)
        return cmd_run(&o);
    if (strcmp(argv[1], "hint") == 0)
        return cmd_hint(&o);
    if (strcmp(argv[1], "summary") == 0)
        return cmd_summary(&o);
    if (strcmp(argv[1], "verify") == 0)
        return cmd_verify(&o);
    return usage();
}
