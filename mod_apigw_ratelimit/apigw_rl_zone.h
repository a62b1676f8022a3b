/* The shared-memory zone holding the counters of every child. */
#ifndef APIGW_RL_ZONE_H
#define APIGW_RL_ZONE_H

#include "httpd.h"
#include "apigw_rl_table.h"

/* post_config: makes the zone (once; kept across graceful restarts and
 * only remade when ApiRateLimitZone changed). */
int apigw_rl_zone_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s);

/* The table, in any process; NULL before post_config. */
apigw_rl_table *apigw_rl_zone_table(void);

#endif
