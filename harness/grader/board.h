/* board.h -- the scoreboard: one line per stage, and for the first failing
 * stage the failing tests with what was sent, expected and received, the
 * output of the tests, the hint and the command that reruns the stage. */
#ifndef GRADE_BOARD_H
#define GRADE_BOARD_H

#include <cJSON.h>

#include "manifest.h"

struct stage_result {
    int passed, total;
};

/* Counts passed and run tests per stage (res has one entry per stage, in
 * manifest order). Returns the number of stages that pass. */
int board_tally(const struct chapter *ch, const cJSON *tests, struct stage_result *res);

/* The index of the first stage that does not pass (not run counts), or -1
 * when every stage passes. */
int board_first_open(const struct chapter *ch, const cJSON *tests);

struct board {
    int only_stage;      /* > 0: that stage alone ("stage 3: 7/10 tests") */
    int details;         /* explain the first failing stage */
    int shown_stage;     /* > 0: its details were printed already */
    int cached;          /* the results come from an earlier run */
    const char *logdir;  /* per-test logs, for the output of failed tests */
    const char *target;  /* the make target that reruns: "check", "tsan" */
    const char *layers;  /* the earlier layers it was built on, or NULL */
};

void board_print(const struct chapter *ch, const cJSON *tests, const struct board *b);

/* "tsan" for the results of a ThreadSanitizer run (NAME-tsan), else "check". */
const char *board_rerun_target(const char *impl);

/* What comes after a chapter whose every stage passes: "make check
 * CHAPTER=http" or the roadmap when it is the last one. */
void board_print_next_chapter(const struct chapter *ch);

#endif
