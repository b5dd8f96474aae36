/* client -- see client.h. The HTTP client itself is harness/lib/httpc.c. */
#define _GNU_SOURCE
#include "client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conn.h"
#include "handler.h"

/* ---- the folder the server serves ---------------------------------------- */

#define F(path, file, mime, lit) { path, file, mime, lit, sizeof lit - 1 }
static struct ht_file files[] = {
    F("/index.html", "index.html", "text/html; charset=utf-8", "<h1>home</h1>\n"),
    F("/hello.txt", "hello.txt", "text/plain; charset=utf-8", "hello\n"),
    F("/style.css", "style.css", "text/css; charset=utf-8", "body { color: #333; }\n"),
    F("/app.js", "app.js", "text/javascript; charset=utf-8", "console.log(\"hi\");\n"),
    F("/data.json", "data.json", "application/json", "{\"ok\":true,\"n\":[1,2,3]}\n"),
    F("/logo.png", "logo.png", "image/png",
      "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89"),
    F("/photo.JPG", "photo.JPG", "image/jpeg", "\xff\xd8\xff\xe0\0\x10JFIF\0\x01\x01\0\xff\xd9"),
    F("/noext", "noext", "application/octet-stream", "a file without an extension\n"),
    F("/a%20b.txt", "a b.txt", "text/plain; charset=utf-8", "a space in my name\n"),
    F("/docs/index.html", "docs/index.html", "text/html; charset=utf-8", "<h1>docs</h1>\n"),
    F("/docs/guide.html", "docs/guide.html", "text/html; charset=utf-8", "<h1>guide</h1>\n"),
    { "/big.bin", "big.bin", "application/octet-stream", NULL, HT_BIG_LEN },
};
#undef F

static char parent_dir[4096], root_dir[4096];

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
    char path[8192];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        cr_fatal("test setup: cannot create %s: %s", path, strerror(errno));
    const char *s = data;
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            cr_fatal("test setup: cannot write %s: %s", path, strerror(errno));
        }
        s += n;
        len -= (size_t)n;
    }
    close(fd);
}

char *ht_make_root(void)
{
    if (root_dir[0])
        return root_dir;
    snprintf(parent_dir, sizeof parent_dir, "%s", wb_tmpdir());
    if ((size_t)snprintf(root_dir, sizeof root_dir, "%s/root", parent_dir) >= sizeof root_dir)
        cr_fatal("test setup: the temporary directory's path is too long: %s", parent_dir);
    char docs[8192];
    snprintf(docs, sizeof docs, "%s/docs", root_dir);
    if (mkdir(root_dir, 0755) < 0 || mkdir(docs, 0755) < 0)
        cr_fatal("test setup: mkdir in %s failed: %s", parent_dir, strerror(errno));
    write_file(parent_dir, "secret.txt", HT_SECRET, strlen(HT_SECRET));

    static char *big;
    if (!big) {
        big = malloc(HT_BIG_LEN);
        if (!big)
            cr_fatal("out of memory");
        wb_random_bytes(big, HT_BIG_LEN);
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].data)
            files[i].data = big;
        write_file(root_dir, files[i].file, files[i].data, files[i].len);
    }
    char link[8192];
    snprintf(link, sizeof link, "%s/empty", root_dir);
    if (mkdir(link, 0755) < 0)
        cr_fatal("test setup: mkdir %s: %s", link, strerror(errno));
    snprintf(link, sizeof link, "%s/escape.txt", root_dir);
    if (symlink("../secret.txt", link) < 0)
        cr_fatal("test setup: symlink %s: %s", link, strerror(errno));
    snprintf(link, sizeof link, "%s/docs-link", root_dir);
    if (symlink("docs", link) < 0)
        cr_fatal("test setup: symlink %s: %s", link, strerror(errno));
    return root_dir;
}

const char *ht_parent_dir(void)
{
    return parent_dir;
}

const struct ht_file *ht_files(size_t *n)
{
    *n = sizeof files / sizeof files[0];
    return files;
}

const struct ht_file *ht_file(const char *path)
{
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        if (strcmp(files[i].path, path) == 0)
            return &files[i];
    return NULL;
}

/* ---- unit-test helpers ------------------------------------------------------ */

int ht_slice_is(struct http_slice s, const char *want)
{
    size_t n = strlen(want);
    if (s.n != n)
        return 0;
    return n == 0 || (s.p && memcmp(s.p, want, n) == 0);
}

int ht_slice_within(struct http_slice s, const void *buf, size_t len)
{
    const char *b = buf;
    if (!s.p)
        return s.n == 0;
    return s.p >= b && s.p <= b + len && s.n <= (size_t)(b + len - s.p);
}

const char *ht_slice_esc(struct http_slice s)
{
    if (!s.p)
        return s.n ? "(a NULL pointer with a non-zero length!)" : "(null)";
    return wb_esc(s.p, s.n, 200);
}

void ht_expect_accepted(struct wb_proc *p, const char *why)
{
    static const char good[] = "GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n";
    struct ht_response *r = ht_exchange(p, good, sizeof good - 1);
    if (r->status == 400)
        cr_fatal("%s\n"
                 "a valid request must not get 400 (the positive control: a program that "
                 "answers 400 to everything must not pass)\n"
                 "%s\n"
                 "received: %s",
                 why, ht_describe_request(p, good, sizeof good - 1), ht_describe_response(r));
    ht_free(r);
}

/* ---- unit-test helpers: a request without parsing, conn_serve() alone ---- */

void ht_make_request(struct http_request *req, const char *method, const char *target)
{
    memset(req, 0, sizeof *req);
    req->method = (struct http_slice){ method, strlen(method) };
    req->target = (struct http_slice){ target, strlen(target) };
    const char *q = strchr(target, '?');
    req->path = (struct http_slice){ target, q ? (size_t)(q - target) : strlen(target) };
    req->query = q ? (struct http_slice){ q + 1, strlen(q + 1) } : (struct http_slice){ target, 0 };
    req->minor = 1;
    req->headers[0] = (struct http_header){ { "Host", 4 }, { "localhost", 9 } };
    req->nheaders = 1;
}

/* Counts the responses in out[0..len) (each starts with "HTTP/1.1 "
 * followed by three digits; interim 1xx ones are skipped) and collects
 * their status codes. */
static void count_responses(const char *out, size_t len, int *responses, int *status, size_t cap)
{
    for (const char *p = out; (p = memmem(p, len - (size_t)(p - out), "HTTP/1.1 ", 9));
         p += 9) {
        if ((size_t)(p - out) + 12 > len || p[9] < '1' || p[9] > '5')
            continue;
        int code = atoi(p + 9);
        if (code < 200)
            continue;
        if ((size_t)*responses < cap)
            status[*responses] = code;
        (*responses)++;
    }
}

double ht_feed_service(const struct http_handler *handler, const char *raw, size_t len,
                       size_t piece, int *responses, int *status, size_t cap, struct buf *sent,
                       int *was_closed)
{
    static struct site site;
    struct server_config cfg = { .listen_fd = -1, .max_clients = 4, .timeout_ms = 60000,
                                 .max_body = 1 << 20 };
    if (handler) {
        cfg.handler = *handler;
    } else {
        cr_assert(realpath(ht_make_root(), site.root) != NULL, "test setup: realpath");
        cfg.handler = (struct http_handler){ .may_block = handler_may_block, .serve = handler_serve, .ctx = &site };
    }
    struct loop_config lc = { .listen_fd = -1, .svc = &http_service, .ctx = &cfg,
                              .out_max = 64 << 20 };
    struct loop *l = loop_new(&lc, NULL, 0);
    struct conn *c = conn_new(-1);
    struct buf out;
    cr_assert(l != NULL && c != NULL, "test setup: loop_new/conn_new");
    buf_init(&out);
    *responses = 0;

    struct timespec t0, t1;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t0);
    int closed = http_service.on_open(l, c) == LOOP_CLOSE;
    for (size_t off = 0; off < len && !closed && !c->closing && !c->failed; off += piece) {
        size_t n = len - off < piece ? len - off : piece;
        buf_append(&c->in, raw + off, n);
        closed = http_service.on_data(l, c) == LOOP_CLOSE;
        /* The loop sends c->out now, and says so when it is empty; after
         * LOOP_CLOSE it sends what is queued, then closes. */
        for (int rounds = 0; c->out.len > 0 && !c->failed && rounds < 1000; rounds++) {
            buf_append(&out, c->out.data, c->out.len);
            buf_consume(&c->out, c->out.len);
            if (closed || c->closing)
                break;
            closed = http_service.on_drain(l, c) == LOOP_CLOSE;
        }
    }
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    if (!c->failed)
        buf_append(&out, c->out.data, c->out.len);
    count_responses(out.data, out.len, responses, status, cap);
    if (sent)
        buf_append(sent, out.data, out.len);
    if (was_closed)
        *was_closed = closed || c->closing || c->failed;
    if (http_service.on_close)
        http_service.on_close(l, c);
    conn_free(c);
    loop_free(l);
    buf_free(&out);
    return (double)(t1.tv_sec - t0.tv_sec) * 1000.0 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
}

static struct {
    struct site site;
    struct server_config cfg;
    int fd;
    volatile int done;
} job;

static void *serve_thread(void *arg)
{
    (void)arg;
    conn_serve(&job.cfg, job.fd);
    __atomic_store_n(&job.done, 1, __ATOMIC_SEQ_CST);
    return NULL;
}

int ht_start_conn_serve(int timeout_ms)
{
    cr_assert(realpath(ht_make_root(), job.site.root) != NULL, "test setup: realpath: %s",
              strerror(errno));
    job.cfg = (struct server_config){ .listen_fd = -1,
                                      .handler = { .may_block = handler_may_block, .serve = handler_serve, .ctx = &job.site },
                                      .max_clients = 4, .timeout_ms = timeout_ms,
                                      .max_body = 1 << 20 };
    /* a loopback connection; the server's end exactly as accept() returns it */
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int ok = l >= 0 && bind(l, (struct sockaddr *)&a, sizeof a) == 0 && listen(l, 1) == 0 &&
             getsockname(l, (struct sockaddr *)&a, &alen) == 0;
    cr_assert(ok, "test setup: listen on loopback: %s", strerror(errno));
    int client = wb_try_connect("127.0.0.1", ntohs(a.sin_port));
    job.fd = accept(l, NULL, NULL);
    cr_assert(client >= 0 && job.fd >= 0, "test setup: connect/accept: %s", strerror(errno));
    close(l);
    pthread_t t;
    cr_assert(eq(int, pthread_create(&t, NULL, serve_thread, NULL), 0), "test setup: pthread");
    pthread_detach(t);
    return client;
}

int ht_conn_serve_returned(int ms)
{
    long long until = wb_now_ms() + ms;
    while (!__atomic_load_n(&job.done, __ATOMIC_SEQ_CST) && wb_now_ms() < until)
        poll(NULL, 0, 5);
    return __atomic_load_n(&job.done, __ATOMIC_SEQ_CST);
}
