/* Rate-limit header values; see apigw_rl_headers.h. */
#include "apigw_rl_headers.h"

#include <apr_strings.h>

#define NS_PER_SEC ((apr_uint64_t)1000000000)

apr_uint64_t apigw_rl_ceil_sec(apr_uint64_t ns)
{
    return ns / NS_PER_SEC + (ns % NS_PER_SEC ? 1 : 0);
}

void apigw_rl_quota(apr_uint64_t average, apr_uint64_t period_ns,
                    apr_uint64_t *q, apr_uint64_t *w)
{
    apr_uint64_t secs = apigw_rl_ceil_sec(period_ns);

    if (secs == 0) {
        secs = 1;
    }
    *w = secs;
    if (period_ns == 0) {
        *q = 0;
        return;
    }
    /* average * w / period, without overflow: average <= 1e9, w * 1e9 can
     * exceed 64 bits only for periods of centuries */
    *q = (apr_uint64_t)((unsigned __int128)average * secs * NS_PER_SEC
                        / period_ns);
}

const char *apigw_rl_u64_text(apr_pool_t *p, apr_uint64_t v)
{
    static const char pairs[] =
        "00010203040506070809101112131415161718192021222324252627282930313233"
        "34353637383940414243444546474849505152535455565758596061626364656667"
        "6869707172737475767778798081828384858687888990919293949596979899";
    char *buf = apr_palloc(p, 21), *o = buf + 20;   /* 2^64 has 20 digits */

    *o = '\0';
    while (v >= 100) {                              /* two digits a step */
        const char *d = pairs + 2 * (v % 100);
        v /= 100;
        *--o = d[1];
        *--o = d[0];
    }
    if (v >= 10) {
        *--o = pairs[2 * v + 1];
        *--o = pairs[2 * v];
    }
    else {
        *--o = (char)('0' + v);
    }
    return o;
}

const char *apigw_rl_quota_params(apr_pool_t *p, apr_uint64_t average,
                                  apr_uint64_t period_ns)
{
    apr_uint64_t q, w;

    apigw_rl_quota(average, period_ns, &q, &w);
    return apr_psprintf(p, ";q=%" APR_UINT64_T_FMT ";w=%" APR_UINT64_T_FMT,
                        q, w);
}

const char *apigw_rl_policy_item(apr_pool_t *p, const char *name,
                                 const char *quota_params)
{
    return apr_pstrcat(p, "\"", name, "\"", quota_params, NULL);
}

const char *apigw_rl_state_item(apr_pool_t *p, const char *name,
                                apr_uint64_t remaining, apr_uint64_t reset_ns)
{
    return apr_pstrcat(p, "\"", name, "\";r=", apigw_rl_u64_text(p, remaining),
                       ";t=", apigw_rl_u64_text(p, apigw_rl_ceil_sec(reset_ns)),
                       NULL);
}
