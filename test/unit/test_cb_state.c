/* sources: mod_apigw_breaker/apigw_cb_state.c mod_apigw_breaker/apigw_cb_window.c mod_apigw_breaker/apigw_cb_url.c */
/* Unit tests for mod_apigw_breaker/apigw_cb_state.c (and the URL helpers
 * of apigw_cb_url.c): the packed state word, keys, the slot table over a
 * plain block (claim, find again, full neighbourhoods, idle takeover,
 * pinned slots, attach after a restart, freeing other generations'
 * slots), the state machine over simulated time (trip, fallback, linear
 * admission, re-trip, standby, one evaluation per check period, outcomes
 * of an older epoch dropped), exactly one winner among threads racing a
 * change, and the fallback URL rewriting. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#define UNIT_POOL
#include "unit_apr.h"

#include <apr_thread_proc.h>

#include "apigw_cb_state.h"
#include "apigw_cb_url.h"

#define T0 apr_time_from_sec(1700000000)
#define MS 1000
#define SEC APR_USEC_PER_SEC

static const apigw_cb_timing timing = { 100 * MS, 10 * SEC, 10 * SEC };

static apigw_cb_table *new_table(apr_uint64_t nslots, void **mem,
                                 apr_size_t *bytes)
{
    *bytes = apigw_cb_table_bytes(nslots);
    *mem = apr_palloc(pool, *bytes);
    memset(*mem, 0x5a, *bytes);                 /* garbage before init */
    return apigw_cb_table_init(*mem, *bytes);
}

static apigw_cb_slot *one_slot(void)
{
    void *mem;
    apr_size_t bytes;
    apigw_cb_table *t = new_table(4, &mem, &bytes);
    return apigw_cb_table_claim(t, apigw_cb_key("b", NULL), 7, NULL, T0);
}

static void test_word_packing(void **state)
{
    apr_time_t when = T0 + 123 * MS;
    apigw_cb_view v;
    (void)state;

    v = apigw_cb_view_of(apigw_cb_word(APIGW_CB_RECOVERING, 65535, when));
    assert_int_equal(v.state, APIGW_CB_RECOVERING);
    assert_int_equal(v.epoch, 65535);
    assert_true(v.since == when);
    /* epochs wrap; times keep millisecond precision */
    v = apigw_cb_view_of(apigw_cb_word(APIGW_CB_TRIPPED, 65536 + 3,
                                       when + 999));
    assert_int_equal(v.state, APIGW_CB_TRIPPED);
    assert_int_equal(v.epoch, 3);
    assert_true(v.since == when);
    assert_string_equal(apigw_cb_state_name(APIGW_CB_STANDBY), "standby");
    assert_string_equal(apigw_cb_state_name(APIGW_CB_TRIPPED), "tripped");
    assert_string_equal(apigw_cb_state_name(APIGW_CB_RECOVERING),
                        "recovering");
}

static void test_keys(void **state)
{
    apr_uint64_t a = apigw_cb_key("<Location /x>|e|endpoint", NULL);
    (void)state;

    assert_true(a != 0 && !(a >> 63));
    assert_true(a == apigw_cb_key("<Location /x>|e|endpoint", NULL));
    assert_true(a != apigw_cb_key("<Location /y>|e|endpoint", NULL));
    assert_true(apigw_cb_key("id", "http://a:1")
                != apigw_cb_key("id", "http://a:2"));
    assert_true(apigw_cb_key("id", "") != apigw_cb_key("id", NULL));
    assert_true(apigw_cb_key("", NULL) != 0);
}

static void test_table_claim_and_find(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_cb_table *t = new_table(64, &mem, &bytes);
    apigw_cb_slot *a, *b;
    apr_uint64_t ka = apigw_cb_key("a", NULL), kb = apigw_cb_key("b", NULL);
    (void)state;

    assert_non_null(t);
    assert_int_equal(t->nslots, 64);
    a = apigw_cb_table_claim(t, ka, 11, NULL, T0);
    b = apigw_cb_table_claim(t, kb, 22, "http://10.0.0.1:8080", T0);
    assert_non_null(a);
    assert_non_null(b);
    assert_ptr_not_equal(a, b);
    assert_true(apigw_cb_slot_is(a, ka) && !apigw_cb_slot_is(a, kb));
    assert_string_equal(b->label, "http://10.0.0.1:8080");
    assert_int_equal(a->owner, 11);
    assert_int_equal(apigw_cb_view_of(apigw_cb_slot_word(a)).state,
                     APIGW_CB_STANDBY);
    /* found again, state kept */
    a->trips = 5;
    assert_ptr_equal(apigw_cb_table_claim(t, ka, 11, NULL, T0 + SEC), a);
    assert_int_equal(a->trips, 5);
    /* a long label is cut, not overflowed */
    b = apigw_cb_table_claim(t, apigw_cb_key("c", NULL), 33,
                             "http://aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                             ".example:1", T0);
    assert_non_null(b);
    assert_int_equal(strlen(b->label), APIGW_CB_LABEL_LEN - 1);
    /* too small a block */
    assert_null(apigw_cb_table_init(mem, sizeof(apigw_cb_table)));
}

static void test_table_full_and_takeover(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_cb_table *t = new_table(APIGW_CB_PROBE, &mem, &bytes);
    apigw_cb_slot *s[APIGW_CB_PROBE];
    apigw_cb_slot *x;
    apr_uint64_t kx = apigw_cb_key("x", NULL);
    int i;
    (void)state;

    for (i = 0; i < APIGW_CB_PROBE; i++) {
        char name[16];
        snprintf(name, sizeof(name), "k%d", i);
        s[i] = apigw_cb_table_claim(t, apigw_cb_key(name, NULL), 1, NULL, T0);
        assert_non_null(s[i]);
    }
    /* full, nothing idle yet */
    assert_null(apigw_cb_table_claim(t, kx, 2, NULL, T0 + SEC));
    /* idle for long enough: the least recently used one is taken over,
     * but never a pinned one nor one that is not in standby */
    for (i = 0; i < APIGW_CB_PROBE; i++) {
        s[i]->pinned = 1;
    }
    s[3]->pinned = 0;
    s[3]->word = apigw_cb_word(APIGW_CB_TRIPPED, 1, T0);
    s[9]->pinned = 0;
    s[9]->last_used = (apr_uint64_t)apr_time_sec(T0) + 5;
    s[12]->pinned = 0;
    s[12]->last_used = (apr_uint64_t)apr_time_sec(T0) + 2;
    x = apigw_cb_table_claim(t, kx, 2, "new", T0 + 3 * SEC
                             + apr_time_from_sec(APIGW_CB_IDLE_SECS));
    assert_ptr_equal(x, s[12]);
    assert_true(apigw_cb_slot_is(x, kx));
    assert_int_equal(x->owner, 2);
    assert_string_equal(x->label, "new");
    /* nothing else idle enough for another */
    assert_null(apigw_cb_table_claim(t, apigw_cb_key("y", NULL), 2, NULL,
                                     T0 + 3 * SEC
                                     + apr_time_from_sec(APIGW_CB_IDLE_SECS)));
}

static void test_table_attach_and_free_unowned(void **state)
{
    void *mem;
    apr_size_t bytes;
    apigw_cb_table *t = new_table(32, &mem, &bytes), *t2;
    apigw_cb_slot *a, *b, *c;
    apr_uint64_t owners[1] = { 100 };
    (void)state;

    a = apigw_cb_table_claim(t, apigw_cb_key("a", NULL), 100, NULL, T0);
    b = apigw_cb_table_claim(t, apigw_cb_key("b", NULL), 200, NULL, T0);
    c = apigw_cb_table_claim(t, apigw_cb_key("c", "be"), 100, "be", T0);
    a->pinned = 1;
    a->word = apigw_cb_word(APIGW_CB_TRIPPED, 4, T0);
    /* a restart finds the same table and the states in it */
    t2 = apigw_cb_table_attach(mem, bytes);
    assert_ptr_equal(t2, t);
    assert_null(apigw_cb_table_attach(mem, bytes - 1));
    assert_null(apigw_cb_table_attach(mem, 10));
    assert_null(apigw_cb_table_attach(NULL, bytes));
    apigw_cb_table_free_unowned(t2, owners, 1);
    assert_true(apigw_cb_slot_is(a, apigw_cb_key("a", NULL)));
    assert_int_equal(a->pinned, 0);
    assert_int_equal(apigw_cb_view_of(apigw_cb_slot_word(a)).epoch, 4);
    assert_true(apigw_cb_slot_is(c, apigw_cb_key("c", "be")));
    assert_false(apigw_cb_slot_is(b, apigw_cb_key("b", NULL)));
    assert_ptr_equal(apigw_cb_table_claim(t2, apigw_cb_key("a", NULL), 100,
                                          NULL, T0), a);
    /* another layout is refused */
    ((apigw_cb_table *)mem)->slot_size++;
    assert_null(apigw_cb_table_attach(mem, bytes));
    ((apigw_cb_table *)mem)->slot_size--;
    ((apigw_cb_table *)mem)->magic ^= 1;
    assert_null(apigw_cb_table_attach(mem, bytes));
}

static void record(apigw_cb_slot *s, unsigned epoch, apr_time_t now,
                   int status, int expect)
{
    apigw_cb_sample smp = { status, status == 502, 1000 };
    apigw_cb_range all = { 0, 600 };
    assert_int_equal(apigw_cb_slot_record(s, epoch, now, &smp, &all, 1),
                     expect);
}

static apr_uint64_t window_total(apigw_cb_slot *s, apr_time_t now)
{
    apigw_cb_totals t;
    apigw_cb_window_totals(&s->window, now, 0, &t);
    return t.total;
}

static void test_state_machine(void **state)
{
    apigw_cb_slot *s = one_slot();
    apigw_cb_change ch;
    apr_uint64_t w;
    apigw_cb_view v;
    int changed;
    (void)state;

    w = apigw_cb_slot_word(s);
    assert_true(apigw_cb_admit(w, &timing, T0, 0.999));
    record(s, 0, T0, 502, 1);
    record(s, 0, T0, 502, 1);
    /* nothing to do while the condition does not hold */
    assert_int_equal(apigw_cb_slot_apply(s, w, 0, &timing, T0, &ch), 0);
    /* it holds: tripped, epoch 1, window emptied */
    assert_int_equal(apigw_cb_slot_apply(s, w, 1, &timing, T0 + 5 * MS, &ch),
                     1);
    assert_int_equal(ch.from, APIGW_CB_STANDBY);
    assert_int_equal(ch.to, APIGW_CB_TRIPPED);
    w = apigw_cb_slot_word(s);
    v = apigw_cb_view_of(w);
    assert_int_equal(v.state, APIGW_CB_TRIPPED);
    assert_int_equal(v.epoch, 1);
    assert_int_equal(s->trips, 1);
    assert_int_equal(window_total(s, T0), 0);
    /* an outcome of a request admitted before the trip is not counted,
     * nor is anything while tripped */
    record(s, 0, T0 + 10 * MS, 502, 0);
    record(s, 1, T0 + 10 * MS, 502, 0);
    /* tripped: nothing is admitted, ticks before the fallback change
     * nothing, applying does nothing */
    assert_false(apigw_cb_admit(w, &timing, T0 + SEC, 0.0));
    assert_true(apigw_cb_admission(w, &timing, T0 + SEC) == 0);
    assert_true(apigw_cb_slot_tick(s, &timing, T0 + 10 * SEC, &ch, &changed)
                == w);
    assert_false(changed);
    assert_int_equal(apigw_cb_slot_apply(s, w, 1, &timing, T0 + SEC, &ch), 0);
    /* fallback over: recovering */
    w = apigw_cb_slot_tick(s, &timing, T0 + 5 * MS + 10 * SEC, &ch, &changed);
    assert_true(changed);
    assert_int_equal(ch.from, APIGW_CB_TRIPPED);
    assert_int_equal(ch.to, APIGW_CB_RECOVERING);
    v = apigw_cb_view_of(w);
    assert_int_equal(v.state, APIGW_CB_RECOVERING);
    assert_int_equal(v.epoch, 1);
    /* a second tick changes nothing */
    assert_true(apigw_cb_slot_tick(s, &timing, T0 + 11 * SEC, &ch, &changed)
                == w);
    assert_false(changed);
    /* admission ramps linearly over the recovery */
    assert_true(apigw_cb_admission(w, &timing, v.since) == 0);
    assert_true(apigw_cb_admission(w, &timing, v.since + 2500 * MS) == 0.25);
    assert_true(apigw_cb_admission(w, &timing, v.since + 5 * SEC) == 0.5);
    assert_true(apigw_cb_admission(w, &timing, v.since + 20 * SEC) == 1);
    assert_true(apigw_cb_admit(w, &timing, v.since + 5 * SEC, 0.49));
    assert_false(apigw_cb_admit(w, &timing, v.since + 5 * SEC, 0.5));
    assert_false(apigw_cb_admit(w, &timing, v.since, 0.0));
    /* outcomes of this epoch count again */
    record(s, 1, v.since + SEC, 200, 1);
    assert_int_equal(window_total(s, v.since + SEC), 1);
    /* recovery not over and the condition does not hold: nothing */
    assert_int_equal(apigw_cb_slot_apply(s, w, 0, &timing,
                                         v.since + 9 * SEC, &ch), 0);
    /* over: standby, same epoch, the window is kept */
    assert_int_equal(apigw_cb_slot_apply(s, w, 0, &timing,
                                         v.since + 10 * SEC, &ch), 1);
    assert_int_equal(ch.from, APIGW_CB_RECOVERING);
    assert_int_equal(ch.to, APIGW_CB_STANDBY);
    w = apigw_cb_slot_word(s);
    assert_int_equal(apigw_cb_view_of(w).state, APIGW_CB_STANDBY);
    assert_int_equal(apigw_cb_view_of(w).epoch, 1);
    assert_int_equal(window_total(s, v.since + 2 * SEC), 1);
}

static void test_retrip_while_recovering(void **state)
{
    apigw_cb_slot *s = one_slot();
    apigw_cb_change ch;
    apr_uint64_t w = apigw_cb_slot_word(s);
    int changed;
    (void)state;

    assert_int_equal(apigw_cb_slot_apply(s, w, 1, &timing, T0, &ch), 1);
    w = apigw_cb_slot_tick(s, &timing, T0 + 10 * SEC, &ch, &changed);
    assert_true(changed);
    record(s, 1, T0 + 11 * SEC, 502, 1);
    assert_int_equal(apigw_cb_slot_apply(s, w, 1, &timing, T0 + 11 * SEC,
                                         &ch), 1);
    assert_int_equal(ch.from, APIGW_CB_RECOVERING);
    assert_int_equal(ch.to, APIGW_CB_TRIPPED);
    w = apigw_cb_slot_word(s);
    assert_int_equal(apigw_cb_view_of(w).epoch, 2);
    assert_true(apigw_cb_view_of(w).since == T0 + 11 * SEC);
    assert_int_equal(s->trips, 2);
    assert_int_equal(window_total(s, T0 + 11 * SEC), 0);
}

static void test_stale_word_loses(void **state)
{
    apigw_cb_slot *s = one_slot();
    apigw_cb_change ch;
    apr_uint64_t seen = apigw_cb_slot_word(s);
    (void)state;

    assert_int_equal(apigw_cb_slot_apply(s, seen, 1, &timing, T0, &ch), 1);
    /* a second evaluator that saw the same standby word changes nothing */
    assert_int_equal(apigw_cb_slot_apply(s, seen, 1, &timing, T0 + MS, &ch),
                     0);
    assert_int_equal(s->trips, 1);
}

static void test_recovery_zero(void **state)
{
    static const apigw_cb_timing quick = { 100 * MS, SEC, 0 };
    apigw_cb_slot *s = one_slot();
    apigw_cb_change ch;
    apr_uint64_t w = apigw_cb_slot_word(s);
    int changed;
    (void)state;

    apigw_cb_slot_apply(s, w, 1, &quick, T0, &ch);
    w = apigw_cb_slot_tick(s, &quick, T0 + SEC, &ch, &changed);
    assert_true(changed);
    /* no ramp: everything admitted, standby at the next evaluation */
    assert_true(apigw_cb_admission(w, &quick, T0 + SEC) == 1);
    assert_int_equal(apigw_cb_slot_apply(s, w, 0, &quick, T0 + SEC, &ch), 1);
    assert_int_equal(ch.to, APIGW_CB_STANDBY);
}

static void test_one_evaluation_per_check(void **state)
{
    apigw_cb_slot *s = one_slot();
    apr_uint64_t w;
    (void)state;

    /* nothing due yet on a new slot: not quiet, an evaluation is due */
    assert_false(apigw_cb_slot_quiet(s, T0, &w));
    assert_true(w == apigw_cb_slot_word(s));

    assert_true(apigw_cb_slot_claim_check(s, 100 * MS, T0));
    assert_false(apigw_cb_slot_claim_check(s, 100 * MS, T0));
    assert_false(apigw_cb_slot_claim_check(s, 100 * MS, T0 + 99 * MS));
    /* standby, evaluated, next one not due: the quiet fast path */
    assert_true(apigw_cb_slot_quiet(s, T0 + 99 * MS, &w));
    assert_false(apigw_cb_slot_quiet(s, T0 + 100 * MS, &w));
    s->word = apigw_cb_word(APIGW_CB_TRIPPED, 1, T0);
    assert_false(apigw_cb_slot_quiet(s, T0 + 50 * MS, &w));
    s->word = apigw_cb_word(APIGW_CB_STANDBY, 1, T0);
    assert_true(apigw_cb_slot_claim_check(s, 100 * MS, T0 + 100 * MS));
    assert_false(apigw_cb_slot_claim_check(s, 100 * MS, T0 + 150 * MS));
    /* a long pause: the next one is due again at once, then per period */
    assert_true(apigw_cb_slot_claim_check(s, 100 * MS, T0 + 60 * SEC));
    assert_false(apigw_cb_slot_claim_check(s, 100 * MS, T0 + 60 * SEC + MS));
}

/* ---- threads racing ---- */

#define RACERS 8

typedef struct {
    apigw_cb_slot *slot;
    apr_uint64_t seen;
    volatile int *go;
    int won;
    int checks;
} racer;

static void *APR_THREAD_FUNC race(apr_thread_t *th, void *data)
{
    racer *r = data;
    apigw_cb_change ch;
    int i;

    while (!*r->go) {
    }
    r->won = apigw_cb_slot_apply(r->slot, r->seen, 1, &timing, T0, &ch);
    for (i = 0; i < 1000; i++) {
        r->checks += apigw_cb_slot_claim_check(r->slot, 100 * MS,
                                               T0 + (i / 100) * 100 * MS);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void test_one_winner_among_threads(void **state)
{
    apigw_cb_slot *s = one_slot();
    apr_thread_t *th[RACERS];
    racer r[RACERS];
    volatile int go = 0;
    apr_status_t rv;
    int i, wins = 0, checks = 0;
    (void)state;

    for (i = 0; i < RACERS; i++) {
        r[i].slot = s;
        r[i].seen = apigw_cb_slot_word(s);
        r[i].go = &go;
        r[i].won = 0;
        r[i].checks = 0;
        assert_int_equal(apr_thread_create(&th[i], NULL, race, &r[i], pool),
                         APR_SUCCESS);
    }
    go = 1;
    for (i = 0; i < RACERS; i++) {
        apr_thread_join(&rv, th[i]);
        wins += r[i].won;
        checks += r[i].checks;
    }
    assert_int_equal(wins, 1);
    assert_int_equal(s->trips, 1);
    /* ten periods, one evaluation each, whoever came first */
    assert_int_equal(checks, 10);
}

/* ---- URLs ---- */

static void test_urls(void **state)
{
    const char *origin, *prefix;
    (void)state;

    assert_string_equal(apigw_cb_url_origin(pool, "http://10.0.0.1:8080/a/b?c"),
                        "http://10.0.0.1:8080");
    assert_string_equal(apigw_cb_url_origin(pool, "balancer://pool/x"),
                        "balancer://pool");
    assert_string_equal(apigw_cb_url_origin(pool, "https://h"), "https://h");
    assert_string_equal(apigw_cb_url_origin(pool, "http://h?x=1"), "http://h");
    assert_string_equal(apigw_cb_url_origin(pool,
                                            "unix:/run/s.sock|http://h/p"),
                        "unix:/run/s.sock|http://h");
    assert_null(apigw_cb_url_origin(pool, "/relative/path"));
    assert_null(apigw_cb_url_origin(pool, "://nohost"));

    assert_string_equal(apigw_cb_url_rebase(pool, "http://a:1/v1/x?q=1",
                                            "http://b:2", ""),
                        "http://b:2/v1/x?q=1");
    assert_string_equal(apigw_cb_url_rebase(pool, "balancer://p/v1/x",
                                            "https://b", "/fb"),
                        "https://b/fb/v1/x");
    assert_string_equal(apigw_cb_url_rebase(pool, "http://a:1", "http://b",
                                            ""), "http://b/");
    assert_string_equal(apigw_cb_url_rebase(pool, "http://a:1?q", "http://b",
                                            "/p"), "http://b/p/?q");
    assert_null(apigw_cb_url_rebase(pool, "nothing", "http://b", ""));

    assert_null(apigw_cb_url_parse_fallback(pool, "http://10.0.0.9:8080",
                                            &origin, &prefix));
    assert_string_equal(origin, "http://10.0.0.9:8080");
    assert_string_equal(prefix, "");
    assert_null(apigw_cb_url_parse_fallback(pool, "HTTPS://cache/degraded//",
                                            &origin, &prefix));
    assert_string_equal(origin, "HTTPS://cache");
    assert_string_equal(prefix, "/degraded");
    assert_null(apigw_cb_url_parse_fallback(pool, "http://[::1]:81/",
                                            &origin, &prefix));
    assert_string_equal(origin, "http://[::1]:81");
    assert_string_equal(prefix, "");
    assert_non_null(apigw_cb_url_parse_fallback(pool, "ftp://h", &origin,
                                                &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://", &origin,
                                                &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://:80/", &origin,
                                                &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h:0", &origin,
                                                &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h:70000",
                                                &origin, &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h:8x", &origin,
                                                &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://u:p@h/",
                                                &origin, &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h/p?q=1",
                                                &origin, &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h/a b",
                                                &origin, &prefix));
    assert_non_null(apigw_cb_url_parse_fallback(pool, "http://h/\r\nX: y",
                                                &origin, &prefix));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_word_packing),
        T(test_keys),
        T(test_table_claim_and_find),
        T(test_table_full_and_takeover),
        T(test_table_attach_and_free_unowned),
        T(test_state_machine),
        T(test_retrip_while_recovering),
        T(test_stale_word_loses),
        T(test_recovery_zero),
        T(test_one_evaluation_per_check),
        T(test_one_winner_among_threads),
        T(test_urls),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
