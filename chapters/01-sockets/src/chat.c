/* chat -- the "Budget Chat" room. See chat.h.
 *
 * The room has no list of its own: its members are the loop's connections
 * (loop_nconns(), loop_conn()) whose member state says "joined". One
 * source of truth means a member can never stay in the room after its
 * connection is gone. */
#include "chat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lines.h"

struct member {
    int joined;                    /* 1 once a valid name was given */
    unsigned long long ticket;     /* joined: its place in the join order */
    char name[CHAT_NAME_MAX + 1];  /* NUL-terminated once joined */
};

int chat_valid_name(const char *name, size_t len)
{
    /* TODO(stage 6): 1 to CHAT_NAME_MAX bytes, each 'a'-'z', 'A'-'Z' or
     * '0'-'9'. (isalnum() depends on the locale: compare ranges.) */
    (void)name;
    (void)len;
    return 0;
}

static int chat_on_open(struct loop *l, struct conn *c)
{
    /* TODO(stage 6): calloc() a struct member into c->data and queue
     * "Welcome to budgetchat! What shall I call you?\n" with loop_send(). */
    (void)l;
    (void)c;
    return LOOP_CLOSE;
}

static int chat_on_data(struct loop *l, struct conn *c)
{
    /* TODO(stage 6): take whole lines with lines_find() (drop a '\r'
     * before the '\n'; a line longer than LINES_MAX closes).
     *
     * Not joined yet: the line is the name. Invalid: "* illegal name\n"
     * and LOOP_CLOSE. Held by a joined member: "* name taken\n" and
     * LOOP_CLOSE. Else send the newcomer "* The room contains: a, b\n":
     * the joined members (loop_conn(l, i) for i < loop_nconns(l) whose
     * member says joined) in the order they joined. That is not the
     * loop's order, which is the order they connected: a client may
     * connect first and give its name last. So give the newcomer a
     * ticket, one above the highest ticket in the room, and list the
     * others by ticket (collect them in an array and qsort() it). Then
     * tell every joined member "* NAME has entered the room\n", and set
     * joined = 1.
     *
     * Joined: send "[NAME] line\n" to every joined member but c.
     *
     * Send everything with loop_send(). To another member it may fail:
     * that member does not read, and the loop drops it -- not your
     * problem, go on with the others. */
    (void)l;
    (void)c;
    return LOOP_CLOSE;
}

static void chat_on_close(struct loop *l, struct conn *c)
{
    /* TODO(stage 6): if c had joined, tell the other members
     * "* NAME has left the room\n". Then free c->data. */
    (void)l;
    free(c->data);
    c->data = NULL;
}

const struct service chat_service = {
    .name = "chat",
    .on_open = chat_on_open,
    .on_data = chat_on_data,
    .on_close = chat_on_close,
};
