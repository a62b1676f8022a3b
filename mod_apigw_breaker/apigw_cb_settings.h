/* The settings of one circuit breaker, as an ApiCircuitBreaker line gives
 * them (or, later, an admin API's route), and their validation. Pure: APR
 * pools only, no httpd, so the same check serves the configuration, the
 * admin API and the unit tests. */
#ifndef APIGW_CB_SETTINGS_H
#define APIGW_CB_SETTINGS_H

#include <apr_pools.h>

#include "apigw_cb_state.h"

#define APIGW_CB_DEFAULT_CHECK apr_time_from_msec(100)
#define APIGW_CB_DEFAULT_FALLBACK apr_time_from_sec(10)
#define APIGW_CB_DEFAULT_RECOVERY apr_time_from_sec(10)
#define APIGW_CB_DEFAULT_STATUS 503
#define APIGW_CB_DEFAULT_MIN_REQUESTS 10
#define APIGW_CB_MAX_MIN_REQUESTS ((apr_uint64_t)1000000000)

typedef struct {
    const char *expression;         /* an expression, or a preset's name */
    apigw_cb_timing timing;         /* check=, fallback=, recovery= */
    int status;                     /* status=: answered while open */
    apr_uint64_t min_requests;      /* min-requests=: before it may trip */
    const char *fallback_backend;   /* fallback-backend= URL, or NULL */
    int scope_backend;              /* scope=backend: a state per backend */
} apigw_cb_settings;

/* Fills s with the defaults (expression NULL: the caller's to give). */
void apigw_cb_settings_defaults(apigw_cb_settings *s);

/* NULL when b is a breaker that can run, else a message from p naming
 * the field as the directive writes it ("check= must be ...", "status=200
 * must be ...", the expression's mistake and its position). */
const char *apigw_cb_breaker_validate(apr_pool_t *p,
                                      const apigw_cb_settings *b);

/* The text of b's expression: a preset's expression, or b->expression. */
const char *apigw_cb_settings_text(const apigw_cb_settings *b);

#endif
