/* Stage 2: echo every byte -- net_send_all(), the echo service and a
 * server loop that serves one client after another. */
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net.h"
#include "echo.h"
#include "loop.h"
#include "wbtest.h"

WB_SUITE(echo);

#define MIB (1024 * 1024)

static void on_alarm(int sig)
{
    (void)sig;
}

Test(echo, net_send_all_sends_every_byte_through_a_small_buffer)
{
    /* 1 MiB through a socket buffer that is already full, while a timer
     * signal interrupts the sender every millisecond: send() then fails
     * with EINTR when nothing went out yet, or returns after a part (a
     * short count). Only a loop that handles both gets everything out. */
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
              "test setup: socketpair() failed: %s", strerror(errno));
    int small = 4096;
    setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    size_t filled = wb_send_until_blocked(sv[0], 20);
    unsigned char *data = malloc(MIB), *got = malloc(filled + MIB);
    cr_assert(data && got, "test setup: out of memory");
    wb_random_bytes(data, MIB);

    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0, "test setup: fork() failed: %s", strerror(errno));
    if (pid == 0) { /* the sender */
        close(sv[1]);
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_alarm; /* no SA_RESTART: interrupted calls return */
        sigaction(SIGALRM, &sa, NULL);
        struct itimerval every_ms = { { 0, 1000 }, { 0, 1000 } };
        setitimer(ITIMER_REAL, &every_ms, NULL);
        ssize_t n = net_send_all(sv[0], data, MIB);
        _exit(n == MIB ? 0 : 1);
    }
    close(sv[0]);
    /* Read nothing for a while: the sender is blocked on a full buffer and
     * the timer interrupts it before it sent a byte. The pause is the
     * subject of this test. */
    wb_pause_ms(30);
    size_t n = wb_recv(sv[1], got, filled + MIB, 5000);
    int status = 0;
    waitpid(pid, &status, 0);
    n = n > filled ? n - filled : 0;
    cr_assert(eq(sz, n, (size_t)MIB),
              "the reader received %zu of %d bytes: net_send_all() must loop until send() "
              "has taken all of them, and retry when it fails with EINTR (seed %llu)",
              n, MIB, (unsigned long long)wb_seed());
    cr_assert(memcmp(data, got + filled, MIB) == 0,
              "the bytes arrived changed or out of order: advance the pointer by what send() "
              "returned (seed %llu)", (unsigned long long)wb_seed());
    int sender_ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    cr_assert(sender_ok, "net_send_all() sent everything but did not return len (%d)", MIB);
    free(data);
    free(got);
}

Test(echo, net_send_all_reports_a_closed_peer_as_epipe)
{
    int sv[2];
    cr_assert(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0,
              "test setup: socketpair() failed: %s", strerror(errno));
    close(sv[1]);
    /* The default action of SIGPIPE is to kill the process: a server
     * that writes to a client who left would die. */
    signal(SIGPIPE, SIG_DFL);
    fprintf(stderr, "If this test crashed with signal 13 (SIGPIPE): pass MSG_NOSIGNAL to send().\n");
    errno = 0;
    ssize_t n = net_send_all(sv[0], "hello", 5);
    int saved = errno;
    signal(SIGPIPE, SIG_IGN);
    cr_assert(eq(long, (long)n, -1L), "net_send_all() to a closed peer returned %ld; expected -1",
              (long)n);
    cr_assert(eq(int, saved, EPIPE), "errno is %d (%s); expected EPIPE", saved, strerror(saved));
}

Test(echo, the_echo_service_moves_input_to_output)
{
    struct loop_config cfg = { .listen_fd = -1, .svc = &echo_service };
    struct loop *l = loop_new(&cfg, NULL, 0);
    cr_assert(l != NULL, "loop_new() failed");
    struct conn *c = conn_new(-1);
    cr_assert(c != NULL, "test setup: conn_new() returned NULL (out of memory)");
    buf_append(&c->in, "a\0b\n", 4);
    cr_assert(echo_service.on_data != NULL, "echo_service has no on_data callback");
    int rc = echo_service.on_data(l, c);
    cr_assert(eq(int, rc, 0), "on_data returned %d; expected 0 (go on)", rc);
    cr_assert(eq(sz, c->out.len, (size_t)4), "c->out holds %zu bytes; expected the 4 received",
              c->out.len);
    cr_assert(memcmp(c->out.data, "a\0b\n", 4) == 0, "c->out does not hold the received bytes");
    cr_assert(eq(sz, c->in.len, (size_t)0),
              "c->in still holds %zu bytes: buf_consume() what you used", c->in.len);
    conn_free(c);
    loop_free(l);
}

Test(echo, echoes_a_line)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "hello\n");
    wb_expect_str(p, fd, "hello\n", "sent \"hello\\n\" to the echo server");
}

Test(echo, echoes_every_byte_value_including_nul)
{
    unsigned char all[512];
    for (int i = 0; i < 512; i++)
        all[i] = (unsigned char)(i % 256);
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send(p, fd, all, sizeof all);
    wb_expect_bytes(p, fd, all, sizeof all, WB_IO_MS,
                    "sent the 256 byte values 0x00..0xff twice; the echo must be identical "
                    "(no strlen(), no printf(\"%%s\") on received bytes: they hold NULs)");
}

Test(echo, echoes_one_mib_of_random_bytes)
{
    unsigned char *data = malloc(MIB), *got = malloc(MIB);
    cr_assert(data && got, "test setup: out of memory");
    wb_random_bytes(data, MIB);
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    size_t n = wb_exchange(p, fd, data, MIB, got, MIB, 8000);
    size_t at = 0;
    while (at < n && data[at] == got[at])
        at++;
    cr_assert(n == MIB && at == n,
              "sent 1 MiB of random bytes (seed %llu) while reading the echo: received %zu "
              "bytes, the first %zu of them right.\n"
              "A short count: bytes lost when send() took only part of a buffer (use "
              "net_send_all). A wrong byte: data mixed up between reads.\n%s",
              (unsigned long long)wb_seed(), n, at, wb_describe(p));
    free(data);
    free(got);
}

Test(echo, a_half_closed_client_gets_the_rest_then_eof)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send_str(p, fd, "last words");
    /* "I have nothing more to send" -- but the client still reads. */
    cr_assert(shutdown(fd, SHUT_WR) == 0,
              "test setup: the client's shutdown(SHUT_WR) failed: %s (did the program close "
              "the connection already?)\n%s", strerror(errno), wb_describe(p));
    wb_expect_str(p, fd, "last words",
                  "sent \"last words\", then shutdown(SHUT_WR): the echo must still arrive");
    wb_expect_eof(p, fd, WB_IO_MS,
                  "after the echo of a half-closed client the server must close: recv() "
                  "returning 0 means the client is done sending");
}

Test(echo, echoes_a_client_that_sends_one_byte_at_a_time)
{
    const char *msg = "one byte at a time\n";
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    wb_send_bytewise(p, fd, msg, strlen(msg));
    wb_expect_str(p, fd, msg, "sent \"one byte at a time\\n\" in %zu separate writes",
                  strlen(msg));
}

Test(echo, serves_clients_one_after_another)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    for (int i = 0; i < 3; i++) {
        char msg[32];
        snprintf(msg, sizeof msg, "client %d\n", i + 1);
        int fd = wb_connect(p);
        wb_send_str(p, fd, msg);
        wb_expect_str(p, fd, msg,
                      "client %d of 3, each connecting after the one before hung up: the "
                      "server must go back to accept() after a client leaves", i + 1);
        close(fd);
    }
}

Test(echo, a_client_that_resets_does_not_stop_the_server)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int fd = wb_connect(p);
    unsigned char junk[65536];
    memset(junk, 'r', sizeof junk);
    wb_send(p, fd, junk, sizeof junk);
    wb_reset(fd); /* RST: the server's next send() fails with ECONNRESET or EPIPE */

    int fd2 = wb_connect(p);
    wb_send_str(p, fd2, "still there?\n");
    wb_expect_str(p, fd2, "still there?\n",
                  "a client sent 64 KiB and reset the connection without reading; the next "
                  "client must still be served (an error on one client's socket closes that "
                  "client, not the server; SIGPIPE must not kill it)");
}
