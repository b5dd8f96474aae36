/* files -- serving files from a folder, safely (stages 4 and 9).
 *
 * The request path is untrusted input: after percent-decoding it must name
 * a file inside --root and nothing else -- not "/../etc/passwd", not
 * "/%2e%2e/etc/passwd", not a symlink that points out of the root. The
 * check that cannot be fooled compares real paths: realpath() of the file
 * must start with realpath() of the root. */
#ifndef FILES_H
#define FILES_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "http.h"

/* Percent-decodes path ("/a%20b" -> "/a b") into out[0..cap), NUL-
 * terminated. Returns the decoded length, -400 for a '%' not followed by
 * two hex digits or a decoded NUL byte, or -414 when out is too small.
 * Decodes once: "%252e" becomes "%2e", not ".". */
int files_decode_path(struct http_slice path, char *out, size_t cap);

/* Maps the decoded request path to a file under root_real (a realpath()).
 * Rejects (-404) a path with a "." or ".." segment or a backslash; resolves the
 * rest with realpath() and rejects (-404) a result outside root_real
 * (symlinks out of the root); a directory means its index.html ("/docs"
 * and "/docs/" alike). On success writes the file's real path into
 * out[0..cap), fills *st and returns 0; -404 when there is no such regular
 * file; -403 when realpath() fails with EACCES: a folder on the way may
 * not be searched. Whether the file itself may be read is not checked
 * here: open() says so, and the handler answers 403 when it fails with
 * EACCES. */
int files_resolve(const char *root_real, const char *decoded, char *out, size_t cap,
                  struct stat *st);

/* The media type for a file name, by its extension, case-insensitive:
 * "text/html; charset=utf-8" for .html and .htm, "text/css; charset=utf-8",
 * "text/javascript; charset=utf-8" for .js, "application/json", "image/png",
 * "image/jpeg" (.jpg, .jpeg), "image/gif", "image/svg+xml", "image/x-icon",
 * "text/plain; charset=utf-8" for .txt, "application/pdf", "application/wasm",
 * and "application/octet-stream" for anything else. */
const char *files_mime(const char *name);

/* A strong entity tag for a file version, quotes included, e.g.
 * "\"5e1f2a-1c8\"": it changes when the size or the modification time
 * does. Writes it into out[0..cap) and returns its length. */
int files_etag(const struct stat *st, char *out, size_t cap);

/* The nanoseconds of a file's modification time, on every system: POSIX
 * names the field st_mtim (Linux), macOS st_mtimespec. The seconds are
 * st_mtime everywhere. */
#if defined(__APPLE__)
#define FILES_MTIME_NSEC(st) ((st)->st_mtimespec.tv_nsec)
#else
#define FILES_MTIME_NSEC(st) ((st)->st_mtim.tv_nsec)
#endif

/* Parses a Range header value for a file of size bytes. Only one range of
 * the "bytes" unit is served: "bytes=0-99", "bytes=100-", "bytes=-100"
 * (the last 100). Returns 1 and sets [*first, *last] (inclusive, clamped to
 * the file); 0 to ignore the header and send the whole file (another unit,
 * several ranges, or a malformed value); -416 when the range starts at or
 * past the end of the file. */
int files_parse_range(struct http_slice v, off_t size, off_t *first, off_t *last);

#endif
