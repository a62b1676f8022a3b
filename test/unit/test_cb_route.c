/* sources: mod_apigw_breaker/apigw_cb_route.c mod_apigw_breaker/apigw_cb_settings.c mod_apigw_breaker/apigw_cb_expr.c mod_apigw_breaker/apigw_cb_url.c mod_apigw_breaker/apigw_cb_state.c mod_apigw_breaker/apigw_cb_window.c */
/* cflags: -I/usr/include/apache2 */
/* Unit tests for mod_apigw_breaker/apigw_cb_route.c and the pool of
 * runtime states in apigw_cb_state.c (apigw_cb_pool_claim): a runtime
 * route's circuitBreaker prepared into a breaker (presets, expressions,
 * the defaults of what a route cannot set), the messages of invalid
 * settings as the admin API names the fields, identities (equal settings
 * of one route keyed equal, anything else keyed differently), attach;
 * and the pool over a plain block: claim and find again, a label per
 * route, reuse of a slot idle for 10 minutes, a full pool giving its
 * stalest slot whatever its state, a found slot counting as used, and
 * threads claiming the same keys at once ending with one slot per key. */
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

#include "apigw_cb_route.h"

#define T0 apr_time_from_sec(1700000000)
#define MS 1000
#define SEC APR_USEC_PER_SEC
#define IDLE ((apr_time_t)APIGW_CB_ROUTE_IDLE_SECS * SEC)
#define ROUTE "0b6f6a4e-3f0c-4e4e-9c59-1f3c0c7e2a11"
#define OTHER "7d1d9a2a-1b2c-4d3e-8f4a-5b6c7d8e9f00"

/* ---- helpers ---- */

static apigw_rt_breaker spec(const char *preset, const char *expression)
{
    apigw_rt_breaker s;

    /* the admin API's defaults */
    memset(&s, 0, sizeof(s));
    s.preset = preset;
    s.expression = expression;
    s.check = 100 * MS;
    s.fallback = 10 * SEC;
    s.recovery = 10 * SEC;
    return s;
}

static const apigw_cb_route *prepare_ok(const char *id,
                                        const apigw_rt_breaker *s)
{
    void *h = (void *)1;
    const char *err = apigw_cb_route_prepare(pool, id, s, &h);

    if (err) {
        fail_msg("unexpected: %s", err);
    }
    assert_non_null(h);
    return h;
}

static const char *prepare_err(const char *id, const apigw_rt_breaker *s)
{
    void *h = (void *)1;
    const char *err = apigw_cb_route_prepare(pool, id, s, &h);

    assert_non_null(err);
    assert_null(h);
    return err;
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static apigw_cb_table *new_pool(apr_uint64_t nslots)
{
    apr_size_t bytes = apigw_cb_table_bytes(nslots);
    void *mem = apr_palloc(pool, bytes);

    memset(mem, 0x5a, bytes);                   /* garbage before init */
    return apigw_cb_table_init(mem, bytes);
}

/* ---- valid settings ---- */

static void test_preset(void **state)
{
    apigw_rt_breaker s = spec("5xx", NULL);
    const apigw_cb_route *rt = prepare_ok(ROUTE, &s);
    const apigw_cb_breaker *b = &rt->breaker;
    (void)state;

    assert_string_equal(rt->route_id, ROUTE);
    assert_string_equal(b->preset, "5xx");
    assert_string_equal(b->set.expression, "5xx");
    assert_string_equal(apigw_cb_expr_text(b->expr),
                        "ResponseCodeRatio(500, 600, 0, 600) > 0.25");
    assert_true(b->set.timing.check == 100 * MS);
    assert_true(b->set.timing.fallback == 10 * SEC);
    assert_true(b->set.timing.recovery == 10 * SEC);
    /* what a route cannot set: the directive's defaults */
    assert_int_equal(b->set.status, 503);
    assert_int_equal(b->set.min_requests, 10);
    assert_int_equal(b->set.scope_backend, 0);
    assert_null(b->set.fallback_backend);
    assert_null(b->fallback_origin);
    assert_null(b->fallback_worker);
    /* no file, no slot of its own: its state is claimed in the pool */
    assert_string_equal(b->section, "runtime route " ROUTE);
    assert_null(b->file);
    assert_int_equal(b->line, 0);
    assert_null(b->slot);
    assert_string_equal(b->id, "route=" ROUTE "|ResponseCodeRatio(500, 600, "
                        "0, 600) > 0.25|check=100000|fallback=10000000|"
                        "recovery=10000000");
    assert_true(b->owner == apigw_cb_key(b->id, NULL));
}

static void test_expression(void **state)
{
    apigw_rt_breaker s = spec(NULL, "NetworkErrorRatio()>0.5 || "
                                    "LatencyAtQuantileMS(99.0) > 250");
    const apigw_cb_route *rt;
    (void)state;

    s.check = 250 * MS;
    s.fallback = 3 * SEC;
    s.recovery = 0;                     /* no ramp */
    rt = prepare_ok(ROUTE, &s);
    assert_null(rt->breaker.preset);
    assert_int_equal(apigw_cb_expr_nterms(rt->breaker.expr), 2);
    assert_true(apigw_cb_expr_uses_latency(rt->breaker.expr));
    assert_true(rt->breaker.set.timing.check == 250 * MS);
    assert_true(rt->breaker.set.timing.fallback == 3 * SEC);
    assert_true(rt->breaker.set.timing.recovery == 0);
    assert_string_equal(apigw_cb_expr_text(rt->breaker.expr),
                        "NetworkErrorRatio() > 0.5 || "
                        "LatencyAtQuantileMS(99.0) > 250");
    /* every preset prepares */
    s = spec("errors-50", NULL);
    prepare_ok(ROUTE, &s);
    s = spec("errors-30", NULL);
    prepare_ok(ROUTE, &s);
    s = spec("high-latency", NULL);
    prepare_ok(ROUTE, &s);
}

/* ---- invalid settings ---- */

static void test_messages(void **state)
{
    apigw_rt_breaker s;
    const char *err;
    (void)state;

    s = spec("5xx", "NetworkErrorRatio() > 0.5");
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker: give "
                        "either a preset (errors-50, errors-30, 5xx, "
                        "high-latency) or an expression, like "
                        "\"NetworkErrorRatio() > 0.5\"");
    s = spec(NULL, NULL);
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker: give "
                        "either a preset (errors-50, errors-30, 5xx, "
                        "high-latency) or an expression, like "
                        "\"NetworkErrorRatio() > 0.5\"");
    s = spec("errors-40", NULL);
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker.preset: "
                        "unknown preset 'errors-40' (use errors-50, "
                        "errors-30, 5xx, high-latency)");
    s = spec(NULL, "");
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker.expression: "
                        "is empty; give one like \"NetworkErrorRatio() > "
                        "0.5\"");
    s = spec(NULL, "errors");
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker.expression: "
                        "'errors' is neither a preset (errors-50, errors-30, "
                        "5xx, high-latency) nor an expression like "
                        "\"NetworkErrorRatio() > 0.5\"");
    s = spec(NULL, "NetworkErrorRatio() >");
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker.expression: "
                        "error at position 22 (the end): the expression ends "
                        "where a number, a function or '(' should follow");
    s = spec(NULL, "Foo() > 1");
    err = prepare_err(ROUTE, &s);
    assert_true(starts_with(err, "circuitBreaker.expression: error at "
                            "position 1 (at \"Foo() > 1\"): "));
    s = spec("5xx", NULL);
    s.check = 0;
    assert_string_equal(prepare_err(ROUTE, &s), "circuitBreaker.checkSeconds: "
                        "must be greater than zero");
    s = spec("5xx", NULL);
    s.fallback = 500;
    assert_string_equal(prepare_err(ROUTE, &s),
                        "circuitBreaker.fallbackSeconds: must be at least "
                        "1ms");
    s = spec("5xx", NULL);
    s.fallback = -SEC;
    assert_string_equal(prepare_err(ROUTE, &s),
                        "circuitBreaker.fallbackSeconds: must be greater "
                        "than zero");
    s = spec("5xx", NULL);
    s.recovery = -1;
    assert_string_equal(prepare_err(ROUTE, &s),
                        "circuitBreaker.recoverySeconds: must be zero or "
                        "more");
    s = spec("5xx", NULL);
    assert_string_equal(prepare_err(ROUTE, NULL), "circuitBreaker: missing");
    assert_string_equal(prepare_err("", &s),
                        "circuitBreaker: the route has no id");
}

/* ---- identities ---- */

static int same_key(const apigw_cb_route *a, const apigw_cb_route *b)
{
    return a->breaker.owner == b->breaker.owner
        && strcmp(a->breaker.id, b->breaker.id) == 0;
}

static void test_identities(void **state)
{
    apigw_rt_breaker s = spec("errors-50", NULL), o;
    const apigw_cb_route *a = prepare_ok(ROUTE, &s);
    apr_pool_t *other;
    void *h = NULL;
    (void)state;

    /* prepared again, from another pool: the same state */
    assert_int_equal(apr_pool_create(&other, NULL), APR_SUCCESS);
    assert_null(apigw_cb_route_prepare(other, ROUTE, &s, &h));
    assert_true(same_key(a, h));
    apr_pool_destroy(other);
    /* a preset and its own expression are one breaker */
    o = spec(NULL, apigw_cb_expr_preset("errors-50"));
    assert_true(same_key(a, prepare_ok(ROUTE, &o)));
    /* another route: its own state */
    assert_false(same_key(a, prepare_ok(OTHER, &s)));
    /* any setting changed: afresh */
    o = spec("errors-30", NULL);
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.check = 200 * MS;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.fallback = 5 * SEC;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    o = s;
    o.recovery = 0;
    assert_false(same_key(a, prepare_ok(ROUTE, &o)));
    /* a section's identity starts with "<": never so */
    assert_true(strncmp(a->breaker.id, "route=", 6) == 0);
}

/* ---- attach ---- */

static void test_attach(void **state)
{
    apigw_rt_breaker s = spec("5xx", NULL);
    const apigw_cb_route *rt = prepare_ok(ROUTE, &s);
    request_rec r, sub;
    (void)state;

    memset(&r, 0, sizeof(r));
    memset(&sub, 0, sizeof(sub));
    r.pool = pool;
    assert_null(apigw_cb_route_attached(&r));
    apigw_cb_route_attach(&r, (void *)rt);
    assert_ptr_equal(apigw_cb_route_attached(&r), rt);
    assert_int_equal(apr_pool_create(&sub.pool, pool), APR_SUCCESS);
    assert_null(apigw_cb_route_attached(&sub));
    apigw_cb_route_attach(&r, NULL);
    assert_null(apigw_cb_route_attached(&r));
}

/* ---- the pool ---- */

static void test_pool_claim_and_find(void **state)
{
    apigw_cb_table *t = new_pool(16);
    apigw_rt_breaker s = spec("5xx", NULL);
    const apigw_cb_route *a = prepare_ok(ROUTE, &s);
    const apigw_cb_route *b = prepare_ok(OTHER, &s);
    apigw_cb_slot *sa, *sb;
    (void)state;

    assert_null(apigw_cb_route_slot(NULL, a, T0));
    sa = apigw_cb_route_slot(t, a, T0);
    sb = apigw_cb_route_slot(t, b, T0);
    assert_non_null(sa);
    assert_non_null(sb);
    assert_ptr_not_equal(sa, sb);
    assert_true(apigw_cb_slot_is(sa, a->breaker.owner));
    assert_string_equal(sa->label, ROUTE);
    assert_string_equal(sb->label, OTHER);
    assert_int_equal(sa->pinned, 0);
    assert_int_equal(apigw_cb_view_of(apigw_cb_slot_word(sa)).state,
                     APIGW_CB_STANDBY);
    /* found again with its state; the same route prepared again (a new
     * route table) finds it too */
    sa->trips = 3;
    assert_ptr_equal(apigw_cb_route_slot(t, a, T0 + SEC), sa);
    assert_ptr_equal(apigw_cb_route_slot(t, prepare_ok(ROUTE, &s), T0 + SEC),
                     sa);
    assert_int_equal(sa->trips, 3);
    /* a changed breaker is another state */
    s.fallback = 20 * SEC;
    assert_ptr_not_equal(apigw_cb_route_slot(t, prepare_ok(ROUTE, &s), T0),
                         sa);
}

/* keys of one neighbourhood: start slot `at` of a pool of 16 */
#define KEY(at, n) ((apr_uint64_t)(at) + 16 * (apr_uint64_t)(n))

static void test_pool_idle_reuse(void **state)
{
    apigw_cb_table *t = new_pool(16);
    apigw_cb_slot *a, *b, *c, *d;
    (void)state;

    a = apigw_cb_pool_claim(t, KEY(3, 1), 1, "a", T0, 600);
    assert_ptr_equal(a, &t->slots[3]);
    /* not idle yet: the next key of the neighbourhood takes slot 4 */
    b = apigw_cb_pool_claim(t, KEY(3, 2), 2, "b", T0 + IDLE, 600);
    assert_ptr_equal(b, &t->slots[4]);
    /* a (used at T0) idle for more than 10 minutes: taken on the way,
     * afresh, whatever its state */
    __atomic_store_n(&a->word, apigw_cb_word(APIGW_CB_TRIPPED, 4, T0),
                     __ATOMIC_RELAXED);
    a->trips = 9;
    c = apigw_cb_pool_claim(t, KEY(3, 3), 3, "c", T0 + IDLE + SEC, 600);
    assert_ptr_equal(c, a);
    assert_true(apigw_cb_slot_is(c, KEY(3, 3)));
    assert_false(apigw_cb_slot_is(c, KEY(3, 1)));
    assert_string_equal(c->label, "c");
    assert_int_equal(c->owner, 3);
    assert_int_equal(c->trips, 0);
    assert_int_equal(apigw_cb_view_of(apigw_cb_slot_word(c)).state,
                     APIGW_CB_STANDBY);
    /* b was found (used) at T0 + IDLE: not idle 5 minutes later */
    assert_ptr_equal(apigw_cb_pool_claim(t, KEY(3, 2), 2, "b",
                                         T0 + IDLE + 300 * SEC, 600), b);
    d = apigw_cb_pool_claim(t, KEY(3, 4), 4, "d", T0 + IDLE + 500 * SEC, 600);
    assert_ptr_equal(d, &t->slots[5]);
    /* the key that lost its slot claims another one */
    a = apigw_cb_pool_claim(t, KEY(3, 1), 1, "a", T0 + IDLE + 500 * SEC, 600);
    assert_ptr_equal(a, &t->slots[6]);
}

static void test_pool_full(void **state)
{
    apigw_cb_table *t = new_pool(16);
    apigw_cb_slot *s[16], *n;
    int i;
    (void)state;

    /* 16 routes, each used at its own second */
    for (i = 0; i < 16; i++) {
        s[i] = apigw_cb_pool_claim(t, KEY(i, 1), (apr_uint64_t)i, NULL,
                                   T0 + i * SEC, 600);
        assert_ptr_equal(s[i], &t->slots[i]);
    }
    /* route 0 is used again: route 1 is now the stalest */
    assert_ptr_equal(apigw_cb_pool_claim(t, KEY(0, 1), 0, NULL, T0 + 20 * SEC,
                                         600), s[0]);
    /* full, nobody idle: a new route takes the stalest, even tripped */
    __atomic_store_n(&s[1]->word, apigw_cb_word(APIGW_CB_TRIPPED, 1,
                                                T0 + SEC), __ATOMIC_RELAXED);
    n = apigw_cb_pool_claim(t, KEY(7, 2), 99, "new", T0 + 21 * SEC, 600);
    assert_ptr_equal(n, s[1]);
    assert_true(apigw_cb_slot_is(n, KEY(7, 2)));
    assert_int_equal(apigw_cb_view_of(apigw_cb_slot_word(n)).state,
                     APIGW_CB_STANDBY);
    /* it is found again, wherever it went */
    assert_ptr_equal(apigw_cb_pool_claim(t, KEY(7, 2), 99, "new",
                                         T0 + 22 * SEC, 600), n);
    /* the others are still found */
    for (i = 2; i < 16; i++) {
        assert_ptr_equal(apigw_cb_pool_claim(t, KEY(i, 1), (apr_uint64_t)i,
                                             NULL, T0 + 23 * SEC, 600), s[i]);
    }
    /* route 1 again: takes the stalest now, route 0's (used at +20 s) */
    n = apigw_cb_pool_claim(t, KEY(1, 1), 1, NULL, T0 + 24 * SEC, 600);
    assert_ptr_equal(n, s[0]);
}

/* ---- threads claiming at once ---- */

#define CLAIMERS 8
#define KEYS 24

typedef struct {
    apigw_cb_table *t;
    volatile int *go;
    apigw_cb_slot *got[KEYS];
} claimer;

static void claim_all(claimer *c)
{
    int k;

    for (k = 0; k < KEYS; k++) {
        c->got[k] = apigw_cb_pool_claim(c->t, KEY(k % 5, k + 1),
                                        (apr_uint64_t)k, "x", T0, 600);
    }
}

static void *APR_THREAD_FUNC claim_race(apr_thread_t *th, void *data)
{
    claimer *c = data;

    while (!*c->go) {
    }
    claim_all(c);
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_pool_threads(void **state)
{
    apigw_cb_table *t = new_pool(64);
    apr_thread_t *th[CLAIMERS];
    claimer c[CLAIMERS];
    volatile int go = 0;
    apr_status_t rv;
    apr_uint64_t i;
    int j, k, used = 0;
    (void)state;

    for (j = 0; j < CLAIMERS; j++) {
        c[j].t = t;
        c[j].go = &go;
        assert_int_equal(apr_thread_create(&th[j], NULL, claim_race, &c[j],
                                           pool), APR_SUCCESS);
    }
    go = 1;
    for (j = 0; j < CLAIMERS; j++) {
        apr_thread_join(&rv, th[j]);
    }
    /* every thread got the same slot for a key, and it holds the key */
    for (k = 0; k < KEYS; k++) {
        assert_non_null(c[0].got[k]);
        assert_true(apigw_cb_slot_is(c[0].got[k], KEY(k % 5, k + 1)));
        for (j = 1; j < CLAIMERS; j++) {
            assert_ptr_equal(c[j].got[k], c[0].got[k]);
        }
    }
    /* one slot per key, none left half set up */
    for (i = 0; i < t->nslots; i++) {
        apr_uint64_t key = t->slots[i].key;

        assert_false(key >> 63);
        used += key != 0;
    }
    assert_int_equal(used, KEYS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_preset),
        T(test_expression),
        T(test_messages),
        T(test_identities),
        T(test_attach),
        T(test_pool_claim_and_find),
        T(test_pool_idle_reuse),
        T(test_pool_full),
        T(test_pool_threads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
