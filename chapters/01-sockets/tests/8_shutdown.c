/* Stage 8: graceful shutdown on SIGTERM/SIGINT, and idle clients. */
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "server.h"
#include "wbtest.h"

WB_SUITE(shutdown);

#define EXIT_MS 2000

static void expect_clean_exit(struct wb_proc *p, const char *what)
{
    int status = 0;
    int exited = wb_wait_exit(p, EXIT_MS, &status);
    cr_assert(exited, "%s: the program did not exit within %d ms\n%s", what, EXIT_MS,
              wb_describe(p));
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    cr_assert(eq(int, code, 0), "%s: expected exit status 0 (a requested stop is not an "
              "error)\n%s", what, wb_describe(p));
}

Test(shutdown, server_handle_signals_turns_sigterm_into_a_stop_request)
{
    cr_assert(eq(int, server_handle_signals(), 0), "server_handle_signals() did not return 0");
    cr_assert(server_wakeup_fd() >= 0, "server_wakeup_fd() is -1: create the self-pipe with pipe()");
    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    cr_assert(sa.sa_handler == SIG_IGN, "SIGPIPE is not ignored: a write to a client who left "
              "would kill the server");
    sigaction(SIGTERM, NULL, &sa);
    int restart = (sa.sa_flags & SA_RESTART) != 0;
    cr_assert(eq(int, restart, 0), "SIGTERM's handler has SA_RESTART: blocking calls would resume instead "
              "of returning EINTR");
    cr_assert(eq(int, server_stop_requested(), 0), "a stop is requested before any signal");
    raise(SIGTERM);
    cr_assert(eq(int, server_stop_requested(), 1), "after SIGTERM, server_stop_requested() is "
              "still 0: the handler must set the flag");
    struct pollfd pfd = { .fd = server_wakeup_fd(), .events = POLLIN };
    cr_assert(eq(int, poll(&pfd, 1, 0), 1), "after SIGTERM the wakeup fd is not readable: the "
              "handler must write a byte to the self-pipe, or a poll() already waiting would "
              "never wake up");
}

Test(shutdown, sigterm_stops_the_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "ping\n");
    wb_expect_str(p, fd, "ping\n", "a client's echo before the stop");
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM with a client connected");
    wb_expect_eof(p, fd, WB_IO_MS, "the connected client after the stop");
}

Test(shutdown, sigint_stops_the_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "lines", NULL);
    wb_signal(p, SIGINT);
    expect_clean_exit(p, "SIGINT (what Ctrl-C sends) with no client");
}

Test(shutdown, a_stopped_server_no_longer_accepts)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM");
    int fd = wb_try_connect(p->host, p->port);
    cr_assert(fd < 0, "after the program exited, a connection to its port still succeeded");
}

Test(shutdown, sigterm_stops_the_udp_server_with_status_0)
{
    struct wb_proc *p = wb_start("--mode", "kv", NULL);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM in --mode kv");
}

Test(shutdown, sigterm_stops_a_chat_with_members)
{
    struct wb_proc *p = wb_start("--mode", "chat", NULL);
    int a = wb_connect(p), b = wb_connect(p);
    wb_send_str(p, a, "alice\n");
    wb_send_str(p, b, "bob\n");
    char line[128];
    wb_recv_line(b, line, sizeof line, WB_IO_MS);
    wb_signal(p, SIGTERM);
    expect_clean_exit(p, "SIGTERM in --mode chat with two members");
}

Test(shutdown, an_idle_client_is_closed_after_the_timeout)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--idle-timeout", "300", NULL);
    int fd = wb_connect(p);
    long long start = wb_now_ms();
    int r = wb_wait_eof(fd, 3000);
    long long took = wb_now_ms() - start;
    cr_assert(eq(int, r, 1), "with --idle-timeout 300, a client that sends nothing was not "
              "closed within 3 s\n%s", wb_describe(p));
    cr_assert(took >= 200, "the idle client was closed after %lld ms; the timeout is 300 ms",
              took);
}

Test(shutdown, an_active_client_is_not_closed)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--idle-timeout", "300", NULL);
    int idle = wb_connect(p);
    int fd = wb_connect(p);
    /* 6 messages 100 ms apart: 600 ms in all, never 300 ms silent. The
     * pauses are the subject of this test. */
    for (int i = 0; i < 6; i++) {
        wb_send_str(p, fd, "tick\n");
        wb_expect_str(p, fd, "tick\n", "message %d of an active client (--idle-timeout 300, a "
                      "message every 100 ms): it must not be closed; the time counts from "
                      "the last bytes received", i + 1);
        wb_pause_ms(100);
    }
    cr_assert(eq(int, wb_wait_eof(idle, 0), 1), "a silent client next to the active one was "
              "still open after 600 ms of --idle-timeout 300");
}
