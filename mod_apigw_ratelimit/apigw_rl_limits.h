/* Every limit of the configuration as one list, in the order the lines
 * were read: pre_config starts it, each ApiRateLimit line adds its limit,
 * check_config checks what only the whole configuration shows, and the
 * zone's counters and the status document read it. */
#ifndef APIGW_RL_LIMITS_H
#define APIGW_RL_LIMITS_H

#include "apigw_rl_config.h"

/* pre_config: a new, empty list for the configuration about to be read. */
int apigw_rl_limits_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                               apr_pool_t *ptemp);

/* Adds l (an ApiRateLimit line just read) to the list. */
void apigw_rl_limits_add(apigw_rl_limit *l);

/* check_config: a tier= limit without any ApiRateLimitTier, logged with
 * the line's file:line. */
int apigw_rl_limits_check_config(apr_pool_t *pconf, apr_pool_t *plog,
                                 apr_pool_t *ptemp, server_rec *s);

/* The list; NULL before the first pre_config. */
apr_array_header_t *apigw_rl_limits(void);

#endif
