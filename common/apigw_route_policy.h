/* The two policies of a runtime route that other modules enforce, as
 * plain data: a rate limit (mod_apigw_ratelimit) and a circuit breaker
 * (mod_apigw_breaker). mod_apigw's route model decodes them from the
 * admin API's JSON; the enforcing modules take them through the optional
 * functions of apigw_contract.h. Only APR types, so every module can
 * include this without the others. */
#ifndef APIGW_ROUTE_POLICY_H
#define APIGW_ROUTE_POLICY_H

#include <apr.h>
#include <apr_time.h>

/* rateLimit. Mirrors ApiRateLimit average= period= burst= by=. */
typedef struct {
    apr_uint64_t average;          /* tokens per period, 0: unlimited */
    apr_interval_time_t period;
    apr_uint64_t burst;            /* default 1 */
    const char *by;                /* one key as by= writes it ("endpoint",
                                    * "ip", "header:NAME", "cookie:NAME",
                                    * "env:NAME", "expr:EXPRESSION") */
} apigw_rt_rate_limit;

/* circuitBreaker. Mirrors ApiCircuitBreaker PRESET|"EXPRESSION" check=
 * fallback= recovery=. */
typedef struct {
    const char *preset;            /* "errors-50", "errors-30", "5xx",
                                    * "high-latency", or NULL */
    const char *expression;        /* or NULL: exactly one of the two */
    apr_interval_time_t check;     /* default 100ms */
    apr_interval_time_t fallback;  /* default 10s */
    apr_interval_time_t recovery;  /* default 10s; 0: no ramp */
} apigw_rt_breaker;

#endif
