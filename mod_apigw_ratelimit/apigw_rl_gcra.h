/* The GCRA (generic cell rate algorithm) of mod_apigw_ratelimit: pure
 * integer math over one 64-bit "theoretical arrival time" (TAT), no httpd,
 * no allocation. GCRA admits exactly what a token bucket refilled at
 * average/period and holding at most burst tokens admits, but keeps one
 * number per key instead of two, so one compare-and-swap updates it.
 *
 * Times are nanoseconds (since the epoch in the module; any origin in the
 * tests). The emission interval period/average rounds UP to the next
 * nanosecond, so a limit never admits more than it says.
 *
 * delay (nginx's limit_req delay): a request that finds no token but would
 * find one within `delay` is admitted with a wait: it reserves the next
 * token (the TAT moves on by one interval, as for any admission) and the
 * caller holds it until the token exists. It is admitted at the moment a
 * plain bucket would have admitted it, so the count over any window stays
 * exact; delay only trades refusals for waiting. */
#ifndef APIGW_RL_GCRA_H
#define APIGW_RL_GCRA_H

#include <apr.h>

typedef struct {
    apr_uint64_t interval;      /* ns per token: ceil(period / average) */
    apr_uint64_t tolerance;     /* (burst - 1) * interval */
    apr_uint64_t burst;         /* tokens the bucket holds, >= 1 */
    apr_uint64_t delay;         /* the longest wait for a token, ns; 0: none */
    int unlimited;              /* average=0: everything is admitted */
} apigw_rl_rate;

typedef struct {
    int admitted;
    apr_uint64_t remaining;     /* tokens left after this decision */
    apr_uint64_t reset_ns;      /* until the bucket is full again */
    apr_uint64_t retry_ns;      /* rejected: until one token is back; else 0 */
    apr_uint64_t wait_ns;       /* admitted with delay=: wait this long
                                   before going on; else 0 */
} apigw_rl_decision;

/* Prepares a rate: average tokens per period_ns, bucket of burst tokens,
 * requests waiting up to delay_ns for a token. average 0 means unlimited.
 * Returns NULL, or a static message when the numbers are out of range
 * (period 0, burst 0, or burst * interval + delay too large to count in
 * nanoseconds). */
const char *apigw_rl_rate_init(apigw_rl_rate *rt, apr_uint64_t average,
                               apr_uint64_t period_ns, apr_uint64_t burst,
                               apr_uint64_t delay_ns);

/* One request at time now against a bucket whose stored TAT is tat (0: a
 * bucket never used, i.e. full). Fills *d and returns the TAT to store:
 * the new one when admitted (also with a wait), tat itself when
 * rejected. */
apr_uint64_t apigw_rl_gcra(const apigw_rl_rate *rt, apr_uint64_t tat,
                           apr_uint64_t now, apigw_rl_decision *d);

/* Gives back the token an admitted request took (when a later limit of the
 * same request rejects it): the TAT to store instead of tat. */
apr_uint64_t apigw_rl_gcra_refund(const apigw_rl_rate *rt, apr_uint64_t tat);

#endif
