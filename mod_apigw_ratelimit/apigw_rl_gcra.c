/* GCRA math; see apigw_rl_gcra.h. With I the interval and B the burst, a
 * bucket at TAT t admits a request at time n when t - n <= (B - 1) * I
 * (t below n counts as n: a full bucket), and then moves t to t + I.
 * t - n is the debt the bucket carries: ceil(debt / I) tokens are in use.
 * With a delay D, a request with (B - 1) * I < t - n <= (B - 1) * I + D is
 * admitted too, after waiting t - n - (B - 1) * I: at that moment the
 * debt is back to (B - 1) * I, where a plain bucket admits. */
#include "apigw_rl_gcra.h"

#define MAX_SPAN ((apr_uint64_t)1 << 62)   /* ~146 years in ns */

const char *apigw_rl_rate_init(apigw_rl_rate *rt, apr_uint64_t average,
                               apr_uint64_t period_ns, apr_uint64_t burst,
                               apr_uint64_t delay_ns)
{
    rt->unlimited = 0;
    rt->interval = rt->tolerance = 0;
    rt->burst = burst;
    rt->delay = delay_ns;
    if (delay_ns > MAX_SPAN) {
        return "delay is too long";
    }
    if (period_ns == 0) {
        return "period must be greater than zero";
    }
    if (burst == 0) {
        return "burst must be at least 1";
    }
    if (average == 0) {
        rt->unlimited = 1;
        return NULL;
    }
    rt->interval = period_ns / average + (period_ns % average ? 1 : 0);
    if (rt->interval > MAX_SPAN / burst) {
        return "burst * period / average is too long";
    }
    rt->tolerance = (burst - 1) * rt->interval;
    if (rt->tolerance + rt->interval > MAX_SPAN - delay_ns) {
        return "burst * period / average + delay is too long";
    }
    return NULL;
}

static apr_uint64_t tokens_in_use(const apigw_rl_rate *rt, apr_uint64_t debt)
{
    return debt / rt->interval + (debt % rt->interval ? 1 : 0);
}

apr_uint64_t apigw_rl_gcra(const apigw_rl_rate *rt, apr_uint64_t tat,
                           apr_uint64_t now, apigw_rl_decision *d)
{
    apr_uint64_t t = tat < now ? now : tat;
    apr_uint64_t debt = t - now, used;

    d->wait_ns = 0;
    if (rt->unlimited) {
        d->admitted = 1;
        d->remaining = rt->burst;
        d->reset_ns = d->retry_ns = 0;
        return tat;
    }
    if (debt > rt->tolerance) {
        if (debt - rt->tolerance > rt->delay) {
            d->admitted = 0;
            d->remaining = 0;
            d->reset_ns = debt;
            d->retry_ns = debt - rt->tolerance;
            return tat;
        }
        d->wait_ns = debt - rt->tolerance;
    }
    debt += rt->interval;
    used = tokens_in_use(rt, debt);
    d->admitted = 1;
    d->remaining = used >= rt->burst ? 0 : rt->burst - used;
    d->reset_ns = debt;
    d->retry_ns = 0;
    return t + rt->interval;
}

apr_uint64_t apigw_rl_gcra_refund(const apigw_rl_rate *rt, apr_uint64_t tat)
{
    if (rt->unlimited || tat < rt->interval) {
        return tat;
    }
    return tat - rt->interval;
}
