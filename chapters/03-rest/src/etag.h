/* etag -- entity tags and the conditions that compare them (stage 7).
 *
 * An item's ETag is its version in quotes -- "3" -- a strong validator
 * (RFC 9110 section 8.8.3): every change of the item makes a new version,
 * and a version is never given to other content of the same item. A
 * client sends it back in a condition:
 *
 *   If-None-Match: "3"   on GET/HEAD: "send it unless it is still "3"" --
 *                        304 Not Modified, no body (section 13.1.2)
 *   If-Match: "3"        on PUT/PATCH/DELETE: "change it only if it is
 *                        still "3"" -- else 412 Precondition Failed, and
 *                        nothing changes (section 13.1.1): no lost update
 *
 * Both take "*" (any current version) or a list of entity tags, each
 * optionally weak (W/"3"), separated by commas with optional whitespace;
 * empty list elements are allowed (section 5.6.1.2). If-Match compares
 * strongly (a weak tag never matches), If-None-Match weakly (W/"3"
 * matches "3"), section 8.8.3.2. */
#ifndef ETAG_H
#define ETAG_H

#include <stddef.h>
#include <stdint.h>

#include "http.h"

/* "\"<version>\"" into out[0..cap), NUL-terminated. Returns its length,
 * or -1 when it does not fit. */
int etag_format(int64_t version, char *out, size_t cap);

/* Whether one If-Match or If-None-Match field value matches the item at
 * version: 1 when it is "*" or one of its entity tags is the version's --
 * compared strongly, or weakly when weak is 1 --, 0 when none is, -1 when
 * the value is not "*" or a list of at least one entity tag (an opaque
 * tag is DQUOTE, bytes 0x21, 0x23-0x7E or >= 0x80, DQUOTE; "W/" before it
 * makes it weak). */
int etag_match(struct http_slice value, int64_t version, int weak);

#endif
