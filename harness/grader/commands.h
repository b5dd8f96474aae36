/* commands.h -- the grader's commands, one function each; main() (grade.c)
 * parses the options into struct opts. Each returns the exit status:
 * 0 when what was asked holds, 1 when a test fails or a stage does not pass
 * yet, 2 on a usage or setup error, 130 when interrupted. */
#ifndef GRADE_COMMANDS_H
#define GRADE_COMMANDS_H

struct opts {
    const char *chapter, *tests, *program, *impl, *format, *solution;
    const char *stub_report, *solution_report;
    const char *build;      /* run: the command that builds both programs */
    const char *uses;       /* run: the earlier layers, "01-sockets/net ..." */
    const char *own;        /* run: the learner's chapters, when built on them */
    const char *command;    /* watch: the command to rerun */
    const char *watch[16];  /* watch: the folders to watch */
    int nwatch;
    const char *chapters[64];
    int nchapters;
    int stage, jobs, timeout, force, quiet, synthesis;
};

int cmd_run(struct opts *o);      /* build, run the tests, show the board */
int cmd_hint(struct opts *o);     /* the hint of the next (or a given) stage */
int cmd_files(struct opts *o);    /* a stage's files, one per line (for scripts) */
int cmd_summary(struct opts *o);  /* the board of every chapter (make grade) */
int cmd_compare(struct opts *o);  /* your code for a passed stage beside the reference */
int cmd_watch(struct opts *o);    /* rerun a command whenever a file is saved */
int cmd_verify(struct opts *o);   /* the workbook's own checks on a chapter */

#endif
