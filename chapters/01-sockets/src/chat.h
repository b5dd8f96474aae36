/* chat -- a chat room for many clients at once (stage 6).
 *
 * "Budget Chat" from Protohackers, a line protocol (lines.h framing):
 *
 *   server -> new client   "Welcome to budgetchat! What shall I call you?\n"
 *   client                 its name: 1 to CHAT_NAME_MAX letters or digits;
 *                          a bad name gets "* illegal name\n", a name someone
 *                          in the room has gets "* name taken\n"; then close
 *   server -> new member   "* The room contains: alice, bob\n" (the others,
 *                          in the order they joined -- which is not always
 *                          the order they connected; nothing after ": "
 *                          when the room is empty)
 *   server -> the others   "* carol has entered the room\n"
 *   member                 "hi all"        (any line)
 *   server -> the others   "[carol] hi all\n"
 *   member hangs up        "* carol has left the room\n" to the others
 *
 * A '\r' before the '\n' is dropped. A line longer than LINES_MAX closes
 * the connection (a member who is dropped that way has left the room).
 * Clients that have not given a valid name yet see and send nothing.
 *
 * A member that does not read is a slow consumer: once more than the
 * loop's out_max bytes wait for it (loop_send), it is dropped, and the
 * others see "* NAME has left the room". The server never buffers the
 * room's traffic without end for one member. */
#ifndef CHAT_H
#define CHAT_H

#include <stddef.h>

#include "loop.h"

#define CHAT_NAME_MAX 16

/* 1 when name[0..len) is 1 to CHAT_NAME_MAX ASCII letters or digits, else 0. */
int chat_valid_name(const char *name, size_t len);

/* The "chat" service. Its state lives in each connection's data; the room
 * is every connection of the loop (loop_conn()) that has joined. */
extern const struct service chat_service;

#endif
