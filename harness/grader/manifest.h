/* manifest.h -- a chapter and its stages, read from DIR/manifest.json:
 *
 *   { "title": "Sockets", "short": "sockets",
 *     "stages": [ { "id": 1, "suite": "listen", "title": "Listen and accept",
 *                   "files": ["src/net.c"], "hint": "...",
 *                   "compare": "what to look for in the reference" } ],
 *     (make compare shows the note; make test wants one per stage)
 *     "passes_on_stub": [ { "test": "suite/name", "why": "..." } ] }
 *
 * Stage ids run 1..n in order; each stage's tests are one Criterion suite. */
#ifndef GRADE_MANIFEST_H
#define GRADE_MANIFEST_H

#include <cJSON.h>
#include <limits.h>

struct chapter {
    char dir[PATH_MAX];  /* absolute */
    char name[128];      /* "01-sockets" */
    cJSON *manifest;
    cJSON *stages;       /* the manifest's array */
};

/* Reads DIR/manifest.json; exits 2 with a message when it cannot. */
void chapter_load(struct chapter *ch, const char *dir);
void chapter_free(struct chapter *ch);

int chapter_nstages(const struct chapter *ch);
/* The short name learners type: "sockets" for "01-sockets". */
const char *chapter_short(const struct chapter *ch);
const char *chapter_title(const struct chapter *ch);
/* The stage with this id, or the one whose suite this is; NULL if none. */
cJSON *stage_by_id(const struct chapter *ch, int id);
cJSON *stage_of_suite(const struct chapter *ch, const char *suite);
/* The stage's id, or fallback when it has none. */
int stage_id(const cJSON *stage, int fallback);

#endif
