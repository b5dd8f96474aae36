/* restd -- the REST API server: parses the command line and wires the
 * modules together (given). Chapter 04 builds its restd from this file
 * too, with its own store.c.
 *
 *   restd [--db FILE] [--busy-ms MS] [--host ADDR] [--port N]
 *         [--max-clients N] [--timeout MS] [--max-body BYTES]
 *
 * --db FILE says where the store keeps the items: store_open()'s spec;
 * --busy-ms how long a request may wait for a locked database (chapter
 * 04) before the client gets 503 -- 0, the default, lets the store choose.
 * This chapter's store keeps them in memory and ignores it; chapter 04's
 * needs it. The store is opened -- chapter 04's database migrated --
 * before the server listens: a store that cannot serve means a message
 * and exit status 1, and never a "listening" line.
 *
 * Once it accepts clients it prints "listening on HOST:PORT" on stdout. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "net.h"

static int usage(void)
{
    fprintf(stderr, "usage: restd [--db FILE] [--busy-ms MS] [--host ADDR] [--port N]\n"
                    "             [--max-clients N] [--timeout MS] [--max-body BYTES]\n");
    return 2;
}

/* A whole number in [lo, hi], or -1. */
static long long number(const char *s, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || !*s || *end || v < lo || v > hi)
        return -1;
    return v;
}

/* server_config.ready: the server handles SIGTERM now, and tells so. */
static void say_listening(void *addr)
{
    printf("listening on %s\n", (const char *)addr);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "0", *db = NULL;
    long long max_clients = 64, timeout = 10000, max_body = 1024 * 1024, busy_ms = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--db") == 0)
            db = v;
        else if (strcmp(a, "--busy-ms") == 0 && (busy_ms = number(v, 1, 60000)) > 0)
            ;
        else if (strcmp(a, "--host") == 0)
            host = v;
        else if (strcmp(a, "--port") == 0)
            port = v;
        else if (strcmp(a, "--max-clients") == 0 && (max_clients = number(v, 1, 10000)) > 0)
            ;
        else if (strcmp(a, "--timeout") == 0 && (timeout = number(v, 1, 3600000)) > 0)
            ;
        else if (strcmp(a, "--max-body") == 0 && (max_body = number(v, 0, 1LL << 30)) >= 0)
            ;
        else
            return usage();
    }

    char err[512] = "", addr[NET_ADDR_MAX];
    struct api api = {.store = store_open(db, (int)busy_ms, err, sizeof err)};
    if (!api.store) {
        fprintf(stderr, "restd: cannot open the store: %s\n", err);
        return 1;
    }
    *err = '\0';
    int fd = net_listen(host, port, SOCK_STREAM, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "restd: cannot listen on %s port %s: %s\n", host, port,
                *err ? err : strerror(errno));
        store_close(api.store);
        return 1;
    }
    if (net_local_addr(fd, addr, sizeof addr) < 0) {
        perror("restd: getsockname");
        close(fd);
        store_close(api.store);
        return 1;
    }

    struct server_config cfg = {
        .listen_fd = fd,
        .handler = {.may_block = api_may_block, .serve = api_serve, .error = api_error,
                    .ctx = &api},
        .max_clients = (int)max_clients,
        .timeout_ms = (int)timeout,
        .max_body = (size_t)max_body,
        .ready = say_listening,
        .ready_arg = addr,
    };
    int rc = server_run(&cfg);
    if (rc < 0)
        perror("restd");
    close(fd);
    store_close(api.store);
    return rc < 0 ? 1 : 0;
}
