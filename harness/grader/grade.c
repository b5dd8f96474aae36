/* grade -- runs a chapter's tests and turns the results into a per-stage
 * scoreboard that tells the learner what to do next.
 *
 *   grade run     --chapter DIR --tests BIN --program BIN [--stage N]
 *                 [--impl NAME] [--build CMD] [--uses "CH/MOD ..."] [--own DIR]
 *                 [--jobs N] [--timeout S] [--force] [--quiet] [--synthesis]
 *   grade hint    --chapter DIR [--stage N]
 *   grade files   --chapter DIR --stage N        (one path per line, for scripts)
 *   grade compare --chapter DIR [--stage N]
 *   grade watch   --command CMD --watch DIR... [--chapter DIR]
 *   grade summary --chapters DIR... [--format text|json] [--impl NAME]
 *   grade verify  --chapter DIR --solution DIR --stub-report F --solution-report F
 *
 * The modules: manifest (the chapter's stages), runner (the build and the
 * Criterion run, as children under a deadline), cache (results by content
 * fingerprint), board (the scoreboard), and one file per command group
 * (commands.c, compare.c, watch.c, verify.c). Test results come from the
 * JSON report the harness's Criterion hook writes (harness/lib/report.c);
 * the grader never parses Criterion's human output. State and logs live in
 * $WB_HOME (default .workbook/ under the workbook root), which git ignores.
 *
 * Exit status: 0 when what was asked holds; 1 when a test fails; 2 on a
 * usage or setup error; 130 when interrupted. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "util.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: grade run --chapter DIR --tests BIN --program BIN [--stage N] [--impl NAME]\n"
            "                 [--build CMD] [--uses \"CH/MOD ...\"] [--own DIR]\n"
            "                 [--jobs N] [--timeout S] [--force] [--quiet] [--synthesis]\n"
            "       grade hint --chapter DIR [--stage N]\n"
            "       grade files --chapter DIR --stage N\n"
            "       grade compare --chapter DIR [--stage N]\n"
            "       grade watch --command CMD --watch DIR... [--chapter DIR]\n"
            "       grade summary --chapters DIR... [--format text|json] [--impl NAME]\n"
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
    util_init_color();

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
#define FLAG(name, field)                                                   \
    if (strcmp(a, name) == 0) {                                             \
        field = 1;                                                          \
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
        TAKE("--build", o.build)
        TAKE("--uses", o.uses)
        TAKE("--command", o.command)
        TAKE("--own", o.own)
        FLAG("--force", o.force)
        FLAG("--quiet", o.quiet)
        FLAG("--synthesis", o.synthesis)
        if (strcmp(a, "--watch") == 0) {
            if (!v || o.nwatch == 16)
                return usage();
            o.watch[o.nwatch++] = v;
            i++;
            continue;
        }
        int *num = strcmp(a, "--stage") == 0     ? &o.stage
                   : strcmp(a, "--jobs") == 0    ? &o.jobs
                   : strcmp(a, "--timeout") == 0 ? &o.timeout
                                                 : NULL;
        if (num) {
            if (!v)
                return usage();
            if (*v) /* STAGE= on make's command line passes "" */
                *num = to_int(v, a + 2);
            i++;
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

    static const struct {
        const char *name;
        int (*fn)(struct opts *);
    } commands[] = {
        {"run", cmd_run},         {"hint", cmd_hint},       {"files", cmd_files},
        {"compare", cmd_compare}, {"watch", cmd_watch},     {"summary", cmd_summary},
        {"verify", cmd_verify},
    };
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++)
        if (strcmp(argv[1], commands[k].name) == 0)
            return commands[k].fn(&o);
    return usage();
}
