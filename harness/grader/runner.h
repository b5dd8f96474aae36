/* runner.h -- runs a chapter's build and its Criterion test program, each as
 * a child the grader controls: an outer deadline, a process group killed as
 * a whole, and Ctrl-C (SIGINT, SIGTERM, SIGHUP) passed on so that no test,
 * and no program a test started, outlives the grader. */
#ifndef GRADE_RUNNER_H
#define GRADE_RUNNER_H

#include <cJSON.h>
#include <stddef.h>

struct run {
    const char *tests;   /* the Criterion test program */
    const char *program; /* passed to the tests as $WB_PROGRAM; may be NULL */
    const char *filter;  /* a Criterion --filter pattern; NULL runs all */
    const char *logdir;  /* criterion.txt, report files, per-test logs */
    const char *tag;     /* names this run's report file: report-TAG.json */
    int append_log;      /* append to criterion.txt instead of starting it */
    int jobs;            /* Criterion workers */
    int timeout_s;       /* the outer deadline for the whole run */
};

/* Runs the tests. Returns the tests that ran (skipped ones left out), in
 * the order of the test files; NULL with why set when there is no report
 * (no program, a timeout, a crash of Criterion itself, an interrupt). */
cJSON *runner_run(const struct run *r, char *why, size_t whylen);

/* Runs a build command with sh -c. Its output is passed through, but for
 * make's own "make[N]: *** [...] Error N" lines: the compiler's messages
 * are the ones that matter. Returns the command's exit status. */
int runner_build(const char *cmd);

/* Removes the per-test logs (*.log) in dir: a full run starts clean. */
void runner_clear_logs(const char *dir);

/* Set once SIGINT, SIGTERM or SIGHUP arrived while a child ran; the child's
 * whole process group has been stopped by then. */
int runner_interrupted(void);

#endif
