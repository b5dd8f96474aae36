/* report -- writes the test results as valid JSON for the grader.
 *
 * Criterion's own --json output is not valid JSON when a message holds a
 * quote, a backslash or a tab (it does not escape them), so this report hook
 * builds the file with cJSON instead. It runs in the runner process after
 * all tests, and writes to $CR_REPORT when that is set. */
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/stats.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>

static const char *status_name(const struct criterion_test_stats *t)
{
    if (t->test_status == CR_STATUS_SKIPPED)
        return "SKIPPED";
    if (t->timed_out)
        return "TIMEOUT";
    if (t->crashed)
        return "CRASHED";
    return t->test_status == CR_STATUS_PASSED ? "PASSED" : "FAILED";
}

ReportHook(POST_ALL)(struct criterion_global_stats *gs)
{
    const char *path = getenv("CR_REPORT");
    if (!path || !*path)
        return;

    cJSON *root = cJSON_CreateObject();
    cJSON *tests = cJSON_AddArrayToObject(root, "tests");
    for (struct criterion_suite_stats *ss = gs->suites; ss; ss = ss->next) {
        for (struct criterion_test_stats *ts = ss->tests; ts; ts = ts->next) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "suite", ts->test->category);
            cJSON_AddStringToObject(t, "name", ts->test->name);
            cJSON_AddStringToObject(t, "status", status_name(ts));
            cJSON_AddNumberToObject(t, "time_s", ts->elapsed_time);
            if (ts->crashed)
                cJSON_AddNumberToObject(t, "signal", ts->signal);
            cJSON_AddNumberToObject(t, "exit_code", ts->exit_code);
            if (ts->test->data && ts->test->data->description)
                cJSON_AddStringToObject(t, "description",
                                        ts->test->data->description);
            cJSON *fails = cJSON_AddArrayToObject(t, "failures");
            for (struct criterion_assert_stats *a = ts->asserts; a; a = a->next) {
                if (a->passed)
                    continue;
                cJSON *f = cJSON_CreateObject();
                cJSON_AddStringToObject(f, "file", a->file ? a->file : "");
                cJSON_AddNumberToObject(f, "line", a->line);
                cJSON_AddStringToObject(f, "message", a->message ? a->message : "");
                cJSON_AddItemToArray(fails, f);
            }
            cJSON_AddItemToArray(tests, t);
        }
    }
    cJSON_AddNumberToObject(root, "total", (double)gs->nb_tests);
    cJSON_AddNumberToObject(root, "passed", (double)gs->tests_passed);

    char *s = cJSON_Print(root);
    FILE *f = fopen(path, "w");
    if (f && s) {
        fputs(s, f);
        fputc('\n', f);
    }
    if (f)
        fclose(f);
    free(s);
    cJSON_Delete(root);
}
