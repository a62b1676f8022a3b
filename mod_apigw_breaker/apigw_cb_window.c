/* The rolling window of a circuit breaker (see apigw_cb_window.h): ten
 * one-second buckets recorded into and summed without a lock. */
#include "apigw_cb_window.h"

#include <string.h>

#include <apr_thread_proc.h>

#define SEC_BUSY ((apr_uint64_t)1 << 63)
#define BUSY_TRIES 200      /* yields before a writer gives up a sample */
#define HIST_SUB_BITS 3
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 33     /* the last octave with bins of its own */

static apr_uint64_t load64(const apr_uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static apr_uint32_t load32(const apr_uint32_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void add32(apr_uint32_t *p)
{
    __atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

static void zero32(apr_uint32_t *p, apr_size_t n)
{
    apr_size_t i;

    for (i = 0; i < n; i++) {
        __atomic_store_n(&p[i], 0, __ATOMIC_RELAXED);
    }
}

unsigned apigw_cb_hist_bin(apr_uint64_t us)
{
    unsigned e;

    if (us < HIST_SUB) {
        return (unsigned)us;
    }
    e = 63u - (unsigned)__builtin_clzll(us);
    if (e > HIST_MAX_EXP) {
        return APIGW_CB_HIST_BINS - 1;
    }
    return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB
           + (unsigned)((us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
}

apr_uint64_t apigw_cb_hist_low(unsigned bin)
{
    unsigned e, sub;

    if (bin < HIST_SUB) {
        return bin;
    }
    e = (bin - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
    sub = (bin - HIST_SUB) % HIST_SUB;
    return (apr_uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS);
}

apr_uint64_t apigw_cb_hist_width(unsigned bin)
{
    if (bin < HIST_SUB) {
        return 1;
    }
    return (apr_uint64_t)1 << ((bin - HIST_SUB) / HIST_SUB);
}

static void clear_bucket(apigw_cb_bucket *b)
{
    __atomic_store_n(&b->total, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&b->neterr, 0, __ATOMIC_RELAXED);
    zero32(b->classes, APIGW_CB_CLASSES);
    zero32(b->ranges, APIGW_CB_MAX_RANGES);
    zero32(b->hist, APIGW_CB_HIST_BINS);
}

void apigw_cb_window_clear(apigw_cb_window *w)
{
    int i;

    for (i = 0; i < APIGW_CB_BUCKETS; i++) {
        clear_bucket(&w->b[i]);
        __atomic_store_n(&w->b[i].sec, 0, __ATOMIC_RELEASE);
    }
}

void apigw_cb_window_reset(apigw_cb_window *w)
{
    int i;

    for (i = 0; i < APIGW_CB_BUCKETS; i++) {
        apr_uint64_t cur = load64(&w->b[i].sec);
        /* a bucket being cleared is becoming a new second's: leave it */
        while (!(cur & SEC_BUSY) && cur != 0
               && !__atomic_compare_exchange_n(&w->b[i].sec, &cur, 0, 0,
                                               __ATOMIC_ACQ_REL,
                                               __ATOMIC_ACQUIRE)) {
        }
    }
}

/* The bucket of second sec, claimed and cleared if it held an older one;
 * NULL when the sample must be dropped. */
static apigw_cb_bucket *bucket_for(apigw_cb_window *w, apr_uint64_t sec)
{
    apigw_cb_bucket *b = &w->b[sec % APIGW_CB_BUCKETS];
    int tries;

    for (tries = 0; tries < BUSY_TRIES; tries++) {
        apr_uint64_t cur = load64(&b->sec);

        if (cur == sec) {
            return b;
        }
        if (cur & SEC_BUSY) {
            apr_thread_yield();
            continue;
        }
        if (cur > sec) {
            return NULL;            /* a later second has it already */
        }
        if (__atomic_compare_exchange_n(&b->sec, &cur, sec | SEC_BUSY, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            clear_bucket(b);
            __atomic_store_n(&b->sec, sec, __ATOMIC_RELEASE);
            return b;
        }
    }
    return NULL;
}

int apigw_cb_window_record(apigw_cb_window *w, apr_time_t now,
                           const apigw_cb_sample *s,
                           const apigw_cb_range *ranges, int nranges)
{
    apigw_cb_bucket *b;
    int i, cls;

    if (now < 0) {
        return 0;
    }
    b = bucket_for(w, (apr_uint64_t)now / APR_USEC_PER_SEC);
    if (!b) {
        return 0;
    }
    add32(&b->total);
    if (s->neterr) {
        add32(&b->neterr);
    }
    cls = (s->status >= 100 && s->status < 600) ? s->status / 100 : 0;
    add32(&b->classes[cls]);
    if (nranges > APIGW_CB_MAX_RANGES) {
        nranges = APIGW_CB_MAX_RANGES;
    }
    for (i = 0; i < nranges; i++) {
        if (s->status >= ranges[i].from && s->status < ranges[i].to) {
            add32(&b->ranges[i]);
        }
    }
    add32(&b->hist[apigw_cb_hist_bin(s->latency > 0
                                     ? (apr_uint64_t)s->latency : 0)]);
    return 1;
}

void apigw_cb_window_totals(const apigw_cb_window *w, apr_time_t now,
                            int with_hist, apigw_cb_totals *t)
{
    apr_uint64_t now_sec = now > 0 ? (apr_uint64_t)now / APR_USEC_PER_SEC : 0;
    int i, j;

    memset(t, 0, sizeof(*t));
    t->with_hist = with_hist;
    for (i = 0; i < APIGW_CB_BUCKETS; i++) {
        const apigw_cb_bucket *b = &w->b[i];
        apr_uint64_t sec = load64(&b->sec);

        if ((sec & SEC_BUSY) || sec == 0 || sec > now_sec
            || now_sec - sec >= APIGW_CB_BUCKETS) {
            continue;
        }
        t->total += load32(&b->total);
        t->neterr += load32(&b->neterr);
        for (j = 0; j < APIGW_CB_CLASSES; j++) {
            t->classes[j] += load32(&b->classes[j]);
        }
        for (j = 0; j < APIGW_CB_MAX_RANGES; j++) {
            t->ranges[j] += load32(&b->ranges[j]);
        }
        for (j = 0; with_hist && j < APIGW_CB_HIST_BINS; j++) {
            t->hist[j] += load32(&b->hist[j]);
        }
    }
}

double apigw_cb_totals_quantile_ms(const apigw_cb_totals *t, double q)
{
    apr_uint64_t n = 0, rank, seen = 0;
    double want;
    unsigned i;

    for (i = 0; i < APIGW_CB_HIST_BINS; i++) {
        n += t->hist[i];
    }
    if (n == 0 || !(q > 0)) {
        return 0;
    }
    if (q > 100) {
        q = 100;
    }
    /* the smallest rank holding at least q% of the samples */
    want = q / 100.0 * (double)n;
    rank = (apr_uint64_t)want;
    if ((double)rank < want) {
        rank++;
    }
    if (rank == 0) {
        rank = 1;
    }
    for (i = 0; i < APIGW_CB_HIST_BINS; i++) {
        seen += t->hist[i];
        if (seen >= rank) {
            break;
        }
    }
    if (i == APIGW_CB_HIST_BINS) {
        i = APIGW_CB_HIST_BINS - 1;
    }
    return ((double)apigw_cb_hist_low(i)
            + (double)(apigw_cb_hist_width(i) - 1) / 2.0) / 1000.0;
}
