/* sources: mod_apigw/apigw_route_store.c */
/* libs: -laprutil-1 */
/* Unit tests for mod_apigw/apigw_route_store.c on real SQLite files in a
 * fresh temporary directory per test: schema creation and migration (open
 * twice, reopen, a newer schema refused), every operation and its error
 * codes, all-or-nothing environment copies (a duplicate id halfway), the
 * generation (bumped by each committed write, never by a read or a failed
 * write), injection-shaped names, Unicode, concurrent writers in two
 * processes, a write surviving kill -9, bad specs and missing directories,
 * and no password in any message.
 *
 * The same tests run on PostgreSQL when APIGW_TEST_PGSQL holds a libpq
 * conninfo (its database's routes, environments, generation and
 * schema_version tables are dropped before each test; needs the
 * libaprutil1-dbd-pgsql driver); without it they are reported skipped. */
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

#include <apr_dbd.h>
#include <apr_file_info.h>
#include <apr_file_io.h>
#include <apr_strings.h>

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
                         "generation, schema_version");
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
    assert_int_equal(apigw_route_store_schema_version(b), 1);
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
               APIGW_RS_UNAVAILABLE, "schema version 99 is newer than this "
               "build knows (1)");
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
                                       "default", "/child");
            bad = apigw_route_store_insert(mine, pool, &r) != NULL;
        }
        _exit(bad);
    }
    for (i = 0; i < 40; i++) {
        apigw_route_record r = rec(apr_psprintf(pool, "parent-%d", i),
                                   "default", "/parent");
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
                                       "default", "/first");

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
        BOTH(test_injection_shaped_names),
        BOTH(test_unicode_round_trip),
        BOTH(test_concurrent_writers),
        BOTH(test_concurrent_first_opens),
        BOTH(test_survives_kill),
        SQLITE(test_bad_specs),
        SQLITE(test_pgsql_no_secret),
    };
    return cmocka_run_group_tests_name("route_store", tests, group_setup,
                                       group_teardown);
}
