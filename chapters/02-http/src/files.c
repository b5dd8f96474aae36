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

int files_decode_path(struct http_slice path, char *out, size_t cap)
{
    /* TODO(stage 4): copy path to out, turning each "%XY" (two hex
     * digits, any case) into the byte 0xXY. A '%' without two hex digits
     * after it, or a decoded NUL, is -400; not enough room is -414.
     * Decode once only. NUL-terminate out; return its length. */
    (void)path;
    (void)out;
    (void)cap;
    return -400;
}

int files_resolve(const char *root_real, const char *decoded, char *out, size_t cap,
                  struct stat *st)
{
    /* TODO(stage 4): the safety check of the whole server.
     *  1. decoded must start with '/', hold no backslash and no "." or
     *     ".." segment: else -404.
     *  2. realpath() of root_real + decoded (it follows symlinks). It
     *     failing with EACCES (a folder on the way may not be searched)
     *     is -403; failing otherwise (no such file) is -404. The result
     *     must be root_real itself or start with root_real + "/": else
     *     -404 (a symlink pointing out of the root).
     *  3. A directory: the same for its "index.html".
     *  4. Only a regular file (S_ISREG) is served: else -404.
     * Whether the file itself may be read is not checked here: open() in
     * handler_serve() says so (EACCES there is 403).
     * Copy the real path to out, fill *st (stat()), return 0. */
    (void)root_real;
    (void)decoded;
    (void)out;
    (void)cap;
    (void)st;
    return -404;
}

const char *files_mime(const char *name)
{
    /* TODO(stage 4): look at the extension after the last '.' of the last
     * path segment, without regard to case; see files.h for the table. */
    (void)name;
    return "";
}

int files_etag(const struct stat *st, char *out, size_t cap)
{
    /* TODO(stage 9): a quoted tag built from st_size, st_mtime (seconds)
     * and FILES_MTIME_NSEC(st) (nanoseconds), e.g. "\"6-5e1f2a3b-1c8\""
     * with snprintf and %llx. */
    (void)st;
    if (cap)
        out[0] = '\0';
    return 0;
}

int files_parse_range(struct http_slice v, off_t size, off_t *first, off_t *last)
{
    /* TODO(stage 9): "bytes=A-B", "bytes=A-", "bytes=-N"; see files.h. */
    (void)v;
    (void)size;
    (void)first;
    (void)last;
    return 0;
}
