/* netd -- the chapter's server: parses the command line and wires the
 * modules together. No networking happens here.
 *
 *   netd [--mode echo|lines|prices|chat|kv] [--host ADDR] [--port N]
 *        [--idle-timeout MS] [--max-clients N]
 *
 * Once it accepts clients it prints "listening on HOST:PORT" on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chat.h"
#include "echo.h"
#include "kv.h"
#include "lines.h"
#include "loop.h"
#include "net.h"
#include "prices.h"

#define DEFAULT_IDLE_TIMEOUT_MS 60000

static const struct service *const services[] = {
    &echo_service, &lines_service, &prices_service, &chat_service,
};

static int usage(void)
{
    fprintf(stderr,
            "usage: netd [--mode echo|lines|prices|chat|kv] [--host ADDR]\n"
            "            [--port N] [--idle-timeout MS] [--max-clients N]\n");
    return 2;
}

/* A whole number in [lo, hi], or -1. */
static long number(const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi)
        return -1;
    return v;
}

/* kv_handle() with the signature of a datagram service. */
static int kv_answer(void *kv, const char *req, size_t len, char *reply, size_t cap)
{
    return kv_handle(kv, req, len, reply, cap);
}

int main(int argc, char **argv)
{
    const char *mode = "echo", *host = "127.0.0.1", *port = "0";
    long idle = DEFAULT_IDLE_TIMEOUT_MS, max_clients = LOOP_MAX_CONNS;

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
            if ((idle = number(argv[++i], 0, 86400000)) < 0)
                return usage();
        } else if (strcmp(arg, "--max-clients") == 0) {
            if ((max_clients = number(argv[++i], 1, 100000)) < 0)
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

    char err[256] = "", addr[NET_ADDR_MAX];
    int fd = net_listen(host, port, udp ? SOCK_DGRAM : SOCK_STREAM, err, sizeof err);
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

    struct loop_config cfg = {
        .listen_fd = udp ? -1 : fd,
        .svc = svc,
        .max_conns = (int)max_clients,
        .idle_timeout_ms = (int)idle,
    };
    struct loop *l = loop_new(&cfg, err, sizeof err);
    if (!l || loop_handle_signals(l) < 0) {
        fprintf(stderr, "netd: %s\n", l ? strerror(errno) : err);
        loop_free(l);
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
        rc = kv ? loop_run_udp(l, fd, kv_answer, kv) : -1;
        kv_free(kv);
    } else {
        rc = loop_run(l);
    }
    if (rc < 0)
        perror("netd");
    loop_free(l);
    close(fd);
    return rc < 0 ? 1 : 0;
}
