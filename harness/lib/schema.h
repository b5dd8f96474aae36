/* schema -- checks JSON values against JSON Schemas, for tests: the
 * schemas of an OpenAPI 3.1 document (JSON Schema 2020-12) against what a
 * server answered.
 *
 * Chapter 03's contract tests check every body the server sends against
 * its openapi.json with it; chapters 04 and 05 reuse it for theirs. It
 * takes the part of JSON Schema that API descriptions use:
 *
 *   type         a name or a list of names; "integer" is a number with no
 *                fraction (3 and 3.0 are integers, 3.5 is not)
 *   enum, const  equality as JSON (1 equals 1.0; members in any order)
 *   object       properties, required, additionalProperties (false or a
 *                schema), minProperties, maxProperties
 *   array        items (one schema for every element), minItems,
 *                maxItems, uniqueItems
 *   string       minLength, maxLength (in Unicode code points, not bytes),
 *                pattern (see below)
 *   number       minimum, maximum, exclusiveMinimum, exclusiveMaximum,
 *                multipleOf
 *   combining    allOf, anyOf, oneOf, not; $ref (see below)
 *   true, false  the schemas that accept everything and nothing
 *
 * Annotations (description, title, default, examples, format, readOnly,
 * deprecated, x-..., any keyword it does not know) are ignored, as JSON
 * Schema says: "format": "date-time" is not checked -- give such a string
 * a pattern. The assertions it does not implement (if/then/else,
 * prefixItems, contains, patternProperties, propertyNames, dependent*,
 * unevaluated*, $dynamicRef) are refused as SCHEMA_BAD, never skipped
 * silently.
 *
 * Differences from a full validator, on purpose:
 *   - pattern is a POSIX extended regular expression (regcomp, REG_EXTENDED),
 *     matched anywhere in the string unless anchored, as in JSON Schema.
 *     The patterns of an API description should be ones that ECMA-262 (what
 *     JSON Schema specifies) and POSIX ERE read the same way: character
 *     classes like [0-9], ranges, groups, ^ $ ? * + {m,n} and |; no \d,
 *     no lookahead, no \ inside brackets. It runs on bytes, so a pattern
 *     should not count multi-byte characters.
 *   - $ref takes the form "#/json/pointer" only, resolved in the document
 *     root (the whole OpenAPI document). Keywords beside a $ref apply too
 *     (2020-12).
 *   - An object that names a member twice is invalid (I-JSON, RFC 7493
 *     section 2.3): a server must not send one, and cJSON would keep both.
 *
 * Nothing here fails the test or allocates beyond a check: it only says
 * yes or no, and why. */
#ifndef SCHEMA_H
#define SCHEMA_H

#include <stddef.h>

#include <cJSON.h>

#define SCHEMA_OK 0
#define SCHEMA_INVALID (-1) /* the value breaks the schema */
#define SCHEMA_BAD (-2)     /* the schema itself cannot be used (see why) */

/* Checks value against schema. root is the document $refs are resolved in
 * (it may be schema itself, or NULL when the schema has no $ref); schema
 * and value are borrowed and not changed.
 *
 * Returns SCHEMA_OK when value is valid. SCHEMA_INVALID when it is not:
 * why[0..whylen) then says where and which rule, starting with the JSON
 * Pointer (RFC 6901) of the first offending place in value, then what is
 * wrong there, then the rule and where it is in root, as in
 *
 *   at "/items/0/qty": 3.5 is not an integer (rule "type": "integer" at
 *   #/components/schemas/Qty)
 *
 * SCHEMA_BAD when the schema cannot be applied: a $ref that resolves to
 * nothing, a pattern regcomp() refuses, an assertion keyword this module
 * does not implement, a keyword whose value has the wrong type, $refs
 * nested deeper than SCHEMA_MAX_DEPTH (a loop), or memory that ran out;
 * why says which and where. why may be NULL (whylen 0); it is always
 * NUL-terminated when whylen > 0, cut when the message is longer. */
int schema_check(const cJSON *root, const cJSON *schema, const cJSON *value, char *why,
                 size_t whylen);

/* Nesting of schemas (through properties, items, $ref, oneOf ...) that
 * schema_check() follows before it gives up with SCHEMA_BAD. */
#define SCHEMA_MAX_DEPTH 128

/* The node of root that ref names: "#" is root itself, "#/a/b~1c/0"
 * follows member "a", member "b/c", element 0 (RFC 6901: ~1 is /, ~0 is
 * ~; a %XX escape of the URI fragment is decoded first, so "#/paths/
 * ~1items~1%7Bid%7D" and "#/paths/~1items~1{id}" are the same). Returns a
 * node borrowed from root, or NULL when ref is not of that form or names
 * nothing. */
const cJSON *schema_resolve(const cJSON *root, const char *ref);

#endif
