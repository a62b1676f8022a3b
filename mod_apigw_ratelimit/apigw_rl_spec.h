/* The settings of one rate limit as plain values, and their checks: what
 * an ApiRateLimit line says (apigw_rl_limit_spec), what an
 * ApiRateLimitTier line adds to it (apigw_rl_tier_spec), and the
 * validation every source of them runs before a limit is built (the
 * directives now; routes registered at run time next). Also the key and
 * duration texts the messages and the status document share. Pure: APR
 * only, no httpd, so all of it is unit-tested. */
#ifndef APIGW_RL_SPEC_H
#define APIGW_RL_SPEC_H

#include <apr.h>
#include <apr_pools.h>
#include <apr_tables.h>
#include <apr_time.h>

#define APIGW_RL_MAX_AVERAGE APR_UINT64_C(1000000000)
#define APIGW_RL_MAX_BURST APR_UINT64_C(1000000000)
#define APIGW_RL_MAX_PERIOD apr_time_from_sec((apr_time_t)366 * 24 * 3600)
#define APIGW_RL_MAX_DELAY apr_time_from_sec(10)
#define APIGW_RL_DEFAULT_STATUS 429     /* Too Many Requests */

/* What a key is made of (by=, tier=). */
typedef enum {
    APIGW_RL_BY_ENDPOINT,       /* nothing more: the limit itself */
    APIGW_RL_BY_IP,             /* the client's address */
    APIGW_RL_BY_HEADER,
    APIGW_RL_BY_COOKIE,
    APIGW_RL_BY_ENV,
    APIGW_RL_BY_EXPR            /* an ap_expr string expression */
} apigw_rl_by_kind;

/* One part of a key: "ip", "header:X-Api-Key", "expr:%{REMOTE_USER}". */
typedef struct {
    apigw_rl_by_kind kind;
    const char *name;           /* header, cookie or variable name, or the
                                   expression's text; NULL for endpoint
                                   and ip */
} apigw_rl_key;

/* The numbers one bucket follows. */
typedef struct {
    apr_uint64_t average;       /* tokens per period; 0: unlimited */
    apr_interval_time_t period;
    apr_uint64_t burst;         /* tokens the bucket holds */
    apr_interval_time_t delay;  /* the longest wait for a token; 0: none */
} apigw_rl_numbers;

/* One limit. */
typedef struct {
    const char *name;           /* or NULL; needed by tiers */
    apigw_rl_numbers numbers;   /* its own: the default tier's */
    apr_array_header_t *by;     /* of apigw_rl_key; empty: the endpoint */
    const apigw_rl_key *tier;   /* what selects a tier, or NULL */
    int status;                 /* answered when exceeded */
} apigw_rl_limit_spec;

/* One tier of a limit that has a tier key: the values of the key that
 * select it, and its numbers. */
typedef struct {
    apr_array_header_t *values; /* of const char * */
    apigw_rl_numbers numbers;
} apigw_rl_tier_spec;

/* The defaults of a limit: burst 1, status 429, no key, no tier, no
 * name; average and period have none (0). */
void apigw_rl_limit_defaults(apr_pool_t *p, apigw_rl_limit_spec *l);

/* The defaults of a tier of limit l: no value, l's numbers (a tier gives
 * its own average and takes l's period, burst and delay unless it gives
 * its own). */
void apigw_rl_tier_defaults(apr_pool_t *p, apigw_rl_tier_spec *t,
                            const apigw_rl_limit_spec *l);

/* NULL when l can be built, else a message from p that names the field
 * at fault, mostly first ("burst=0 is out of range (1 to 1000000000)";
 * key errors name the key: "unknown key ..."). */
const char *apigw_rl_limit_validate(apr_pool_t *p,
                                    const apigw_rl_limit_spec *l);

/* The same for a tier: its values and numbers. That no value selects two
 * tiers of one limit is the caller's to check. */
const char *apigw_rl_tier_validate(apr_pool_t *p,
                                   const apigw_rl_tier_spec *t);

/* Reads text, one part of the key of field ("by" or "tier"), into *out:
 * the kind before the colon (any case), the name after it. NULL, or a
 * message when the kind is not one of the known ones. A name the kind
 * needs or refuses is left for the validation. */
const char *apigw_rl_key_parse(apr_pool_t *p, const char *field,
                               const char *text, apigw_rl_key *out);

/* The kinds of key part field ("by" or "tier") takes, for a message:
 * "ip, header:NAME, cookie:NAME, env:NAME or expr:EXPRESSION". */
const char *apigw_rl_key_kinds(const char *field);

/* The text of a key part, as by= writes it: "ip", "header:X-Key". */
const char *apigw_rl_key_text(apr_pool_t *p, const apigw_rl_key *k);

/* Microseconds as a number of seconds without trailing zeros: "0.5",
 * "60", "0.00025". */
const char *apigw_rl_seconds_text(apr_pool_t *p, apr_interval_time_t us);

#endif
