/* sources: mod_apigw/apigw_route_store.c mod_apigw/apigw_route.c mod_apigw/apigw_apikeys_table.c common/apigw_apikey.c common/apigw_sha256.c */
/* libs: -laprutil-1 -lcrypto */
/* Unit tests for mod_apigw/apigw_route_store.c on real SQLite files in a
 * fresh temporary directory per test: schema creation and migration (open
 * twice, reopen, a newer schema refused, a version 1 store migrated with
 * its path keys filled in), every operation and its error codes,
 * all-or-nothing environment copies (a duplicate id halfway), the
 * generation (bumped by each committed write, never by a read or a failed
 * write), path collisions (one route per method and path shape in an
 * environment, on insert, update, delete and copy), following changes
 * (changes() after each kind of write, tombstones and their pruning, a
 * reader following a writer in another process), injection-shaped names,
 * Unicode, concurrent writers in two processes, a write surviving kill -9,
 * bad specs and missing directories, and no password in any message.
 * API keys (schema version 3): create, list, delete and their errors, the
 * keys' version against the generation, a version 2 store migrated, and
 * the keys as a child loads and publishes them (apigw_apikeys_table.c:
 * lookups in threads while sets are published and freed under them).
 *
 * The same tests run on PostgreSQL when APIGW_TEST_PGSQL holds a libpq
 * conninfo (its database's tables of the store are dropped before each
 * test; needs the libaprutil1-dbd-pgsql driver); without it they are
 * reported skipped. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "unit_apr.h"

#include <apr_atomic.h>
#include <apr_dbd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_hash.h>
#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "apigw_apikeys_table.h"
#include "apigw_route_store.h"

typedef struct {
    const char *driver;                /* "sqlite3" or "pgsql" */
} backend;

static const backend on_sqlite = { "sqlite3" };
static const backend on_pgsql = { "pgsql" };

static apr_pool_t *pool;
static const char *tmpdir;             /* this test's directory (sqlite3) */
static const char *spec;               /* this test's store */
static const backend *be;

/* ---- fixtures ---- */

static void remove_tree(const char *dir)
{
    apr_dir_t *d;
    apr_finfo_t fi;

    if (apr_dir_open(&d, dir, pool) != APR_SUCCESS) {
        return;
    }
    while (apr_dir_read(&fi, APR_FINFO_NAME | APR_FINFO_TYPE, d)
           == APR_SUCCESS) {
        if (strcmp(fi.name, ".") && strcmp(fi.name, "..")) {
            apr_file_remove(apr_pstrcat(pool, dir, "/", fi.name, NULL), pool);
        }
    }
    apr_dir_close(d);
    apr_dir_remove(dir, pool);
}

/* Runs static SQL on the store's database behind its back. */
static void raw_sql(const char *driver, const char *params, const char *sql)
{
    const apr_dbd_driver_t *drv;
    apr_dbd_t *dbd;
    int n;

    assert_int_equal(apr_dbd_get_driver(pool, driver, &drv), APR_SUCCESS);
    assert_int_equal(apr_dbd_open(drv, pool, params, &dbd), APR_SUCCESS);
    if (apr_dbd_query(drv, dbd, &n, sql) != 0) {
        fail_msg("%s: %s", sql, apr_dbd_error(drv, dbd, 0));
    }
    apr_dbd_close(drv, dbd);
}

static int setup(void **state)
{
    char tmpl[] = "/tmp/apigw-rs-XXXXXX";

    be = *state;
    if (apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        return -1;
    }
    apr_dbd_init(pool);
    if (!mkdtemp(tmpl)) {
        return -1;
    }
    tmpdir = apr_pstrdup(pool, tmpl);
    spec = apr_pstrcat(pool, "sqlite3:", tmpdir, "/routes.db", NULL);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    remove_tree(tmpdir);
    apr_pool_destroy(pool);
    pool = NULL;
    return 0;
}

/* The PostgreSQL variant of a test skips without APIGW_TEST_PGSQL, and
 * starts from an empty database with it. */
static void use_backend(void)
{
    const char *ci;

    if (be == &on_sqlite) {
        return;
    }
    ci = getenv("APIGW_TEST_PGSQL");
    if (!ci || !*ci) {
        skip();
    }
    raw_sql("pgsql", ci, "DROP TABLE IF EXISTS routes, environments, "
                         "generation, schema_version, route_tombstones, "
                         "route_keys, api_keys, api_keys_version");
    spec = apr_pstrcat(pool, "pgsql:", ci, NULL);
}

static apigw_route_store *open_store(void)
{
    apigw_route_store *st = NULL;
    const apigw_route_store_error *err;

    err = apigw_route_store_open(pool, spec, &st);
    if (err) {
        fail_msg("open %s: %s", spec, err->message);
    }
    assert_non_null(st);
    return st;
}

/* A fresh store on this test's backend. */
static apigw_route_store *fresh(void)
{
    use_backend();
    return open_store();
}

#define OK(call) do {                                                   \
        const apigw_route_store_error *e_ = (call);                    \
        if (e_) {                                                       \
            fail_msg("%s: %s", #call, e_->message);                     \
        }                                                               \
    } while (0)

static void expect_err(const apigw_route_store_error *err,
                       apigw_route_store_code code, const char *needle)
{
    if (!err) {
        fail_msg("no error; expected one with \"%s\"", needle);
    }
    if (err->code != code || !strstr(err->message, needle)) {
        fail_msg("error %d \"%s\"; expected %d with \"%s\"",
                 err->code, err->message, code, needle);
    }
}

static apigw_route_record rec(const char *id, const char *env,
                              const char *path)
{
    apigw_route_record r;

    r.id = id;
    r.environment = env;
    r.path = path;
    r.target_url = "http://127.0.0.1:9001/backend";
    r.methods = "GET,POST";
    r.enabled = 1;
    r.created_at = APR_INT64_C(1700000000000001);
    r.updated_at = APR_INT64_C(1700000000000002);
    r.policies = "{}";
    return r;
}

static void assert_record(const apigw_route_record *a,
                          const apigw_route_record *b)
{
    assert_string_equal(a->id, b->id);
    assert_string_equal(a->environment, b->environment);
    assert_string_equal(a->path, b->path);
    assert_string_equal(a->target_url, b->target_url);
    assert_string_equal(a->methods, b->methods);
    assert_int_equal(a->enabled, b->enabled);
    assert_true(a->created_at == b->created_at);
    assert_true(a->updated_at == b->updated_at);
    assert_string_equal(a->policies, b->policies);
}

static apr_int64_t generation(apigw_route_store *st)
{
    apr_int64_t g = -1;

    OK(apigw_route_store_generation(st, pool, &g));
    return g;
}

static apr_array_header_t *list(apigw_route_store *st, const char *env)
{
    apr_array_header_t *a = NULL;

    OK(apigw_route_store_list(st, pool, env, &a));
    return a;
}

#define ROUTE(a, i) (&APR_ARRAY_IDX((a), (i), apigw_route_record))

static const char *env_names(apigw_route_store *st)
{
    apr_array_header_t *a = NULL;

    OK(apigw_route_store_environments(st, pool, &a));
    return apr_array_pstrcat(pool, a, ',');
}

static int id_counter;

/* Ids for copies: UUID-shaped, from a counter. */
static const char *counter_id(apr_pool_t *p)
{
    return apr_psprintf(p, "00000000-0000-4000-8000-%012d", ++id_counter);
}

/* An id maker that hands out an id already taken on its 100th call. */
static const char *failing_id(apr_pool_t *p)
{
    if (++id_counter == 100) {
        return "src-route-7";
    }
    return apr_psprintf(p, "copy-%d", id_counter);
}

static void add_routes(apigw_route_store *st, const char *env,
                       const char *prefix, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        apigw_route_record r = rec(apr_psprintf(pool, "%s-%d", prefix, i),
                                   env, apr_psprintf(pool, "/r/%03d", i));
        OK(apigw_route_store_insert(st, pool, &r));
    }
}

/* ---- schema ---- */

static void test_open_creates_schema(void **state)
{
    apigw_route_store *st;

    (void)state;
    st = fresh();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    assert_string_equal(env_names(st), "default");
    assert_int_equal(list(st, NULL)->nelts, 0);
    assert_int_equal(list(st, "default")->nelts, 0);
    assert_true(generation(st) == 1);     /* "default" was one write */
    if (be == &on_sqlite) {
        assert_string_equal(apigw_route_store_name(st), spec);
    }
    else {
        assert_string_equal(apigw_route_store_name(st), "pgsql");
    }
    apigw_route_store_close(st);
}

/* Two stores on one database at once, then a reopen: one schema, one
 * "default", the same data and generation. */
static void test_open_twice_and_reopen(void **state)
{
    apigw_route_store *a, *b;
    apigw_route_record r = rec("r1", "default", "/a");
    apr_array_header_t *got;

    (void)state;
    a = fresh();
    OK(apigw_route_store_insert(a, pool, &r));
    b = open_store();
    assert_int_equal(apigw_route_store_schema_version(b),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    assert_string_equal(env_names(b), "default");
    got = list(b, NULL);
    assert_int_equal(got->nelts, 1);
    assert_record(ROUTE(got, 0), &r);
    assert_true(generation(a) == 2);
    assert_true(generation(b) == 2);

    r = rec("r2", "default", "/b");
    OK(apigw_route_store_insert(b, pool, &r));
    assert_true(generation(a) == 3);      /* a sees b's write */
    apigw_route_store_close(a);
    apigw_route_store_close(b);

    a = open_store();
    assert_int_equal(list(a, NULL)->nelts, 2);
    assert_true(generation(a) == 3);
    assert_string_equal(env_names(a), "default");
    apigw_route_store_close(a);
}

static void test_newer_schema_refused(void **state)
{
    apigw_route_store *st;
    const char *params = spec + strlen("sqlite3:");

    (void)state;
    st = open_store();
    apigw_route_store_close(st);
    raw_sql("sqlite3", params, "UPDATE schema_version SET version = 99");
    st = (apigw_route_store *)1;
    expect_err(apigw_route_store_open(pool, spec, &st),
               APIGW_RS_UNAVAILABLE,
               apr_psprintf(pool, "schema version 99 is newer than this "
                            "build knows (%d)",
                            APIGW_ROUTE_STORE_SCHEMA_VERSION));
    assert_null(st);
}

/* WAL mode is the database's own setting: it outlives the connection. */
static void test_sqlite_wal(void **state)
{
    apigw_route_store *st;
    const apr_dbd_driver_t *drv;
    apr_dbd_t *dbd;
    apr_dbd_results_t *res = NULL;
    apr_dbd_row_t *row = NULL;

    (void)state;
    st = open_store();
    assert_int_equal(apr_dbd_get_driver(pool, "sqlite3", &drv), APR_SUCCESS);
    assert_int_equal(apr_dbd_open(drv, pool, spec + 8, &dbd), APR_SUCCESS);
    assert_int_equal(apr_dbd_select(drv, pool, dbd, &res,
                                    "PRAGMA journal_mode", 1), 0);
    assert_int_equal(apr_dbd_get_row(drv, pool, res, &row, -1), 0);
    assert_string_equal(apr_dbd_get_entry(drv, row, 0), "wal");
    apr_dbd_close(drv, dbd);
    apigw_route_store_close(st);
}

/* ---- routes ---- */

static void test_insert_get_list(void **state)
{
    apigw_route_store *st;
    apigw_route_record a = rec("id-a", "default", "/v1/b");
    apigw_route_record b = rec("id-b", "default", "/v1/a");
    apigw_route_record c = rec("id-c", "staging", "/v1/a");
    apigw_route_record *got;
    apr_array_header_t *l;
    apr_int64_t n;

    (void)state;
    st = fresh();
    b.enabled = 0;
    b.methods = "DELETE";
    b.policies = "{\"cors\":{\"allowOrigins\":[\"*\"]}}";
    OK(apigw_route_store_create_environment(st, pool, "staging", NULL, 0,
                                            NULL, NULL));
    OK(apigw_route_store_insert(st, pool, &a));
    OK(apigw_route_store_insert(st, pool, &b));
    OK(apigw_route_store_insert(st, pool, &c));

    OK(apigw_route_store_get(st, pool, "id-b", &got));
    assert_non_null(got);
    assert_record(got, &b);
    got = (apigw_route_record *)1;
    OK(apigw_route_store_get(st, pool, "nope", &got));
    assert_null(got);

    l = list(st, "default");              /* by path, then id */
    assert_int_equal(l->nelts, 2);
    assert_record(ROUTE(l, 0), &b);
    assert_record(ROUTE(l, 1), &a);
    l = list(st, "staging");
    assert_int_equal(l->nelts, 1);
    assert_record(ROUTE(l, 0), &c);
    l = list(st, NULL);                   /* by environment first */
    assert_int_equal(l->nelts, 3);
    assert_string_equal(ROUTE(l, 0)->id, "id-b");
    assert_string_equal(ROUTE(l, 1)->id, "id-a");
    assert_string_equal(ROUTE(l, 2)->id, "id-c");

    l = (apr_array_header_t *)1;
    expect_err(apigw_route_store_list(st, pool, "prod", &l),
               APIGW_RS_NOT_FOUND, "no environment named \"prod\"");
    assert_null(l);

    /* counts, disabled routes included; an unknown environment has none */
    n = -1;
    OK(apigw_route_store_count(st, pool, "default", &n));
    assert_int_equal(n, 2);
    OK(apigw_route_store_count(st, pool, "staging", &n));
    assert_int_equal(n, 1);
    OK(apigw_route_store_count(st, pool, "prod", &n));
    assert_int_equal(n, 0);
    apigw_route_store_close(st);
}

static void test_insert_errors(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("dup", "default", "/x");
    apr_int64_t g;

    (void)state;
    st = fresh();
    OK(apigw_route_store_insert(st, pool, &r));
    g = generation(st);

    r.path = "/other";
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_CONFLICT,
               "a route with id \"dup\" already exists");
    r = rec("new", "prod", "/x");
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_NOT_FOUND,
               "no environment named \"prod\"");
    r = rec("new", "default", NULL);
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_INVALID,
               "lacks its path");
    r = rec("", "default", "/x");
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_INVALID,
               "the route id is empty");
    r = rec("new", "default", "/x");
    r.enabled = 2;
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_INVALID,
               "enabled is 2");
    expect_err(apigw_route_store_insert(st, pool, NULL), APIGW_RS_INVALID,
               "no route given");

    assert_true(generation(st) == g);     /* no failed write counted */
    assert_int_equal(list(st, NULL)->nelts, 1);
    assert_string_equal(ROUTE(list(st, NULL), 0)->path, "/x");
    apigw_route_store_close(st);
}

static void test_update(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("u1", "default", "/old");
    apigw_route_record *got;
    apr_int64_t g;
    int found = -1;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "qa", NULL, 0, NULL,
                                            NULL));
    OK(apigw_route_store_insert(st, pool, &r));
    g = generation(st);

    r.environment = "qa";
    r.path = "/new/{id}";
    r.target_url = "https://backend.example/{id}";
    r.methods = "PUT";
    r.enabled = 0;
    r.created_at = 5;                     /* ignored: creation stays */
    r.updated_at = APR_INT64_C(1800000000000000);
    r.policies = "{\"rateLimit\":{\"average\":5}}";
    OK(apigw_route_store_update(st, pool, &r, &found));
    assert_int_equal(found, 1);
    assert_true(generation(st) == g + 1);
    OK(apigw_route_store_get(st, pool, "u1", &got));
    r.created_at = APR_INT64_C(1700000000000001);
    assert_record(got, &r);

    r.id = "missing";
    found = -1;
    OK(apigw_route_store_update(st, pool, &r, &found));
    assert_int_equal(found, 0);
    assert_true(generation(st) == g + 1); /* nothing changed */

    r.id = "u1";
    r.environment = "nowhere";
    expect_err(apigw_route_store_update(st, pool, &r, &found),
               APIGW_RS_NOT_FOUND, "no environment named \"nowhere\"");
    OK(apigw_route_store_get(st, pool, "u1", &got));
    assert_string_equal(got->environment, "qa");
    assert_true(generation(st) == g + 1);
    apigw_route_store_close(st);
}

static void test_delete(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("d1", "default", "/d");
    apigw_route_record *got;
    apr_int64_t g;
    int found = -1;

    (void)state;
    st = fresh();
    OK(apigw_route_store_insert(st, pool, &r));
    g = generation(st);
    OK(apigw_route_store_delete(st, pool, "d1", &found));
    assert_int_equal(found, 1);
    assert_true(generation(st) == g + 1);
    OK(apigw_route_store_get(st, pool, "d1", &got));
    assert_null(got);
    OK(apigw_route_store_delete(st, pool, "d1", &found));
    assert_int_equal(found, 0);
    assert_true(generation(st) == g + 1);
    expect_err(apigw_route_store_delete(st, pool, NULL, &found),
               APIGW_RS_INVALID, "the route id is empty");
    apigw_route_store_close(st);
}

static void test_delete_environment_routes(void **state)
{
    apigw_route_store *st;
    apr_int64_t g;
    int n = -1;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "e", NULL, 0, NULL,
                                            NULL));
    add_routes(st, "e", "e", 5);
    add_routes(st, "default", "d", 2);
    g = generation(st);

    OK(apigw_route_store_delete_environment_routes(st, pool, "e", &n));
    assert_int_equal(n, 5);
    assert_true(generation(st) == g + 1);
    assert_int_equal(list(st, "e")->nelts, 0);
    assert_int_equal(list(st, "default")->nelts, 2);
    assert_string_equal(env_names(st), "default,e");

    OK(apigw_route_store_delete_environment_routes(st, pool, "e", &n));
    assert_int_equal(n, 0);
    assert_true(generation(st) == g + 1);
    expect_err(apigw_route_store_delete_environment_routes(st, pool, "zz",
                                                           &n),
               APIGW_RS_NOT_FOUND, "no environment named \"zz\"");
    apigw_route_store_close(st);
}

/* ---- environments ---- */

static void test_environments(void **state)
{
    apigw_route_store *st;
    apr_array_header_t *l;
    apr_int64_t g;
    int n = -1, i;

    (void)state;
    st = fresh();
    add_routes(st, "default", "src", 3);
    g = generation(st);

    OK(apigw_route_store_create_environment(st, pool, "empty", "default", 0,
                                            counter_id, &n));
    assert_int_equal(n, 0);
    assert_int_equal(list(st, "empty")->nelts, 0);
    OK(apigw_route_store_create_environment(st, pool, "copy", "default", 1,
                                            counter_id, &n));
    assert_int_equal(n, 3);
    assert_true(generation(st) == g + 2);  /* one bump per transaction */
    assert_string_equal(env_names(st), "copy,default,empty");

    l = list(st, "copy");
    assert_int_equal(l->nelts, 3);
    for (i = 0; i < 3; i++) {
        apigw_route_record *c = ROUTE(l, i);
        assert_string_equal(c->environment, "copy");
        assert_string_equal(c->path, apr_psprintf(pool, "/r/%03d", i));
        assert_int_equal(strlen(c->id), 36);
        assert_true(c->created_at > APR_INT64_C(1700000000000002));
        assert_true(c->updated_at == c->created_at);
    }
    assert_int_equal(list(st, "default")->nelts, 3);   /* source kept */

    expect_err(apigw_route_store_create_environment(st, pool, "copy", NULL,
                                                    0, NULL, &n),
               APIGW_RS_CONFLICT, "an environment named \"copy\" already");
    expect_err(apigw_route_store_create_environment(st, pool, "x", "nope",
                                                    1, counter_id, &n),
               APIGW_RS_NOT_FOUND, "no environment named \"nope\"");
    expect_err(apigw_route_store_create_environment(st, pool, "x", NULL, 1,
                                                    counter_id, &n),
               APIGW_RS_INVALID, "needs a source environment");
    expect_err(apigw_route_store_create_environment(st, pool, "", NULL, 0,
                                                    NULL, &n),
               APIGW_RS_INVALID, "the environment name is empty");
    assert_true(generation(st) == g + 2);

    OK(apigw_route_store_delete_environment(st, pool, "copy", &n));
    assert_int_equal(n, 3);
    OK(apigw_route_store_delete_environment(st, pool, "empty", NULL));
    assert_string_equal(env_names(st), "default");
    assert_int_equal(list(st, NULL)->nelts, 3);
    assert_true(generation(st) == g + 4);
    expect_err(apigw_route_store_delete_environment(st, pool, "copy", &n),
               APIGW_RS_NOT_FOUND, "no environment named \"copy\"");
    expect_err(apigw_route_store_delete_environment(st, pool, "default", &n),
               APIGW_RS_INVALID, "cannot be deleted");
    assert_true(generation(st) == g + 4);
    apigw_route_store_close(st);
}

/* A copy that fails at its 100th route leaves no environment, no route
 * and no generation bump behind. */
static void test_copy_all_or_nothing(void **state)
{
    apigw_route_store *st;
    apr_int64_t g;
    int n = -1;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "src", NULL, 0, NULL,
                                            NULL));
    add_routes(st, "src", "src-route", 150);
    g = generation(st);

    id_counter = 0;
    expect_err(apigw_route_store_create_environment(st, pool, "dst", "src",
                                                    1, failing_id, &n),
               APIGW_RS_CONFLICT, "copying environment \"src\" into \"dst\": "
               "a route with id \"src-route-7\" already exists");
    assert_int_equal(id_counter, 100);    /* it failed midway */
    assert_int_equal(n, 0);
    assert_string_equal(env_names(st), "default,src");
    assert_int_equal(list(st, NULL)->nelts, 150);
    assert_true(generation(st) == g);

    /* and the store still works */
    id_counter = 1000;
    OK(apigw_route_store_create_environment(st, pool, "dst", "src", 1,
                                            counter_id, &n));
    assert_int_equal(n, 150);
    assert_int_equal(list(st, NULL)->nelts, 300);
    assert_true(generation(st) == g + 1);
    apigw_route_store_close(st);
}

/* ---- generation ---- */

static void test_generation(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("g1", "default", "/g");
    apigw_route_record *got;
    apr_array_header_t *a;
    apr_int64_t g;
    int found, n;

    (void)state;
    st = fresh();
    g = generation(st);
    OK(apigw_route_store_list(st, pool, NULL, &a));
    OK(apigw_route_store_list(st, pool, "default", &a));
    OK(apigw_route_store_get(st, pool, "g1", &got));
    OK(apigw_route_store_environments(st, pool, &a));
    assert_true(generation(st) == g);

    OK(apigw_route_store_insert(st, pool, &r));
    assert_true(generation(st) == ++g);
    OK(apigw_route_store_update(st, pool, &r, &found));
    assert_true(generation(st) == ++g);
    OK(apigw_route_store_create_environment(st, pool, "e", "default", 1,
                                            counter_id, &n));
    assert_true(generation(st) == ++g);
    OK(apigw_route_store_delete_environment_routes(st, pool, "e", &n));
    assert_true(generation(st) == ++g);
    OK(apigw_route_store_delete(st, pool, "g1", &found));
    assert_true(generation(st) == ++g);
    OK(apigw_route_store_delete_environment(st, pool, "e", &n));
    assert_true(generation(st) == ++g);
    apigw_route_store_close(st);

    st = open_store();                    /* an open that writes nothing */
    assert_true(generation(st) == g);
    apigw_route_store_close(st);
}

/* ---- path keys: one route per method and path shape ---- */

/* The route of environment env that serves method on path's shape
 * conflicts: the message names it. */
static void expect_collision(const apigw_route_store_error *err,
                             const char *method, const char *path,
                             const char *other_id, const char *other_path,
                             const char *env)
{
    expect_err(err, APIGW_RS_CONFLICT,
               apr_psprintf(pool, "%s %s collides with route %s (%s %s) of "
                            "environment \"%s\"", method, path, other_id,
                            method, other_path, env));
}

static apigw_route_record rec_m(const char *id, const char *env,
                                const char *path, const char *methods)
{
    apigw_route_record r = rec(id, env, path);

    r.methods = methods;
    return r;
}

static void test_collision_insert(void **state)
{
    apigw_route_store *st;
    apigw_route_record a = rec_m("c-a", "default", "/a/{x}", "GET,POST");
    apigw_route_record r;
    apigw_route_record *got;
    apr_int64_t g;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "staging", NULL, 0,
                                            NULL, NULL));
    OK(apigw_route_store_insert(st, pool, &a));
    g = generation(st);

    r = rec_m("c-b", "default", "/a/{y}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{y}",
                     "c-a", "/a/{x}", "default");
    r.methods = "PUT,POST";               /* one method of two is enough */
    expect_collision(apigw_route_store_insert(st, pool, &r), "POST",
                     "/a/{y}", "c-a", "/a/{x}", "default");
    r.path = "/a/{x}";                    /* the very same path */
    r.methods = "GET";
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{x}",
                     "c-a", "/a/{x}", "default");
    /* a refused insert leaves nothing behind */
    OK(apigw_route_store_get(st, pool, "c-b", &got));
    assert_null(got);
    assert_true(generation(st) == g);
    assert_int_equal(list(st, NULL)->nelts, 1);

    /* other methods on the same shape */
    r = rec_m("c-b", "default", "/a/{y}", "PUT,DELETE");
    OK(apigw_route_store_insert(st, pool, &r));
    /* a literal segment is another shape; so is a longer path */
    r = rec_m("c-lit", "default", "/a/x", "GET");
    OK(apigw_route_store_insert(st, pool, &r));
    r = rec_m("c-long", "default", "/a/{x}/{y}", "GET");
    OK(apigw_route_store_insert(st, pool, &r));
    /* the same shape and methods in another environment */
    r = rec_m("c-s", "staging", "/a/{z}", "GET,POST");
    OK(apigw_route_store_insert(st, pool, &r));
    r = rec_m("c-s2", "staging", "/a/{q}", "POST");
    expect_collision(apigw_route_store_insert(st, pool, &r), "POST",
                     "/a/{q}", "c-s", "/a/{z}", "staging");
    assert_true(generation(st) == g + 4);
    assert_int_equal(list(st, "default")->nelts, 4);
    assert_int_equal(list(st, "staging")->nelts, 1);
    apigw_route_store_close(st);
}

static void test_collision_update(void **state)
{
    apigw_route_store *st;
    apigw_route_record a = rec_m("c-a", "default", "/a/{x}", "GET,POST");
    apigw_route_record d = rec_m("c-d", "default", "/d", "GET");
    apigw_route_record s = rec_m("c-s", "staging", "/a/{z}", "GET");
    apigw_route_record r;
    apigw_route_record *got;
    apr_int64_t g;
    int found;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "staging", NULL, 0,
                                            NULL, NULL));
    OK(apigw_route_store_insert(st, pool, &a));
    OK(apigw_route_store_insert(st, pool, &d));
    OK(apigw_route_store_insert(st, pool, &s));
    g = generation(st);

    /* a new path that collides: refused, the route as it was */
    r = d;
    r.path = "/a/{q}";
    r.target_url = "http://127.0.0.1:9002/elsewhere";
    r.updated_at = APR_INT64_C(1800000000000000);
    found = -1;
    expect_collision(apigw_route_store_update(st, pool, &r, &found), "GET",
                     "/a/{q}", "c-a", "/a/{x}", "default");
    OK(apigw_route_store_get(st, pool, "c-d", &got));
    assert_non_null(got);
    assert_record(got, &d);
    assert_true(generation(st) == g);
    /* ... and it keeps its own key */
    r = rec_m("c-e", "default", "/d", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/d",
                     "c-d", "/d", "default");
    /* a new method that collides */
    r = d;
    r.methods = "GET,POST";
    r.path = "/a/{q}/x";
    OK(apigw_route_store_update(st, pool, &r, &found));
    r.path = "/a/{q}";
    r.methods = "POST";
    expect_collision(apigw_route_store_update(st, pool, &r, &found), "POST",
                     "/a/{q}", "c-a", "/a/{x}", "default");
    /* a move into an environment where the shape is taken */
    r = a;
    r.environment = "staging";
    expect_collision(apigw_route_store_update(st, pool, &r, &found), "GET",
                     "/a/{x}", "c-s", "/a/{z}", "staging");
    OK(apigw_route_store_get(st, pool, "c-a", &got));
    assert_record(got, &a);
    assert_true(generation(st) == g + 1);
    /* no trace of the refused writes for a follower: no tombstone of the
     * refused move, only the one update that went through */
    {
        apr_array_header_t *changed = NULL, *deleted = NULL;
        apr_int64_t now = -1;

        OK(apigw_route_store_changes(st, pool, "default", g, &now, &changed,
                                     &deleted));
        assert_true(now == g + 1);
        assert_int_equal(changed->nelts, 1);
        assert_string_equal(ROUTE(changed, 0)->id, "c-d");
        assert_int_equal(deleted->nelts, 0);
    }

    /* a route never collides with itself: a renamed variable */
    a.path = "/a/{renamed}";
    OK(apigw_route_store_update(st, pool, &a, &found));
    assert_int_equal(found, 1);
    /* its keys are replaced: the method it drops is free */
    r = rec_m("c-f", "default", "/a/{f}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{f}",
                     "c-a", "/a/{renamed}", "default");
    a.methods = "POST";
    OK(apigw_route_store_update(st, pool, &a, &found));
    OK(apigw_route_store_insert(st, pool, &r));
    /* the path it leaves is free */
    d.path = "/d2";
    OK(apigw_route_store_update(st, pool, &d, &found));
    r = rec_m("c-e", "default", "/d", "GET");
    OK(apigw_route_store_insert(st, pool, &r));
    /* a move frees the keys of the environment it leaves */
    s.environment = "default";
    s.path = "/s/{z}";
    OK(apigw_route_store_update(st, pool, &s, &found));
    r = rec_m("c-s2", "staging", "/a/{z2}", "GET");
    OK(apigw_route_store_insert(st, pool, &r));
    r = rec_m("c-s3", "default", "/s/{q}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/s/{q}",
                     "c-s", "/s/{z}", "default");
    apigw_route_store_close(st);
}

static void test_collision_delete(void **state)
{
    apigw_route_store *st;
    apigw_route_record a = rec_m("c-a", "default", "/a/{x}", "GET");
    apigw_route_record r;
    int found, n;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "e", NULL, 0, NULL,
                                            NULL));
    OK(apigw_route_store_insert(st, pool, &a));
    r = rec_m("c-b", "default", "/a/{y}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{y}",
                     "c-a", "/a/{x}", "default");
    OK(apigw_route_store_delete(st, pool, "c-a", &found));
    assert_int_equal(found, 1);
    OK(apigw_route_store_insert(st, pool, &r));
    /* the id of a deleted route is free too, and its path then taken */
    expect_collision(apigw_route_store_insert(st, pool, &a), "GET", "/a/{x}",
                     "c-b", "/a/{y}", "default");

    /* deleting an environment's routes frees their keys */
    add_routes(st, "e", "e", 3);          /* GET,POST /r/000 ... */
    r = rec_m("e-new", "e", "/r/001", "POST");
    expect_collision(apigw_route_store_insert(st, pool, &r), "POST",
                     "/r/001", "e-1", "/r/001", "e");
    OK(apigw_route_store_delete_environment_routes(st, pool, "e", &n));
    assert_int_equal(n, 3);
    OK(apigw_route_store_insert(st, pool, &r));

    /* and so does deleting the environment: a new one of that name
     * starts empty */
    OK(apigw_route_store_delete_environment(st, pool, "e", &n));
    assert_int_equal(n, 1);
    OK(apigw_route_store_create_environment(st, pool, "e", NULL, 0, NULL,
                                            NULL));
    r.id = "e-newer";
    OK(apigw_route_store_insert(st, pool, &r));
    apigw_route_store_close(st);
}

/* Keys are per environment: a copy holds the same shapes; inside the copy
 * they are taken. A copy of a route that collides with nothing works. */
static void test_collision_copy(void **state)
{
    apigw_route_store *st;
    apigw_route_record r;
    apr_array_header_t *l;
    int n = -1;

    (void)state;
    st = fresh();
    r = rec_m("c-a", "default", "/a/{x}", "GET,POST");
    OK(apigw_route_store_insert(st, pool, &r));
    r = rec_m("c-b", "default", "/a/{y}", "PUT");
    OK(apigw_route_store_insert(st, pool, &r));
    id_counter = 0;
    OK(apigw_route_store_create_environment(st, pool, "copy", "default", 1,
                                            counter_id, &n));
    assert_int_equal(n, 2);
    l = list(st, "copy");
    assert_int_equal(l->nelts, 2);
    assert_string_equal(ROUTE(l, 0)->path, "/a/{x}");
    /* the copies hold their keys in "copy" */
    r = rec_m("c-c", "copy", "/a/{z}", "POST");
    expect_collision(apigw_route_store_insert(st, pool, &r), "POST",
                     "/a/{z}", ROUTE(l, 0)->id, "/a/{x}", "copy");
    r = rec_m("c-c", "copy", "/a/{z}", "PUT");
    expect_collision(apigw_route_store_insert(st, pool, &r), "PUT", "/a/{z}",
                     ROUTE(l, 1)->id, "/a/{y}", "copy");
    /* and a copy of the copy */
    OK(apigw_route_store_create_environment(st, pool, "copy2", "copy", 1,
                                            counter_id, &n));
    assert_int_equal(n, 2);
    /* deleting the source leaves the copies' keys */
    OK(apigw_route_store_delete_environment_routes(st, pool, "default",
                                                   &n));
    r = rec_m("c-c", "copy", "/a/{z}", "GET");
    expect_err(apigw_route_store_insert(st, pool, &r), APIGW_RS_CONFLICT,
               "collides with route");
    r.environment = "default";
    OK(apigw_route_store_insert(st, pool, &r));
    apigw_route_store_close(st);
}

/* ---- following changes ---- */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ids of an array of records (records) or of strings, sorted, joined
 * with ','. */
static const char *sorted_ids(const apr_array_header_t *a, int records)
{
    apr_array_header_t *ids = apr_array_make(pool, a->nelts + 1,
                                             sizeof(const char *));
    int i;

    for (i = 0; i < a->nelts; i++) {
        APR_ARRAY_PUSH(ids, const char *) = records
            ? ROUTE(a, i)->id : APR_ARRAY_IDX(a, i, const char *);
    }
    qsort(ids->elts, ids->nelts, sizeof(const char *), cmp_str);
    return apr_array_pstrcat(pool, ids, ',');
}

typedef struct {
    apr_int64_t gen;
    apr_array_header_t *changed;      /* apigw_route_record */
    apr_array_header_t *deleted;      /* const char * */
} delta;

static delta changes(apigw_route_store *st, const char *env,
                     apr_int64_t since)
{
    delta d = { -1, NULL, NULL };

    OK(apigw_route_store_changes(st, pool, env, since, &d.gen, &d.changed,
                                 &d.deleted));
    assert_non_null(d.changed);
    assert_non_null(d.deleted);
    return d;
}

/* d holds exactly these changed and deleted ids ("" for none) and gen. */
static void expect_delta(const delta *d, const char *changed,
                         const char *deleted, apr_int64_t gen)
{
    if (strcmp(sorted_ids(d->changed, 1), changed)
        || strcmp(sorted_ids(d->deleted, 0), deleted) || d->gen != gen) {
        fail_msg("changes: changed [%s] deleted [%s] gen %" APR_INT64_T_FMT
                 "; expected [%s] [%s] %" APR_INT64_T_FMT,
                 sorted_ids(d->changed, 1), sorted_ids(d->deleted, 0),
                 d->gen, changed, deleted, gen);
    }
}

static const apigw_route_record *find_route(const apr_array_header_t *a,
                                            const char *id)
{
    int i;

    for (i = 0; i < a->nelts; i++) {
        if (strcmp(ROUTE(a, i)->id, id) == 0) {
            return ROUTE(a, i);
        }
    }
    fail_msg("route %s is not in the array", id);
    return NULL;
}

static void test_changes(void **state)
{
    apigw_route_store *st;
    apigw_route_record a = rec("ch-a", "default", "/a");
    apigw_route_record b = rec("ch-b", "default", "/b");
    apigw_route_record c = rec("ch-c", "qa", "/c");
    apigw_route_record d = rec("ch-d", "default", "/d");
    apigw_route_record bad;
    apr_int64_t g0, g1, g2, g3, g4;
    delta x;
    int found, n;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "qa", NULL, 0, NULL,
                                            NULL));
    OK(apigw_route_store_insert(st, pool, &a));
    OK(apigw_route_store_insert(st, pool, &b));
    OK(apigw_route_store_insert(st, pool, &c));

    /* since 0: every route of the environment, none deleted */
    g0 = generation(st);
    x = changes(st, "default", 0);
    expect_delta(&x, "ch-a,ch-b", "", g0);
    assert_record(find_route(x.changed, "ch-a"), &a);
    assert_record(find_route(x.changed, "ch-b"), &b);
    x = changes(st, "qa", 0);
    expect_delta(&x, "ch-c", "", g0);
    assert_record(find_route(x.changed, "ch-c"), &c);
    /* nothing since now, and a read changes nothing */
    x = changes(st, "default", g0);
    expect_delta(&x, "", "", g0);
    assert_true(generation(st) == g0);

    /* an insert */
    OK(apigw_route_store_insert(st, pool, &d));
    g1 = generation(st);
    assert_true(g1 == g0 + 1);
    x = changes(st, "default", g0);
    expect_delta(&x, "ch-d", "", g1);
    assert_record(find_route(x.changed, "ch-d"), &d);
    x = changes(st, "qa", g0);            /* another environment's write */
    expect_delta(&x, "", "", g1);

    /* an update */
    a.target_url = "http://127.0.0.1:9003/new";
    a.methods = "PATCH";
    a.enabled = 0;
    a.updated_at = APR_INT64_C(1800000000000000);
    a.policies = "{\"rateLimit\":{\"average\":5}}";
    OK(apigw_route_store_update(st, pool, &a, &found));
    g2 = generation(st);
    x = changes(st, "default", g1);
    expect_delta(&x, "ch-a", "", g2);
    assert_record(find_route(x.changed, "ch-a"), &a);

    /* a delete */
    OK(apigw_route_store_delete(st, pool, "ch-b", &found));
    g3 = generation(st);
    x = changes(st, "default", g2);
    expect_delta(&x, "", "ch-b", g3);
    /* all three since g0, and the full list since 0 */
    x = changes(st, "default", g0);
    expect_delta(&x, "ch-a,ch-d", "ch-b", g3);
    x = changes(st, "default", 0);
    expect_delta(&x, "ch-a,ch-d", "", g3);

    /* writes that fail or change nothing show nowhere */
    bad = rec_m("ch-bad", "default", "/a", "PATCH");
    expect_err(apigw_route_store_insert(st, pool, &bad), APIGW_RS_CONFLICT,
               "collides");
    OK(apigw_route_store_delete(st, pool, "ch-b", &found));
    assert_int_equal(found, 0);
    x = changes(st, "default", g3);
    expect_delta(&x, "", "", g3);

    /* an update that moves a route: gone from qa, new in default */
    c.environment = "default";
    OK(apigw_route_store_update(st, pool, &c, &found));
    g4 = generation(st);
    x = changes(st, "qa", g3);
    expect_delta(&x, "", "ch-c", g4);
    x = changes(st, "default", g3);
    expect_delta(&x, "ch-c", "", g4);
    assert_record(find_route(x.changed, "ch-c"), &c);
    x = changes(st, "qa", 0);
    expect_delta(&x, "", "", g4);

    /* deleting an environment's routes: all of them deleted */
    OK(apigw_route_store_delete_environment_routes(st, pool, "default", &n));
    assert_int_equal(n, 3);
    x = changes(st, "default", g4);
    expect_delta(&x, "", "ch-a,ch-c,ch-d", g4 + 1);
    x = changes(st, "default", 0);
    expect_delta(&x, "", "", g4 + 1);

    /* an environment that does not exist: nothing, no error */
    x = changes(st, "nowhere", 0);
    expect_delta(&x, "", "", g4 + 1);
    x = changes(st, "nowhere", g0);
    expect_delta(&x, "", "", g4 + 1);
    /* a generation from the future: nothing */
    x = changes(st, "default", g4 + 100);
    expect_delta(&x, "", "", g4 + 1);
    apigw_route_store_close(st);
}

/* A route deleted and inserted again under its id shows in both arrays:
 * deletions first, then changes, leaves it there. */
static void test_changes_delete_and_reinsert(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("re-1", "default", "/re");
    apr_int64_t g;
    delta x;
    int found;

    (void)state;
    st = fresh();
    OK(apigw_route_store_insert(st, pool, &r));
    g = generation(st);
    OK(apigw_route_store_delete(st, pool, "re-1", &found));
    r.path = "/re/{again}";
    OK(apigw_route_store_insert(st, pool, &r));
    x = changes(st, "default", g);
    expect_delta(&x, "re-1", "re-1", g + 2);
    assert_record(find_route(x.changed, "re-1"), &r);
    apigw_route_store_close(st);
}

/* Deleting an environment: its routes are deleted for its followers;
 * copying one: every copy is a change of the new environment. */
static void test_changes_environments(void **state)
{
    apigw_route_store *st;
    apr_array_header_t *l;
    apr_int64_t g;
    delta x;
    int n, i;

    (void)state;
    st = fresh();
    add_routes(st, "default", "src", 3);
    g = generation(st);
    id_counter = 0;
    OK(apigw_route_store_create_environment(st, pool, "copy", "default", 1,
                                            counter_id, &n));
    assert_int_equal(n, 3);
    l = list(st, "copy");
    x = changes(st, "copy", g);
    expect_delta(&x, sorted_ids(l, 1), "", g + 1);
    for (i = 0; i < l->nelts; i++) {
        assert_record(find_route(x.changed, ROUTE(l, i)->id), ROUTE(l, i));
    }
    x = changes(st, "default", g);        /* the source did not change */
    expect_delta(&x, "", "", g + 1);

    OK(apigw_route_store_delete_environment(st, pool, "copy", &n));
    assert_int_equal(n, 3);
    x = changes(st, "copy", g + 1);
    expect_delta(&x, "", sorted_ids(l, 1), g + 2);
    x = changes(st, "copy", 0);
    expect_delta(&x, "", "", g + 2);
    x = changes(st, "default", g + 1);
    expect_delta(&x, "", "", g + 2);
    apigw_route_store_close(st);
}

/* A reader follows a writer in another process with changes() alone:
 * applying each answer (deletions first) to what it holds ends with what
 * list() gives. */
static void test_changes_follow_writer(void **state)
{
    enum { N = 60 };
    apigw_route_store *st;
    apr_hash_t *held = apr_hash_make(pool);
    apr_array_header_t *l;
    apr_int64_t since = 0;
    pid_t pid;
    int status, i, done = 0, polls = 0;

    (void)state;
    st = fresh();
    OK(apigw_route_store_create_environment(st, pool, "other", NULL, 0, NULL,
                                            NULL));
    add_routes(st, "default", "pre", 5);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apigw_route_store *mine = NULL;
        int bad = apigw_route_store_open(pool, spec, &mine) != NULL;
        int found, n;

        for (i = 0; !bad && i < N; i++) {
            apigw_route_record r = rec(apr_psprintf(pool, "w-%d", i),
                                       "default",
                                       apr_psprintf(pool, "/w/%d", i));
            bad = apigw_route_store_insert(mine, pool, &r) != NULL;
            if (!bad && i % 3 == 2) {         /* update an older one */
                r = rec(apr_psprintf(pool, "w-%d", i - 1), "default",
                        apr_psprintf(pool, "/w/%d/{v}", i - 1));
                r.target_url = "http://127.0.0.1:9004/updated";
                bad = apigw_route_store_update(mine, pool, &r, &found)
                      || !found;
            }
            if (!bad && i % 5 == 4) {         /* delete one */
                bad = apigw_route_store_delete(mine, pool,
                          apr_psprintf(pool, "w-%d", i - 2), &found)
                      || !found;
            }
            if (!bad && i % 7 == 6) {         /* move one away */
                r = rec(apr_psprintf(pool, "w-%d", i), "other",
                        apr_psprintf(pool, "/w/%d", i));
                bad = apigw_route_store_update(mine, pool, &r, &found)
                      || !found;
            }
            if (!bad && i % 7 == 0 && i > 0) {  /* and back */
                r = rec(apr_psprintf(pool, "w-%d", i - 1), "default",
                        apr_psprintf(pool, "/w/%d/back", i - 1));
                bad = apigw_route_store_update(mine, pool, &r, &found)
                      || !found;
            }
            if (!bad && i == N / 2) {
                bad = apigw_route_store_delete_environment_routes(
                          mine, pool, "default", &n) != NULL;
            }
        }
        _exit(bad);
    }
    while (!done) {
        delta x;

        done = waitpid(pid, &status, WNOHANG) == pid;   /* then once more */
        x = changes(st, "default", since);
        assert_true(x.gen >= since);
        for (i = 0; i < x.deleted->nelts; i++) {
            apr_hash_set(held, APR_ARRAY_IDX(x.deleted, i, const char *),
                         APR_HASH_KEY_STRING, NULL);
        }
        for (i = 0; i < x.changed->nelts; i++) {
            apr_hash_set(held, ROUTE(x.changed, i)->id, APR_HASH_KEY_STRING,
                         ROUTE(x.changed, i));
        }
        since = x.gen;
        polls++;
        apr_sleep(apr_time_from_msec(2));
    }
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    l = list(st, "default");
    assert_true(l->nelts > 0);
    assert_int_equal((int)apr_hash_count(held), l->nelts);
    for (i = 0; i < l->nelts; i++) {
        const apigw_route_record *h = apr_hash_get(held, ROUTE(l, i)->id,
                                                   APR_HASH_KEY_STRING);
        if (!h) {
            fail_msg("the reader lacks %s", ROUTE(l, i)->id);
        }
        assert_record(h, ROUTE(l, i));
    }
    assert_true(since == generation(st));
    print_message("    %d polls\n", polls);
    apigw_route_store_close(st);
}

/* ---- migration from schema version 1 ---- */

/* The schema version 1 wrote, frozen here: a store of that version as an
 * older build left it. */
static const char *const v1_schema[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "INSERT INTO schema_version (version) VALUES (1)",
    "CREATE TABLE environments ("
    "name TEXT PRIMARY KEY, "
    "created_at BIGINT NOT NULL)",
    "CREATE TABLE routes ("
    "id TEXT PRIMARY KEY, "
    "environment TEXT NOT NULL REFERENCES environments (name), "
    "path TEXT NOT NULL, "
    "target_url TEXT NOT NULL, "
    "methods TEXT NOT NULL, "
    "enabled INTEGER NOT NULL CHECK (enabled IN (0, 1)), "
    "created_at BIGINT NOT NULL, "
    "updated_at BIGINT NOT NULL, "
    "policies TEXT NOT NULL)",
    "CREATE INDEX routes_by_environment ON routes (environment, path)",
    "CREATE TABLE generation ("
    "id INTEGER PRIMARY KEY CHECK (id = 1), "
    "value BIGINT NOT NULL)",
    "INSERT INTO generation (id, value) VALUES (1, 7)",
    "INSERT INTO environments (name, created_at) "
    "VALUES ('default', 1700000000000000)",
    "INSERT INTO environments (name, created_at) "
    "VALUES ('qa', 1700000000000000)",
    NULL
};

/* Static SQL on this test's database, behind the store's back. */
static void raw(const char *sql)
{
    raw_sql(be->driver, strchr(spec, ':') + 1, sql);
}

static void raw_route(const apigw_route_record *r)
{
    raw(apr_psprintf(pool, "INSERT INTO routes (id, environment, path, "
                     "target_url, methods, enabled, created_at, updated_at, "
                     "policies) VALUES ('%s', '%s', '%s', '%s', '%s', %d, "
                     "%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT ", '%s')",
                     r->id, r->environment, r->path, r->target_url,
                     r->methods, r->enabled, r->created_at, r->updated_at,
                     r->policies));
}

/* A version 1 store: two routes on one method and shape (which version 1
 * allowed), one other, and one in "qa". */
static void make_v1_store(apigw_route_record *rs)
{
    const char *const *s;
    int i;

    use_backend();
    for (s = v1_schema; *s; s++) {
        raw(*s);
    }
    rs[0] = rec_m("v1-a", "default", "/a/{x}", "GET,POST");
    rs[1] = rec_m("v1-b", "default", "/a/{y}", "GET");
    rs[2] = rec_m("v1-c", "default", "/c", "GET");
    rs[3] = rec_m("v1-q", "qa", "/a/{x}", "GET");
    for (i = 0; i < 4; i++) {
        raw_route(&rs[i]);
    }
}

static void test_migrate_v1(void **state)
{
    apigw_route_store *st;
    apigw_route_record rs[4], r;
    apr_int64_t g;
    delta x;
    int i, found;

    (void)state;
    make_v1_store(rs);
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    g = generation(st);
    assert_true(g >= 7);
    assert_string_equal(env_names(st), "default,qa");
    x = changes(st, "default", 0);
    expect_delta(&x, "v1-a,v1-b,v1-c", "", g);
    for (i = 0; i < 3; i++) {
        assert_record(find_route(x.changed, rs[i].id), &rs[i]);
    }
    x = changes(st, "qa", 0);
    expect_delta(&x, "v1-q", "", g);
    x = changes(st, "default", g);
    expect_delta(&x, "", "", g);

    /* the keys are there: the first of the two keeps GET /a/{} */
    r = rec_m("new-1", "default", "/a/{z}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{z}",
                     "v1-a", "/a/{x}", "default");
    r.methods = "POST";
    expect_collision(apigw_route_store_insert(st, pool, &r), "POST",
                     "/a/{z}", "v1-a", "/a/{x}", "default");
    r = rec_m("new-1", "default", "/c", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/c",
                     "v1-c", "/c", "default");
    r = rec_m("new-1", "qa", "/a/{w}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{w}",
                     "v1-q", "/a/{x}", "qa");
    r = rec_m("new-1", "default", "/a/{z}", "PUT");
    OK(apigw_route_store_insert(st, pool, &r));
    assert_true(generation(st) == g + 1);
    /* the second of the two must move before it can change */
    r = rs[1];
    r.target_url = "http://127.0.0.1:9005/b";
    expect_collision(apigw_route_store_update(st, pool, &r, &found), "GET",
                     "/a/{y}", "v1-a", "/a/{x}", "default");
    r.path = "/b/{y}";
    OK(apigw_route_store_update(st, pool, &r, &found));
    assert_int_equal(found, 1);
    x = changes(st, "default", g);
    expect_delta(&x, "new-1,v1-b", "", g + 2);
    apigw_route_store_close(st);

    /* a reopen migrates nothing and writes nothing */
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    assert_true(generation(st) == g + 2);
    r = rec_m("new-2", "default", "/b/{q}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/b/{q}",
                     "v1-b", "/b/{y}", "default");
    apigw_route_store_close(st);
}

/* An empty version 1 store (no route) migrates too. */
static void test_migrate_v1_empty(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("e-1", "default", "/e");
    const char *const *s;
    delta x;

    (void)state;
    use_backend();
    for (s = v1_schema; *s; s++) {
        raw(*s);
    }
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    x = changes(st, "default", 0);
    expect_delta(&x, "", "", generation(st));
    OK(apigw_route_store_insert(st, pool, &r));
    r.id = "e-2";
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/e",
                     "e-1", "/e", "default");
    apigw_route_store_close(st);
}

/* Tombstones older than two hours go at the next deletion; younger ones
 * stay. */
static void test_changes_tombstones_pruned(void **state)
{
    apigw_route_store *st;
    apr_time_t now = apr_time_now();
    apr_int64_t g;
    delta x;
    int found;

    (void)state;
    st = fresh();
    add_routes(st, "default", "t", 3);
    g = generation(st);
    raw(apr_psprintf(pool, "INSERT INTO route_tombstones (id, environment, "
                     "generation, deleted_at) VALUES ('old', 'default', "
                     "%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT ")", g,
                     now - apr_time_from_sec(3 * 3600)));
    raw(apr_psprintf(pool, "INSERT INTO route_tombstones (id, environment, "
                     "generation, deleted_at) VALUES ('young', 'default', "
                     "%" APR_INT64_T_FMT ", %" APR_INT64_T_FMT ")", g,
                     now - apr_time_from_sec(3600)));
    x = changes(st, "default", g - 1);
    expect_delta(&x, "t-2", "old,young", g);
    OK(apigw_route_store_delete(st, pool, "t-0", &found));
    x = changes(st, "default", g - 1);
    expect_delta(&x, "t-2", "t-0,young", g + 1);
    apigw_route_store_close(st);
}

/* Several processes open a version 1 store at the same moment (httpd's
 * children after an upgrade): every open succeeds, the store is migrated
 * once and its keys are filled. */
static void test_migrate_v1_concurrent_opens(void **state)
{
    enum { N = 6 };
    apigw_route_store *st;
    apigw_route_record rs[4], r;
    pid_t pids[N];
    int status, i;

    (void)state;
    make_v1_store(rs);
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            apigw_route_store *mine = NULL;
            const apigw_route_store_error *e;

            r = rec_m(apr_psprintf(pool, "c-%d", i), "default",
                      apr_psprintf(pool, "/conc/%d", i), "GET");
            e = apigw_route_store_open(pool, spec, &mine);
            if (!e) {
                e = apigw_route_store_insert(mine, pool, &r);
            }
            if (e) {
                fprintf(stderr, "child %d: %s\n", i, e->message);
            }
            _exit(e != NULL);
        }
    }
    for (i = 0; i < N; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    assert_int_equal(list(st, "default")->nelts, 3 + N);
    r = rec_m("new-1", "default", "/a/{z}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{z}",
                     "v1-a", "/a/{x}", "default");
    r = rec_m("new-1", "default", "/conc/3", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET",
                     "/conc/3", "c-3", "/conc/3", "default");
    apigw_route_store_close(st);
}

/* The keys of a version 1 store are filled in even when the first open
 * that migrates it fails before filling them (a crash, a lost connection,
 * a busy database): here the generation row refuses the first write after
 * the schema reached version 2 (fill_keys's), once. */
static void test_migrate_v1_fill_interrupted(void **state)
{
    apigw_route_store *st = NULL;
    apigw_route_record rs[4], r;
    const apigw_route_store_error *err;

    (void)state;
    make_v1_store(rs);
    if (be == &on_sqlite) {
        raw("CREATE TRIGGER fail_fill BEFORE UPDATE ON generation "
            "WHEN (SELECT MAX(version) FROM schema_version) >= 2 "
            "BEGIN SELECT RAISE(ABORT, 'injected failure'); END");
    }
    else {
        raw("CREATE OR REPLACE FUNCTION fail_fill() RETURNS trigger "
            "LANGUAGE plpgsql AS $$ BEGIN "
            "IF (SELECT MAX(version) FROM schema_version) >= 2 THEN "
            "RAISE EXCEPTION 'injected failure'; END IF; "
            "RETURN NEW; END $$");
        raw("CREATE TRIGGER fail_fill BEFORE UPDATE ON generation "
            "FOR EACH ROW EXECUTE FUNCTION fail_fill()");
    }
    err = apigw_route_store_open(pool, spec, &st);
    print_message("    first open: %s\n", err ? err->message : "no error");
    if (st) {
        apigw_route_store_close(st);
    }
    raw(be == &on_sqlite ? "DROP TRIGGER fail_fill"
                         : "DROP TRIGGER fail_fill ON generation");
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    r = rec_m("new-1", "default", "/a/{z}", "GET");
    expect_collision(apigw_route_store_insert(st, pool, &r), "GET", "/a/{z}",
                     "v1-a", "/a/{x}", "default");
    apigw_route_store_close(st);
}

/* ---- hostile and international data ---- */

static void test_injection_shaped_names(void **state)
{
    static const char *const names[] = {
        "x'); DROP TABLE routes;--",
        "x\"); DROP TABLE environments;--",
        "'; DELETE FROM generation; --",
        "%s %d %lld $1 ? :name",
        "back\\slash",
    };
    apigw_route_store *st;
    apigw_route_record r, *got;
    apr_array_header_t *l;
    size_t i;
    int n;

    (void)state;
    st = fresh();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        OK(apigw_route_store_create_environment(st, pool, names[i], NULL, 0,
                                                NULL, NULL));
        r = rec(names[i], names[i], names[i]);
        r.policies = names[i];
        r.target_url = names[i];
        OK(apigw_route_store_insert(st, pool, &r));
        OK(apigw_route_store_get(st, pool, names[i], &got));
        assert_non_null(got);
        assert_record(got, &r);
        l = list(st, names[i]);
        assert_int_equal(l->nelts, 1);
        assert_record(ROUTE(l, 0), &r);
    }
    assert_int_equal(list(st, NULL)->nelts, 5);
    l = NULL;
    OK(apigw_route_store_environments(st, pool, &l));
    assert_int_equal(l->nelts, 6);
    OK(apigw_route_store_delete_environment(st, pool, names[0], &n));
    assert_int_equal(n, 1);
    assert_int_equal(list(st, NULL)->nelts, 4);   /* routes table intact */
    assert_true(generation(st) > 0);
    apigw_route_store_close(st);
}

static void test_unicode_round_trip(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("ünï-çødé-✓", "生産-環境",
                               "/café/日本/🚀/{id}");
    apigw_route_record *got;
    apr_array_header_t *l;

    (void)state;
    st = fresh();
    r.target_url = "http://例え.テスト/путь";
    r.policies = "{\"requestHeaders\":{\"set\":"
                 "{\"X-Note\":\"naïve — ok 🎉\"}}}";
    OK(apigw_route_store_create_environment(st, pool, r.environment, NULL, 0,
                                            NULL, NULL));
    OK(apigw_route_store_insert(st, pool, &r));
    apigw_route_store_close(st);

    st = open_store();
    OK(apigw_route_store_get(st, pool, r.id, &got));
    assert_non_null(got);
    assert_record(got, &r);
    l = list(st, "生産-環境");
    assert_int_equal(l->nelts, 1);
    assert_record(ROUTE(l, 0), &r);
    assert_string_equal(env_names(st), "default,生産-環境");
    apigw_route_store_close(st);
}

/* ---- processes ---- */

/* Two processes write at once through their own stores: every write lands
 * and each one bumps the generation once. */
static void test_concurrent_writers(void **state)
{
    apigw_route_store *st;
    apr_int64_t g;
    pid_t pid;
    int status, i;

    (void)state;
    st = fresh();
    g = generation(st);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apigw_route_store *mine = NULL;
        int bad = apigw_route_store_open(pool, spec, &mine) != NULL;

        for (i = 0; !bad && i < 40; i++) {
            apigw_route_record r = rec(apr_psprintf(pool, "child-%d", i),
                                       "default",
                                       apr_psprintf(pool, "/child/%d", i));
            bad = apigw_route_store_insert(mine, pool, &r) != NULL;
        }
        _exit(bad);
    }
    for (i = 0; i < 40; i++) {
        apigw_route_record r = rec(apr_psprintf(pool, "parent-%d", i),
                                   "default",
                                   apr_psprintf(pool, "/parent/%d", i));
        OK(apigw_route_store_insert(st, pool, &r));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(list(st, NULL)->nelts, 80);
    assert_true(generation(st) == g + 80);
    apigw_route_store_close(st);
}

/* Several processes open a store that does not exist yet at the same
 * moment (httpd's children, at their first admin request): every open
 * succeeds, the schema is made once, and each can write. */
static void test_concurrent_first_opens(void **state)
{
    enum { N = 6 };
    apigw_route_store *st;
    pid_t pids[N];
    int status, i;

    (void)state;
    use_backend();                   /* no store yet: nothing opened */
    for (i = 0; i < N; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            apigw_route_store *mine = NULL;
            const apigw_route_store_error *e;
            apigw_route_record r = rec(apr_psprintf(pool, "first-%d", i),
                                       "default",
                                       apr_psprintf(pool, "/first/%d", i));

            e = apigw_route_store_open(pool, spec, &mine);
            if (!e) {
                e = apigw_route_store_insert(mine, pool, &r);
            }
            if (e) {
                fprintf(stderr, "child %d: %s\n", i, e->message);
            }
            _exit(e != NULL);
        }
    }
    for (i = 0; i < N; i++) {
        assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st),
                     APIGW_ROUTE_STORE_SCHEMA_VERSION);
    assert_int_equal(list(st, NULL)->nelts, N);
    apigw_route_store_close(st);
}

/* A write acknowledged just before kill -9 is there after a reopen. */
static void test_survives_kill(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("k1", "default", "/kill");
    apigw_route_record *got;
    pid_t pid;
    int status;

    (void)state;
    use_backend();
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        apigw_route_store *mine = NULL;

        if (apigw_route_store_open(pool, spec, &mine)
            || apigw_route_store_insert(mine, pool, &r)) {
            _exit(1);
        }
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    st = open_store();
    OK(apigw_route_store_get(st, pool, "k1", &got));
    assert_non_null(got);
    assert_record(got, &r);
    apigw_route_store_close(st);
}

/* ---- API keys ---- */

/* 64 lowercase hex digits from a seed: a hash-shaped value. */
static const char *hash_of(const char *seed)
{
    const char *h = apigw_apikey_hash_hex(pool, seed, strlen(seed));

    assert_non_null(h);
    return h;
}

static apigw_apikey_record key_rec(const char *name, const char *seed,
                                   const char *roles)
{
    apigw_apikey_record k;

    k.name = name;
    k.hash = hash_of(seed);
    k.roles = roles;
    k.created_at = APR_INT64_C(1700000000000123);
    return k;
}

static apr_array_header_t *keys_listed(apigw_route_store *st)
{
    apr_array_header_t *a = NULL;

    OK(apigw_route_store_apikeys(st, pool, &a));
    assert_non_null(a);
    return a;
}

#define KEY(a, i) (&APR_ARRAY_IDX((a), (i), apigw_apikey_record))

static apr_int64_t keys_version(apigw_route_store *st)
{
    apr_int64_t v = -1;

    OK(apigw_route_store_apikeys_version(st, pool, &v));
    return v;
}

/* Created, listed by name (byte order: upper case first) without their
 * hashes, loaded with them, deleted; each write one generation, and the
 * keys' version that generation. */
static void test_apikeys(void **state)
{
    apigw_route_store *st;
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "reader,writer");
    apigw_apikey_record b = key_rec("Alice@corp", "key-b", "");
    apigw_apikey_record c = key_rec("o'brien\"; DROP TABLE api_keys;--",
                                    "key-c", "x");
    apr_array_header_t *l;
    apr_int64_t g, v = -1;

    (void)state;
    st = fresh();
    assert_true(keys_version(st) == 0);
    assert_int_equal(keys_listed(st)->nelts, 0);
    g = generation(st);

    OK(apigw_route_store_apikey_create(st, pool, &a));
    assert_true(generation(st) == ++g);
    assert_true(keys_version(st) == g);
    OK(apigw_route_store_apikey_create(st, pool, &b));
    OK(apigw_route_store_apikey_create(st, pool, &c));
    g += 2;
    assert_true(generation(st) == g);
    assert_true(keys_version(st) == g);

    l = keys_listed(st);
    assert_int_equal(l->nelts, 3);
    assert_string_equal(KEY(l, 0)->name, "Alice@corp");
    assert_string_equal(KEY(l, 0)->roles, "");
    assert_string_equal(KEY(l, 1)->name, "ci-bot");
    assert_string_equal(KEY(l, 1)->roles, "reader,writer");
    assert_true(KEY(l, 1)->created_at == a.created_at);
    assert_string_equal(KEY(l, 2)->name, c.name);
    assert_null(KEY(l, 0)->hash);
    assert_null(KEY(l, 1)->hash);

    OK(apigw_route_store_apikeys_load(st, pool, &v, &l));
    assert_true(v == g);
    assert_int_equal(l->nelts, 3);
    assert_string_equal(KEY(l, 1)->name, "ci-bot");
    assert_string_equal(KEY(l, 1)->hash, a.hash);
    assert_string_equal(KEY(l, 0)->hash, b.hash);

    OK(apigw_route_store_apikey_delete(st, pool, "ci-bot"));
    assert_true(generation(st) == ++g);
    assert_true(keys_version(st) == g);
    expect_err(apigw_route_store_apikey_delete(st, pool, "ci-bot"),
               APIGW_RS_NOT_FOUND, "no API key named \"ci-bot\"");
    assert_true(generation(st) == g);
    l = keys_listed(st);
    assert_int_equal(l->nelts, 2);
    assert_string_equal(KEY(l, 0)->name, "Alice@corp");
    apigw_route_store_close(st);

    st = open_store();                    /* kept, and nothing written */
    assert_int_equal(keys_listed(st)->nelts, 2);
    assert_true(generation(st) == g);
    assert_true(keys_version(st) == g);
    apigw_route_store_close(st);
}

/* A taken name or hash, and what the store cannot take: nothing written,
 * the generation and the keys' version where they were. */
static void test_apikeys_errors(void **state)
{
    apigw_route_store *st;
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "reader");
    apigw_apikey_record k;
    apr_int64_t g, v;

    (void)state;
    st = fresh();
    OK(apigw_route_store_apikey_create(st, pool, &a));
    g = generation(st);
    v = keys_version(st);

    k = key_rec("ci-bot", "key-other", "");
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_CONFLICT, "an API key named \"ci-bot\" already "
               "exists");
    k = key_rec("other", "key-a", "");
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_CONFLICT, "another API key has the same hash");

    k = key_rec("", "key-x", "");
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_INVALID, "the API key's name is empty");
    k = key_rec("x", "key-x", "");
    k.hash = apr_pstrdup(pool, k.hash);
    ((char *)k.hash)[0] = 'A';
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_INVALID, "not 64 lowercase hex digits");
    k.hash = "abc";
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_INVALID, "not 64 lowercase hex digits");
    k.hash = apr_pstrcat(pool, hash_of("key-x"), "0", NULL);
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_INVALID, "not 64 lowercase hex digits");
    k = key_rec("x", "key-x", NULL);
    expect_err(apigw_route_store_apikey_create(st, pool, &k),
               APIGW_RS_INVALID, "lacks its roles");
    expect_err(apigw_route_store_apikey_create(st, pool, NULL),
               APIGW_RS_INVALID, "no API key given");
    expect_err(apigw_route_store_apikey_delete(st, pool, ""),
               APIGW_RS_INVALID, "is empty");
    expect_err(apigw_route_store_apikey_delete(st, pool, "nobody"),
               APIGW_RS_NOT_FOUND, "no API key named");

    assert_true(generation(st) == g);
    assert_true(keys_version(st) == v);
    assert_int_equal(keys_listed(st)->nelts, 1);
    apigw_route_store_close(st);
}

/* Route writes bump the generation, never the keys' version: a child
 * does not read the keys again for them. */
static void test_apikeys_version_ignores_routes(void **state)
{
    apigw_route_store *st;
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "");
    apigw_route_record r = rec("k-r1", "default", "/k");
    apr_int64_t v;
    int found, n;

    (void)state;
    st = fresh();
    OK(apigw_route_store_apikey_create(st, pool, &a));
    v = keys_version(st);
    OK(apigw_route_store_insert(st, pool, &r));
    OK(apigw_route_store_update(st, pool, &r, &found));
    OK(apigw_route_store_create_environment(st, pool, "e", "default", 1,
                                            counter_id, &n));
    OK(apigw_route_store_delete_environment(st, pool, "e", &n));
    OK(apigw_route_store_delete(st, pool, "k-r1", &found));
    assert_true(generation(st) == v + 5);
    assert_true(keys_version(st) == v);
    apigw_route_store_close(st);
}

/* A store as version 2 left it (no key tables), with a route: migrated
 * to version 3 at open, its route and generation kept, keys usable. */
static void test_migrate_v2(void **state)
{
    apigw_route_store *st;
    apigw_route_record r = rec("v2-r", "default", "/v2");
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "reader");
    apr_int64_t g;

    (void)state;
    st = fresh();
    OK(apigw_route_store_insert(st, pool, &r));
    g = generation(st);
    apigw_route_store_close(st);
    raw("DROP TABLE api_keys");
    raw("DROP TABLE api_keys_version");
    raw("UPDATE schema_version SET version = 2");

    st = open_store();
    assert_int_equal(apigw_route_store_schema_version(st), 3);
    assert_int_equal(list(st, NULL)->nelts, 1);
    assert_record(ROUTE(list(st, NULL), 0), &r);
    assert_true(generation(st) == g);
    assert_true(keys_version(st) == 0);
    assert_int_equal(keys_listed(st)->nelts, 0);
    OK(apigw_route_store_apikey_create(st, pool, &a));
    assert_true(keys_version(st) == g + 1);
    apigw_route_store_close(st);

    st = open_store();                    /* migrated once */
    assert_int_equal(apigw_route_store_schema_version(st), 3);
    assert_int_equal(keys_listed(st)->nelts, 1);
    apigw_route_store_close(st);
}

/* The store's keys as a child loads them (apigw_apikey_add) into a set of
 * its own pool: what the builder thread does. */
static apr_pool_t *load_set(apigw_route_store *st, apigw_apikey_set **set)
{
    apr_array_header_t *recs;
    apr_int64_t v;
    apr_pool_t *kp;
    int i;

    OK(apigw_route_store_apikeys_load(st, pool, &v, &recs));
    assert_int_equal(apr_pool_create(&kp, pool), APR_SUCCESS);
    *set = apigw_apikey_set_make(kp);
    for (i = 0; i < recs->nelts; i++) {
        const apigw_apikey_record *k = KEY(recs, i);
        const char *why = apigw_apikey_add(kp, *set, k->name, k->hash,
                                           *k->roles ? k->roles : NULL);
        if (why) {
            fail_msg("%s: %s", k->name, why);
        }
    }
    return kp;
}

/* Loaded, published, found (the copy outlives its set), revoked,
 * published again: not found; a set held by no lookup is freed, the
 * slots are reused. */
static void test_apikeys_published(void **state)
{
    apigw_route_store *st;
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "reader,writer");
    apigw_apikey_record b = key_rec("viewer", "key-b", "");
    apigw_apikeys *t;
    apigw_apikey_set *set;
    const apigw_apikey *k;
    apr_pool_t *kp, *rp;
    int i;

    (void)state;
    st = fresh();
    t = apigw_apikeys_make(pool);
    assert_false(apigw_apikeys_published(t));
    assert_null(apigw_apikeys_find(t, pool, "key-a", 5));

    OK(apigw_route_store_apikey_create(st, pool, &a));
    OK(apigw_route_store_apikey_create(st, pool, &b));
    kp = load_set(st, &set);
    assert_int_equal(apigw_apikeys_publish(t, kp, set), 1);
    assert_true(apigw_apikeys_published(t));

    assert_int_equal(apr_pool_create(&rp, pool), APR_SUCCESS);
    k = apigw_apikeys_find(t, rp, "key-a", 5);
    assert_non_null(k);
    assert_null(apigw_apikeys_find(t, rp, "key-", 4));
    assert_null(apigw_apikeys_find(t, rp, "", 0));
    assert_non_null(apigw_apikeys_find(t, rp, "key-b", 5));

    OK(apigw_route_store_apikey_delete(st, pool, "ci-bot"));
    kp = load_set(st, &set);
    assert_int_equal(apigw_apikeys_publish(t, kp, set), 1);
    assert_int_equal(apigw_apikeys_sweep(t), 1);   /* the old set freed */
    /* the copy found before the revocation lives with rp */
    assert_string_equal(k->name, "ci-bot");
    assert_true(apigw_apikey_has_role(k, "writer"));
    assert_false(apigw_apikey_has_role(k, "admin"));
    assert_null(apigw_apikeys_find(t, rp, "key-a", 5));
    assert_non_null(apigw_apikeys_find(t, rp, "key-b", 5));

    /* many publishes, one set held at a time: the slots are reused */
    for (i = 0; i < 3 * APIGW_APIKEYS_SLOTS; i++) {
        kp = load_set(st, &set);
        assert_int_equal(apigw_apikeys_publish(t, kp, set), 1);
        assert_int_equal(apigw_apikeys_sweep(t), 1);
    }
    /* without a sweep the slots fill up: a publish then waits for one */
    for (i = 1; i < APIGW_APIKEYS_SLOTS; i++) {
        kp = load_set(st, &set);
        assert_int_equal(apigw_apikeys_publish(t, kp, set), 1);
    }
    kp = load_set(st, &set);
    assert_int_equal(apigw_apikeys_publish(t, kp, set), 0);
    assert_non_null(apigw_apikeys_find(t, rp, "key-b", 5));
    assert_int_equal(apigw_apikeys_sweep(t), 1);
    assert_int_equal(apigw_apikeys_publish(t, kp, set), 1);
    assert_non_null(apigw_apikeys_find(t, rp, "key-b", 5));
    apr_pool_destroy(rp);
    apigw_route_store_close(st);
}

/* Request threads look keys up without a pause while the builder
 * publishes a set with the key and one without it, in turn, and frees
 * the old ones: every lookup answers one or the other, never a set freed
 * under it (ASan would say). */
typedef struct {
    apigw_apikeys *t;
    volatile apr_uint32_t *stop;
    int found, missed, wrong;
} lookup_ctx;

static void *APR_THREAD_FUNC lookup_main(apr_thread_t *thread, void *data)
{
    lookup_ctx *c = data;
    apr_pool_t *p;

    apr_pool_create_unmanaged_ex(&p, NULL, NULL);
    while (!apr_atomic_read32(c->stop)) {
        const apigw_apikey *k = apigw_apikeys_find(c->t, p, "key-a", 5);

        if (k && strcmp(k->name, "ci-bot") == 0
            && apigw_apikey_has_role(k, "reader")) {
            c->found++;
        }
        else if (k) {
            c->wrong++;
        }
        else {
            c->missed++;
        }
        apr_pool_clear(p);
    }
    apr_pool_destroy(p);
    (void)thread;
    return NULL;
}

static void test_apikeys_concurrent_lookups(void **state)
{
    enum { THREADS = 4, ROUNDS = 400 };
    apigw_route_store *st;
    apigw_apikey_record a = key_rec("ci-bot", "key-a", "reader");
    apr_pool_t *bp;
    apr_thread_t *threads[THREADS];
    lookup_ctx ctx[THREADS];
    volatile apr_uint32_t stop = 0;
    apigw_apikeys *t;
    apr_status_t rv;
    int i, found = 0, missed = 0, wrong = 0, pending = 0;

    (void)state;
    st = fresh();
    t = apigw_apikeys_make(pool);
    assert_int_equal(apr_pool_create(&bp, pool), APR_SUCCESS);
    for (i = 0; i < THREADS; i++) {
        ctx[i].t = t;
        ctx[i].stop = &stop;
        ctx[i].found = ctx[i].missed = ctx[i].wrong = 0;
        assert_int_equal(apr_thread_create(&threads[i], NULL, lookup_main,
                                           &ctx[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < ROUNDS; i++) {
        apigw_apikey_set *set;
        apr_pool_t *kp;

        if (i % 2 == 0) {
            OK(apigw_route_store_apikey_create(st, bp, &a));
        }
        else {
            OK(apigw_route_store_apikey_delete(st, bp, "ci-bot"));
        }
        kp = load_set(st, &set);
        while (!apigw_apikeys_publish(t, kp, set)) {
            pending++;             /* every slot held: free some */
            apigw_apikeys_sweep(t);
        }
        apigw_apikeys_sweep(t);
        apr_sleep(200);
        apr_pool_clear(bp);
    }
    apr_atomic_set32(&stop, 1);
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_join(&rv, threads[i]), APR_SUCCESS);
        found += ctx[i].found;
        missed += ctx[i].missed;
        wrong += ctx[i].wrong;
    }
    print_message("    %d found, %d not, %d publishes waited\n", found,
                  missed, pending);
    assert_true(found > 0 && missed > 0);
    assert_int_equal(wrong, 0);
    /* the last publish was without the key */
    assert_null(apigw_apikeys_find(t, pool, "key-a", 5));
    assert_int_equal(apigw_apikeys_sweep(t), 1);
    apigw_route_store_close(st);
}

/* ---- specs and messages ---- */

static void test_bad_specs(void **state)
{
    apigw_route_store *st = (apigw_route_store *)1;

    (void)state;
    expect_err(apigw_route_store_open(pool, apr_pstrcat(pool, "sqlite3:",
                                      tmpdir, "/missing/dir/routes.db",
                                      NULL), &st),
               APIGW_RS_INVALID, apr_pstrcat(pool, "the directory ", tmpdir,
                                             "/missing/dir cannot be used",
                                             NULL));
    assert_null(st);
    expect_err(apigw_route_store_open(pool, apr_pstrcat(pool, "sqlite3:",
                                      tmpdir, "/routes.db/x.db", NULL), &st),
               APIGW_RS_INVALID, "cannot be used");
    expect_err(apigw_route_store_open(pool, "sqlite3:", &st),
               APIGW_RS_INVALID, "needs a file path");
    expect_err(apigw_route_store_open(pool, "pgsql:", &st),
               APIGW_RS_INVALID, "needs a libpq connection string");
    expect_err(apigw_route_store_open(pool, "pgsql:\"\"", &st),
               APIGW_RS_INVALID, "needs a libpq connection string");
    expect_err(apigw_route_store_open(pool, "mysql:host=x", &st),
               APIGW_RS_INVALID, "is sqlite3:PATH or pgsql:CONNINFO, not "
               "\"mysql...\"");
    expect_err(apigw_route_store_open(pool, "/var/lib/routes.db", &st),
               APIGW_RS_INVALID, "not \"/var/lib/routes.db\"");
    expect_err(apigw_route_store_open(pool, NULL, &st), APIGW_RS_INVALID,
               "not \"\"");
    /* a spec without its prefix may hold a password: it is not repeated */
    expect_err(apigw_route_store_open(pool, "postgresql://u:hunter2@h/db",
                                      &st),
               APIGW_RS_INVALID, "not \"postgresql...\"");
    expect_err(apigw_route_store_open(pool, "password=hunter2", &st),
               APIGW_RS_INVALID, "not \"password...\"");

    /* a file that is not a database */
    {
        apr_file_t *f;
        const char *path = apr_pstrcat(pool, tmpdir, "/junk.db", NULL);
        assert_int_equal(apr_file_open(&f, path, APR_FOPEN_WRITE
                                       | APR_FOPEN_CREATE, APR_OS_DEFAULT,
                                       pool), APR_SUCCESS);
        apr_file_puts("this is not a SQLite database, not at all; "
                      "it is just text, long enough to have a header.\n", f);
        apr_file_close(f);
        expect_err(apigw_route_store_open(pool, apr_pstrcat(pool, "sqlite3:",
                                          path, NULL), &st),
                   APIGW_RS_UNAVAILABLE, "not a database");
    }
}

/* No pgsql message repeats a password, whether or not the driver is
 * installed and whatever the form of the conninfo. */
static void test_pgsql_no_secret(void **state)
{
    static const char *const specs[] = {
        "pgsql:host=/nonexistent/socket dbname=x password=hunter2 "
        "connect_timeout=1",
        "pgsql:\"host=/nonexistent/socket password = 'hun ter2' \"",
        "pgsql:postgresql://user:hunter2@/x?host=/nonexistent/socket",
        "pgsql:postgresql:///x?host=/nonexistent/socket&password=hunter2",
        "pgsql:hunter2",                  /* libpq quotes the bad word */
    };
    apigw_route_store *st;
    const apigw_route_store_error *err;
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
        st = (apigw_route_store *)1;
        err = apigw_route_store_open(pool, specs[i], &st);
        assert_non_null(err);
        assert_null(st);
        assert_int_equal(err->code, APIGW_RS_UNAVAILABLE);
        assert_non_null(strstr(err->message, "route store pgsql: "));
        if (strstr(err->message, "hunter2")
            || strstr(err->message, "hun ter2")) {
            fail_msg("%s", err->message);
        }
        print_message("    %s\n", err->message);
    }
}

/* Each test under its backend's name, for the report. */
#define ON(be, f) { #be ": " #f, f, setup, teardown, (void *)&on_##be }
#define BOTH(f) ON(sqlite, f), ON(pgsql, f)
#define SQLITE(f) ON(sqlite, f)

int main(void)
{
    const struct CMUnitTest tests[] = {
        BOTH(test_open_creates_schema),
        BOTH(test_open_twice_and_reopen),
        SQLITE(test_newer_schema_refused),
        SQLITE(test_sqlite_wal),
        BOTH(test_insert_get_list),
        BOTH(test_insert_errors),
        BOTH(test_update),
        BOTH(test_delete),
        BOTH(test_delete_environment_routes),
        BOTH(test_environments),
        BOTH(test_copy_all_or_nothing),
        BOTH(test_generation),
        BOTH(test_collision_insert),
        BOTH(test_collision_update),
        BOTH(test_collision_delete),
        BOTH(test_collision_copy),
        BOTH(test_changes),
        BOTH(test_changes_delete_and_reinsert),
        BOTH(test_changes_environments),
        BOTH(test_changes_follow_writer),
        BOTH(test_migrate_v1),
        BOTH(test_migrate_v1_empty),
        BOTH(test_changes_tombstones_pruned),
        BOTH(test_migrate_v1_concurrent_opens),
        BOTH(test_migrate_v1_fill_interrupted),
        BOTH(test_injection_shaped_names),
        BOTH(test_unicode_round_trip),
        BOTH(test_concurrent_writers),
        BOTH(test_concurrent_first_opens),
        BOTH(test_survives_kill),
        BOTH(test_apikeys),
        BOTH(test_apikeys_errors),
        BOTH(test_apikeys_version_ignores_routes),
        BOTH(test_migrate_v2),
        SQLITE(test_apikeys_published),
        SQLITE(test_apikeys_concurrent_lookups),
        SQLITE(test_bad_specs),
        SQLITE(test_pgsql_no_secret),
    };
    return cmocka_run_group_tests_name("route_store", tests, group_setup,
                                       group_teardown);
}
