/* files -- mapping request paths to files under the root, and the
 * metadata HTTP needs about them. See files.h. */
#include "files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PATH_MAX
#define PATH_MAX 4096
#endif

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int files_decode_path(struct http_slice path, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return -414;
    for (size_t i = 0; i < path.n; i++) {
        char c = path.p[i];
        if (c == '%') {
            if (i + 2 >= path.n)
                return -400; /* fewer than two bytes after the '%' */
            int a = hexval(path.p[i + 1]), b = hexval(path.p[i + 2]);
            if (a < 0 || b < 0)
                return -400;
            c = (char)(a << 4 | b);
            if (c == '\0')
                return -400; /* C strings end at NUL: "/a%00.html" lies */
            i += 2;
        }
        if (o + 1 >= cap)
            return -414;
        out[o++] = c;
    }
    out[o] = '\0';
    return (int)o;
}

/* Does the path hold a "." or ".." segment, or a backslash? */
static int suspicious(const char *p)
{
    if (strchr(p, '\\'))
        return 1;
    const char *s = p;
    while (*s) {
        while (*s == '/')
            s++;
        const char *e = strchr(s, '/');
        size_t n = e ? (size_t)(e - s) : strlen(s);
        if ((n == 2 && s[0] == '.' && s[1] == '.') || (n == 1 && s[0] == '.'))
            return 1;
        s += n;
    }
    return 0;
}

/* Is path equal to root or inside it? Both are real paths. */
static int inside(const char *root, const char *path)
{
    size_t n = strlen(root);
    if (strncmp(path, root, n) != 0)
        return 0;
    return path[n] == '\0' || path[n] == '/' || (n == 1 && root[0] == '/');
}

int files_resolve(const char *root_real, const char *decoded, char *out, size_t cap,
                  struct stat *st)
{
    char joined[PATH_MAX * 2], real[PATH_MAX];

    if (decoded[0] != '/' || suspicious(decoded))
        return -404;
    if ((size_t)snprintf(joined, sizeof joined, "%s%s", root_real, decoded) >= sizeof joined)
        return -404;
    /* realpath() follows every symlink: what it returns is where the bytes
     * really come from, and that must be inside the root. */
    if (!realpath(joined, real))
        return errno == EACCES ? -403 : -404;
    /* (Whether the file can be read is for open() to say: -403 there.) */
    if (!inside(root_real, real) || stat(real, st) < 0)
        return -404;
    if (S_ISDIR(st->st_mode)) {
        size_t n = strlen(real);
        if (n + sizeof "/index.html" > sizeof real)
            return -404;
        memcpy(real + n, "/index.html", sizeof "/index.html");
        char again[PATH_MAX];
        if (!realpath(real, again))
            return errno == EACCES ? -403 : -404;
        if (!inside(root_real, again) || stat(again, st) < 0)
            return -404;
        memcpy(real, again, strlen(again) + 1);
    }
    if (!S_ISREG(st->st_mode))
        return -404;
    if (strlen(real) + 1 > cap)
        return -404;
    memcpy(out, real, strlen(real) + 1);
    return 0;
}

const char *files_mime(const char *name)
{
    static const struct {
        const char *ext, *type;
    } types[] = {
        { "html", "text/html; charset=utf-8" },  { "htm", "text/html; charset=utf-8" },
        { "css", "text/css; charset=utf-8" },    { "js", "text/javascript; charset=utf-8" },
        { "json", "application/json" },          { "png", "image/png" },
        { "jpg", "image/jpeg" },                 { "jpeg", "image/jpeg" },
        { "gif", "image/gif" },                  { "svg", "image/svg+xml" },
        { "ico", "image/x-icon" },               { "txt", "text/plain; charset=utf-8" },
        { "pdf", "application/pdf" },            { "wasm", "application/wasm" },
    };
    const char *slash = strrchr(name, '/');
    const char *dot = strrchr(slash ? slash : name, '.');
    if (dot) {
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
            const char *a = dot + 1, *b = types[i].ext;
            while (*a && *b && (*a | 0x20) == *b)
                a++, b++;
            if (!*a && !*b)
                return types[i].type;
        }
    }
    return "application/octet-stream";
}

int files_etag(const struct stat *st, char *out, size_t cap)
{
    /* size and mtime (with nanoseconds where the system has them): a new
     * version of the file gets a new tag. */
    return snprintf(out, cap, "\"%llx-%llx-%lx\"", (unsigned long long)st->st_size,
                    (unsigned long long)st->st_mtime, (unsigned long)FILES_MTIME_NSEC(st));
}

/* Parses 1*DIGIT from [*p, end) into *v. Returns 0, or -1. */
static int number(const char **p, const char *end, off_t *v)
{
    const char *s = *p;
    long long n = 0;
    if (s == end || *s < '0' || *s > '9')
        return -1;
    while (s < end && *s >= '0' && *s <= '9') {
        if (n > (LLONG_MAX - 9) / 10)
            return -1;
        n = n * 10 + (*s++ - '0');
    }
    *v = (off_t)n;
    *p = s;
    return 0;
}

int files_parse_range(struct http_slice v, off_t size, off_t *first, off_t *last)
{
    const char *p = v.p, *end = v.p + v.n;
    off_t a = -1, b = -1;

    if (v.n < 6 || memcmp(p, "bytes=", 6) != 0)
        return 0;
    p += 6;
    if (memchr(p, ',', (size_t)(end - p)))
        return 0; /* several ranges: multipart/byteranges is not served */
    if (p < end && *p == '-') {
        p++;
        if (number(&p, end, &b) < 0 || p != end)
            return 0;
        /* suffix: the last b bytes; none of an empty file, or of zero */
        if (b == 0 || size == 0)
            return -416;
        *first = b >= size ? 0 : size - b;
        *last = size - 1;
        return 1;
    }
    if (number(&p, end, &a) < 0 || p == end || *p != '-')
        return 0;
    p++;
    if (p != end && (number(&p, end, &b) < 0 || p != end))
        return 0;
    if (b >= 0 && b < a)
        return 0; /* invalid: ignore it (RFC 9110 section 14.1.1) */
    if (a >= size)
        return -416;
    *first = a;
    *last = (b < 0 || b >= size) ? size - 1 : b;
    return 1;
}
