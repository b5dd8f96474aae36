/* Stage 1: register -- POST /users makes an account whose password is
 * kept only as an Argon2id hash: a salt of its own, the costs of
 * --pwhash, checked by the test itself with libsodium. The answer names
 * the account and nothing secret; the username and the password follow
 * their rules (422 with a pointer to the member); a taken name is 409 and
 * leaves the first account as it was; the client never picks its role;
 * and the password is in no byte of the database's files. */
#define _GNU_SOURCE /* strcasestr */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>
#include <sqlite3.h>

#include "authtest.h"

WB_SUITE(register);

/* POST /users with body must be a 422 problem that points at pointer. */
static void expect_422_at(struct wb_proc *p, int fd, const char *body, const char *pointer,
                          const char *why)
{
    struct ht_response *r = at_post(p, fd, "/users", body);
    char msg[768];
    snprintf(msg, sizeof msg, "POST /users %s -- %s: 422 Unprocessable Content, a problem "
             "document whose \"errors\" has an entry with \"pointer\": \"%s\"", body, why,
             pointer);
    cJSON *j = jt_expect_problem(p, r, 422, msg);
    int found = at_has_error_at(j, pointer);
    cr_expect(found, "%s\nthe problem's errors point at %s; expected an entry with \"pointer\": "
              "\"%s\" (RFC 6901: the member that is wrong). auth.c post_user() adds one "
              "{\"pointer\", \"detail\"} per broken rule\nreceived: %s", msg,
              at_error_pointers(j), pointer, wb_esc(r->body, r->body_len, 400));
    cJSON_Delete(j);
    ht_free(r);
}

static const char *count_users(sqlite3 *db)
{
    return db_value(db, "SELECT count(*) FROM users");
}

Test(register, a_new_account_is_201_with_its_location_and_nothing_secret)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char pw[64];
    snprintf(pw, sizeof pw, "first-Secret-%llu", (unsigned long long)wb_seed());
    char *body = at_creds("alice", pw);
    struct ht_response *r = at_post(p, fd, "/users", body);
    ht_expect_status(p, r, 201, NULL, 0, "POST /users with a good username and password: 201 "
                     "Created. auth.c post_user() -> users.c users_create()");
    ht_expect_header(p, r, "Cache-Control", "no-store", "the answer about an account is never "
                     "cached: user_respond() adds Cache-Control: no-store");
    cJSON *j = jt_body(p, r, "the 201 to POST /users");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    cr_assert(cJSON_IsNumber(id) && id->valuedouble >= 1,
              "POST /users %s answered %s\nexpected \"id\": the new row's id, a number >= 1 "
              "(sqlite3_last_insert_rowid())", body, wb_esc(r->body, r->body_len, 400));
    long long uid = (long long)id->valuedouble;
    char want[128], where[64];
    snprintf(want, sizeof want, "{\"id\":%lld,\"username\":\"alice\",\"role\":\"user\"}", uid);
    snprintf(where, sizeof where, "/users/%lld", uid);
    ht_expect_header(p, r, "Location", where, "a 201 says where the new resource is: Location: "
                     "/users/{id}, with the id of the body");
    const cJSON *m;
    cJSON_ArrayForEach(m, j)
    {
        int secret = strcasestr(m->string, "pass") || strcasestr(m->string, "hash");
        cr_expect(secret == 0, "the 201 to POST /users has the member \"%s\": %s\nan account is "
                  "shown as {id, username, role} -- never the password, never its hash (a "
                  "hash can be attacked offline)", m->string, wb_esc(r->body, r->body_len, 400));
    }
    jt_expect_json(p, r, want, "the body of the 201 is the account, exactly: id, username, and "
                   "the role \"user\" (user_respond() in auth.c)");
    cr_expect(strstr(r->raw, pw) == NULL, "the answer to POST /users holds the password %s:\n%s",
              pw, wb_esc(r->raw, r->raw_len, 600));
    cJSON_Delete(j);
    ht_free(r);
    free(body);

    sqlite3 *db = db_oracle(at_db_path());
    const char *row = db_value(db, "SELECT id || ' ' || username || ' ' || role FROM users");
    char want_row[96];
    snprintf(want_row, sizeof want_row, "%lld alice user", uid);
    cr_expect(strcmp(row, want_row) == 0, "after POST /users for alice the users table holds "
              "\"%s\" (id username role); expected \"%s\": users_create() INSERTs the row, "
              "and the id in the answer is its id", row, want_row);
    sqlite3_close(db);
}

Test(register, the_stored_hash_is_argon2id_and_verifies_only_the_password)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char pw[64];
    snprintf(pw, sizeof pw, "Correct-Horse-%llu", (unsigned long long)wb_seed());
    at_register(p, fd, "alice", pw);
    sqlite3 *db = db_oracle(at_db_path());
    char hash[crypto_pwhash_STRBYTES + 64];
    snprintf(hash, sizeof hash, "%s", at_user_value(db, "password_hash", "alice"));
    sqlite3_close(db);

    cr_assert(strncmp(hash, "$argon2id$v=19$", 15) == 0,
              "users.password_hash of alice is %s\nexpected the string crypto_pwhash_str() "
              "makes: \"$argon2id$v=19$m=...,t=...,p=1$<salt>$<hash>\". users.c users_create() "
              "stores that string, never the password and never a fast hash (SHA-256 of a "
              "password is cracked at billions of guesses a second)",
              wb_esc(hash, strlen(hash), 200));
    cr_expect(strstr(hash, "$m=8,t=1,p=1$") != NULL,
              "alice's hash is %s\nthe server runs with --pwhash test (1 pass over 8 KiB): "
              "expected \"m=8,t=1,p=1\" in it. users_create() hashes with u->cost->ops and "
              "u->cost->mem, the costs of --pwhash", hash);
    int right = crypto_pwhash_str_verify(hash, pw, strlen(pw));
    cr_expect(right == 0, "the test's crypto_pwhash_str_verify(alice's hash, \"%s\") failed: "
              "the hash is not of the password that was sent. Hash exactly the %zu bytes of the "
              "password member with crypto_pwhash_str() in users_create()\nhash: %s", pw,
              strlen(pw), hash);
    static const char *const wrong[] = {"correct-horse", "Correct-Horse-", "x"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
        int bad = crypto_pwhash_str_verify(hash, wrong[i], strlen(wrong[i]));
        cr_expect(bad != 0, "alice's hash verifies the wrong password \"%s\" (hers is \"%s\")\n"
                  "hash: %s", wrong[i], pw, hash);
    }
}

Test(register, two_accounts_with_one_password_get_two_hashes)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char pw[64];
    snprintf(pw, sizeof pw, "same-password-%llu", (unsigned long long)wb_seed());
    at_register(p, fd, "alice", pw);
    at_register(p, fd, "bob", pw);
    sqlite3 *db = db_oracle(at_db_path());
    char a[256], b[256];
    snprintf(a, sizeof a, "%s", at_user_value(db, "password_hash", "alice"));
    snprintf(b, sizeof b, "%s", at_user_value(db, "password_hash", "bob"));
    sqlite3_close(db);
    cr_expect(strcmp(a, b) != 0 && *a,
              "alice and bob registered with the same password, and their stored hashes are "
              "equal:\n  %s\n  %s\nevery hash needs a random salt of its own, or one cracked "
              "hash opens every account with that password: crypto_pwhash_str() draws it for "
              "you in users_create()", a, b);
    int ok_a = crypto_pwhash_str_verify(a, pw, strlen(pw)) == 0;
    int ok_b = crypto_pwhash_str_verify(b, pw, strlen(pw)) == 0;
    cr_expect(ok_a && ok_b, "the password %s does not verify against alice's hash (%s) or "
              "bob's (%s)", pw, a, b);
}

Test(register, a_taken_username_is_409_and_the_first_account_stays)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "the-first-password");
    sqlite3 *db = db_oracle(at_db_path());
    char before[256];
    snprintf(before, sizeof before, "%s", at_user_value(db, "password_hash", "alice"));

    char *body = at_creds("alice", "a-takeover-password");
    struct ht_response *r = at_post(p, fd, "/users", body);
    cJSON_Delete(jt_expect_problem(p, r, 409, "POST /users for the username alice, which is "
                                   "taken: 409 Conflict. The UNIQUE constraint on "
                                   "users.username refuses the INSERT "
                                   "(SQLITE_CONSTRAINT_UNIQUE): users_create() returns "
                                   "AUTH_TAKEN, post_user() answers 409"));
    ht_free(r);
    free(body);
    const char *after = at_user_value(db, "password_hash", "alice");
    cr_expect(strcmp(before, after) == 0 && strcmp(count_users(db), "1") == 0,
              "a second POST /users for alice changed the table: %s rows (expected 1), alice's "
              "hash was\n  %s\nand is\n  %s\nA taken name must never overwrite the account "
              "(no INSERT OR REPLACE, no UPDATE): that would let anyone take it over",
              count_users(db), before, after);
    int first = crypto_pwhash_str_verify(after, "the-first-password", 18) == 0;
    cr_expect(first, "after the refused registration, alice's first password no longer "
              "verifies against her hash %s", after);
    sqlite3_close(db);
    at_register(p, fd, "bob", "another-password");
}

Test(register, usernames_are_3_to_32_of_lowercase_letters_digits_and_dot_dash_underscore)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const struct {
        const char *name, *why;
    } bad[] = {
        {"ab", "2 characters: fewer than 3"},
        {"abcdefghijklmnopqrstuvwxyz0123456", "33 characters: more than 32"},
        {"Alice", "an upper-case letter: only a-z (one account, one spelling)"},
        {"al ice", "a space"},
        {"jos\xc3\xa9", "\"\xc3\xa9\", a letter outside a-z"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *body = at_creds(bad[i].name, "long-enough-password");
        char why[256];
        snprintf(why, sizeof why, "the username is %s. users.c users_check_name(): "
                 "^[a-z0-9_.-]{3,32}$, byte by byte", bad[i].why);
        expect_422_at(p, fd, body, "/username", why);
        free(body);
    }
    static const char *const good[] = {"abcdefghijklmnopqrstuvwxyz012345", "abc", "a.b_c-9"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        at_register(p, fd, good[i], "long-enough-password");
    sqlite3 *db = db_oracle(at_db_path());
    cr_expect(strcmp(count_users(db), "3") == 0,
              "after 6 refused and 3 good registrations the users table has %s rows; expected "
              "3: a refused request stores nothing", count_users(db));
    sqlite3_close(db);
}

Test(register, a_password_has_at_least_8_characters_counted_as_characters_not_bytes)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const struct {
        const char *pw, *why;
    } bad[] = {
        {"seven77", "7 characters"},
        {"\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
         "4 emoji: 16 bytes, but 4 characters"},
        {"\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9",
         "7 times \xc3\xa9: 14 bytes, but 7 characters"},
        {"", "empty"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char name[16], why[256];
        snprintf(name, sizeof name, "short%zu", i);
        char *body = at_creds(name, bad[i].pw);
        snprintf(why, sizeof why, "the password is %s. users.c users_check_password() counts "
                 "characters (code points): every byte that is not 10xxxxxx starts one",
                 bad[i].why);
        expect_422_at(p, fd, body, "/password", why);
        free(body);
    }
    /* 8 ASCII; 10 characters in 18 bytes; 8 emoji in 32 bytes */
    static const char *const good[] = {
        "eight888",
        "p\xc3\xa4sssw\xc3\xb6rd\xf0\x9f\x98\x80",
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
        "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80",
    };
    sqlite3 *db = NULL;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char name[16];
        snprintf(name, sizeof name, "good%zu", i);
        at_register(p, fd, name, good[i]);
        if (!db)
            db = db_oracle(at_db_path());
        const char *hash = at_user_value(db, "password_hash", name);
        int ok = crypto_pwhash_str_verify(hash, good[i], strlen(good[i])) == 0;
        cr_expect(ok, "the account %s was registered with the password %s (%zu bytes of "
                  "UTF-8), and its stored hash does not verify those bytes: hash the "
                  "password's bytes as they arrived, without converting or escaping them\n"
                  "hash: %s", name, wb_esc(good[i], strlen(good[i]), 80), strlen(good[i]), hash);
    }
    cr_expect(strcmp(count_users(db), "3") == 0, "the users table has %s rows; expected the "
              "3 good accounts only", count_users(db));
    sqlite3_close(db);
}

Test(register, a_password_has_at_most_1024_bytes)
{
    cr_assert(sodium_init() >= 0, "the test cannot start libsodium");
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    enum { BIG = 64 * 1024 };
    char *pw = malloc(BIG + 1);
    cr_assert(pw != NULL, "test setup: out of memory");
    for (size_t i = 0; i < BIG; i++)
        pw[i] = (char)('a' + (wb_random_u32() % 26));
    static const size_t too_long[] = {1025, 4096, BIG};
    for (size_t i = 0; i < sizeof too_long / sizeof too_long[0]; i++) {
        pw[too_long[i]] = '\0';
        char name[16], why[200];
        snprintf(name, sizeof name, "long%zu", i);
        char *body = at_creds(name, pw);
        snprintf(why, sizeof why, "a password of %zu bytes: at most 1024 (USER_PASSWORD_MAX), "
                 "checked in users.c users_check_password() before any hashing -- a huge "
                 "password must not cost the server anything", too_long[i]);
        expect_422_at(p, fd, body, "/password", why);
        free(body);
    }
    pw[1024] = '\0';
    at_register(p, fd, "exactly1024", pw);
    sqlite3 *db = db_oracle(at_db_path());
    const char *hash = at_user_value(db, "password_hash", "exactly1024");
    int whole = crypto_pwhash_str_verify(hash, pw, 1024) == 0;
    int cut = crypto_pwhash_str_verify(hash, pw, 1023) == 0;
    cr_expect(whole && cut == 0, "an account was made with a password of 1024 bytes (seed "
              "%llu); its hash %s the 1024 bytes and %s the first 1023: every byte of the "
              "password must be hashed, with its length (never strlen() of a copy cut short, "
              "never a fixed buffer)", (unsigned long long)wb_seed(),
              whole ? "verifies" : "does not verify", cut ? "verifies" : "does not verify");
    cr_expect(strcmp(count_users(db), "1") == 0, "the users table has %s rows; expected 1",
              count_users(db));
    sqlite3_close(db);
    free(pw);
}

Test(register, a_nul_in_a_credential_is_422_and_stores_nothing)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    /* cJSON ends its strings at \u0000: the password would be cut to
     * "correct-horse", and another password than the one sent would be
     * hashed. */
    static const char *const bodies[] = {
        "{\"username\":\"nulpass\",\"password\":\"correct-horse\\u0000battery-staple\"}",
        "{\"username\":\"nulpass\",\"password\":\"\\u0000correct-horse-battery\"}",
        "{\"username\":\"nulpass\\u0000admin\",\"password\":\"correct-horse-battery\"}",
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        struct ht_response *r = at_post(p, fd, "/users", bodies[i]);
        char why[400];
        snprintf(why, sizeof why, "POST /users %s: a credential holding \\u0000 is refused "
                 "with 422. cJSON's strings end at the first NUL, so what it hands you is not "
                 "what was sent: auth.c post_user() must see the escape (json_check()'s "
                 "nul_escapes) and refuse it", bodies[i]);
        cJSON_Delete(jt_expect_problem(p, r, 422, why));
        ht_free(r);
    }
    sqlite3 *db = db_oracle(at_db_path());
    cr_expect(strcmp(count_users(db), "0") == 0, "after three POSTs with \\u0000 in a "
              "credential the users table has %s rows; expected 0", count_users(db));
    sqlite3_close(db);
    at_register(p, fd, "nulpass", "correct-horse");
}

Test(register, the_body_must_be_a_json_object_with_two_strings)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    static const struct {
        const char *headers, *body;
        int status;
        const char *pointer; /* for a 422, the member named; NULL: any */
        const char *why;
    } cases[] = {
        {"Content-Type: text/plain\r\n", "{\"username\":\"alice\",\"password\":\"long-enough\"}",
         415, NULL, "Content-Type: text/plain, not application/json (read_fields() checks it)"},
        {NULL, "{\"username\":\"alice\",\"password\":\"long-enough\"}", 415, NULL,
         "no Content-Type at all"},
        {"Content-Type: application/x-www-form-urlencoded\r\n",
         "username=alice&password=long-enough", 415, NULL, "a form, not JSON"},
        {AT_JSON, "{\"username\":\"alice\",\"password\":", 400, NULL,
         "JSON cut short (json_check() says where)"},
        {AT_JSON, "", 400, NULL, "an empty body is not JSON"},
        {AT_JSON, "{\"username\":\"alice\"}", 422, "/password", "no password member"},
        {AT_JSON, "{\"password\":\"long-enough\"}", 422, "/username", "no username member"},
        {AT_JSON, "{\"username\":\"alice\",\"password\":12345678}", 422, "/password",
         "the password is a number, not a string"},
        {AT_JSON, "{\"username\":[\"alice\"],\"password\":\"long-enough\"}", 422, "/username",
         "the username is an array"},
        {AT_JSON, "[\"alice\",\"long-enough\"]", 422, NULL, "an array, not an object"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ht_response *r = rc_send(p, fd, "POST", "/users", cases[i].headers, cases[i].body,
                                        strlen(cases[i].body));
        char why[400];
        snprintf(why, sizeof why, "POST /users with %s: %d, a problem document, before anything "
                 "is hashed or stored (auth.c post_user(), through the given read_fields())",
                 cases[i].why, cases[i].status);
        cJSON *j = jt_expect_problem(p, r, cases[i].status, why);
        if (cases[i].pointer)
            cr_expect(at_has_error_at(j, cases[i].pointer),
                      "%s\nthe errors point at %s; expected \"%s\" among them", why,
                      at_error_pointers(j), cases[i].pointer);
        cJSON_Delete(j);
        ht_free(r);
    }
    sqlite3 *db = db_oracle(at_db_path());
    cr_expect(strcmp(count_users(db), "0") == 0, "after %zu refused POSTs the users table has "
              "%s rows; expected 0", sizeof cases / sizeof cases[0], count_users(db));
    sqlite3_close(db);
    at_register(p, fd, "alice", "long-enough");
}

Test(register, a_role_in_the_body_is_ignored)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    const char *body =
        "{\"username\":\"mallory\",\"password\":\"let-me-in-please\",\"role\":\"admin\"}";
    struct ht_response *r = at_post(p, fd, "/users", body);
    ht_expect_status(p, r, 201, NULL, 0, "POST /users with a \"role\" member: other members "
                     "are ignored, and the account is made");
    cJSON *j = jt_body(p, r, "the 201 to POST /users with \"role\":\"admin\"");
    const cJSON *role = cJSON_GetObjectItemCaseSensitive(j, "role");
    int user = cJSON_IsString(role) && strcmp(role->valuestring, "user") == 0;
    cr_expect(user, "POST /users %s answered %s\nexpected \"role\": \"user\": a client never "
              "chooses its role (OWASP API3, mass assignment). users_create() INSERTs no role "
              "at all, and the column's default is 'user'", body,
              wb_esc(r->body, r->body_len, 300));
    cJSON_Delete(j);
    ht_free(r);
    sqlite3 *db = db_oracle(at_db_path());
    const char *stored = at_user_value(db, "role", "mallory");
    cr_expect(strcmp(stored, "user") == 0, "after POST /users %s the users table says mallory's "
              "role is \"%s\"; expected \"user\": read only username and password from the "
              "body", body, stored);
    sqlite3_close(db);
}

Test(register, the_password_is_in_no_byte_of_the_database_files_or_the_log)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    char pw[64];
    snprintf(pw, sizeof pw, "Zq8-needle-%llu-Vx3", (unsigned long long)wb_seed());
    at_register(p, fd, "alice", pw);
    at_register(p, fd, "bob", "another-one-entirely");
    const char *path = at_db_path();
    const char *where = at_file_holding(path, pw, strlen(pw));
    cr_expect(where == NULL, "the password \"%s\" was sent to POST /users, and the test found "
              "its bytes in %s (beside %s) while restd ran: the database may keep only "
              "crypto_pwhash_str()'s hash -- not the password in another column, not in a "
              "log table. users.c users_create()", pw, where, path);
    const char *log = wb_stderr_tail(p, 65536);
    cr_expect(strstr(log, pw) == NULL, "restd wrote the password \"%s\" to its log (stderr):\n"
              "%s\na password is never logged (OWASP Logging Cheat Sheet)", pw, log);
    at_stop(p);
    where = at_file_holding(path, pw, strlen(pw));
    cr_expect(where == NULL, "after restd stopped, the test found the password \"%s\" in %s: "
              "the database may keep only its hash", pw, where);
}

Test(register, the_users_table_is_strict_and_outlives_a_restart)
{
    struct wb_proc *p = wb_start(NULL);
    int fd = wb_connect(p);
    at_register(p, fd, "alice", "the-first-password");
    sqlite3 *db = db_oracle(at_db_path());
    int version = atoi(db_value(db, "PRAGMA user_version"));
    const char *sql = db_value(db, "SELECT sql FROM sqlite_schema WHERE name = 'users'");
    cr_expect(version >= 4, "after restd migrated %s, PRAGMA user_version is %d; expected 4 or "
              "more: chapter 04's 3 steps, then authdb.c's step that creates users "
              "(authdb_steps[], handed to db_extend())", at_db_path(), version);
    cr_expect(strstr(sql, "STRICT") != NULL, "the users table is \"%s\"; expected a STRICT "
              "table, like chapter 04's: a wrong type is an error, not a surprise (authdb.c)",
              sql);
    char hash[256];
    snprintf(hash, sizeof hash, "%s", at_user_value(db, "password_hash", "alice"));
    sqlite3_close(db);

    at_stop(p);
    p = wb_start(NULL);
    fd = wb_connect(p);
    char *body = at_creds("alice", "a-second-password");
    struct ht_response *r = at_post(p, fd, "/users", body);
    cJSON_Delete(jt_expect_problem(p, r, 409, "POST /users for alice after a restart on the "
                                   "same file: she registered before it, so the name is taken "
                                   "-- the accounts live in the file, not in memory"));
    ht_free(r);
    free(body);
    at_register(p, fd, "bob", "the-second-password");
    db = db_oracle(at_db_path());
    const char *still = at_user_value(db, "password_hash", "alice");
    cr_expect(strcmp(still, hash) == 0, "alice's hash changed across a restart:\n  %s\n  %s",
              hash, still);
    sqlite3_close(db);
}
