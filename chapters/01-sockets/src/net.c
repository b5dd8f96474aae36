/* net -- listening, accepting and sending, with the error handling written
 * out. See net.h for the contracts: read them first, they are the spec the
 * tests check. */
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

int net_listen(const char *host, const char *port, int socktype, char *err,
               size_t errlen)
{
    /* TODO(stage 1): create, configure, bind and (for TCP) listen.
     *
     *  1. getaddrinfo(host, port, &hints, &res) with hints.ai_family =
     *     AF_UNSPEC, hints.ai_socktype = socktype, hints.ai_flags =
     *     AI_PASSIVE. On failure (rc != 0) it leaves errno alone:
     *     gai_strerror(rc) says why, for err, and errno = EINVAL (but for
     *     rc == EAI_SYSTEM errno already holds the reason: keep it).
     *  2. For each struct addrinfo in the list: socket(), FD_CLOEXEC with
     *     fcntl(), setsockopt(SO_REUSEADDR) for SOCK_STREAM, bind(),
     *     listen(fd, NET_BACKLOG) for SOCK_STREAM. Keep the first that
     *     works; close the fd of one that fails and try the next.
     *  3. freeaddrinfo(res) on every path.
     *  4. On failure: return -1 with errno set, and when err is not NULL
     *     write "bind 127.0.0.1:80: Permission denied" style text into it
     *     (snprintf(err, errlen, ...)). */
    (void)host;
    (void)port;
    (void)socktype;
    (void)err;
    (void)errlen;
    errno = ENOSYS;
    return -1;
}

int net_accept(int fd)
{
    /* TODO(stage 1): accept() a connection and mark it FD_CLOEXEC
     * (fcntl(c, F_SETFD, FD_CLOEXEC)). Return -1 with errno as accept()
     * left it -- do not retry EINTR here, the caller wants to see it. */
    (void)fd;
    errno = ENOSYS;
    return -1;
}

int net_local_addr(int fd, char *out, size_t outlen)
{
    /* TODO(stage 1): getsockname() into a struct sockaddr_storage. For
     * AF_INET, inet_ntop() the sin_addr and ntohs() the sin_port and write
     * "ADDR:PORT"; for AF_INET6 the same with sin6_addr and sin6_port and
     * brackets: "[ADDR]:PORT". Return the port. */
    (void)fd;
    (void)out;
    (void)outlen;
    errno = ENOSYS;
    return -1;
}

ssize_t net_send_all(int fd, const void *buf, size_t len)
{
    /* TODO(stage 2): loop until every byte is sent. send(fd, p, left,
     * MSG_NOSIGNAL) returns how many bytes it took -- maybe fewer than
     * asked. Advance p and shrink left by that much; on -1 retry if errno
     * is EINTR, else return -1. Return len at the end. */
    (void)fd;
    (void)buf;
    (void)len;
    errno = ENOSYS;
    return -1;
}

int net_set_nonblocking(int fd)
{
    /* TODO(stage 5): read the file status flags with fcntl(fd, F_GETFL),
     * then set them again with O_NONBLOCK added (F_SETFL). */
    (void)fd;
    errno = ENOSYS;
    return -1;
}
