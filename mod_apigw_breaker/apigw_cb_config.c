/* Circuit breakers: configuration (placeholder until the breaker lands). */
#include "apigw_cb.h"

struct apigw_cb_dir_conf { int unused; };
struct apigw_cb_server_conf { int unused; };

struct apigw_cb_dir_conf *apigw_cb_create_dir_conf(apr_pool_t *p)
{
    return apr_pcalloc(p, sizeof(struct apigw_cb_dir_conf));
}

struct apigw_cb_dir_conf *apigw_cb_merge_dir_conf(apr_pool_t *p,
                                                  struct apigw_cb_dir_conf *base,
                                                  struct apigw_cb_dir_conf *add)
{
    (void)p;
    (void)base;
    return add;
}

struct apigw_cb_server_conf *apigw_cb_create_server_conf(apr_pool_t *p,
                                                         server_rec *s)
{
    (void)s;
    return apr_pcalloc(p, sizeof(struct apigw_cb_server_conf));
}

struct apigw_cb_server_conf *apigw_cb_merge_server_conf(
    apr_pool_t *p, struct apigw_cb_server_conf *base,
    struct apigw_cb_server_conf *add)
{
    (void)p;
    (void)base;
    return add;
}

void apigw_cb_register_hooks(apr_pool_t *p)
{
    (void)p;
}
