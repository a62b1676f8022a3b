/* Balancer-member suspension, failover groups and retries: the interface
 * mod_apigw_breaker.c composes. */
#ifndef APIGW_SUS_H
#define APIGW_SUS_H

#include "apigw_br_module.h"

struct apigw_sus_dir_conf *apigw_sus_create_dir_conf(apr_pool_t *p);
struct apigw_sus_dir_conf *apigw_sus_merge_dir_conf(
    apr_pool_t *p, struct apigw_sus_dir_conf *base,
    struct apigw_sus_dir_conf *add);
struct apigw_sus_server_conf *apigw_sus_create_server_conf(apr_pool_t *p,
                                                           server_rec *s);
struct apigw_sus_server_conf *apigw_sus_merge_server_conf(
    apr_pool_t *p, struct apigw_sus_server_conf *base,
    struct apigw_sus_server_conf *add);
void apigw_sus_register_hooks(apr_pool_t *p);

/* The suspension directives, spliced into the module's table. */
#define APIGW_SUS_CMDS /* none yet */

#endif
