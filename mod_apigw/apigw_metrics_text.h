/* The metrics exposition text (pure: APR only): the Prometheus text
 * format 0.0.4 and OpenMetrics 1.0 text, written family by family into
 * a buffer from a pool. Label values are escaped here (backslash, double
 * quote, newline; invalid UTF-8 replaced by U+FFFD); metric and label
 * names are the caller's constants. Which format a scraper asked for is
 * read from its Accept header (apigw_mtext_wants_openmetrics). */
#ifndef APIGW_METRICS_TEXT_H
#define APIGW_METRICS_TEXT_H

#include "apr_pools.h"

#define APIGW_MTEXT_PROMETHEUS_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define APIGW_MTEXT_OPENMETRICS_TYPE \
    "application/openmetrics-text; version=1.0.0; charset=utf-8"

typedef enum {
    APIGW_MTYPE_COUNTER,
    APIGW_MTYPE_GAUGE,
    APIGW_MTYPE_HISTOGRAM
} apigw_mtype;

typedef struct apigw_mtext apigw_mtext;

/* A writer for one scrape; openmetrics selects the format. hint: the
 * buffer's first size (it grows). */
apigw_mtext *apigw_mtext_create(apr_pool_t *p, int openmetrics,
                                apr_size_t hint);

/* name="value" pairs, comma-separated, values escaped: the label part of
 * a series without its braces, from p ("" when n is 0). */
const char *apigw_mtext_labels(apr_pool_t *p, const char *const *names,
                               const char *const *values, int n);

/* value escaped for a label (NULL as ""), from p. */
const char *apigw_mtext_escape(apr_pool_t *p, const char *value);

/* # HELP and # TYPE of a family. name: without _total for counters (the
 * 0.0.4 format names the family with it, OpenMetrics without). */
void apigw_mtext_family(apigw_mtext *t, const char *name, apigw_mtype type,
                        const char *help);

/* One counter sample, name_total{labels,extra}. labels: from
 * apigw_mtext_labels ("" none); extra: one more pre-escaped pair such as
 * code_class="2xx", or NULL. */
void apigw_mtext_counter(apigw_mtext *t, const char *name, const char *labels,
                         const char *extra, apr_uint64_t value);

/* One gauge sample, name{labels,extra}. */
void apigw_mtext_gauge(apigw_mtext *t, const char *name, const char *labels,
                       const char *extra, apr_int64_t value);

/* A histogram's samples: name_bucket{labels,le=...} cumulatively for each
 * of the nbounds bounds (as written, e.g. "0.005") and +Inf, then
 * name_count and name_sum. counts: nbounds + 1 per-bucket (not
 * cumulative) counts, the last one above every bound; sum_us: the sum of
 * the observations in microseconds (written in seconds, exactly). */
void apigw_mtext_histogram(apigw_mtext *t, const char *name,
                           const char *labels, const char *const *bounds,
                           int nbounds, const apr_uint64_t *counts,
                           apr_uint64_t sum_us);

/* The text so far, NUL-terminated, with "# EOF" appended in OpenMetrics;
 * *len its length. The writer is not used afterwards. */
const char *apigw_mtext_finish(apigw_mtext *t, apr_size_t *len);

/* Whether an Accept header prefers OpenMetrics 1.0 text
 * (application/openmetrics-text, version absent or 1.0.0, q > 0) to the
 * 0.0.4 text format (text/plain or any other type). NULL: no. */
int apigw_mtext_wants_openmetrics(const char *accept);

#endif
