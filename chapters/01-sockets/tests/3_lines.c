/* Stage 3: frame a stream into lines -- lines_find(), lines_reverse() and
 * the "lines" service, which answers every line reversed. */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lines.h"
#include "wbtest.h"

WB_SUITE(lines);

Test(lines, lines_find_finds_the_end_of_the_first_line)
{
    static const struct {
        const char *in;
        size_t len, max;
        int want;
    } cases[] = {
        { "abc\n", 4, 1024, 4 },
        { "\n", 1, 1024, 1 },
        { "a\nb\n", 4, 1024, 2 },           /* the first line only */
        { "a\0b\n", 4, 1024, 4 },           /* a NUL is just a byte */
        { "abc", 3, 1024, LINES_INCOMPLETE },
        { "", 0, 1024, LINES_INCOMPLETE },
        { "abcd", 4, 4, LINES_TOO_LONG },   /* max bytes and no '\n' */
        { "abc\n", 4, 4, 4 },               /* exactly max, '\n' included */
        { "abcd\n", 5, 4, LINES_TOO_LONG }, /* the '\n' comes too late */
        { "ab\ncd", 5, 4, 3 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char esc[128];
        int got = lines_find(cases[i].in, cases[i].len, cases[i].max);
        cr_expect(eq(int, got, cases[i].want), "lines_find(%s, len %zu, max %zu) returned %d; expected %d",
                  wb_escape(cases[i].in, cases[i].len, 60, esc, sizeof esc), cases[i].len,
                  cases[i].max, got, cases[i].want);
    }
}

Test(lines, every_prefix_of_a_line_is_incomplete)
{
    const char *line = "hello, world\n";
    size_t n = strlen(line);
    for (size_t len = 0; len < n; len++) {
        char esc[64];
        int got = lines_find(line, len, LINES_MAX);
        cr_assert(eq(int, got, LINES_INCOMPLETE),
                  "lines_find(%s, len %zu) returned %d; a line without its '\\n' is "
                  "incomplete (%d): never read past len",
                  wb_escape(line, len, 60, esc, sizeof esc), len, got, LINES_INCOMPLETE);
    }
    char esc[64];
    int got = lines_find(line, n, LINES_MAX);
    cr_assert(eq(int, got, (int)n),
              "lines_find(%s, len %zu) returned %d; expected %zu: the whole line, its '\\n' "
              "included, is there now",
              wb_escape(line, n, 60, esc, sizeof esc), n, got, n);
}

Test(lines, lines_reverse_reverses_bytes_in_place)
{
    static const struct {
        const char *in, *want;
        size_t len;
    } cases[] = {
        { "", "", 0 }, { "a", "a", 1 }, { "ab", "ba", 2 }, { "abc", "cba", 3 },
        { "a\0b", "b\0a", 3 }, { "hello", "olleh", 5 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[16], e1[64], e2[64], e3[64];
        memcpy(buf, cases[i].in, cases[i].len);
        lines_reverse(buf, cases[i].len);
        cr_expect(memcmp(buf, cases[i].want, cases[i].len) == 0,
                  "lines_reverse(%s) gave %s; expected %s",
                  wb_escape(cases[i].in, cases[i].len, 20, e1, sizeof e1),
                  wb_escape(buf, cases[i].len, 20, e2, sizeof e2),
                  wb_escape(cases[i].want, cases[i].len, 20, e3, sizeof e3));
    }
}

Test(lines, answers_a_line_reversed)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "hello\n");
    wb_expect_str(p, fd, "olleh\n", "sent \"hello\\n\" to the lines service");
}

Test(lines, a_crlf_line_end_is_not_part_of_the_line)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "stressed\r\n");
    wb_expect_str(p, fd, "desserts\n",
                  "sent \"stressed\\r\\n\": the \\r before the \\n ends the line too (many "
                  "clients, like telnet, send \\r\\n)");
}

Test(lines, a_line_split_across_reads_is_answered_once)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send_bytewise(p, fd, "split\n", 6);
    wb_expect_str(p, fd, "tilps\n",
                  "sent \"split\\n\" one byte per write: keep the start of a line in c->in "
                  "until its '\\n' arrives (an answer like \"s\\np\\n...\" means each read "
                  "was treated as a line)");
}

Test(lines, many_lines_in_one_read_are_all_answered_in_order)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "one\ntwo\n\nthree\n");
    wb_expect_str(p, fd, "eno\nowt\n\neerht\n",
                  "sent \"one\\ntwo\\n\\nthree\\n\" in one write: one recv() can hold many "
                  "lines; answer each, the empty one too");
}

Test(lines, random_lines_in_random_pieces)
{
    /* 200 lines of random printable bytes, sent in pieces of random size. */
    char *all = malloc(200 * 80), *want = malloc(200 * 80);
    cr_assert(all && want, "test setup: out of memory");
    size_t len = 0;
    for (int i = 0; i < 200; i++) {
        size_t n = wb_random_u32() % 70;
        for (size_t j = 0; j < n; j++) {
            all[len + j] = (char)(' ' + wb_random_u32() % 94);
            want[len + n - 1 - j] = all[len + j];
        }
        all[len + n] = want[len + n] = '\n';
        len += n + 1;
    }
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (size_t off = 0; off < len;) {
        size_t n = 1 + wb_random_u32() % 100;
        if (n > len - off)
            n = len - off;
        wb_send(p, fd, all + off, n);
        off += n;
    }
    wb_expect_bytes(p, fd, want, len, WB_IO_MS,
                    "sent 200 random lines in writes of 1 to 100 bytes (seed %llu; rerun with "
                    "WB_SEED=%llu)",
                    (unsigned long long)wb_seed(), (unsigned long long)wb_seed());
    free(all);
    free(want);
}

Test(lines, an_over_long_line_gets_an_error_and_a_close)
{
    char big[LINES_MAX + 100];
    memset(big, 'x', sizeof big);
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, big, sizeof big); /* no '\n' at all */
    wb_expect_str(p, fd, "ERR line too long\n",
                  "sent %zu bytes without a '\\n' (LINES_MAX is %d)", sizeof big, LINES_MAX);
    wb_expect_eof(p, fd, WB_IO_MS, "after \"ERR line too long\\n\" the server must close");

    int fd2 = wb_connect(p);
    wb_send_str(p, fd2, "ok\n");
    wb_expect_str(p, fd2, "ko\n", "a new client after the over-long line must still be served");
}

Test(lines, an_unfinished_line_at_the_end_gets_no_answer)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "done\nunfinished");
    shutdown(fd, SHUT_WR);
    wb_expect_str(p, fd, "enod\n", "sent \"done\\nunfinished\" and shut down the sending side");
    wb_expect_eof(p, fd, WB_IO_MS,
                  "\"unfinished\" has no '\\n': it is not a line and gets no answer; the "
                  "server closes once the client has shut down its side");
}
