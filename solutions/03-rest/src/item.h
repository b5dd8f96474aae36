/* item -- an item as JSON, both ways (stages 2 and 4), and merge patches
 * (stage 5).
 *
 * Out: {"id":7,"name":"pear","qty":3,"price":1.25,"tags":["fruit"],
 *       "version":1,"created_at":"2026-12-02T10:00:00.123Z",
 *       "updated_at":"2026-12-02T10:00:00.123Z"} -- every member, always.
 * In: an object with "name" (required), "qty", "price" and "tags"; the
 * server owns id, version and the times, so a client that sends them is
 * refused (stage 4). */
#ifndef ITEM_H
#define ITEM_H

#include <cJSON.h>

#include "store.h"

/* The most members an object in a body or a patch may have. An item has
 * four; a body with thousands of members is refused whole, before any
 * work per member -- checking each name against the ones before it costs
 * n * n / 2 comparisons, 50 million for 10,000 members: a tenth of a
 * second of the server's only thread for one request of 100 KB. */
#define ITEM_MEMBERS_MAX 32

/* The JSON object of it; NULL when memory ran out. The caller deletes it. */
cJSON *item_to_json(const struct item *it);

/* Reads the members a client may send from body, a parsed request body,
 * into out (zeroed first; the caller item_free()s it on both results).
 * Every member the client left out gets its default: qty 0, price 0, no
 * tags. Returns 0 when body is a valid item. Otherwise -1, and errors --
 * a JSON array -- gets one object per thing wrong, in the order of the
 * members, {"pointer":"/qty","detail":"must be an integer from 0 to
 * 2147483647"}; a body that is not an object, or an object of more than
 * ITEM_MEMBERS_MAX members, gets one error with the pointer "" (the whole
 * document). */
int item_from_json(const cJSON *body, struct item *out, cJSON *errors);

/* Applies an RFC 7396 merge patch to *target (stage 5): when patch is an
 * object, each member of it replaces the target's member of that name --
 * merged in turn when both are objects --, and a member whose value is
 * null removes it; any other patch (an array, a string, null, ...)
 * replaces the whole target. *target is the caller's tree, changed in
 * place or replaced (the old one freed). A patch object that names a
 * member twice, or one of more than ITEM_MEMBERS_MAX members (the patch
 * itself, or an object in it that would be merged), is refused: -1 with
 * an error for it in errors, and *target unchanged. Returns 0, or -1
 * (memory ran out: errors stays empty). */
int item_merge_patch(cJSON **target, const cJSON *patch, cJSON *errors);

#endif
