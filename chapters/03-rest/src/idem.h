/* idem -- the Idempotency-Key field of POST /items (stage 8).
 *
 * A client that sends POST and loses the answer (a timeout, a dropped
 * connection) cannot know whether the item was created. Sending the same
 * POST again could create it twice. With a key -- a random string the
 * client makes once per operation and sends with every try --
 *
 *   Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324"
 *
 * the server creates the item once and answers every retry with the first
 * answer (the IETF httpapi draft "The Idempotency-Key HTTP Header Field").
 * The field is a Structured Field string (RFC 8941 section 3.3.3): double
 * quotes around printable ASCII, in which only \" and \\ are escapes. */
#ifndef IDEM_H
#define IDEM_H

#include <stddef.h>

#include "http.h"

/* Reads the key of an Idempotency-Key field value: spaces around it, then
 * a string of 1 to cap - 1 characters (bytes 0x20-0x7E, '"' and '\'
 * written \" and \\), nothing after it. Writes the key unescaped and
 * NUL-terminated into key[0..cap). Returns its length, or -1 when the
 * value is not such a string (unquoted, empty, too long, another escape,
 * a byte outside 0x20-0x7E, anything after the closing quote). */
int idem_key(struct http_slice value, char *key, size_t cap);

#endif
