/* Member suspension: configuration (placeholder until the breaker lands). */
#include "apigw_sus.h"

struct apigw_sus_dir_conf { int unused; };
struct apigw_sus_server_conf { int unused; };

struct apigw_sus_dir_conf *apigw_sus_create_dir_conf(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(struct apigw_sus_dir_conf));
}

struct apigw_sus_dir_conf *apigw_sus_merge_dir_conf(apr_pool_t *p,
                                                  struct apigw_sus_dir_conf *base,
                                                  struct apigw_sus_dir_conf *add)
{
    (void)p;
    (void)base;
    return add;
}

struct apigw_sus_server_conf *apigw_sus_create_server_conf(apr_pool_t *p,
                                                         server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(struct apigw_sus_server_conf));
}

struct apigw_sus_server_conf *apigw_sus_merge_server_conf(
    apr_pool_t *p, struct apigw_sus_server_conf *base,
    struct apigw_sus_server_conf *add)
{
    (void)p;
    (void)base;
    return add;
}

void apigw_sus_register_hooks(apr_pool_t *p)
{
    (void)p;
}
