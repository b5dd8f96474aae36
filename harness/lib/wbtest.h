/* wbtest -- what the chapters' Criterion tests use to drive a learner's
 * program and to explain a failure.
 *
 *  - Suites: WB_SUITE(name) gives every test the harness's timeout, keeps
 *    the test's own stderr in a log the grader shows, and turns an exit()
 *    in code under test into a failure.
 *  - Programs: wb_start() runs the chapter's program in its own process
 *    group, reads its "listening on HOST:PORT" line with a deadline and
 *    guarantees that nothing it started outlives the test -- also after a
 *    crash or a timeout (a watchdog process kills the group).
 *  - Clients: connect, send and receive with deadlines; hostile clients
 *    (one byte at a time, never reading, resetting).
 *  - Messages: bytes escaped C-style and cut at a sensible length, where
 *    two byte strings first differ, and expected-vs-received assertions
 *    that say what was sent. Other test helpers (httpc.h) build their
 *    messages from these, so every message looks the same.
 *  - Files: a fresh temporary directory per test (wb_tmpdir), removed at
 *    its end.
 *
 * Every function that can fail in a way the test cannot go on from calls
 * cr_fatal() with a message for the learner; they return only on success
 * unless their comment says otherwise. */
#ifndef WBTEST_H
#define WBTEST_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <criterion/criterion.h>
#include <criterion/new/assert.h>

/* macOS has neither; the tests ignore SIGPIPE (wb_test_init), and a
 * socket's close-on-exec only matters to programs the test starts, which
 * close every other fd themselves. */
#ifndef MSG_NOSIGNAL
#define MSG_NOSIGNAL 0
#endif
#ifndef SOCK_CLOEXEC
#define SOCK_CLOEXEC 0
#endif

/* One timeout for every test in a binary: Criterion (its BoxFort sandbox)
 * drops deadlines when tests with different timeouts run in parallel.
 * Seconds. */
#ifndef WB_TIMEOUT
#define WB_TIMEOUT 10
#endif

void wb_test_init(void);
void wb_test_fini(void);

/* Declares a suite with the harness defaults. Use it instead of TestSuite. */
/* A test of the chapter's own functions, not of its program:
 * WB_UNIT_TEST(suite, name) is Test(suite, name), except in a later
 * chapter that reruns the file (harness/lib/wbreuse.h), which skips it --
 * there it would test the earlier chapter's reference, and pass on any
 * stub. */
#ifndef WB_UNIT_TEST
#define WB_UNIT_TEST(...) Test(__VA_ARGS__)
#endif

#define WB_SUITE(name)                                                     \
    TestSuite(name, .init = wb_test_init, .fini = wb_test_fini,           \
              .timeout = WB_TIMEOUT)

/* ---- time --------------------------------------------------------------- */

/* Milliseconds on the monotonic clock. */
long long wb_now_ms(void);

/* Waits ms milliseconds. Only for tests whose subject is time itself (an
 * idle timeout); everything else waits for an event with a deadline. */
void wb_pause_ms(int ms);

/* The milliseconds left until deadline (a wb_now_ms() time), 0 once it
 * has passed: a poll() timeout. */
int wb_ms_left(long long deadline);

/* ---- the program under test ------------------------------------------- */

#define WB_MAX_ARGS 32

struct wb_proc {
    pid_t pid;          /* the program; its process group id too */
    pid_t watchdog;     /* kills the group when the test process dies */
    int out_fd;         /* read end of the program's stdout */
    int log_fd;         /* the program's stderr, an unlinked temp file */
    int dead_w;         /* held open by the test; EOF wakes the watchdog */
    int reaped;         /* 1 once waitpid() got its status */
    int status;         /* wait status, valid when reaped */
    long long exit_cpu_ms; /* when reaped: its CPU time, user + system */
    long exit_rss_kb;   /* when reaped: its peak resident memory */
    char host[64];      /* from the "listening on" line, brackets removed */
    int port;
    char args[256];     /* the command line, for messages */
};

/* Starts the chapter's program (WB_PROGRAM) with args (a NULL-terminated
 * list) and waits up to WB_START_MS for its "listening on HOST:PORT" line.
 * "--port 0" is added unless args hold a --port. On failure it fails the
 * test with what went wrong and the program's stderr. The program is
 * stopped at the end of the test (or by wb_stop). At most WB_MAX_PROCS per
 * test. */
/* A chapter whose program needs arguments of its own in every test --
 * chapter 04's "--db FILE", also for the tests it reuses from chapter 03
 * -- builds its tests with -DWB_START_ARGS='"--db {tmp}/items.db"': the
 * words are added to every start whose arguments do not hold the first of
 * them already, with {tmp} replaced by wb_tmpdir(). */
#define WB_START_MS 5000
#define WB_MAX_PROCS 16
struct wb_proc *wb_start(const char *arg, ...);

/* Like wb_start, but returns NULL instead of failing; why[0..whylen) says
 * what happened (no "listening on" line, exited, ...). */
struct wb_proc *wb_try_start(char *why, size_t whylen, const char *const *args);

/* The program wb_try_start() started last, also when it failed: for its
 * stderr in a message. NULL before any start. */
struct wb_proc *wb_last(void);

/* Sends sig to the program's process group. */
void wb_signal(struct wb_proc *p, int sig);

/* Waits up to ms for the program to exit. Returns 1 and fills *status
 * (a waitpid status) when it did, 0 when it is still running. */
int wb_wait_exit(struct wb_proc *p, int ms, int *status);

/* Stops the program: SIGTERM, up to grace_ms, then SIGKILL to the whole
 * group. Returns the wait status. Idempotent. */
int wb_stop(struct wb_proc *p, int grace_ms);

/* "the program is still running" / "exited with status 1" / "was killed by
 * signal 6 (Aborted)", then the tail of its stderr, and the test's
 * temporary directory when it has one (wb_tmpdir). For failure messages.
 * p may be NULL (tests of code in the test process): wb_send(NULL, ...)
 * and the other helpers that take p then say so. */
const char *wb_describe(struct wb_proc *p);

/* The program's stderr so far (the last cap-1 bytes), NUL-terminated. */
const char *wb_stderr_tail(struct wb_proc *p, size_t cap);

/* CPU time a program that waits may use in a second: a loop that spins
 * uses all of it (1000 ms), one that sleeps in poll() almost nothing. */
#define WB_SPIN_MS 250

/* What the program costs, read from /proc (Linux). Each returns -1 where
 * it cannot tell (another system, or the program is gone). */

/* CPU time the program has used so far (in all, once it exited and was
 * reaped), user + system, in ms. A loop that spins shows here even when
 * it answers correctly. */
long long wb_cpu_ms(struct wb_proc *p);

/* The program's peak resident memory so far (VmHWM; after its exit, from
 * wait4()), in KiB. */
long wb_peak_rss_kb(struct wb_proc *p);

/* How many file descriptors the program has open now. */
int wb_open_fds(struct wb_proc *p);

/* Lowers the program's soft limit on open files (RLIMIT_NOFILE) to n, as
 * `ulimit -n` would have: its next accept() past the limit fails with
 * EMFILE. Fails the test when the limit cannot be set. */
void wb_limit_fds(struct wb_proc *p, long n);

/* ---- clients ------------------------------------------------------------ */

/* Connects to the program over TCP (to the host it printed). */
int wb_connect(struct wb_proc *p);

/* Connects to the program from the local address from ("127.0.0.2"):
 * the program sees another client's address. IPv4 loopback only. */
int wb_connect_from(struct wb_proc *p, const char *from);

/* Connects to host:port over TCP, up to WB_IO_MS. Returns the fd, or -1
 * with errno set (it does not fail the test). */
int wb_try_connect(const char *host, int port);

/* A UDP socket connect()ed to the program: send() and recv() work on it. */
int wb_udp_connect(struct wb_proc *p);

/* Default deadline for one read or write. */
#define WB_IO_MS 3000

/* Sends all of data[0..len) within WB_IO_MS, or fails the test. */
void wb_send(struct wb_proc *p, int fd, const void *data, size_t len);
void wb_send_str(struct wb_proc *p, int fd, const char *s);

/* Hostile: sends data one byte per write, with TCP_NODELAY, so that the
 * program sees as many reads as there are bytes. */
void wb_send_bytewise(struct wb_proc *p, int fd, const void *data, size_t len);

/* Hostile: sends without ever reading until the connection has taken
 * nothing for ms (its buffers are full), and returns the byte count. Gives
 * up after 5 s, for a program that reads forever. */
size_t wb_send_until_blocked(int fd, int ms);

/* Hostile: closes fd with an RST instead of a FIN (SO_LINGER 0). */
void wb_reset(int fd);

/* Sends out[0..outlen) and, at the same time, receives up to inlen bytes
 * into in -- for payloads larger than the socket buffers, where sending
 * everything before reading would deadlock against an echo. Stops when
 * inlen bytes arrived, at EOF, or after ms. Fails the test if the program
 * stops taking bytes. Returns the number of bytes received. */
size_t wb_exchange(struct wb_proc *p, int fd, const void *out, size_t outlen,
                   void *in, size_t inlen, int ms);

/* Reads until len bytes arrived, the peer closed, or ms passed.
 * Returns the number of bytes read (<= len). Never fails the test. */
size_t wb_recv(int fd, void *buf, size_t len, int ms);

/* Reads until a '\n' arrived (kept), cap-1 bytes, EOF or ms.
 * NUL-terminates buf and returns the length. Never fails the test. */
size_t wb_recv_line(int fd, char *buf, size_t cap, int ms);

/* Waits up to ms for the peer to close. Returns 1 at EOF (or a reset), 0
 * when bytes arrived instead (they are consumed, up to 4 KiB), -1 on
 * timeout. */
int wb_wait_eof(int fd, int ms);

/* Returns 1 when no byte arrives on fd within ms, else 0. */
int wb_silent(int fd, int ms);

/* ---- assertions with teaching messages ----------------------------------- */

/* Receives expected[0..len) on fd within ms; on any difference fails the
 * test with: the context (a printf format), the expected and the received
 * bytes escaped, where they first differ, and the program's state. */
void wb_expect_bytes(struct wb_proc *p, int fd, const void *expected,
                     size_t len, int ms, const char *context_fmt, ...)
    __attribute__((format(printf, 6, 7)));

/* The same for a NUL-terminated string. */
#define wb_expect_str(p, fd, s, ...)                                      \
    wb_expect_bytes((p), (fd), (s), strlen(s), WB_IO_MS, __VA_ARGS__)

/* Fails the test unless the peer closes fd within ms. */
void wb_expect_eof(struct wb_proc *p, int fd, int ms, const char *context_fmt,
                   ...) __attribute__((format(printf, 4, 5)));

/* ---- bytes -------------------------------------------------------------- */

/* Writes p[0..n) escaped as a C string literal, quotes included, into
 * out[0..cap): printable ASCII as is, \n \r \t \\ \" and \0, other bytes as
 * \xHH. Past max bytes of input it stops and adds "... (N more bytes)".
 * Returns out. */
char *wb_escape(const void *p, size_t n, size_t max, char *out, size_t cap);

/* The same for a line of text shown as it is (a header field): no quotes
 * around it, printable ASCII as is -- quotes and backslashes too --, and
 * every other byte as \xHH. */
char *wb_escape_text(const void *p, size_t n, size_t max, char *out, size_t cap);

/* Room for a message string of cap bytes (cap > 0), "" at first. Each call
 * takes the next of WB_MSG_SLOTS slots and frees what that slot held, so
 * a string lives until the WB_MSG_SLOTS-th following call of wb_msgbuf(),
 * wb_esc() or wb_diff(): long enough for the parts of one message. Fails
 * the test when memory runs out. */
#define WB_MSG_SLOTS 16
char *wb_msgbuf(size_t cap);

/* p[0..n) escaped by wb_escape(), at most max bytes shown, in a
 * wb_msgbuf() slot. */
const char *wb_esc(const void *p, size_t n, size_t max);

/* Where want[0..wlen) and got[0..glen) first differ, for a message, in
 * one wb_msgbuf() slot:
 *     first difference at byte K
 *     (both shown from 40 bytes before the difference)   -- when K > 40
 *     expected: "..."
 *     received: "..."
 * with at most max bytes of each shown, escaped. "no difference" when
 * they are equal. */
const char *wb_diff(const void *want, size_t wlen, const void *got, size_t glen, size_t max);

/* A deterministic random generator for test data. The seed comes from
 * WB_SEED in the environment, or from the clock; print wb_seed() in every
 * message about random data so a failure can be replayed:
 *   WB_SEED=1234 make check CHAPTER=... STAGE=... */
uint64_t wb_seed(void);
void wb_random_bytes(void *buf, size_t n);
uint32_t wb_random_u32(void);

/* ---- files ---------------------------------------------------------------- */

/* A fresh, private (mode 0700) directory for the current test, for the
 * files it needs: a site to serve, a database. Made on the first call in a
 * test, as $TMPDIR/wb-SUITE-TEST-XXXXXX (/tmp without TMPDIR); every
 * further call in that test returns the same path, valid until the test
 * ends. wb_test_fini() removes it with everything in it, after stopping
 * the programs the test started; a test that crashes or times out runs no
 * teardown, so a small janitor process removes it once the test process
 * is gone. With WB_KEEP_TMP=1 in the environment it stays, and its path is
 * written to the test's log. Failure messages name it (wb_describe).
 * Everything in it must stay removable by the test's user. Fails the test
 * when it cannot be made. */
const char *wb_tmpdir(void);

#endif
