/* A circuit breaker's rolling window: the outcomes of the last 10 seconds
 * in 10 one-second buckets, each counting requests, network errors,
 * status classes, the status ranges the expression asks for, and a
 * bounded latency histogram. Pure (APR types, GCC atomics), so it works
 * the same over shared memory, where every child process and thread
 * records into it without a lock, and over a plain block in unit tests.
 *
 * A bucket belongs to one second (its "sec"); the first writer of a new
 * second claims the bucket with a compare-and-swap, clears it and
 * publishes the second; writers that meet a bucket being cleared wait a
 * moment, then drop their sample rather than block. Readers sum the
 * buckets of the last 10 seconds.
 *
 * Latency histogram: microseconds, 8 exact bins below 8us, then 8 bins per
 * power of two (3 significant bits: a bin's middle is within 6.25% of any
 * value in it), up to 2^34us (~4.8h); longer goes to the last bin. */
#ifndef APIGW_CB_WINDOW_H
#define APIGW_CB_WINDOW_H

#include <apr.h>
#include <apr_time.h>

#define APIGW_CB_BUCKETS 10
#define APIGW_CB_MAX_RANGES 16
#define APIGW_CB_HIST_BINS 256
#define APIGW_CB_CLASSES 6      /* status / 100: 1..5, 0 for anything else */

/* A status range [from, to) that ResponseCodeRatio counts. */
typedef struct {
    int from, to;
} apigw_cb_range;

typedef struct {
    apr_uint64_t sec;                           /* epoch second, or BUSY */
    apr_uint32_t total;
    apr_uint32_t neterr;
    apr_uint32_t classes[APIGW_CB_CLASSES];
    apr_uint32_t ranges[APIGW_CB_MAX_RANGES];
    apr_uint32_t hist[APIGW_CB_HIST_BINS];
} apigw_cb_bucket;

typedef struct {
    apigw_cb_bucket b[APIGW_CB_BUCKETS];
} apigw_cb_window;

/* The sums over the window at one moment. */
typedef struct {
    apr_uint64_t total;
    apr_uint64_t neterr;
    apr_uint64_t classes[APIGW_CB_CLASSES];
    apr_uint64_t ranges[APIGW_CB_MAX_RANGES];
    apr_uint64_t hist[APIGW_CB_HIST_BINS];
    int with_hist;
} apigw_cb_totals;

/* One outcome. */
typedef struct {
    int status;
    int neterr;                     /* refused, reset, timed out, 502/504 */
    apr_interval_time_t latency;    /* microseconds */
} apigw_cb_sample;

/* Empties w; not safe against concurrent writers (initialisation only). */
void apigw_cb_window_clear(apigw_cb_window *w);

/* Forgets every bucket, safely while others record: a bucket is only
 * marked stale, and its next writer clears it. */
void apigw_cb_window_reset(apigw_cb_window *w);

/* Counts s at now in the bucket of its second. ranges[0..nranges) are the
 * status ranges to count (at most APIGW_CB_MAX_RANGES). Returns 1 if
 * counted, 0 if dropped (a bucket of a later second already took its
 * place, or it is being cleared for too long). */
int apigw_cb_window_record(apigw_cb_window *w, apr_time_t now,
                           const apigw_cb_sample *s,
                           const apigw_cb_range *ranges, int nranges);

/* Sums the buckets of the 10 seconds up to now into *t; the histogram
 * only when with_hist (it is the bulk of the work). */
void apigw_cb_window_totals(const apigw_cb_window *w, apr_time_t now,
                            int with_hist, apigw_cb_totals *t);

/* The latency (milliseconds) at quantile q (percent, 0 < q <= 100) of
 * t's histogram: the middle of the bin holding it; 0 without samples. */
double apigw_cb_totals_quantile_ms(const apigw_cb_totals *t, double q);

/* Histogram geometry (exposed for the tests). */
unsigned apigw_cb_hist_bin(apr_uint64_t us);
apr_uint64_t apigw_cb_hist_low(unsigned bin);     /* first value in bin */
apr_uint64_t apigw_cb_hist_width(unsigned bin);   /* values in bin */

#endif
