/* sources: mod_apigw_ratelimit/apigw_rl_route.c mod_apigw_ratelimit/apigw_rl_spec.c mod_apigw_ratelimit/apigw_rl_gcra.c mod_apigw_ratelimit/apigw_rl_table.c mod_apigw_ratelimit/apigw_rl_headers.c */
/* cflags: -I/usr/include/apache2 */
/* Unit tests for mod_apigw_ratelimit/apigw_rl_route.c: a runtime route's
 * rateLimit prepared into a limit (valid settings and their defaults,
 * every by= kind, an expression handed to ap_expr_parse with the flags
 * and names it needs), the messages of invalid settings as the admin API
 * names the fields, identities (equal settings of one route keyed equal,
 * a different route or different numbers or key keyed differently, never
 * equal to a directive's), prepares from several threads at once, and
 * attach. httpd's ap_expr_parse and the module record are stubbed here:
 * the test links no httpd symbol. */
#define UNIT_POOL
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "unit_apr.h"

#include <apr_strings.h>
#include <apr_thread_proc.h>

#include "apigw_rl_route.h"

#define SEC APR_USEC_PER_SEC
#define ROUTE "0b6f6a4e-3f0c-4e4e-9c59-1f3c0c7e2a11"
#define OTHER "7d1d9a2a-1b2c-4d3e-8f4a-5b6c7d8e9f00"

/* ---- stubs of httpd ---- */

module AP_MODULE_DECLARE_DATA apigw_ratelimit_module;

/* what the stub of ap_expr_parse saw last */
static const char *parsed_text;
static ap_expr_info_t parsed_info;

/* Fails for texts holding "BAD"; otherwise a node that is never run. */
AP_DECLARE(const char *) ap_expr_parse(apr_pool_t *p, apr_pool_t *ptemp,
                                       ap_expr_info_t *info,
                                       const char *expr,
                                       ap_expr_lookup_fn_t *lookup_fn)
{
    (void)ptemp;
    (void)lookup_fn;
    parsed_text = expr;
    parsed_info = *info;
    if (strstr(expr, "BAD")) {
        return "syntax error, unexpected end of input";
    }
    info->root_node = apr_pcalloc(p, 64);
    return NULL;
}

/* ---- helpers ---- */

static apigw_rt_rate_limit spec(apr_uint64_t average, apr_interval_time_t
                                period, apr_uint64_t burst, const char *by)
{
    apigw_rt_rate_limit s;

    memset(&s, 0, sizeof(s));
    s.average = average;
    s.period = period;
    s.burst = burst;
    s.by = by;
    return s;
}

static const apigw_rl_limit *prepare_ok(const char *id,
                                        const apigw_rt_rate_limit *s)
{
    void *h = (void *)1;
    const char *err = apigw_rl_route_prepare(pool, id, s, &h);

    if (err) {
        fail_msg("unexpected: %s", err);
    }
    assert_non_null(h);
    return h;
}

static const char *prepare_err(const char *id, const apigw_rt_rate_limit *s)
{
    void *h = (void *)1;
    const char *err = apigw_rl_route_prepare(pool, id, s, &h);

    assert_non_null(err);
    assert_null(h);
    return err;
}

static int same_key(const apigw_rl_limit *a, const apigw_rl_limit *b)
{
    return a->base.ident_hash.h1 == b->base.ident_hash.h1
        && a->base.ident_hash.h2 == b->base.ident_hash.h2
        && a->base.seed.h1 == b->base.seed.h1
        && a->base.seed.h2 == b->base.seed.h2
        && strcmp(a->base.ident, b->base.ident) == 0;
}

/* ---- valid settings ---- */

static int group_start(void **state)
{
    apigw_ratelimit_module.module_index = 7;
    return group_setup(state);
}

static void test_endpoint_limit(void **state)
{
    apigw_rt_rate_limit s = spec(2, 60 * SEC, 2, NULL);
    const apigw_rl_limit *l = prepare_ok(ROUTE, &s);
    (void)state;

    /* a limit like an ApiRateLimit line's: no name, no tier, no delay */
    assert_null(l->spec.name);
    assert_null(l->spec.tier);
    assert_null(l->tier_by);
    assert_null(l->tier_of);
    assert_int_equal(l->tiers->nelts, 0);
    assert_int_equal(l->spec.status, 429);
    assert_int_equal(l->spec.numbers.average, 2);
    assert_true(l->spec.numbers.period == 60 * SEC);
    assert_int_equal(l->spec.numbers.burst, 2);
    assert_true(l->spec.numbers.delay == 0);
    /* by endpoint: no key part, the limit itself */
    assert_int_equal(l->by->nelts, 0);
    /* the policy: rate, texts, no counter */
    assert_int_equal(l->base.numbers.average, 2);
    assert_false(l->base.rate.unlimited);
    assert_int_equal(l->base.rate.burst, 2);
    assert_true(l->base.rate.interval == APR_UINT64_C(30000000000));
    assert_true(l->base.rate.delay == 0);
    assert_string_equal(l->base.average_text, "2");
    assert_string_equal(l->base.quota_params, ";q=2;w=60");
    assert_null(l->base.counter);
    assert_null(l->base.tier);
    /* where, for the log */
    assert_string_equal(l->file, "runtime route " ROUTE);
    assert_string_equal(l->base.file, l->file);
    assert_int_equal(l->line, 0);
    assert_int_equal(l->base.line, 0);
    /* the identity: the route, its key and its numbers */
    assert_string_equal(l->base.ident,
                        "route=" ROUTE "|by=endpoint|2|60000000|2");
    assert_true(l->base.ident_hash.h1 != 0);
}

static void test_defaults_and_unlimited(void **state)
{
    apigw_rt_rate_limit s = spec(0, SEC, 1, "endpoint");
    const apigw_rl_limit *l = prepare_ok(ROUTE, &s);
    (void)state;

    /* average 0: everything admitted, as ApiRateLimit average=0 */
    assert_true(l->base.rate.unlimited);
    assert_int_equal(l->by->nelts, 0);
    /* "endpoint" spelled out is the default */
    s.by = NULL;
    assert_true(same_key(l, prepare_ok(ROUTE, &s)));
}

static void test_key_kinds(void **state)
{
    static const struct {
        const char *by;
        apigw_rl_by_kind kind;
        const char *name;
        const char *text;
    } cases[] = {
        { "ip", APIGW_RL_BY_IP, NULL, "ip" },
        { "IP", APIGW_RL_BY_IP, NULL, "ip" },
        { "header:X-Api-Key", APIGW_RL_BY_HEADER, "X-Api-Key",
          "header:X-Api-Key" },
        { "cookie:session", APIGW_RL_BY_COOKIE, "session", "cookie:session" },
        { "env:PLAN", APIGW_RL_BY_ENV, "PLAN", "env:PLAN" },
        { "Env:PLAN", APIGW_RL_BY_ENV, "PLAN", "env:PLAN" },
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apigw_rt_rate_limit s = spec(10, SEC, 5, cases[i].by);
        const apigw_rl_limit *l = prepare_ok(ROUTE, &s);
        const apigw_rl_by *by;

        assert_int_equal(l->by->nelts, 1);
        by = &APR_ARRAY_IDX(l->by, 0, apigw_rl_by);
        assert_int_equal(by->key.kind, cases[i].kind);
        if (cases[i].name) {
            assert_string_equal(by->key.name, cases[i].name);
        }
        else {
            assert_null(by->key.name);
        }
        assert_null(by->expr);
        assert_string_equal(l->base.ident,
                            apr_pstrcat(pool, "route=" ROUTE "|by=",
                                        cases[i].text, "|10|1000000|5",
                                        NULL));
    }
}

static void test_expression_key(void **state)
{
    apigw_rt_rate_limit s = spec(10, SEC, 5, "expr:%{REMOTE_USER}");
    const apigw_rl_limit *l;
    const apigw_rl_by *by;
    (void)state;

    parsed_text = NULL;
    l = prepare_ok(ROUTE, &s);
    assert_int_equal(l->by->nelts, 1);
    by = &APR_ARRAY_IDX(l->by, 0, apigw_rl_by);
    assert_int_equal(by->key.kind, APIGW_RL_BY_EXPR);
    assert_string_equal(by->key.name, "%{REMOTE_USER}");
    assert_non_null(by->expr);
    assert_non_null(by->expr->root_node);
    /* what ap_expr_parse was given: the text after expr:, a string
     * result that adds no Vary and reads no file, logged by this module
     * under the route's name */
    assert_string_equal(parsed_text, "%{REMOTE_USER}");
    assert_true(parsed_info.flags & AP_EXPR_FLAG_STRING_RESULT);
    assert_true(parsed_info.flags & AP_EXPR_FLAG_DONT_VARY);
    assert_true(parsed_info.flags & AP_EXPR_FLAG_RESTRICTED);
    assert_true(parsed_info.flags & AP_EXPR_FLAG_RESTRICTED_FILE_FUNC);
    assert_int_equal(parsed_info.module_index,
                     apigw_ratelimit_module.module_index);
    assert_string_equal(parsed_info.filename, "runtime route " ROUTE);
    assert_string_equal(l->base.ident, "route=" ROUTE
                        "|by=expr:%{REMOTE_USER}|10|1000000|5");
    /* commas belong to the expression */
    s.by = "expr:%{HTTP:X-A},%{HTTP:X-B}";
    prepare_ok(ROUTE, &s);
    assert_string_equal(parsed_text, "%{HTTP:X-A},%{HTTP:X-B}");
}

/* ---- invalid settings ---- */

static void test_messages(void **state)
{
    static const struct {
        apr_uint64_t average;
        apr_interval_time_t period;
        apr_uint64_t burst;
        const char *by;
        const char *message;
    } cases[] = {
        { 10, SEC, 0, NULL,
          "rateLimit.burst: 0 is out of range (1 to 1000000000)" },
        { 10, SEC, APR_UINT64_C(2000000000), NULL,
          "rateLimit.burst: 2000000000 is out of range (1 to 1000000000)" },
        { APR_UINT64_C(2000000000), SEC, 1, NULL,
          "rateLimit.average: 2000000000 is out of range (0 to 1000000000)" },
        { 10, 0, 1, NULL, "rateLimit.period: must be greater than zero" },
        { 10, -SEC, 1, NULL, "rateLimit.period: must be greater than zero" },
        { 10, (apr_interval_time_t)367 * 86400 * SEC, 1, NULL,
          "rateLimit.period: 31708800s is longer than 366 days" },
        { 10, SEC, 1, "foo",
          "rateLimit.by: unknown key 'foo' (use endpoint, ip, header:NAME, "
          "cookie:NAME, env:NAME or expr:EXPRESSION)" },
        { 10, SEC, 1, "",
          "rateLimit.by: unknown key '' (use endpoint, ip, header:NAME, "
          "cookie:NAME, env:NAME or expr:EXPRESSION)" },
        { 10, SEC, 1, "ip,header:X-Key",
          "rateLimit.by: unknown key 'ip,header:X-Key' (use endpoint, ip, "
          "header:NAME, cookie:NAME, env:NAME or expr:EXPRESSION)" },
        { 10, SEC, 1, "ip:x", "rateLimit.by: key 'ip:x' takes no name "
          "(use ip)" },
        { 10, SEC, 1, "endpoint:x", "rateLimit.by: key 'endpoint:x' takes "
          "no name (use endpoint)" },
        { 10, SEC, 1, "header:", "rateLimit.by: key 'header:' needs a name, "
          "like header:X-Api-Key" },
        { 10, SEC, 1, "cookie", "rateLimit.by: key 'cookie' needs a name, "
          "like cookie:X-Api-Key" },
        { 10, SEC, 1, "expr:", "rateLimit.by: key 'expr:' needs an "
          "expression, like expr:%{REMOTE_USER}" },
        { 10, SEC, 1, "expr:%{BAD",
          "rateLimit.by: cannot parse the expression '%{BAD': syntax error, "
          "unexpected end of input" },
    };
    size_t i;
    (void)state;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        apigw_rt_rate_limit s = spec(cases[i].average, cases[i].period,
                                     cases[i].burst, cases[i].by);
        assert_string_equal(prepare_err(ROUTE, &s), cases[i].message);
    }
}

static void test_numbers_together(void **state)
{
    /* each fits, together they cannot be counted in nanoseconds */
    apigw_rt_rate_limit s = spec(1, (apr_interval_time_t)366 * 86400 * SEC,
                                 1000000000, NULL);
    const char *err = prepare_err(ROUTE, &s);
    const char *want = "rateLimit.burst: 1000000000 with average=1 "
                       "period=31622400s: ";
    (void)state;

    assert_true(strncmp(err, want, strlen(want)) == 0);
}

static void test_missing(void **state)
{
    apigw_rt_rate_limit s = spec(1, SEC, 1, NULL);
    void *h = (void *)1;
    (void)state;

    assert_string_equal(apigw_rl_route_prepare(pool, ROUTE, NULL, &h),
                        "rateLimit: missing");
    assert_null(h);
    h = (void *)1;
    assert_string_equal(apigw_rl_route_prepare(pool, "", &s, &h),
                        "rateLimit: the route has no id");
    assert_null(h);
    assert_non_null(apigw_rl_route_prepare(pool, NULL, &s, &h));
}

/* ---- identities ---- */

static void test_identities(void **state)
{
    apigw_rt_rate_limit s = spec(2, 60 * SEC, 2, "ip");
    apigw_rt_rate_limit o;
    const apigw_rl_limit *a = prepare_ok(ROUTE, &s), *b;
    apr_pool_t *other;
    (void)state;

    /* the same settings of the same route, prepared again (a new route
     * table) from another pool: the same buckets */
    assert_int_equal(apr_pool_create(&other, NULL), APR_SUCCESS);
    {
        void *h = NULL;
        assert_null(apigw_rl_route_prepare(other, ROUTE, &s, &h));
        assert_true(same_key(a, h));
        assert_ptr_not_equal(a, h);
    }
    apr_pool_destroy(other);
    /* by= spelled in another case is the same key */
    o = s;
    o.by = "IP";
    assert_true(same_key(a, prepare_ok(ROUTE, &o)));
    /* another route with the same settings: its own buckets */
    assert_false(same_key(a, prepare_ok(OTHER, &s)));
    /* any setting changed: afresh */
    o = s;
    o.average = 3;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.period = 61 * SEC;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.burst = 3;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.by = "header:X-Key";
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.by = NULL;
    b = prepare_ok(ROUTE, &o);
    assert_false(same_key(a, b));
    /* a directive's identity starts with its name or file: never so */
    assert_true(strncmp(b->base.ident, "route=", 6) == 0);
}

/* ---- several threads ---- */

#define THREADS 8
#define ROUNDS 200

typedef struct {
    apr_uint64_t h1, h2;
    int failures;
} prep_result;

/* One prepare from a pool of its own; 0 when it failed. */
static int prepare_one(prep_result *res, int first)
{
    apigw_rt_rate_limit s = spec(100, SEC, 10, "header:X-Key");
    const apigw_rl_limit *l;
    apr_pool_t *p;
    void *h = NULL;
    int ok;

    apr_pool_create_unmanaged(&p);
    ok = apigw_rl_route_prepare(p, ROUTE, &s, &h) == NULL && h != NULL;
    l = h;
    if (ok && first) {
        res->h1 = l->base.ident_hash.h1;
        res->h2 = l->base.ident_hash.h2;
    }
    ok = ok && res->h1 == l->base.ident_hash.h1
         && res->h2 == l->base.ident_hash.h2;
    apr_pool_destroy(p);
    return ok;
}

static void *APR_THREAD_FUNC prepare_many(apr_thread_t *th, void *data)
{
    prep_result *res = data;
    int i;

    for (i = 0; i < ROUNDS; i++) {
        res->failures += !prepare_one(res, i == 0);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_threads(void **state)
{
    apr_thread_t *th[THREADS];
    prep_result res[THREADS];
    apr_status_t rv;
    int i;
    (void)state;

    memset(res, 0, sizeof(res));
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, prepare_many,
                                           &res[i], pool), APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
    for (i = 0; i < THREADS; i++) {
        assert_int_equal(res[i].failures, 0);
        assert_true(res[i].h1 == res[0].h1 && res[i].h2 == res[0].h2);
    }
}

/* ---- attach ---- */

static void test_attach(void **state)
{
    apigw_rt_rate_limit s = spec(2, 60 * SEC, 2, NULL);
    const apigw_rl_limit *l = prepare_ok(ROUTE, &s);
    request_rec r, sub;
    (void)state;

    memset(&r, 0, sizeof(r));
    memset(&sub, 0, sizeof(sub));
    r.pool = pool;
    assert_null(apigw_rl_route_attached(&r));
    apigw_rl_route_attach(&r, (void *)l);
    assert_ptr_equal(apigw_rl_route_attached(&r), l);
    /* a subrequest (its own pool) carries none */
    assert_int_equal(apr_pool_create(&sub.pool, pool), APR_SUCCESS);
    assert_null(apigw_rl_route_attached(&sub));
    /* NULL detaches */
    apigw_rl_route_attach(&r, NULL);
    assert_null(apigw_rl_route_attached(&r));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_endpoint_limit),
        T(test_defaults_and_unlimited),
        T(test_key_kinds),
        T(test_expression_key),
        T(test_messages),
        T(test_numbers_together),
        T(test_missing),
        T(test_identities),
        T(test_threads),
        T(test_attach),
    };
    return cmocka_run_group_tests(tests, group_start, group_teardown);
}
