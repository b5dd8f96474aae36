/* util.h -- what every part of the grader shares: colours, files, JSON
 * fields, text layout, and where the workbook and its state live. */
#ifndef GRADE_UTIL_H
#define GRADE_UTIL_H

#include <cJSON.h>
#include <stddef.h>
#include <stdint.h>

/* Colours are on when stdout is a terminal and NO_COLOR is unset. */
extern int color;
void util_init_color(void);
const char *c_on(const char *code);
#define RED c_on("\033[31m")
#define GREEN c_on("\033[32m")
#define YELLOW c_on("\033[33m")
#define BOLD c_on("\033[1m")
#define DIM c_on("\033[2m")
#define RESET c_on("\033[0m")

/* Prints "grade: ..." to stderr and exits 2 (a usage or setup error). */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* The whole file, NUL-terminated; NULL when it cannot be read. Caller frees. */
char *read_file(const char *path, size_t *len_out);
cJSON *read_json(const char *path);
/* Writes through a temporary file and rename(): never half a file. */
int write_json(const char *path, const cJSON *j);
void mkdirs(const char *path);

/* A member's value, or dflt when it is missing or of another type. */
const char *jstr(const cJSON *o, const char *key, const char *dflt);
int jint(const cJSON *o, const char *key, int dflt);

/* The workbook root (the folder holding harness/), found above dir. */
extern char root[4096];
void find_root(const char *dir);
/* $WB_HOME, else .workbook/ at the root: progress, logs, backups. */
void home_dir(char *out, size_t cap);

/* FNV-1a, 64 bits: h (FNV_START at first) with p[0..n) folded in. A
 * fingerprint, not a secure hash. */
#define FNV_START 14695981039346656037ULL
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* Prints indent before every line of text, at most max_lines lines. */
void print_indented(const char *text, const char *indent, int max_lines);
/* Prints text wrapped at width columns; col is where the cursor is now. */
void print_wrapped(const char *text, const char *indent, int width, int col);

#endif
