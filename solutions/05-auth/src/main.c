/* restd -- chapter 04's server with accounts and sessions: parses the
 * command line and wires the modules together (given).
 *
 *   restd --db FILE [--pwhash PROFILE] [--session-idle-ms MS]
 *         [--session-max-ms MS] [--login-max-failures N] [--lockout-ms MS]
 *         [--ip-login-limit N] [--ip-window-ms MS]
 *         [--jwt-secret-file FILE] [--jwt-issuer S] [--jwt-audience S]
 *         [--jwt-ttl-s S] [--busy-ms MS] [--host ADDR] [--port N]
 *         [--max-clients N] [--timeout MS] [--max-body BYTES]
 *
 * --db FILE is needed: the users and sessions live in the file, beside
 * the items, and its schema goes on from chapter 04's version (authdb.h).
 * --pwhash chooses the cost of hashing a password (users.h): interactive
 * by default; "test" is fast and weak, for tests on loopback only -- on
 * another address restd refuses it, and it always warns. Sessions end when
 * idle for --session-idle-ms (30 min) or after --session-max-ms (12 h).
 * Failed logins (throttle.h): --login-max-failures (5) for one account
 * from one client within 15 minutes lock that pair for --lockout-ms (5
 * min); --ip-login-limit (20) failures from one client, whatever the
 * accounts, within --ip-window-ms (1 min) lock the client for as long.
 * JWTs (jwt.h) are signed with the bytes of --jwt-secret-file -- 32 to
 * 1024 of them, else restd does not start (head -c 32 /dev/urandom > F
 * makes one); without it, with 32 random bytes of this run's own, so
 * that its tokens die with it. They say iss --jwt-issuer and aud
 * --jwt-audience (both "restd"), and last --jwt-ttl-s (300).
 *
 * Once it accepts clients it prints "listening on HOST:PORT" on stdout. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "auth.h"
#include "db.h"
#include "net.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: restd --db FILE [--pwhash interactive|owasp|moderate|test]\n"
            "             [--session-idle-ms MS] [--session-max-ms MS]\n"
            "             [--login-max-failures N] [--lockout-ms MS]\n"
            "             [--ip-login-limit N] [--ip-window-ms MS]\n"
            "             [--jwt-secret-file FILE] [--jwt-issuer S] [--jwt-audience S]\n"
            "             [--jwt-ttl-s S] [--busy-ms MS] [--host ADDR] [--port N]\n"
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

/* The JWT key: the bytes of path, or 32 random ones without it. 0, or -1
 * with why in err. */
static int jwt_key(struct jwt_config *k, const char *path, char *err, size_t errlen)
{
    if (!path) {
        randombytes_buf(k->key, JWT_SECRET_MIN);
        k->keylen = JWT_SECRET_MIN;
        return 0;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "--jwt-secret-file %s: %s", path, strerror(errno));
        return -1;
    }
    k->keylen = fread(k->key, 1, sizeof k->key, f);
    int more = fgetc(f) != EOF, bad = ferror(f);
    fclose(f);
    if (bad || more || k->keylen < JWT_SECRET_MIN) {
        snprintf(err, errlen, "--jwt-secret-file %s: %s%s%zu bytes; a key has %d to %d "
                 "random bytes (head -c 32 /dev/urandom > %s)", path, bad ? "unreadable, " : "",
                 more ? "more than " : "", k->keylen, JWT_SECRET_MIN, JWT_SECRET_MAX, path);
        sodium_memzero(k->key, sizeof k->key);
        return -1;
    }
    return 0;
}

/* 1 when host is a loopback address: 127.0.0.0/8, ::1 or localhost. */
static int loopback(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "::1") == 0 ||
           strcmp(host, "localhost") == 0;
}

/* server_config.ready: the server handles SIGTERM now, and tells so. */
static void say_listening(void *addr)
{
    printf("listening on %s\n", (const char *)addr);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1", *port = "0", *db = NULL, *profile = "interactive";
    long long max_clients = 64, timeout = 10000, max_body = 1024 * 1024, busy_ms = 0;
    long long idle_ms = SESSION_IDLE_MS, max_ms = SESSION_MAX_MS;
    struct throttle_rule per_account = {5, 15LL * 60 * 1000, 5LL * 60 * 1000},
                         per_client = {20, 60 * 1000, 60 * 1000};
    static struct jwt_config jwt = {.iss = "restd", .aud = "restd", .ttl_s = 300};
    const char *secret = NULL;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return usage();
        i++;
        if (strcmp(a, "--db") == 0)
            db = v;
        else if (strcmp(a, "--pwhash") == 0)
            profile = v;
        else if (strcmp(a, "--session-idle-ms") == 0 &&
                 (idle_ms = number(v, 1, 366LL * 24 * 3600 * 1000)) > 0)
            ;
        else if (strcmp(a, "--session-max-ms") == 0 &&
                 (max_ms = number(v, 1, 366LL * 24 * 3600 * 1000)) > 0)
            ;
        else if (strcmp(a, "--login-max-failures") == 0 &&
                 (per_account.max = (int)number(v, 1, 1000000)) > 0)
            ;
        else if (strcmp(a, "--lockout-ms") == 0 &&
                 (per_account.lock_ms = number(v, 1, 366LL * 24 * 3600 * 1000)) > 0)
            ;
        else if (strcmp(a, "--ip-login-limit") == 0 &&
                 (per_client.max = (int)number(v, 1, 1000000)) > 0)
            ;
        else if (strcmp(a, "--ip-window-ms") == 0 &&
                 (per_client.window_ms = number(v, 1, 366LL * 24 * 3600 * 1000)) > 0)
            per_client.lock_ms = per_client.window_ms;
        else if (strcmp(a, "--jwt-secret-file") == 0)
            secret = v;
        else if (strcmp(a, "--jwt-issuer") == 0 && *v)
            jwt.iss = v;
        else if (strcmp(a, "--jwt-audience") == 0 && *v)
            jwt.aud = v;
        else if (strcmp(a, "--jwt-ttl-s") == 0 && (jwt.ttl_s = number(v, 1, 86400)) > 0)
            ;
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
    const struct pwhash *cost = pwhash_find(profile);
    if (!db || !cost)
        return usage();
    if (strcmp(cost->name, "test") == 0) {
        fprintf(stderr, "restd: WARNING: --pwhash test is insecure; for tests only\n");
        if (!loopback(host)) {
            fprintf(stderr, "restd: --pwhash test listens on loopback only, not on %s\n", host);
            return 2;
        }
    }
    char err[512] = "", addr[NET_ADDR_MAX];
    if (sodium_init() < 0) {
        fprintf(stderr, "restd: libsodium cannot start\n");
        return 1;
    }
    if (jwt_key(&jwt, secret, err, sizeof err) < 0) {
        fprintf(stderr, "restd: %s\n", err);
        return 2;
    }

    db_extend(authdb_steps, authdb_nsteps); /* the users after the items */
    struct api api = {.store = store_open(db, (int)busy_ms, err, sizeof err)};
    if (!api.store) {
        fprintf(stderr, "restd: cannot open the store: %s\n", err);
        return 1;
    }
    struct authdb *adb = authdb_open(db, (int)busy_ms, err, sizeof err);
    struct users users;
    struct sessions sessions = {.db = adb, .idle_ms = idle_ms, .max_ms = max_ms};
    struct throttle *throttle = throttle_new(AUTH_THROTTLE_SLOTS);
    if (!throttle)
        snprintf(err, sizeof err, "out of memory");
    if (!adb || !throttle || users_init(&users, adb, cost, err, sizeof err) < 0) {
        fprintf(stderr, "restd: %s\n", err);
        throttle_free(throttle);
        authdb_close(adb);
        store_close(api.store);
        return 1;
    }
    struct auth auth = {.api = &api, .users = &users, .sessions = &sessions,
                        .throttle = throttle, .per_account = per_account,
                        .per_client = per_client, .jwt = &jwt};

    *err = '\0';
    int rc = 1, fd = net_listen(host, port, SOCK_STREAM, err, sizeof err);
    if (fd < 0) {
        fprintf(stderr, "restd: cannot listen on %s port %s: %s\n", host, port,
                *err ? err : strerror(errno));
    } else if (net_local_addr(fd, addr, sizeof addr) < 0) {
        perror("restd: getsockname");
    } else {
        struct server_config cfg = {
            .listen_fd = fd,
            .handler = {.may_block = auth_may_block, .serve = auth_serve, .error = auth_error,
                        .ctx = &auth},
            .max_clients = (int)max_clients,
            .timeout_ms = (int)timeout,
            .max_body = (size_t)max_body,
            .ready = say_listening,
            .ready_arg = addr,
        };
        rc = server_run(&cfg) < 0 ? 1 : 0;
        if (rc)
            perror("restd");
    }
    if (fd >= 0)
        close(fd);
    throttle_free(throttle);
    authdb_close(adb);
    store_close(api.store);
    sodium_memzero(jwt.key, sizeof jwt.key);
    return rc;
}
