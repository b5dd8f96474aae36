/* Stage 6: a chat room -- "Budget Chat": names, a member list, broadcast. */
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"
#include "wbtest.h"

WB_SUITE(chat);

#define WELCOME "Welcome to budgetchat! What shall I call you?\n"
#define LINE_MS 2000

/* Expects exactly the line want next on fd. */
static void expect_line(struct wb_proc *p, int fd, const char *who, const char *want,
                        const char *after)
{
    wb_expect_bytes(p, fd, want, strlen(want), LINE_MS, "what %s should receive %s", who, after);
}

/* Connects, reads the welcome, sends the name, reads the member list. */
static int join(struct wb_proc *p, const char *name, const char *room)
{
    int fd = wb_connect(p);
    expect_line(p, fd, name, WELCOME, "right after connecting");
    char line[64], want[256];
    snprintf(line, sizeof line, "%s\n", name);
    wb_send_str(p, fd, line);
    snprintf(want, sizeof want, "* The room contains: %s\n", room);
    expect_line(p, fd, name, want, "after sending its name");
    return fd;
}

Test(chat, chat_valid_name_accepts_1_to_16_letters_or_digits)
{
    static const struct {
        const char *name;
        int want;
    } cases[] = {
        { "alice", 1 }, { "Bob42", 1 }, { "a", 1 }, { "0123456789abcdef", 1 },
        { "", 0 }, { "0123456789abcdefg", 0 }, { "al ice", 0 }, { "al-ice", 0 },
        { "alice!", 0 }, { "\xc3\xa9ric", 0 }, { "a\tb", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char esc[64];
        int got = chat_valid_name(cases[i].name, strlen(cases[i].name));
        cr_expect(eq(int, got, cases[i].want), "chat_valid_name(%s) returned %d; expected %d",
                  wb_escape(cases[i].name, strlen(cases[i].name), 40, esc, sizeof esc), got,
                  cases[i].want);
    }
    cr_expect(eq(int, chat_valid_name("ab\0c", 4), 0),
              "chat_valid_name(\"ab\\0c\", 4): a NUL is not a letter; use len, not strlen()");
}

Test(chat, the_first_member_is_welcomed_to_an_empty_room)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    join(p, "alice", "");
}

Test(chat, members_see_who_is_there_and_who_enters)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    int carol = join(p, "carol", "alice, bob");
    expect_line(p, alice, "alice", "* carol has entered the room\n", "when carol joins");
    expect_line(p, bob, "bob", "* carol has entered the room\n", "when carol joins");
    (void)carol;
}

Test(chat, a_message_goes_to_everyone_but_the_sender)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    int carol = join(p, "carol", "alice, bob");
    expect_line(p, alice, "alice", "* carol has entered the room\n", "when carol joins");
    expect_line(p, bob, "bob", "* carol has entered the room\n", "when carol joins");

    wb_send_str(p, bob, "hi all\r\n");
    expect_line(p, alice, "alice", "[bob] hi all\n", "when bob says \"hi all\\r\\n\"");
    expect_line(p, carol, "carol", "[bob] hi all\n", "when bob says \"hi all\\r\\n\"");
    cr_assert(wb_silent(bob, 200), "bob received his own message back; a member's message goes "
              "to every other member, not to the sender");
}

Test(chat, messages_split_across_reads_arrive_whole)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    wb_send_bytewise(p, bob, "slowly typed\n", 13);
    expect_line(p, alice, "alice", "[bob] slowly typed\n",
                "when bob sends \"slowly typed\\n\" one byte per write");
}

Test(chat, leaving_is_announced_to_the_others)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    close(bob);
    expect_line(p, alice, "alice", "* bob has left the room\n", "when bob hangs up");
    int carol = join(p, "carol", "alice");
    (void)carol;
}

Test(chat, the_member_list_is_in_join_order)
{
    /* The loop keeps connections in the order they connected; the list is
     * in the order members joined. dave connects before carol but gives
     * his name after her, and bob, in the middle, leaves. */
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int dave = wb_connect(p);
    expect_line(p, dave, "dave", WELCOME, "right after connecting (before bob and carol)");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    int carol = join(p, "carol", "alice, bob");
    expect_line(p, alice, "alice", "* carol has entered the room\n", "when carol joins");
    expect_line(p, bob, "bob", "* carol has entered the room\n", "when carol joins");
    close(bob);
    expect_line(p, alice, "alice", "* bob has left the room\n", "when bob hangs up");
    expect_line(p, carol, "carol", "* bob has left the room\n", "when bob hangs up");

    wb_send_str(p, dave, "dave\n");
    const char *want = "* The room contains: alice, carol\n";
    wb_expect_bytes(p, dave, want, strlen(want), LINE_MS,
                    "what dave should receive after sending his name: alice joined first, "
                    "bob joined and left, carol joined; dave had connected before bob and "
                    "carol, but a client is in the room only once it has a name");
    expect_line(p, alice, "alice", "* dave has entered the room\n", "when dave joins");
    expect_line(p, carol, "carol", "* dave has entered the room\n", "when dave joins");

    int erin = wb_connect(p);
    expect_line(p, erin, "erin", WELCOME, "right after connecting");
    wb_send_str(p, erin, "erin\n");
    want = "* The room contains: alice, carol, dave\n";
    wb_expect_bytes(p, erin, want, strlen(want), LINE_MS,
                    "what erin should receive after sending her name: the members in the order "
                    "they joined -- alice, carol, then dave (bob left). dave connected before "
                    "carol but joined after her: the loop's order (loop_conn()) is the order "
                    "of connecting, so give each member a ticket when it joins and list by it");
}

Test(chat, an_illegal_name_is_refused)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int fd = wb_connect(p);
    expect_line(p, fd, "a newcomer", WELCOME, "right after connecting");
    wb_send_str(p, fd, "bad name!\n");
    expect_line(p, fd, "a newcomer", "* illegal name\n", "after sending the name \"bad name!\"");
    wb_expect_eof(p, fd, LINE_MS, "after \"* illegal name\" the server closes the connection");
    cr_assert(wb_silent(alice, 200), "alice heard about a client who never joined the room");
}

Test(chat, a_name_in_use_is_refused)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int fd = wb_connect(p);
    expect_line(p, fd, "a second alice", WELCOME, "right after connecting");
    wb_send_str(p, fd, "alice\n");
    expect_line(p, fd, "a second alice", "* name taken\n", "after asking for the name \"alice\"");
    wb_expect_eof(p, fd, LINE_MS, "after \"* name taken\" the server closes the connection");
    wb_send_str(p, alice, "still here\n");
    int bob = join(p, "bob", "alice");
    (void)bob;
}

Test(chat, clients_without_a_name_see_nothing)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int lurker = wb_connect(p);
    expect_line(p, lurker, "a client who has not sent a name", WELCOME, "right after connecting");
    int bob = join(p, "bob", "alice");
    expect_line(p, alice, "alice", "* bob has entered the room\n", "when bob joins");
    wb_send_str(p, bob, "secret\n");
    expect_line(p, alice, "alice", "[bob] secret\n", "when bob says \"secret\"");
    cr_assert(wb_silent(lurker, 200), "a client who has not given a name received room "
              "traffic; only members who joined see messages");
}

Test(chat, a_member_that_never_reads_is_dropped_and_memory_stays_bounded)
{
    /* alice joins and never reads again; bob talks, a lot. Everything bob
     * says is queued for alice. A server without a cap buffers it all; this
     * one must drop alice once her queue is full (loop_send) and tell the
     * room she left. */
    enum { LINE = 1000, TOTAL = 48 * 1024 * 1024 };
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int alice = join(p, "alice", "");
    int bob = join(p, "bob", "alice");
    long rss0 = wb_peak_rss_kb(p);
    char line[LINE];
    memset(line, 'x', sizeof line - 1);
    line[LINE - 1] = '\n';
    size_t sent = 0;
    int left = 0;
    char got[256];
    long long give_up = wb_now_ms() + 8000;
    while (sent < TOTAL && !left && wb_now_ms() < give_up) {
        ssize_t n = send(bob, line + sent % LINE, LINE - sent % LINE, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0)
            sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN && errno != EINTR)
            break;
        else
            poll(NULL, 0, 1);
        /* bob reads what comes to him: "* alice has left the room" at the
         * end, and nothing else -- his own lines are not sent back. */
        if (wb_recv_line(bob, got, sizeof got, 0) > 0)
            left = strcmp(got, "* alice has left the room\n") == 0;
    }
    if (!left)
        left = wb_recv_line(bob, got, sizeof got, LINE_MS) > 0 &&
               strcmp(got, "* alice has left the room\n") == 0;
    long rss = wb_peak_rss_kb(p);
    cr_assert(left, "alice never reads; bob sent %zu bytes of chat lines, all of them queued for "
                    "alice, and the server did not drop her (bob got no \"* alice has left the "
                    "room\\n\"): a member that does not read must not make the server buffer "
                    "without end. Queue with loop_send(): past out_max it fails and the loop "
                    "drops that connection\n(the server's peak memory grew from %ld to %ld "
                    "KiB)\n%s", sent, rss0, rss, wb_describe(p));
    cr_assert(rss0 < 0 || rss - rss0 < 32 * 1024,
              "alice was dropped, but the server's peak memory grew from %ld to %ld KiB while "
              "bob sent %zu bytes: cap every queue", rss0, rss, sent);
    /* alice finds what the kernel still held for her, then the end. */
    int r = 0;
    long long until = wb_now_ms() + 2 * LINE_MS;
    while ((r = wb_wait_eof(alice, 200)) == 0 && wb_now_ms() < until)
        ;
    cr_assert(eq(int, r, 1), "alice was dropped as a slow consumer, so after what the kernel "
              "still held for her, her connection must end\n%s", wb_describe(p));
    wb_send_str(p, bob, "still here\n");
    int carol = join(p, "carol", "bob");
    (void)carol;
}
