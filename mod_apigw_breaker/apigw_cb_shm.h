/* The breakers' state table in shared memory (apigw_cb_shm.c). */
#ifndef APIGW_CB_SHM_H
#define APIGW_CB_SHM_H

#include "apigw_cb_state.h"

#include "httpd.h"

/* post_config: the table, kept across graceful restarts when it fits,
 * and each scope=endpoint breaker's slot in it; and, when mod_apigw is
 * loaded (it serves runtime routes), the pool of runtime routes' states
 * (ApiRouteBreakerSlots), kept across graceful restarts while its size
 * stays. */
int apigw_cb_shm_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s);

/* The table (NULL until post_config, or when no breaker is configured). */
apigw_cb_table *apigw_cb_shm_table(void);

/* The runtime routes' pool (NULL until post_config, or without
 * mod_apigw). */
apigw_cb_table *apigw_cb_shm_route_pool(void);

#endif
