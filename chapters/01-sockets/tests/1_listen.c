/* Stage 1: listen and accept -- net_listen(), net_accept(), net_local_addr()
 * called directly, then the program itself. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net.h"
#include "wbtest.h"

WB_SUITE(listen);

/* A listening socket from the learner's net_listen(), or a failed test.
 * (A macro, so that a failure names the test's line.) */
#define must_listen(host)                                                        \
    ({                                                                           \
        char err_[256] = "";                                                     \
        errno = 0;                                                               \
        int fd_ = net_listen((host), "0", SOCK_STREAM, err_, sizeof err_);       \
        int saved_ = errno;                                                      \
        cr_assert(fd_ >= 0,                                                      \
                  "net_listen(\"%s\", \"0\", SOCK_STREAM) returned %d (errno %d: %s); " \
                  "err says: \"%s\"%s",                                           \
                  (host), fd_, saved_, strerror(saved_), err_,                   \
                  saved_ == ENOSYS ? "\n(ENOSYS is what the stub returns: write "  \
                                     "net_listen() in src/net.c)" : "");          \
        fd_;                                                                     \
    })

static int sockopt(int fd, int level, int name)
{
    int v = -1;
    socklen_t len = sizeof v;
    cr_assert(getsockopt(fd, level, name, &v, &len) == 0, "getsockopt: %s", strerror(errno));
    return v;
}

Test(listen, net_listen_returns_a_listening_tcp_socket)
{
    int fd = must_listen("127.0.0.1");
    cr_assert(eq(int, sockopt(fd, SOL_SOCKET, SO_TYPE), SOCK_STREAM),
              "the socket is not a TCP (SOCK_STREAM) socket");
    cr_assert(eq(int, sockopt(fd, SOL_SOCKET, SO_ACCEPTCONN), 1),
              "the socket is not listening: call listen(fd, NET_BACKLOG) after bind()");
    int flags = fcntl(fd, F_GETFD), cloexec = flags >= 0 && (flags & FD_CLOEXEC);
    cr_assert(cloexec, "the listening fd does not have FD_CLOEXEC (net.h: every fd this module "
              "creates has it): fcntl(fd, F_SETFD, FD_CLOEXEC)");
    close(fd);
}

Test(listen, net_listen_sets_so_reuseaddr)
{
    int fd = must_listen("127.0.0.1");
    cr_assert(sockopt(fd, SOL_SOCKET, SO_REUSEADDR) != 0,
              "SO_REUSEADDR is not set. Without it, a restarted server cannot bind its port "
              "while old connections sit in TIME_WAIT (about a minute).\n"
              "setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) before bind()");
    close(fd);
}

Test(listen, port_0_gets_a_free_port_and_net_local_addr_names_it)
{
    int fd = must_listen("127.0.0.1");
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    cr_assert(getsockname(fd, (struct sockaddr *)&sin, &len) == 0,
              "getsockname() on the fd net_listen() returned failed: %s; expected a bound "
              "socket", strerror(errno));
    int port = ntohs(sin.sin_port);
    cr_assert(port > 0, "bound to port 0: was bind() called?");

    char addr[NET_ADDR_MAX], want[NET_ADDR_MAX];
    memset(addr, 0, sizeof addr);
    int got = net_local_addr(fd, addr, sizeof addr);
    snprintf(want, sizeof want, "127.0.0.1:%d", port);
    cr_assert(eq(int, got, port), "net_local_addr() must return the port number (%d), returned %d",
              port, got);
    cr_assert(eq(str, addr, want), "net_local_addr() wrote \"%s\", expected \"%s\"", addr, want);
    close(fd);
}

Test(listen, listens_on_ipv6_loopback)
{
    int fd = must_listen("::1");
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    cr_assert(getsockname(fd, (struct sockaddr *)&ss, &len) == 0,
              "getsockname() on the fd net_listen(\"::1\") returned failed: %s; expected a "
              "bound socket", strerror(errno));
    cr_assert(eq(int, ss.ss_family, AF_INET6),
              "net_listen(\"::1\") made an address family %d socket, expected AF_INET6 (%d): "
              "use the ai_family getaddrinfo() returned, with hints.ai_family = AF_UNSPEC",
              ss.ss_family, AF_INET6);
    int port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    char addr[NET_ADDR_MAX], want[NET_ADDR_MAX];
    memset(addr, 0, sizeof addr);
    net_local_addr(fd, addr, sizeof addr);
    snprintf(want, sizeof want, "[::1]:%d", port);
    cr_assert(eq(str, addr, want),
              "net_local_addr() wrote \"%s\", expected \"%s\" (IPv6 addresses go in brackets, "
              "so the ':' before the port is not mistaken for part of the address)",
              addr, want);
    close(fd);
}

Test(listen, a_port_in_use_is_an_error_with_a_message)
{
    /* A second listener on the same port must fail: SO_REUSEADDR lets a
     * server reuse a port held by old TIME_WAIT connections, not steal one
     * that another program is listening on. */
    int first = must_listen("127.0.0.1");
    char addr[NET_ADDR_MAX], port[16], err[256] = "";
    struct sockaddr_in sin;
    socklen_t len = sizeof sin;
    getsockname(first, (struct sockaddr *)&sin, &len);
    snprintf(port, sizeof port, "%d", ntohs(sin.sin_port));
    (void)addr;

    errno = 0;
    int fd = net_listen("127.0.0.1", port, SOCK_STREAM, err, sizeof err);
    int saved = errno;
    cr_assert(eq(int, fd, -1), "net_listen() on port %s, which is in use, returned %d; expected -1",
              port, fd);
    cr_assert(eq(int, saved, EADDRINUSE), "errno is %d (%s); expected EADDRINUSE", saved,
              strerror(saved));
    cr_assert(strstr(err, "bind") != NULL,
              "the err message should name the call that failed, like \"bind 127.0.0.1:%s: %s\"; it was \"%s\"",
              port, strerror(EADDRINUSE), err);
    close(first);
}

Test(listen, an_address_getaddrinfo_cannot_resolve_is_einval_with_a_message)
{
    /* A port that is neither digits nor a service name: getaddrinfo()
     * fails without asking DNS (a host name would: tests stay offline). */
    char err[256] = "";
    errno = 0;
    int fd = net_listen("127.0.0.1", "12ab", SOCK_STREAM, err, sizeof err);
    int saved = errno;
    cr_assert(eq(int, fd, -1), "net_listen(\"127.0.0.1\", \"12ab\") returned %d; expected -1: "
              "\"12ab\" is no port", fd);
    cr_assert(eq(int, saved, EINVAL),
              "net_listen(\"127.0.0.1\", \"12ab\") set errno %d (%s); expected EINVAL (%d). "
              "getaddrinfo() reports its error in its return value and leaves errno alone, so "
              "net.h asks for errno = EINVAL when it fails%s",
              saved, strerror(saved), EINVAL,
              saved == ENOSYS ? "\n(ENOSYS is what the stub returns: write net_listen() in "
                                "src/net.c)" : "");
    cr_assert(strstr(err, "getaddrinfo") != NULL,
              "err is \"%s\"; expected a message naming the call that failed, like "
              "\"getaddrinfo 127.0.0.1:12ab: %s\" (gai_strerror() gives the reason)",
              err, gai_strerror(EAI_SERVICE));
}

Test(listen, net_accept_returns_a_connection_closed_on_exec)
{
    int lfd = must_listen("127.0.0.1");
    char addr[NET_ADDR_MAX];
    int port = net_local_addr(lfd, addr, sizeof addr);
    cr_assert(port > 0, "net_local_addr() failed");
    int client = wb_try_connect("127.0.0.1", port);
    cr_assert(client >= 0, "cannot connect to the socket net_listen() made: %s", strerror(errno));

    int fd = net_accept(lfd);
    cr_assert(fd >= 0, "net_accept() returned %d: %s", fd, strerror(errno));
    cr_assert(fd != lfd, "net_accept() returned the listening fd, not the new connection's");
    int flags = fcntl(fd, F_GETFD);
    cr_assert(flags >= 0 && (flags & FD_CLOEXEC),
              "the accepted fd does not have FD_CLOEXEC: fcntl(fd, F_SETFD, FD_CLOEXEC)");
    /* it is really the client's connection */
    long sent = (long)send(client, "x", 1, 0);
    cr_assert(eq(long, sent, 1L), "test setup: the client's send() of 1 byte returned %ld "
              "(%s); expected 1", sent, sent < 0 ? strerror(errno) : "no error");
    char c = 0;
    cr_assert(eq(long, (long)wb_recv(fd, &c, 1, WB_IO_MS), 1L),
              "the byte the client sent did not arrive on the accepted fd");
    close(fd);
    close(client);
    close(lfd);
}

Test(listen, the_program_prints_its_address_and_accepts_clients)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    cr_assert(eq(str, p->host, "127.0.0.1"),
              "the program said it listens on %s; the default --host is 127.0.0.1", p->host);
    int fd = wb_connect(p);
    cr_assert(fd >= 0, "wb_connect() returned %d; expected a connected fd\n%s", fd,
              wb_describe(p));
    int status;
    cr_assert(eq(int, wb_wait_exit(p, 100, &status), 0),
              "the program exited after a client connected; it must keep serving\n%s",
              wb_describe(p));
}

Test(listen, the_program_listens_on_ipv6_with_host_option)
{
    struct wb_proc *p = wb_start("--mode", "echo", "--host", "::1", NULL);
    cr_assert(eq(str, p->host, "::1"),
              "with --host ::1 the program said it listens on \"%s\"; expected \"listening on [::1]:PORT\"",
              p->host);
    int fd = wb_try_connect("::1", p->port);
    cr_assert(fd >= 0, "cannot connect to [::1]:%d: %s\n%s", p->port, strerror(errno),
              wb_describe(p));
}

Test(listen, the_program_restarts_on_the_same_port_at_once)
{
    struct wb_proc *p = wb_start("--mode", "echo", NULL);
    int port = p->port;
    /* A connection the server closes first leaves its port in TIME_WAIT. */
    int fd = wb_connect(p);
    wb_send_str(p, fd, "x");
    wb_recv(fd, (char[1]){ 0 }, 1, 500);
    wb_stop(p, 1000);
    wb_wait_eof(fd, 1000);
    close(fd);

    char portstr[16], why[1024];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *args[] = { "--mode", "echo", "--port", portstr, NULL };
    struct wb_proc *again = wb_try_start(why, sizeof why, args);
    cr_assert(again != NULL,
              "restarting on port %d right after a stop failed: %s\n"
              "--- its stderr ---\n%s\n"
              "\"Address already in use\" here means SO_REUSEADDR was not set before bind().",
              port, why, wb_stderr_tail(wb_last(), 2000));
    cr_assert(eq(int, again->port, port), "asked for --port %d, it printed port %d", port,
              again->port);
}
