/* netd -- the chapter's server: parses the command line and wires the
 * modules together. No networking happens here.
 *
 *   netd [--mode echo|lines|prices|chat|kv] [--host ADDR] [--port N]
 *        [--idle-timeout MS]
 *
 * Once it accepts clients it prints "listening on HOST:PORT" on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"
#include "kv.h"
#include "lines.h"
#include "net.h"
#include "prices.h"
#include "server.h"

#define DEFAULT_IDLE_TIMEOUT_MS 60000

static const struct service *const services[] = {
    &echo_service, &lines_service, &prices_service, &chat_service,
};

static int usage(void)
{
    fprintf(stderr,
            "usage: netd [--mode echo|lines|prices|chat|kv] [--host ADDR]\n"
            "            [--port N] [--idle-timeout MS]\n");
    return 2;
}

int main(int argc, char **argv)
{
    const char *mode = "echo", *host = "127.0.0.1", *port = "0";
    long idle = DEFAULT_IDLE_TIMEOUT_MS;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (i + 1 >= argc)
            return usage();
        if (strcmp(arg, "--mode") == 0) {
            mode = argv[++i];
        } else if (strcmp(arg, "--host") == 0) {
            host = argv[++i];
        } else if (strcmp(arg, "--port") == 0) {
            port = argv[++i];
        } else if (strcmp(arg, "--idle-timeout") == 0) {
            char *end;
            errno = 0;
            idle = strtol(argv[++i], &end, 10);
            if (errno || *end || idle < 0 || idle > 86400000)
                return usage();
        } else {
            return usage();
        }
    }

    const struct service *svc = NULL;
    for (size_t i = 0; i < sizeof services / sizeof services[0]; i++)
        if (strcmp(mode, services[i]->name) == 0)
            svc = services[i];
    int udp = strcmp(mode, "kv") == 0;
    if (!svc && !udp) {
        fprintf(stderr, "netd: unknown mode '%s'\n", mode);
        return usage();
    }

    if (server_handle_signals() < 0) {
        perror("netd: signals");
        return 1;
    }

    char err[256] = "", addr[NET_ADDR_MAX];
    int fd = net_listen(host, port, udp ? SOCK_DGRAM : SOCK_STREAM, err,
                        sizeof err);
    if (fd < 0) {
        fprintf(stderr, "netd: cannot listen on %s port %s: %s\n", host, port,
                *err ? err : strerror(errno));
        return 1;
    }
    if (net_local_addr(fd, addr, sizeof addr) < 0) {
        perror("netd: getsockname");
        close(fd);
        return 1;
    }
    /* stdout is a pipe under the tests: without the flush the line would
     * sit in the buffer and nobody would know the server is up. */
    printf("listening on %s\n", addr);
    fflush(stdout);

    int rc;
    if (udp) {
        struct kv *kv = kv_new();
        rc = kv ? server_run_udp(fd, kv) : -1;
        kv_free(kv);
    } else {
        struct server srv = { .listen_fd = fd, .svc = svc,
                              .idle_timeout_ms = (int)idle };
        rc = server_run(&srv);
        free(srv.conns);
    }
    if (rc < 0)
        perror("netd");
    close(fd);
    return rc < 0 ? 1 : 0;
}
