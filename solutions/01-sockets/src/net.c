/* net -- listening, accepting and sending, with the error handling written
 * out. See net.h for the contracts. */
#include "net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* macOS has no MSG_NOSIGNAL; there the server's SIG_IGN for SIGPIPE
 * (loop_handle_signals) does the same job. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif

/* Marks fd close-on-exec, so a program the server runs never inherits it.
 * (Linux can do this atomically with SOCK_CLOEXEC and accept4(); those
 * are not in POSIX.) */
static int set_cloexec(int fd)
{
    int flags = fcntl(fd, F_GETFD);
    if (flags < 0 || fcntl(fd, F_SETFD, flags | FD_CLOEXEC) < 0)
        return -1;
    return 0;
}

/* The message for a failed call, "call host:port: reason", if err wants it. */
static void set_err(char *err, size_t errlen, const char *call,
                    const char *host, const char *port, const char *why)
{
    if (err && errlen)
        snprintf(err, errlen, "%s %s:%s: %s", call, host ? host : "*", port,
                 why);
}

int net_listen(const char *host, const char *port, int socktype, char *err,
               size_t errlen)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;   /* IPv4 or IPv6, whatever host is */
    hints.ai_socktype = socktype;
    hints.ai_flags = AI_PASSIVE;   /* host == NULL: every local address */

    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        /* getaddrinfo() reports in its return value, not in errno: only
         * EAI_SYSTEM leaves a system error there. */
        int saved = rc == EAI_SYSTEM ? errno : EINVAL;
        set_err(err, errlen, "getaddrinfo", host, port,
                rc == EAI_SYSTEM ? strerror(saved) : gai_strerror(rc));
        errno = saved;
        return -1;
    }

    int fd = -1, saved = 0;
    const char *failed = "socket";
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
        if (fd < 0) {
            failed = "socket";
            saved = errno;
            continue;
        }
        int one = 1;
        /* Without SO_REUSEADDR, bind() fails with EADDRINUSE for a minute
         * or so after a restart, while old connections sit in TIME_WAIT. */
        if (set_cloexec(fd) < 0) {
            failed = "fcntl";
        } else if (socktype == SOCK_STREAM &&
                   setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0) {
            failed = "setsockopt";
        } else if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
            failed = "bind";
        } else if (socktype == SOCK_STREAM && listen(fd, NET_BACKLOG) < 0) {
            failed = "listen";
        } else {
            break; /* fd is ready */
        }
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        set_err(err, errlen, failed, host, port, strerror(saved));
        errno = saved;
    }
    return fd;
}

int net_accept(int fd)
{
    int c = accept(fd, NULL, NULL);
    if (c < 0)
        return -1;
    if (set_cloexec(c) < 0) {
        int saved = errno;
        close(c);
        errno = saved;
        return -1;
    }
    return c;
}

int net_local_addr(int fd, char *out, size_t outlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen = sizeof ss;
    char host[INET6_ADDRSTRLEN];
    int port;

    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
        return -1;
    if (ss.ss_family == AF_INET) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
        port = ntohs(sin->sin_port);
        snprintf(out, outlen, "%s:%d", host, port);
    } else if (ss.ss_family == AF_INET6) {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
        port = ntohs(sin6->sin6_port);
        snprintf(out, outlen, "[%s]:%d", host, port);
    } else {
        errno = EAFNOSUPPORT;
        return -1;
    }
    return port;
}

ssize_t net_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    size_t left = len;

    while (left > 0) {
        /* MSG_NOSIGNAL: a peer that hung up gives EPIPE, not a SIGPIPE
         * that would kill the whole server. */
        ssize_t n = send(fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    return (ssize_t)len;
}

int net_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -1;
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    return 0;
}
