/* wbreuse -- a later chapter runs an earlier chapter's tests again.
 *
 * Chapter 04 keeps chapter 03's API and replaces its store: 03's tests
 * of the API must pass again on the database. They are not copied:
 * chapter.mk compiles the files a chapter names in REUSE_TESTS with this
 * header forced in first (-include), and WB_REUSE_SUITE set to the suite
 * of the stage that reruns them. Here every Test(suite, name) of those
 * files becomes Test(WB_REUSE_SUITE, suite__name) -- "items/creates_..."
 * runs as "persist/items__creates_..." -- and their WB_SUITE()
 * declarations become nothing: the later chapter declares
 * WB_REUSE_SUITE once, in its own test file. Their unit tests
 * (WB_UNIT_TEST) are left out. Combined with WB_START_ARGS
 * (wbtest.h), the tests start the later chapter's program with its own
 * arguments. */
#ifndef WBREUSE_H
#define WBREUSE_H

/* The earlier chapter's unit tests (WB_UNIT_TEST) test its own code, not
 * this chapter's: their bodies become unused functions. */
#define WB_UNIT_TEST(Suite, Name, ...)                                                  \
    __attribute__((unused)) static void wb_reuse_skipped_##Suite##__##Name(void)

#include <criterion/criterion.h>

#include "wbtest.h"

#ifndef WB_REUSE_SUITE
#error "wbreuse.h needs -DWB_REUSE_SUITE=<the suite that reruns the tests>"
#endif

/* Criterion turns the suite into a string before expanding it: one more
 * macro level, so that WB_REUSE_SUITE is replaced by its value first. */
#define WB_REUSE_TEST(Suite, Name, ...) CR_EXPAND(CR_TEST_BASE(Suite, Name, __VA_ARGS__))
#undef Test
#define Test(Suite, Name, ...)                                                          \
    WB_REUSE_TEST(WB_REUSE_SUITE, Suite##__##Name, ##__VA_ARGS__, .sentinel_ = 0)

#undef WB_SUITE
#define WB_SUITE(Name) struct wb_reused_suite_##Name

#endif
