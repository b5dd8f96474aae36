/* net -- the socket calls every server needs, with their error handling.
 *
 * Listening (stage 1), accepting (stage 1), sending everything (stage 2)
 * and switching a socket to non-blocking mode (stage 5). Later chapters
 * build their servers on this module.
 *
 * Conventions: functions return a non-negative result on success and -1 on
 * failure with errno set, like the system calls they wrap, so a caller can
 * tell EINTR and EAGAIN from real errors. Every fd this module creates has
 * FD_CLOEXEC set. */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/types.h>

/* Longest text net_local_addr() writes, NUL included:
 * "[" + IPv6 address + "]:" + port. */
#define NET_ADDR_MAX 64

/* Creates a socket bound to host:port and returns its fd.
 *
 * host is a numeric address or a name ("127.0.0.1", "::1", "localhost");
 * NULL means every local address. port is a decimal string; "0" lets the
 * kernel pick a free port (net_local_addr() tells which).
 * socktype is SOCK_STREAM (TCP) or SOCK_DGRAM (UDP).
 *
 * TCP sockets get SO_REUSEADDR before bind(), so a server can restart on
 * its port at once, and are put in listening state with a backlog of
 * NET_BACKLOG: that many connections the kernel completes may wait to be
 * accepted. A burst of more is dropped and retried by the clients a
 * second later -- 511 is what nginx and Redis use (the kernel may cap it:
 * /proc/sys/net/core/somaxconn). Every address getaddrinfo() returns is
 * tried in order.
 *
 * Returns the fd, or -1 with errno set; when err is not NULL, a message
 * such as "bind 127.0.0.1:80: Permission denied" is written to
 * err[0..errlen). errno is that of the call that failed last (socket(),
 * bind(), ...), except when getaddrinfo() fails -- a host or port it cannot
 * resolve, like "no-such-host.invalid" or port "12ab": it reports its error
 * in its return value, not in errno, so errno is then EINVAL (for
 * EAI_SYSTEM, the errno getaddrinfo() left), and err holds
 * "getaddrinfo HOST:PORT: " and gai_strerror()'s text. */
#define NET_BACKLOG 511
int net_listen(const char *host, const char *port, int socktype,
               char *err, size_t errlen);

/* Accepts one connection on the listening socket fd.
 * Returns the new connection's fd (FD_CLOEXEC set), or -1 with errno set.
 * EINTR is returned to the caller, not retried, so that a server loop can
 * notice a signal; on a non-blocking fd, EAGAIN means "no client waiting". */
int net_accept(int fd);

/* Writes the local address of socket fd as "127.0.0.1:8080", or with
 * brackets for IPv6: "[::1]:8080", into out[0..outlen).
 * Returns the port number, or -1 with errno set. */
int net_local_addr(int fd, char *out, size_t outlen);

/* Sends all of buf[0..len) on fd: send() may take fewer bytes than asked,
 * so this loops until every byte is out. Retries EINTR; never raises
 * SIGPIPE (a closed peer is an EPIPE error instead).
 * Returns len, or -1 with errno set (some bytes may have been sent). */
ssize_t net_send_all(int fd, const void *buf, size_t len);

/* Puts fd in non-blocking mode: reads, writes and accept() return -1 with
 * errno EAGAIN instead of waiting. Returns 0, or -1 with errno set. */
int net_set_nonblocking(int fd);

#endif
