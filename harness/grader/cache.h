/* cache.h -- the results of the last runs, so that unchanged code is not
 * tested again. One state file per chapter and implementation,
 * $WB_HOME/state/CHAPTER-IMPL.json:
 *
 *   { "chapter": DIR, "finished": UNIX_TIME,
 *     "binaries": FINGERPRINT,          the test and program binaries
 *     "suites": ["echo", ...] or ["*"], what ran against those binaries
 *     "tests": { "suite/name": TEST } } the last result of every test
 *
 * A fingerprint is a hash of the binaries' contents, not of their times:
 * `touch` on a source file rebuilds the same bytes and reuses the results.
 * $WB_SEED, which changes what the tests send, is part of it. */
#ifndef GRADE_CACHE_H
#define GRADE_CACHE_H

#include <cJSON.h>
#include <limits.h>

struct cache {
    char path[PATH_MAX];
    cJSON *state;
    cJSON *tests;   /* the state's "tests" object */
};

/* Reads the state of chapter (name) and impl; an empty one if none. */
void cache_open(struct cache *c, const char *chapter, const char *impl);
void cache_close(struct cache *c);
int cache_save(struct cache *c);

/* The fingerprint of the binaries a run uses (program may be NULL). */
void cache_fingerprint(char *out, size_t cap, const char *tests, const char *program);

/* Did the suite (NULL: every suite) run against binaries with this
 * fingerprint? Then its results stand. */
int cache_fresh(const struct cache *c, const char *fp, const char *suite);

/* The recorded tests as an array (a copy), only suite's when not NULL. */
cJSON *cache_tests(const struct cache *c, const char *suite);

/* Records a run's tests. suite names what ran ("*" for everything: then
 * tests no longer in the report are forgotten). */
void cache_record(struct cache *c, const char *fp, const char *suite, const cJSON *tests,
                  const char *chapter_dir);

#endif
