/* Edge policies: configuration (placeholder until the policies land). */
#include "apigw_policy.h"

struct apigw_policy_conf { int unused; };

struct apigw_policy_conf *apigw_policy_create(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(struct apigw_policy_conf));
}

struct apigw_policy_conf *apigw_policy_merge(apr_pool_t *p,
                                             const struct apigw_policy_conf *base,
                                             const struct apigw_policy_conf *add)
{
    (void)p;
    (void)base;
    return (struct apigw_policy_conf *)add;
}

void apigw_policy_register_hooks(apr_pool_t *p)
{
    (void)p;
}
