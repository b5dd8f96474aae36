/* chat -- the "Budget Chat" room. See chat.h.
 *
 * The room has no list of its own: its members are the loop's connections
 * whose member state says "joined". One source of truth means a member can
 * never stay in the room after its connection is gone.
 *
 * The member list is in join order, which is not the loop's order: the
 * loop keeps its connections in the order they connected, and a client
 * may connect first and give its name last. So each member takes a ticket
 * when it joins, one above the highest ticket in the room, and the list is
 * sorted by ticket. No counter outside the connections is needed: the
 * tickets of the members present always sort in the order they joined.
 *
 * Everything a member is sent goes through loop_send(), which caps what
 * may wait for one connection: a member that never reads is dropped once
 * its queue is full, and the others see it leave -- instead of the server
 * buffering the whole room's traffic for it. */
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
    if (len < 1 || len > CHAT_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        /* Not isalnum(): that depends on the locale and on the sign of char. */
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9')))
            return 0;
    }
    return 1;
}

static struct member *member_of(const struct conn *c)
{
    return c->data;
}

/* Queues text[0..len) for every member but `except`. A member that
 * cannot take it (a slow consumer) is dropped by the loop; that is its
 * problem, not the sender's. */
static void broadcast(struct loop *l, const struct conn *except, const char *text,
                      size_t len)
{
    for (size_t i = 0; i < loop_nconns(l); i++) {
        struct conn *o = loop_conn(l, i);
        struct member *m = member_of(o);
        if (o != except && m && m->joined)
            loop_send(l, o, text, len);
    }
}

/* qsort() order of members: by ticket, that is, in join order. */
static int by_ticket(const void *a, const void *b)
{
    const struct member *x = *(struct member *const *)a;
    const struct member *y = *(struct member *const *)b;
    return (x->ticket > y->ticket) - (x->ticket < y->ticket);
}

/* The first line: a name. Returns 0, or LOOP_CLOSE. */
static int join(struct loop *l, struct conn *c, const char *name, size_t len)
{
    static const char illegal[] = "* illegal name\n";
    static const char taken[] = "* name taken\n";
    struct member *me = member_of(c);
    struct member **room = NULL;
    struct buf list;
    char line[64];
    size_t n = 0;
    unsigned long long highest = 0;
    int rc = LOOP_CLOSE;

    if (!chat_valid_name(name, len)) {
        loop_send(l, c, illegal, sizeof illegal - 1);
        return LOOP_CLOSE;
    }
    memcpy(me->name, name, len);
    me->name[len] = '\0';

    buf_init(&list);
    /* The others in the room; c itself is one of the connections, so
     * there is at least one slot. */
    if (!(room = malloc(loop_nconns(l) * sizeof *room)))
        goto out;
    for (size_t i = 0; i < loop_nconns(l); i++) {
        struct conn *o = loop_conn(l, i);
        struct member *m = member_of(o);
        if (o == c || !m || !m->joined)
            continue;
        if (strcmp(m->name, me->name) == 0) {
            loop_send(l, c, taken, sizeof taken - 1);
            goto out;
        }
        if (m->ticket > highest)
            highest = m->ticket;
        room[n++] = m;
    }
    qsort(room, n, sizeof *room, by_ticket);
    if (buf_append(&list, "* The room contains: ", 21) < 0)
        goto out;
    for (size_t i = 0; i < n; i++)
        if ((i > 0 && buf_append(&list, ", ", 2) < 0) ||
            buf_append(&list, room[i]->name, strlen(room[i]->name)) < 0)
            goto out;
    if (buf_append(&list, "\n", 1) < 0 || loop_send(l, c, list.data, list.len) < 0)
        goto out;

    int k = snprintf(line, sizeof line, "* %s has entered the room\n", me->name);
    broadcast(l, c, line, (size_t)k);
    me->ticket = highest + 1;
    me->joined = 1;
    rc = 0;
out:
    free(room);
    buf_free(&list);
    return rc;
}

static int chat_on_open(struct loop *l, struct conn *c)
{
    static const char welcome[] = "Welcome to budgetchat! What shall I call you?\n";
    c->data = calloc(1, sizeof(struct member));
    if (!c->data || loop_send(l, c, welcome, sizeof welcome - 1) < 0)
        return LOOP_CLOSE;
    return 0;
}

static int chat_on_data(struct loop *l, struct conn *c)
{
    struct member *me = member_of(c);
    struct buf msg;
    int rc = 0;

    buf_init(&msg);
    while (rc == 0) {
        int n = lines_find(c->in.data, c->in.len, LINES_MAX);
        if (n == LINES_INCOMPLETE)
            break;
        if (n == LINES_TOO_LONG) {
            buf_consume(&c->in, c->in.len);
            rc = LOOP_CLOSE;
            break;
        }
        size_t len = (size_t)n - 1;
        if (len > 0 && c->in.data[len - 1] == '\r')
            len--;

        if (!me->joined) {
            rc = join(l, c, c->in.data, len);
        } else {
            msg.len = 0;
            if (buf_append(&msg, "[", 1) < 0 ||
                buf_append(&msg, me->name, strlen(me->name)) < 0 ||
                buf_append(&msg, "] ", 2) < 0 ||
                buf_append(&msg, c->in.data, len) < 0 ||
                buf_append(&msg, "\n", 1) < 0)
                rc = LOOP_CLOSE;
            else
                broadcast(l, c, msg.data, msg.len);
        }
        buf_consume(&c->in, (size_t)n);
    }
    buf_free(&msg);
    return rc;
}

static void chat_on_close(struct loop *l, struct conn *c)
{
    struct member *me = member_of(c);
    char line[64];

    if (me && me->joined) {
        me->joined = 0; /* not a member any more: no echo to itself */
        int n = snprintf(line, sizeof line, "* %s has left the room\n",
                         me->name);
        broadcast(l, c, line, (size_t)n);
    }
    free(me);
    c->data = NULL;
}

const struct service chat_service = {
    .name = "chat",
    .on_open = chat_on_open,
    .on_data = chat_on_data,
    .on_close = chat_on_close,
};
