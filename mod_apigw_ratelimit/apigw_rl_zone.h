/* The shared memory of mod_apigw_ratelimit: the bucket table every child
 * uses, and the per-policy counters. */
#ifndef APIGW_RL_ZONE_H
#define APIGW_RL_ZONE_H

#include "httpd.h"
#include "apigw_rl_table.h"
#include "apigw_rl_counters.h"

/* post_config: makes the zone (once; kept across graceful restarts and
 * only remade when ApiRateLimitZone changed) and the counters (kept for
 * policies that stay), and points every policy at its counter. */
int apigw_rl_zone_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                              apr_pool_t *ptemp, server_rec *s);

/* The table, in any process; NULL before post_config. */
apigw_rl_table *apigw_rl_zone_table(void);

/* The zone's size in bytes (0 before post_config). */
apr_size_t apigw_rl_zone_bytes(void);

#endif
