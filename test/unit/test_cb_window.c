/* sources: mod_apigw_breaker/apigw_cb_window.c */
/* Unit tests for mod_apigw_breaker/apigw_cb_window.c: the latency
 * histogram's geometry (every value lands in a bin that holds it, bins are
 * ordered and contiguous, relative error bounded), counts per bucket and
 * their roll-out after 10 seconds, status classes and ranges, dropped
 * late samples, reset while others write, quantiles against exact ones,
 * and exact totals with many threads recording at once. */
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

#include "apigw_cb_window.h"

#define T0 apr_time_from_sec(1700000000)
#define SEC APR_USEC_PER_SEC

static const apigw_cb_range ranges[] = { { 500, 600 }, { 0, 600 },
                                         { 200, 300 }, { 502, 503 } };
#define NRANGES 4

static apigw_cb_window *new_window(void)
{
    apigw_cb_window *w = apr_palloc(pool, sizeof(*w));
    memset(w, 0xa5, sizeof(*w));                 /* garbage before clear */
    apigw_cb_window_clear(w);
    return w;
}

static int rec(apigw_cb_window *w, apr_time_t now, int status, int neterr,
               apr_interval_time_t latency)
{
    apigw_cb_sample s = { status, neterr, latency };
    return apigw_cb_window_record(w, now, &s, ranges, NRANGES);
}

static void test_hist_geometry(void **state)
{
    apr_uint64_t v;
    unsigned b, prev = 0;
    (void)state;

    for (b = 0; b < APIGW_CB_HIST_BINS; b++) {
        assert_int_equal(apigw_cb_hist_bin(apigw_cb_hist_low(b)), b);
        if (b + 1 < APIGW_CB_HIST_BINS) {
            /* contiguous: the next bin starts where this one ends */
            assert_true(apigw_cb_hist_low(b) + apigw_cb_hist_width(b)
                        == apigw_cb_hist_low(b + 1));
        }
    }
    for (v = 0; v < 100000; v = v < 100 ? v + 1 : v + v / 37) {
        b = apigw_cb_hist_bin(v);
        assert_true(b >= prev);
        prev = b;
        assert_true(v >= apigw_cb_hist_low(b));
        assert_true(v < apigw_cb_hist_low(b) + apigw_cb_hist_width(b));
        /* 3 significant bits: a bin is at most 1/8 of its low value */
        assert_true(apigw_cb_hist_width(b) * 8 <= apigw_cb_hist_low(b)
                    || apigw_cb_hist_width(b) == 1);
    }
    assert_int_equal(apigw_cb_hist_bin(7), 7);
    assert_int_equal(apigw_cb_hist_bin(8), 8);
    assert_int_equal(apigw_cb_hist_bin(16), 16);
    assert_int_equal(apigw_cb_hist_bin((apr_uint64_t)1 << 34) ,
                     APIGW_CB_HIST_BINS - 1);
    assert_int_equal(apigw_cb_hist_bin(~(apr_uint64_t)0),
                     APIGW_CB_HIST_BINS - 1);
    assert_int_equal(apigw_cb_hist_bin(((apr_uint64_t)1 << 34) - 1),
                     APIGW_CB_HIST_BINS - 1);
}

static void test_counts_classes_ranges(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    (void)state;

    assert_int_equal(rec(w, T0, 200, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 1, 204, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 2, 502, 1, 1000), 1);
    assert_int_equal(rec(w, T0 + 3, 503, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 4, 404, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 5, 101, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 6, 302, 0, 1000), 1);
    assert_int_equal(rec(w, T0 + 7, 999, 0, 1000), 1);
    apigw_cb_window_totals(w, T0, 0, &t);
    assert_int_equal(t.total, 8);
    assert_int_equal(t.neterr, 1);
    assert_int_equal(t.classes[0], 1);          /* 999 */
    assert_int_equal(t.classes[1], 1);
    assert_int_equal(t.classes[2], 2);
    assert_int_equal(t.classes[3], 1);
    assert_int_equal(t.classes[4], 1);
    assert_int_equal(t.classes[5], 2);
    assert_int_equal(t.ranges[0], 2);           /* [500, 600) */
    assert_int_equal(t.ranges[1], 7);           /* [0, 600) */
    assert_int_equal(t.ranges[2], 2);           /* [200, 300) */
    assert_int_equal(t.ranges[3], 1);           /* 502 only */
    assert_int_equal(t.ranges[4], 0);           /* not asked for */
    assert_int_equal(t.hist[apigw_cb_hist_bin(0)], 0);  /* not asked for */
    apigw_cb_window_totals(w, T0, 1, &t);
    assert_int_equal(t.hist[apigw_cb_hist_bin(1000)], 8);
}

static void test_rolls_over_ten_seconds(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    int i;
    (void)state;

    /* one request in each of 10 seconds, 2 in the 5th */
    for (i = 0; i < 10; i++) {
        assert_int_equal(rec(w, T0 + i * SEC + SEC / 2, 500, 0, 10), 1);
    }
    assert_int_equal(rec(w, T0 + 5 * SEC, 200, 0, 10), 1);
    apigw_cb_window_totals(w, T0 + 9 * SEC + SEC / 2, 0, &t);
    assert_int_equal(t.total, 11);
    /* a second later the first second has rolled out */
    apigw_cb_window_totals(w, T0 + 10 * SEC, 0, &t);
    assert_int_equal(t.total, 10);
    apigw_cb_window_totals(w, T0 + 15 * SEC, 0, &t);
    assert_int_equal(t.total, 4);               /* seconds 6..9 */
    apigw_cb_window_totals(w, T0 + 19 * SEC, 0, &t);
    assert_int_equal(t.total, 0);
    /* writing into a second reuses its bucket, emptied first */
    assert_int_equal(rec(w, T0 + 13 * SEC, 200, 0, 10), 1);
    apigw_cb_window_totals(w, T0 + 13 * SEC, 0, &t);
    assert_int_equal(t.total, 8);               /* 4..9 (7 with the 2nd
                                                   at 5), and 13 */
    assert_int_equal(t.classes[2], 2);
    /* totals asked for a moment before a bucket's second skip it */
    apigw_cb_window_totals(w, T0 + 12 * SEC, 0, &t);
    assert_int_equal(t.total, 7);
}

static void test_late_sample_is_dropped(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    (void)state;

    assert_int_equal(rec(w, T0 + 10 * SEC, 200, 0, 10), 1);
    /* T0's bucket is the same one, now holding a later second */
    assert_int_equal(rec(w, T0, 500, 0, 10), 0);
    assert_int_equal(rec(w, -5, 500, 0, 10), 0);
    apigw_cb_window_totals(w, T0 + 10 * SEC, 0, &t);
    assert_int_equal(t.total, 1);
    assert_int_equal(t.classes[5], 0);
}

static void test_reset(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    int i;
    (void)state;

    for (i = 0; i < 5; i++) {
        rec(w, T0 + i * SEC, 500, 1, 10);
    }
    apigw_cb_window_reset(w);
    apigw_cb_window_totals(w, T0 + 4 * SEC, 1, &t);
    assert_int_equal(t.total, 0);
    assert_int_equal(t.neterr, 0);
    assert_int_equal(t.hist[apigw_cb_hist_bin(10)], 0);
    /* the same second again: a fresh bucket, not the old counts */
    assert_int_equal(rec(w, T0 + 4 * SEC, 200, 0, 10), 1);
    apigw_cb_window_totals(w, T0 + 4 * SEC, 1, &t);
    assert_int_equal(t.total, 1);
    assert_int_equal(t.neterr, 0);
    assert_int_equal(t.classes[5], 0);
    apigw_cb_window_reset(w);
    apigw_cb_window_reset(w);                   /* twice is harmless */
    apigw_cb_window_totals(w, T0 + 4 * SEC, 1, &t);
    assert_int_equal(t.total, 0);
}

static int cmp_u64(const void *a, const void *b)
{
    apr_uint64_t x = *(const apr_uint64_t *)a, y = *(const apr_uint64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_quantiles(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    apr_uint64_t *lat = apr_palloc(pool, sizeof(*lat) * 5000);
    static const double qs[] = { 0.1, 1, 10, 50, 90, 99, 99.9, 100 };
    unsigned i, seed = 12345;
    (void)state;

    assert_non_null(lat);
    apigw_cb_window_totals(w, T0, 1, &t);
    assert_true(apigw_cb_totals_quantile_ms(&t, 50) == 0);   /* no data */
    for (i = 0; i < 5000; i++) {
        /* spread over 100us .. ~3s, log-ish */
        seed = seed * 1103515245u + 12345u;
        lat[i] = 100 + ((apr_uint64_t)(seed >> 8) % 1000) *
                       ((apr_uint64_t)1 << ((seed >> 4) % 12));
        assert_int_equal(rec(w, T0 + (apr_time_t)(i % 900) * 10000, 200, 0,
                             (apr_interval_time_t)lat[i]), 1);
    }
    qsort(lat, 5000, sizeof(*lat), cmp_u64);
    apigw_cb_window_totals(w, T0 + 9 * SEC, 1, &t);
    assert_int_equal(t.total, 5000);
    for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
        double want_rank = qs[i] / 100.0 * 5000;
        unsigned rank = (unsigned)want_rank;
        double exact, got;

        if (rank < want_rank || rank == 0) {
            rank++;
        }
        exact = (double)lat[rank - 1] / 1000.0;
        got = apigw_cb_totals_quantile_ms(&t, qs[i]);
        /* the middle of the bin holding the exact value: within 6.25% */
        if (got < exact * 0.937 || got > exact * 1.063) {
            fail_msg("q=%g: got %gms, exact %gms", qs[i], got, exact);
        }
    }
    /* out-of-range quantiles are clamped, not trusted */
    assert_true(apigw_cb_totals_quantile_ms(&t, 0) == 0);
    assert_true(apigw_cb_totals_quantile_ms(&t, 150)
                == apigw_cb_totals_quantile_ms(&t, 100));
}

/* ---- threads ---- */

#define THREADS 8
#define PER_THREAD 20000

typedef struct {
    apigw_cb_window *w;
    apr_time_t base;
    apr_interval_time_t spread;      /* 0: all in one second */
} thread_arg;

static void *APR_THREAD_FUNC writer(apr_thread_t *th, void *data)
{
    thread_arg *a = data;
    int i;

    for (i = 0; i < PER_THREAD; i++) {
        apr_time_t now = a->base + (a->spread ? (i * a->spread) / PER_THREAD
                                              : 0);
        rec(a->w, now, i % 2 ? 500 : 200, i % 4 == 0, i % 1000);
    }
    apr_thread_exit(th, APR_SUCCESS);
    return NULL;
}

static void run_writers(apigw_cb_window *w, apr_time_t base,
                        apr_interval_time_t spread)
{
    apr_thread_t *th[THREADS];
    thread_arg arg = { w, base, spread };
    apr_status_t rv;
    int i;

    for (i = 0; i < THREADS; i++) {
        assert_int_equal(apr_thread_create(&th[i], NULL, writer, &arg, pool),
                         APR_SUCCESS);
    }
    for (i = 0; i < THREADS; i++) {
        apr_thread_join(&rv, th[i]);
    }
}

static void test_threads_exact_in_one_second(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    apr_uint64_t hist = 0;
    int i;
    (void)state;

    run_writers(w, T0 + SEC / 2, 0);
    apigw_cb_window_totals(w, T0 + SEC / 2, 1, &t);
    assert_int_equal(t.total, THREADS * PER_THREAD);
    assert_int_equal(t.neterr, THREADS * PER_THREAD / 4);
    assert_int_equal(t.classes[5], THREADS * PER_THREAD / 2);
    assert_int_equal(t.ranges[1], THREADS * PER_THREAD);
    for (i = 0; i < APIGW_CB_HIST_BINS; i++) {
        hist += t.hist[i];
    }
    assert_int_equal(hist, THREADS * PER_THREAD);
}

static void test_threads_across_seconds(void **state)
{
    apigw_cb_window *w = new_window();
    apigw_cb_totals t;
    (void)state;

    /* all threads sweep 25 seconds: buckets are claimed and cleared
     * under contention; only the last 10 seconds may count, nothing may
     * count twice */
    run_writers(w, T0, 25 * SEC);
    apigw_cb_window_totals(w, T0 + 25 * SEC, 0, &t);
    assert_true(t.total <= (apr_uint64_t)THREADS * PER_THREAD * 10 / 25 + 10);
    assert_true(t.total >= (apr_uint64_t)THREADS * PER_THREAD * 8 / 25);
    /* a writer racing a bucket's clear may land one field of its record
     * on each side of it: at most a handful of such strays per thread */
    {
        apr_uint64_t cls = t.classes[2] + t.classes[5];
        apr_uint64_t diff = cls > t.total ? cls - t.total : t.total - cls;
        assert_true(diff <= (apr_uint64_t)THREADS * 4);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_hist_geometry),
        T(test_counts_classes_ranges),
        T(test_rolls_over_ten_seconds),
        T(test_late_sample_is_dropped),
        T(test_reset),
        T(test_quantiles),
        T(test_threads_exact_in_one_second),
        T(test_threads_across_seconds),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
