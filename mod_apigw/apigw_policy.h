/* Edge policies of an endpoint (CORS, request/response shaping, body
 * limits, response cache): the interface the rest of mod_apigw composes.
 * Each policy is a plain struct with one function that applies it, so a
 * runtime route can later carry the same settings. The whole policy
 * config hangs off apigw_dir_conf.policy. */
#ifndef APIGW_POLICY_H
#define APIGW_POLICY_H

#include "httpd.h"
#include "http_config.h"

struct apigw_policy_conf;

struct apigw_policy_conf *apigw_policy_create(apr_pool_t *p);
struct apigw_policy_conf *apigw_policy_merge(apr_pool_t *p,
                                             const struct apigw_policy_conf *base,
                                             const struct apigw_policy_conf *add);
void apigw_policy_register_hooks(apr_pool_t *p);

/* The policies' directives, spliced into apigw_cmds[]. Their handlers
 * receive the apigw_dir_conf * as mconfig and use ->policy. */
#define APIGW_POLICY_CMDS /* none yet */

#endif
